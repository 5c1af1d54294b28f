/**
 * Reconcile: every kind of drift between the emulated account and the bindings is reported per
 * tenant without changing anything; each repair is opt-in and idempotent; afterwards a reconcile
 * finds nothing.
 */
import assert from "node:assert/strict";
import { after, afterEach, before, beforeEach, describe, it } from "node:test";
import {
  CreateCertificateFromCsrCommand,
  CreateThingCommand,
  DeleteThingCommand,
  DetachPolicyCommand,
  DetachThingPrincipalCommand,
  UpdateCertificateCommand,
} from "@aws-sdk/client-iot";
import { DeleteSecretCommand } from "@aws-sdk/client-secrets-manager";
import { type Emulator, startEmulator } from "@granit/aws-iot-emulator";
import { ThingName } from "@granit/iot-aws";
import {
  DRIFT_KINDS,
  type DriftKind,
  type ReconcileReport,
  secretNameOf,
} from "@granit/iot-aws-provisioning";
import { databaseTargets } from "@granit/iot-postgres/testing";
import { csrFor } from "./support/csr.ts";
import { createDevicePolicy, type Environment, openEnvironment } from "./support/environment.ts";
import { assertProvisioned } from "./support/inventory.ts";
import { buildStack, POLICY_NAME, TENANT_A, TENANT_B } from "./support/stack.ts";

const ALL_REPAIRS = Object.fromEntries(DRIFT_KINDS.map((kind) => [kind, true])) as Record<DriftKind, boolean>;

let emulator: Emulator;
before(async () => {
  emulator = await startEmulator({ port: 0, detachPropagationMs: 20 });
});
after(() => emulator.stop());

const settle = () => new Promise((resolve) => setTimeout(resolve, 60)); // past the emulator's detach propagation

function kindsOf(report: ReconcileReport, tenantId: string | null): Partial<Record<DriftKind, number>> {
  const tenant = report.tenants.find((t) => t.tenantId === tenantId);
  return Object.fromEntries(Object.entries(tenant?.counts ?? {}).filter(([, n]) => n > 0));
}

