/** Thing ↔ certificate attachments, as AWS documents them. */
import assert from "node:assert/strict";
import {
  AttachPolicyCommand,
  AttachThingPrincipalCommand,
  CreateCertificateFromCsrCommand,
  CreateKeysAndCertificateCommand,
  CreatePolicyCommand,
  CreateThingCommand,
  DeleteCertificateCommand,
  DeleteConflictException,
  DeletePolicyCommand,
  DeleteThingCommand,
  DescribeCertificateCommand,
  DescribeThingCommand,
  DetachPolicyCommand,
  DetachThingPrincipalCommand,
  ListAttachedPoliciesCommand,
  ListPrincipalThingsCommand,
  ListThingPrincipalsCommand,
  ResourceNotFoundException,
  UpdateCertificateCommand,
} from "@aws-sdk/client-iot";
import { makeCsr } from "../support/csr.ts";
import { type Clients, rejectsWith, type TimeControl } from "../support/harness.ts";

const DEVICE_POLICY = JSON.stringify({
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Action: ["iot:Connect", "iot:Publish"], Resource: "*" }],
});

async function thingWithCertificate(iot: Clients["iot"]) {
  await iot.send(new CreateThingCommand({ thingName: "t" }));
  const cert = await iot.send(new CreateKeysAndCertificateCommand({}));
  await iot.send(new AttachThingPrincipalCommand({ thingName: "t", principal: cert.certificateArn }));
  return cert;
}

/** https://docs.aws.amazon.com/iot/latest/apireference/API_AttachThingPrincipal.html */
export async function attachThingPrincipalTwiceIsIdempotentAndListedBothWays({ iot }: Clients) {
  const cert = await thingWithCertificate(iot);
  await iot.send(new AttachThingPrincipalCommand({ thingName: "t", principal: cert.certificateArn }));
  const principals = await iot.send(new ListThingPrincipalsCommand({ thingName: "t" }));
  assert.deepEqual(principals.principals, [cert.certificateArn]);
  const things = await iot.send(new ListPrincipalThingsCommand({ principal: cert.certificateArn }));
  assert.deepEqual(things.things, ["t"]);
}

export async function attachThingPrincipalToAMissingThingOrCertificateIsNotFound({ iot }: Clients) {
  const cert = await iot.send(new CreateKeysAndCertificateCommand({}));
  await rejectsWith(
    iot.send(new AttachThingPrincipalCommand({ thingName: "ghost", principal: cert.certificateArn })),
    ResourceNotFoundException,
    404,
  );
  await iot.send(new CreateThingCommand({ thingName: "t" }));
  const missing = (cert.certificateArn ?? "").replace(/[a-f0-9]{64}$/, "b".repeat(64));
  await rejectsWith(
    iot.send(new AttachThingPrincipalCommand({ thingName: "t", principal: missing })),
    ResourceNotFoundException,
  );
}

/**
 * "This call is asynchronous. It might take several seconds for the detachment to propagate." Right
 * after the call the attachment may still be listed and still block DeleteCertificate.
 * https://docs.aws.amazon.com/iot/latest/apireference/API_DetachThingPrincipal.html
 */
export async function detachThingPrincipalDoesNotTakeEffectAtOnce({ iot }: Clients) {
  const cert = await thingWithCertificate(iot);
  await iot.send(new DetachThingPrincipalCommand({ thingName: "t", principal: cert.certificateArn }));
  const during = await iot.send(new ListThingPrincipalsCommand({ thingName: "t" }));
  assert.deepEqual(during.principals, [cert.certificateArn], "still attached right after the call");
  await rejectsWith(
    iot.send(new DeleteCertificateCommand({ certificateId: cert.certificateId })),
    DeleteConflictException,
    409,
  );
}

/** Once propagated (several seconds on the injected clock), the detach is visible and lifts the block. */
export async function detachThingPrincipalTakesEffectAfterPropagation({ iot }: Clients, time: TimeControl) {
  const cert = await thingWithCertificate(iot);
  await iot.send(new DetachThingPrincipalCommand({ thingName: "t", principal: cert.certificateArn }));
  time.advance(5_000);
  const after = await iot.send(new ListThingPrincipalsCommand({ thingName: "t" }));
  assert.deepEqual(after.principals, []);
  await iot.send(new DeleteCertificateCommand({ certificateId: cert.certificateId }));
  await iot.send(new DeleteThingCommand({ thingName: "t" }));
}

export async function reattachingDuringPropagationCancelsTheDetach({ iot }: Clients, time: TimeControl) {
  const cert = await thingWithCertificate(iot);
  await iot.send(new DetachThingPrincipalCommand({ thingName: "t", principal: cert.certificateArn }));
  await iot.send(new AttachThingPrincipalCommand({ thingName: "t", principal: cert.certificateArn }));
  time.advance(5_000);
  const principals = await iot.send(new ListThingPrincipalsCommand({ thingName: "t" }));
  assert.deepEqual(principals.principals, [cert.certificateArn]);
}

