/** Thing ↔ certificate attachments, as AWS documents them. */
import assert from "node:assert/strict";
import {
  AttachThingPrincipalCommand,
  CreateKeysAndCertificateCommand,
  CreateThingCommand,
  DeleteCertificateCommand,
  DeleteConflictException,
  DeleteThingCommand,
  DetachThingPrincipalCommand,
  ListPrincipalThingsCommand,
  ListThingPrincipalsCommand,
  ResourceNotFoundException,
  UpdateCertificateCommand,
} from "@aws-sdk/client-iot";
import { type Clients, rejectsWith, type TimeControl } from "../support/harness.ts";

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
 * "This call is asynchronous. It might take several seconds for the detachment to propagate."
 * https://docs.aws.amazon.com/iot/latest/apireference/API_DetachThingPrincipal.html
 */
export async function detachThingPrincipalTakesEffectOnlyAfterPropagation(
  { iot }: Clients,
  time: TimeControl,
) {
  const cert = await thingWithCertificate(iot);
  await iot.send(new DetachThingPrincipalCommand({ thingName: "t", principal: cert.certificateArn }));
  const during = await iot.send(new ListThingPrincipalsCommand({ thingName: "t" }));
  assert.deepEqual(during.principals, [cert.certificateArn], "still attached right after the call");
  await rejectsWith(
    iot.send(new DeleteCertificateCommand({ certificateId: cert.certificateId })),
    DeleteConflictException,
    409,
  );
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

/** The full teardown order AWS requires: detach, wait, deactivate, delete certificate, delete thing. */
export async function teardownSucceedsOnceTheDetachHasPropagated({ iot }: Clients, time: TimeControl) {
  const cert = await thingWithCertificate(iot);
  await iot.send(new UpdateCertificateCommand({ certificateId: cert.certificateId, newStatus: "ACTIVE" }));
  await iot.send(new DetachThingPrincipalCommand({ thingName: "t", principal: cert.certificateArn }));
  time.advance(1_000);
  await iot.send(new UpdateCertificateCommand({ certificateId: cert.certificateId, newStatus: "INACTIVE" }));
  await iot.send(new DeleteCertificateCommand({ certificateId: cert.certificateId, forceDelete: true }));
  await iot.send(new DeleteThingCommand({ thingName: "t" }));
  const things = await iot
    .send(new ListPrincipalThingsCommand({ principal: cert.certificateArn }))
    .catch((e: Error) => e);
  assert.ok(things instanceof ResourceNotFoundException);
}