for (const target of databaseTargets()) {
  describe(`reconcile on ${target.name}`, { skip: target.skip }, () => {
    let env: Environment;
    let serial = 0;

    beforeEach(async () => {
      emulator.reset();
      env = await openEnvironment(target, emulator);
      await createDevicePolicy(env.stack, emulator);
    });
    afterEach(() => env.dispose());

    async function provisioned(tenantId: string) {
      const device = await env.stack.addDevice(`REC-${++serial}`, tenantId);
      await env.stack.provisioning.provision(device.id);
      const view = await env.stack.provisioning.describeBinding(device.id, tenantId);
      assert.ok(view?.certificateArn);
      return { device, view, certificateId: view.certificateArn.split("/").pop() as string };
    }

    it("reports each kind of drift per tenant, repairs only what it is asked to, and then finds none", async () => {
      const [lostThing, lostCertificate, lostSecret, detached, healthy] = [
        await provisioned(TENANT_A),
        await provisioned(TENANT_A),
        await provisioned(TENANT_B),
        await provisioned(TENANT_B),
        await provisioned(TENANT_B),
      ];
      const iot = env.stack.iot;
      const strayThing = ThingName.from(TENANT_A, "STRAY-1").value;
      await iot.send(new CreateThingCommand({ thingName: strayThing }));
      await iot.send(new CreateThingCommand({ thingName: "not-a-granit-thing" }));
      await iot.send(
        new DetachThingPrincipalCommand({
          thingName: lostThing.view.thingName,
          principal: lostThing.view.certificateArn ?? "",
        }),
      );
      await settle();
      await iot.send(new DeleteThingCommand({ thingName: lostThing.view.thingName }));
      await iot.send(
        new UpdateCertificateCommand({ certificateId: lostCertificate.certificateId, newStatus: "INACTIVE" }),
      );
      await env.stack.secrets.send(
        new DeleteSecretCommand({
          SecretId: lostSecret.view.certificateSecretArn ?? "",
          ForceDeleteWithoutRecovery: true,
        }),
      );
      await iot.send(
        new DetachThingPrincipalCommand({
          thingName: detached.view.thingName,
          principal: detached.view.certificateArn ?? "",
        }),
      );
      await iot.send(
        new DetachPolicyCommand({ policyName: POLICY_NAME, target: detached.view.certificateArn ?? "" }),
      );
      const orphan = await iot.send(
        new CreateCertificateFromCsrCommand({
          certificateSigningRequest: await csrFor(ThingName.from(TENANT_B, "GHOST-1").value),
        }),
      );
      await settle();
      const before = JSON.stringify(emulator.inventory());

      const report = await env.stack.provisioning.reconcile();

      assert.deepEqual(kindsOf(report, TENANT_A), {
        thingsWithoutBinding: 1,
        bindingsMissingThing: 1,
        bindingsMissingCertificate: 1,
      });
      assert.deepEqual(kindsOf(report, TENANT_B), {
        bindingsMissingSecret: 1,
        orphanCertificates: 1,
        unattachedCertificates: 1,
      });
      assert.equal(report.scanned.bindings, 5);
      assert.ok(report.tenants.flatMap((t) => t.items).every((i) => i.repaired === null));
      assert.equal(JSON.stringify(emulator.inventory()), before, "a report changes nothing");
      const orphanItem = report.tenants.flatMap((t) => t.items).find((i) => i.kind === "orphanCertificates");
      assert.equal(orphanItem?.certificateArn, orphan.certificateArn);

      const repaired = await env.stack.provisioning.reconcile({ repair: ALL_REPAIRS });

      assert.deepEqual(repaired.repaired, {
        thingsWithoutBinding: 1,
        bindingsMissingThing: 1,
        bindingsMissingCertificate: 1,
        bindingsMissingSecret: 1,
        orphanCertificates: 1,
        unattachedCertificates: 1,
      });
      await settle();
      const after = await env.stack.provisioning.reconcile({ repair: ALL_REPAIRS });
      assert.deepEqual(after.tenants, [], JSON.stringify(after.tenants));

      const inventory = emulator.inventory();
      assert.ok(!inventory.things.some((t) => t.name === strayThing), "the stray thing is gone");
      assert.ok(
        inventory.things.some((t) => t.name === "not-a-granit-thing"),
        "a thing that is not ours is left alone",
      );
      assert.ok(
        !inventory.certificates.some((c) => c.arn === orphan.certificateArn),
        "the orphan certificate is gone",
      );
      for (const { device, view } of [lostThing, detached, healthy]) {
        assertProvisioned(
          inventory,
          await env.stack.provisioning.describeBinding(device.id, device.tenantId),
          {
            thingName: view.thingName,
            secretName: secretNameOf(env.stack.options.secretNameTemplate, view.thingName),
            policyName: POLICY_NAME,
          },
        );
      }
      const certificateGone = await env.stack.provisioning.describeBinding(
        lostCertificate.device.id,
        TENANT_A,
      );
      assert.equal(certificateGone?.status, "Failed");
      assert.match(certificateGone?.failureReason ?? "", /INACTIVE, not ACTIVE.*Decommission the device/);
      const secretGone = await env.stack.provisioning.describeBinding(lostSecret.device.id, TENANT_B);
      assert.equal(secretGone?.status, "Failed");
      assert.match(secretGone?.failureReason ?? "", /private key is lost/);
    });

    it("reconciles one tenant only when asked", async () => {
      await provisioned(TENANT_A);
      await env.stack.iot.send(
        new CreateThingCommand({ thingName: ThingName.from(TENANT_A, "STRAY-A").value }),
      );
      await env.stack.iot.send(
        new CreateThingCommand({ thingName: ThingName.from(TENANT_B, "STRAY-B").value }),
      );

      const report = await env.stack.provisioning.reconcile({
        tenant: TENANT_B,
        repair: { thingsWithoutBinding: true },
      });

      assert.deepEqual(
        report.tenants.map((t) => t.tenantId),
        [TENANT_B],
      );
      assert.ok(
        emulator.inventory().things.some((t) => t.name === ThingName.from(TENANT_A, "STRAY-A").value),
      );
    });

    it("does not report a thing whose certificate is younger than the grace period (fleet provisioning in flight)", async () => {
      const graceful = buildStack({
        database: env.tdb.database,
        aws: emulator.clientConfig(),
        provisioning: { ReconcileGraceSeconds: 3600 },
      });
      const young = ThingName.from(TENANT_A, "YOUNG-1").value;
      await env.stack.iot.send(new CreateThingCommand({ thingName: young }));
      const certificate = await env.stack.iot.send(
        new CreateCertificateFromCsrCommand({
          certificateSigningRequest: await csrFor(young),
          setAsActive: true,
        }),
      );
      const { AttachThingPrincipalCommand } = await import("@aws-sdk/client-iot");
      await env.stack.iot.send(
        new AttachThingPrincipalCommand({ thingName: young, principal: certificate.certificateArn }),
      );

      const report = await graceful.provisioning.reconcile();

      assert.deepEqual(report.tenants, []);
    });
  });
}
