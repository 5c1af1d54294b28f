/**
 * The crash-safety property, checked on the emulator's inventory: for a provisioned device exactly
 * one thing, exactly one certificate made for it (ACTIVE, attached to the thing, with the device
 * policy), one secret whose private key matches that certificate (verified by a signature), and a
 * binding that records them; for a decommissioned device nothing at all.
 */
import assert from "node:assert/strict";
import { createPrivateKey, sign, verify, X509Certificate } from "node:crypto";
import type {
  Inventory,
  InventoryCertificate,
  InventorySecret,
  InventoryThing,
} from "@granit/aws-iot-emulator";
import {
  type AwsThingBindingView,
  isCompleteDeviceCredentials,
  parseDeviceCredentials,
} from "@granit/iot-aws-provisioning";

export interface DeviceResources {
  readonly things: InventoryThing[];
  readonly certificates: InventoryCertificate[];
  readonly secrets: InventorySecret[];
}

function commonName(pem: string): string | null {
  const line = new X509Certificate(pem).subject.split("\n").find((l) => l.startsWith("CN="));
  return line ? line.slice(3) : null;
}

/** Everything in the account that belongs to one thing: the thing, certificates made for it or attached to it, its secret. */
export function resourcesOf(inventory: Inventory, thingName: string, secretName: string): DeviceResources {
  return {
    things: inventory.things.filter((t) => t.name === thingName),
    certificates: inventory.certificates.filter(
      (c) => c.things.includes(thingName) || commonName(c.pem) === thingName,
    ),
    secrets: inventory.secrets.filter((s) => s.name === secretName && s.deletedDate === undefined),
  };
}

/** True when the private key signs what the certificate's public key verifies. */
export function keyMatchesCertificate(privateKeyPem: string, certificatePem: string): boolean {
  const message = Buffer.from("granit crash-safety proof");
  const signature = sign("sha256", message, createPrivateKey(privateKeyPem));
  return verify("sha256", message, new X509Certificate(certificatePem).publicKey, signature);
}

export function assertProvisioned(
  inventory: Inventory,
  binding: AwsThingBindingView | null,
  expected: { readonly thingName: string; readonly secretName: string; readonly policyName: string },
  label = expected.thingName,
): void {
  const { things, certificates, secrets } = resourcesOf(inventory, expected.thingName, expected.secretName);
  assert.ok(binding, `${label}: a binding exists`);
  assert.equal(binding.status, "Active", `${label}: binding is Active (reason: ${binding.failureReason})`);
  assert.equal(things.length, 1, `${label}: exactly one thing`);
  assert.equal(
    certificates.length,
    1,
    `${label}: exactly one certificate (found ${certificates.map((c) => `${c.id.slice(0, 8)}:${c.status}`).join(", ")})`,
  );
  const [thing] = things;
  const [certificate] = certificates;
  const [secret] = secrets;
  assert.ok(thing && certificate);
  assert.equal(certificate.status, "ACTIVE", `${label}: the certificate is ACTIVE`);
  assert.deepEqual(
    certificate.things,
    [expected.thingName],
    `${label}: the certificate is attached to the thing only`,
  );
  assert.ok(certificate.policies.includes(expected.policyName), `${label}: the device policy is attached`);
  assert.equal(binding.certificateArn, certificate.arn, `${label}: the binding records the certificate`);
  assert.equal(binding.thingArn, thing.arn, `${label}: the binding records the thing`);
  assert.equal(secrets.length, 1, `${label}: exactly one secret`);
  assert.ok(secret);
  assert.equal(binding.certificateSecretArn, secret.arn, `${label}: the binding records the secret`);
  const current = secret.versions.find((v) => v.stages.includes("AWSCURRENT"));
  const payload = parseDeviceCredentials(current?.secretString ?? null);
  assert.ok(isCompleteDeviceCredentials(payload), `${label}: the secret holds key and certificate`);
  assert.equal(payload.bindingId, binding.bindingId, `${label}: the secret belongs to this binding`);
  assert.equal(payload.certificateArn, certificate.arn, `${label}: the secret names the certificate`);
  assert.ok(
    keyMatchesCertificate(payload.privateKeyPem, certificate.pem),
    `${label}: the secret's key matches the certificate`,
  );
  assert.ok(
    keyMatchesCertificate(payload.privateKeyPem, payload.certificatePem),
    `${label}: the stored PEM is that certificate`,
  );
}

export function assertGone(
  inventory: Inventory,
  thingName: string,
  secretName: string,
  label = thingName,
): void {
  const { things, certificates, secrets } = resourcesOf(inventory, thingName, secretName);
  assert.deepEqual(
    { things: things.length, certificates: certificates.length, secrets: secrets.length },
    { things: 0, certificates: 0, secrets: 0 },
    `${label}: nothing of the device is left in AWS`,
  );
}
