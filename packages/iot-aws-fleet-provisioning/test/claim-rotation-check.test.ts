import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { uuidv7 } from "@granit/iot";
import {
  AwsThingBinding,
  type ClaimCertificateExpiringEvent,
  ManualScheduler,
  ThingName,
} from "@granit/iot-aws";
import { TestMetrics } from "@granit/iot-aws/testing";
import {
  ClaimCertificateRotationCheckService,
  FleetProvisioningMetrics,
} from "@granit/iot-aws-fleet-provisioning";
import { postgresFleetProvisioningStores } from "@granit/iot-aws-postgres";
import { databaseTargets } from "@granit/iot-postgres/testing";
import {
  ACCOUNT,
  type FleetFixture,
  openFleetFixture,
  START,
  TENANT_A,
  TENANT_B,
} from "./support/fleet-fixture.ts";

const DAY = 86_400_000;
const T0 = Date.parse(START);
const at = (days: number) => new Date(T0 + days * DAY);
const id = (label: string) => Buffer.from(label).toString("hex").padEnd(64, "0").slice(0, 64);

for (const target of databaseTargets()) {
  describe(`ClaimCertificateRotationCheckService (${target.name})`, { skip: target.skip }, () => {
    let fx: FleetFixture;
    before(async () => {
      fx = await openFleetFixture(target);
    });
    after(() => fx?.dispose());

    it("walks 40 days and raises one event per certificate when it enters the window, never again", async () => {
      // Prepare: claim certificates at various distances from expiry, and fleet-provisioned devices.
      const register = async (tenantId: string, label: string, days: number, deactivate = false) => {
        await fx.fleet.claimCertificates.register(
          { tenantId, actor: "ops" },
          { certificateId: id(label), templateName: "granit-fleet", notAfter: at(days) },
        );
        if (deactivate) await fx.fleet.claimCertificates.deactivate({ tenantId, actor: "ops" }, id(label));
      };
      await register(TENANT_A, "expires-day-45", 45); // window opens on day 15
      await register(TENANT_A, "expires-day-50.5", 50.5); // window opens on day 20.5 → seen on day 21
      await register(TENANT_A, "expires-day-10", 10); // already inside: day 0
      await register(TENANT_A, "expires-day-100", 100); // window opens on day 70: never
      await register(TENANT_A, "inactive-day-20", 20, true); // deactivated: never
      await register(TENANT_B, "tenant-b-day-35", 35); // day 5
      const jitp = async (serial: string, claim: string | null, days: number) => {
        const thingName = ThingName.from(TENANT_A, serial);
        const binding = AwsThingBinding.createForJitp(
          {
            deviceId: uuidv7(),
            tenantId: TENANT_A,
            thingName,
            thingArn: `arn:aws:iot:eu-west-1:${ACCOUNT}:thing/${thingName}`,
            certificateArn: `arn:aws:iot:eu-west-1:${ACCOUNT}:cert/${id(serial)}`,
            claimCertificateId: claim,
            claimCertificateExpiresAt: at(days),
          },
          { at: new Date(T0), by: "fleet" },
        );
        await fx.bindings.add(binding);
        return binding;
      };
      await jitp("DEV-REGISTERED-CLAIM", id("expires-day-45"), 45); // same certificate as above: no second event
      await jitp("DEV-UNKNOWN-1", id("unregistered-day-36"), 36); // two devices, one unknown certificate:
      await jitp("DEV-UNKNOWN-2", id("unregistered-day-36"), 36); // one event, on day 6
      const anonymous = await jitp("DEV-NO-CLAIM-ID", null, 39); // keyed by device: day 9
      await jitp("DEV-LATER", id("unregistered-day-90"), 90); // never

      const scheduler = new ManualScheduler(START);
      const metrics = new TestMetrics("granit.iot.aws.fleet_provisioning");
      const other = postgresFleetProvisioningStores(await fx.tdb.openAnother(), fx.bus);
      const options = {
        expiryWarningWindowDays: 30,
        rotationCheckIntervalHours: 24,
        rotationCheckBatchSize: 2,
      };
      const fleetMetrics = new FleetProvisioningMetrics(metrics.meter);
      const hosts = [
        new ClaimCertificateRotationCheckService({
          store: fx.stores.claimExpiry,
          options,
          scheduler,
          metrics: fleetMetrics,
          hostId: "host-a",
        }),
        new ClaimCertificateRotationCheckService({
          store: other.claimExpiry,
          options,
          scheduler,
          metrics: fleetMetrics,
          hostId: "host-b",
        }),
      ];
      const raisedOn = (event: ClaimCertificateExpiringEvent) => (Date.parse(event.occurredAt) - T0) / DAY;

      // Act: both hosts start, then the fake clock walks 40 days, one sweep per host per day.
      for (const host of hosts) host.start();
      for (const host of hosts) await host.whenIdle();
      for (let day = 1; day <= 40; day++) {
        await scheduler.advance(DAY);
        for (const host of hosts) await host.whenIdle();
      }
      for (const host of hosts) await host.stop();
      await fx.bus.drain();

      // Assess
      const events = fx.delivered.filter(
        (e): e is ClaimCertificateExpiringEvent => e.type === "ClaimCertificateExpiringEvent",
      );
      const summary = events
        .map((e) => ({
          subject: e.claimCertificateId ?? `device:${e.deviceId}`,
          day: raisedOn(e),
          daysUntilExpiry: e.daysUntilExpiry,
          tenantId: e.tenantId,
        }))
        .sort((a, b) => a.day - b.day || a.subject.localeCompare(b.subject));
      assert.deepEqual(summary, [
        { subject: id("expires-day-10"), day: 0, daysUntilExpiry: 10, tenantId: TENANT_A },
        { subject: id("tenant-b-day-35"), day: 5, daysUntilExpiry: 30, tenantId: TENANT_B },
        { subject: id("unregistered-day-36"), day: 6, daysUntilExpiry: 30, tenantId: TENANT_A },
        { subject: `device:${anonymous.deviceId}`, day: 9, daysUntilExpiry: 30, tenantId: TENANT_A },
        { subject: id("expires-day-45"), day: 15, daysUntilExpiry: 30, tenantId: TENANT_A },
        { subject: id("expires-day-50.5"), day: 21, daysUntilExpiry: 30, tenantId: TENANT_A },
      ]);
      const registered = events.find((e) => e.claimCertificateId === id("expires-day-45"));
      assert.equal(registered?.deviceId, null, "a registered certificate's event names no device");
      assert.equal(registered?.expiresAt, at(45).toISOString());
      const sweeps = await fx.tdb.database.execute<{ last_run_at: string }>(
        "SELECT last_run_at FROM iotaws_fleet_sweeps WHERE name = 'claim-certificate-rotation-check'",
      );
      assert.equal(
        new Date(sweeps[0]?.last_run_at ?? 0).getTime(),
        at(40).getTime(),
        "one sweep per day, the last on day 40",
      );
      const notices = await fx.tdb.database.execute<{ n: number }>(
        "SELECT count(*)::int AS n FROM iotaws_claim_expiry_notices",
      );
      assert.equal(notices[0]?.n, 6);
      assert.equal(await metrics.sum("granit.iot.aws.fleet_provisioning.claim_expiring"), 6);
    });

    it("reports a skipped sweep when another host already ran this interval", async () => {
      const scheduler = new ManualScheduler("2030-01-01T00:00:00Z");
      const service = new ClaimCertificateRotationCheckService({ store: fx.stores.claimExpiry, scheduler });
      const first = await service.sweep();
      const second = await service.sweep();
      assert.equal(first.claimed, true);
      assert.deepEqual(second, { claimed: false, certificatesChecked: 0, bindingsChecked: 0, raised: 0 });
    });
  });
}
