import assert from "node:assert/strict";
import { test } from "node:test";
import {
  AttachThingPrincipalCommand,
  CreateKeysAndCertificateCommand,
  CreateThingCommand,
  DetachThingPrincipalCommand,
  ListThingPrincipalsCommand,
} from "@aws-sdk/client-iot";
import * as s from "./scenarios/principals.ts";
import { run, withEmulator } from "./support/harness.ts";

test(
  "AttachThingPrincipal twice is idempotent and the pair is listed from both sides",
  run(s.attachThingPrincipalTwiceIsIdempotentAndListedBothWays),
);
test(
  "AttachThingPrincipal to a missing thing or certificate is ResourceNotFoundException",
  run(s.attachThingPrincipalToAMissingThingOrCertificateIsNotFound),
);
test(
  "DetachThingPrincipal does not take effect at once: the attachment still blocks DeleteCertificate",
  run(s.detachThingPrincipalDoesNotTakeEffectAtOnce),
);
test(
  "DetachThingPrincipal takes effect after the propagation delay (fake clock)",
  run(s.detachThingPrincipalTakesEffectAfterPropagation),
);
test(
  "re-attaching during the propagation delay cancels the detach",
  run(s.reattachingDuringPropagationCancelsTheDetach),
);
test("teardown succeeds once the detach has propagated", run(s.teardownSucceedsOnceTheDetachHasPropagated));
test(
  "a device is provisioned from a CSR and decommissioned, as the provisioning saga does it",
  run(s.aDeviceIsProvisionedFromACsrAndDecommissioned),
);

test("DetachThingPrincipal propagates after a short real delay with the real clock", () =>
  withEmulator(
    async ({ clients: { iot } }) => {
      // Prepare
      await iot.send(new CreateThingCommand({ thingName: "t" }));
      const cert = await iot.send(new CreateKeysAndCertificateCommand({}));
      await iot.send(new AttachThingPrincipalCommand({ thingName: "t", principal: cert.certificateArn }));
      // Act
      await iot.send(new DetachThingPrincipalCommand({ thingName: "t", principal: cert.certificateArn }));
      const during = await iot.send(new ListThingPrincipalsCommand({ thingName: "t" }));
      await new Promise((resolve) => setTimeout(resolve, 600));
      const after = await iot.send(new ListThingPrincipalsCommand({ thingName: "t" }));
      // Assess
      assert.equal(during.principals?.length, 1);
      assert.equal(after.principals?.length, 0);
    },
    { clock: () => new Date(), detachPropagationMs: 500 },
  ));