/**
 * Retries `call` while it fails with one of `retryOn` — what a caller must do while a detach
 * propagates — advancing `time` by a second between attempts. A backend whose detach is synchronous
 * succeeds on the first attempt and never touches the clock.
 */
async function afterPropagation<T>(time: TimeControl, retryOn: string[], call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (attempt >= 10 || !retryOn.includes((error as Error).name)) throw error;
      time.advance(1_000);
    }
  }
}

/** The full teardown order AWS requires: detach, deactivate, delete certificate, delete thing (retrying while the detach propagates). */
export async function teardownSucceedsOnceTheDetachHasPropagated({ iot }: Clients, time: TimeControl) {
  const cert = await thingWithCertificate(iot);
  await iot.send(new UpdateCertificateCommand({ certificateId: cert.certificateId, newStatus: "ACTIVE" }));
  await iot.send(new DetachThingPrincipalCommand({ thingName: "t", principal: cert.certificateArn }));
  await iot.send(new UpdateCertificateCommand({ certificateId: cert.certificateId, newStatus: "INACTIVE" }));
  await afterPropagation(time, ["DeleteConflictException"], () =>
    iot.send(new DeleteCertificateCommand({ certificateId: cert.certificateId, forceDelete: true })),
  );
  await afterPropagation(time, ["InvalidRequestException"], () =>
    iot.send(new DeleteThingCommand({ thingName: "t" })),
  );
  await rejectsWith(
    iot.send(new DescribeCertificateCommand({ certificateId: cert.certificateId })),
    ResourceNotFoundException,
  );
  await rejectsWith(iot.send(new DescribeThingCommand({ thingName: "t" })), ResourceNotFoundException);
}

/**
 * What the provisioning saga does, start to end: thing, certificate from a CSR, device policy,
 * attachments, activation; then the decommission: detach principal and policy, deactivate, delete
 * the certificate and the thing.
 */
export async function aDeviceIsProvisionedFromACsrAndDecommissioned({ iot }: Clients, time: TimeControl) {
  // Provision
  const thing = await iot.send(new CreateThingCommand({ thingName: "device-42" }));
  const csr = await makeCsr();
  const cert = await iot.send(new CreateCertificateFromCsrCommand({ certificateSigningRequest: csr.pem }));
  const certificateId = cert.certificateId ?? "";
  await iot.send(new CreatePolicyCommand({ policyName: "device", policyDocument: DEVICE_POLICY }));
  await iot.send(new AttachPolicyCommand({ policyName: "device", target: cert.certificateArn }));
  await iot.send(new AttachThingPrincipalCommand({ thingName: "device-42", principal: cert.certificateArn }));
  await iot.send(new UpdateCertificateCommand({ certificateId, newStatus: "ACTIVE" }));
  const active = await iot.send(new DescribeCertificateCommand({ certificateId }));
  assert.equal(active.certificateDescription?.status, "ACTIVE");
  const principals = await iot.send(new ListThingPrincipalsCommand({ thingName: "device-42" }));
  assert.deepEqual(principals.principals, [cert.certificateArn]);
  const things = await iot.send(new ListPrincipalThingsCommand({ principal: cert.certificateArn }));
  assert.deepEqual(things.things, ["device-42"]);
  const policies = await iot.send(new ListAttachedPoliciesCommand({ target: cert.certificateArn }));
  assert.deepEqual(
    policies.policies?.map((p) => p.policyName),
    ["device"],
  );
  // Decommission
  await iot.send(new DetachThingPrincipalCommand({ thingName: "device-42", principal: cert.certificateArn }));
  await iot.send(new DetachPolicyCommand({ policyName: "device", target: cert.certificateArn }));
  await iot.send(new UpdateCertificateCommand({ certificateId, newStatus: "INACTIVE" }));
  await afterPropagation(time, ["DeleteConflictException"], () =>
    iot.send(new DeleteCertificateCommand({ certificateId, forceDelete: true })),
  );
  await afterPropagation(time, ["InvalidRequestException"], () =>
    iot.send(new DeleteThingCommand({ thingName: "device-42" })),
  );
  await rejectsWith(iot.send(new DescribeCertificateCommand({ certificateId })), ResourceNotFoundException);
  await rejectsWith(
    iot.send(new DescribeThingCommand({ thingName: "device-42" })),
    ResourceNotFoundException,
  );
  assert.match(thing.thingArn ?? "", /:thing\/device-42$/);
  await iot.send(new DeletePolicyCommand({ policyName: "device" }));
}
