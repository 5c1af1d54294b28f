import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type ChangeContext, DuplicateKeyError, ManualClock, uuidv7 } from "@granit/iot";
import {
  AwsThingBinding,
  type ClaimCertificateExpiringEvent,
  ClaimCertificateStatus,
  type ClaimExpiryNotice,
  type FleetCredential,
  FleetCredentialStatus,
  newClaimCertificate,
  ThingName,
} from "@granit/iot-aws";
import {
  IOTAWS_MIGRATIONS,
  PostgresAwsThingBindingStore,
  type PostgresFleetProvisioningStores,
  postgresFleetProvisioningStores,
} from "@granit/iot-aws-postgres";
import { IOT_MIGRATIONS, PostgresMessageBus } from "@granit/iot-postgres";
import { databaseTargets, type TestDatabase } from "@granit/iot-postgres/testing";

const TENANT_A = "0a7c2b6e-0000-4000-8000-00000000000a";
const TENANT_B = "0b7c2b6e-0000-4000-8000-00000000000b";
const clock = new ManualClock("2026-05-01T00:00:00Z");
const change = (by = "ops"): ChangeContext => ({ at: clock.advance(1000), by });
const DAY = 86_400_000;

let counter = 0;
const certificateId = () => (++counter).toString(16).padStart(64, "0");

function credential(tenantId: string | null, keyId = `fk_${uuidv7().replaceAll("-", "").slice(-24)}`) {
  return {
    keyId,
    tenantId,
    secretCiphertext: "v1.ab12cd34.iv.tag.ciphertext",
    description: "lambda",
    status: FleetCredentialStatus.Active,
    createdAt: clock.now(),
    createdBy: "ops",
    revokedAt: null,
    revokedBy: null,
  } satisfies FleetCredential;
}

for (const target of databaseTargets()) {
  describe(`fleet-provisioning stores on ${target.name}`, { skip: target.skip }, () => {
    let tdb: TestDatabase;
    let stores: PostgresFleetProvisioningStores;
    let bus: PostgresMessageBus;
    const delivered = async () =>
      (
        await tdb.database.execute<{ payload: ClaimCertificateExpiringEvent }>(
          "SELECT payload FROM iot_bus_deliveries WHERE event_type = 'ClaimCertificateExpiringEvent' ORDER BY id",
        )
      ).map((r) => (typeof r.payload === "string" ? JSON.parse(r.payload) : r.payload));

    before(async () => {
      tdb = await target.open({ migrations: [IOT_MIGRATIONS, IOTAWS_MIGRATIONS] });
      bus = new PostgresMessageBus(tdb.database);
      bus.subscribe("ClaimCertificateExpiringEvent", "test.sink", async () => {});
      await bus.start();
      await bus.stop(); // the subscription is registered; deliveries stay for inspection
      stores = postgresFleetProvisioningStores(tdb.database, bus);
    });
    after(() => tdb.dispose());

    describe("claim certificates", () => {
      it("registers, finds through the tenant filter and refuses a second registration of an id", async () => {
        const id = certificateId();
        const certificate = newClaimCertificate(
          { certificateId: id, tenantId: TENANT_A, templateName: "fleet", notAfter: "2027-01-01T00:00:00Z" },
          change(),
        );
        await stores.claimCertificates.add(certificate);

        assert.deepEqual(await stores.claimCertificates.find(id, TENANT_A), certificate);
        assert.equal(await stores.claimCertificates.find(id, TENANT_B), null, "another tenant sees nothing");
        assert.equal(await stores.claimCertificates.find(id, null), null, "the host sees nothing");
        const duplicate = newClaimCertificate(
          { certificateId: id, tenantId: TENANT_B, templateName: "x", notAfter: "2027-01-01T00:00:00Z" },
          change(),
        );
        await assert.rejects(stores.claimCertificates.add(duplicate), (error: unknown) => {
          assert.ok(error instanceof DuplicateKeyError);
          assert.equal(error.key, "certificateId");
          return true;
        });
      });

      it("changes the status once (version and audit move only on a real change)", async () => {
        const id = certificateId();
        await stores.claimCertificates.add(
          newClaimCertificate(
            {
              certificateId: id,
              tenantId: TENANT_A,
              templateName: "fleet",
              notAfter: "2027-01-01T00:00:00Z",
            },
            change(),
          ),
        );
        const first = await stores.claimCertificates.setStatus(
          id,
          TENANT_A,
          ClaimCertificateStatus.Inactive,
          change("alice"),
        );
        const again = await stores.claimCertificates.setStatus(
          id,
          TENANT_A,
          ClaimCertificateStatus.Inactive,
          change("bob"),
        );
        const foreign = await stores.claimCertificates.setStatus(
          id,
          TENANT_B,
          ClaimCertificateStatus.Active,
          change(),
        );

        assert.equal(first?.status, "Inactive");
        assert.equal(first?.version, 2);
        assert.equal(first?.audit.modifiedBy, "alice");
        assert.deepEqual(again, first);
        assert.equal(foreign, null);
        assert.equal((await stores.claimCertificates.find(id, TENANT_A))?.status, "Inactive");
      });

      it("pages one tenant's certificates by id, optionally by status", async () => {
        const tenant = uuidv7();
        const ids = [certificateId(), certificateId(), certificateId()];
        for (const id of ids) {
          await stores.claimCertificates.add(
            newClaimCertificate(
              {
                certificateId: id,
                tenantId: tenant,
                templateName: "fleet",
                notAfter: "2027-01-01T00:00:00Z",
              },
              change(),
            ),
          );
        }
        await stores.claimCertificates.setStatus(ids[1] as string, tenant, "Inactive", change());

        const first = await stores.claimCertificates.page({ tenant, limit: 2 });
        const second = await stores.claimCertificates.page({ tenant, limit: 2, cursor: first.nextCursor });
        const inactive = await stores.claimCertificates.page({ tenant, limit: 10, status: "Inactive" });

        assert.deepEqual(
          [...first.items, ...second.items].map((c) => c.certificateId),
          ids,
        );
        assert.equal(second.nextCursor, null);
        assert.deepEqual(
          inactive.items.map((c) => c.certificateId),
          [ids[1]],
        );
      });
    });

    describe("fleet credentials", () => {
      it("finds a key across tenants for authentication, lists per tenant and revokes once", async () => {
        const key = credential(TENANT_A);
        await stores.fleetCredentials.add(key);
        await stores.fleetCredentials.add(credential(TENANT_B));

        assert.deepEqual(await stores.fleetCredentials.findByKeyId(key.keyId), key);
        const listed = await stores.fleetCredentials.page({ tenant: TENANT_A, limit: 100 });
        assert.ok(listed.items.every((c) => c.tenantId === TENANT_A));
        assert.ok(listed.items.some((c) => c.keyId === key.keyId));
        assert.equal(await stores.fleetCredentials.revoke(key.keyId, TENANT_B, change()), null);

        const revoked = await stores.fleetCredentials.revoke(key.keyId, TENANT_A, change("alice"));
        const again = await stores.fleetCredentials.revoke(key.keyId, TENANT_A, change("bob"));

        assert.equal(revoked?.status, "Revoked");
        assert.equal(revoked?.revokedBy, "alice");
        assert.deepEqual(again, revoked, "a second revoke changes nothing");
        await assert.rejects(stores.fleetCredentials.add(key), DuplicateKeyError);
      });
    });

    describe("request nonces", () => {
      const nonce = () => ({
        hash: uuidv7().replaceAll("-", "").padEnd(64, "0"),
        keyId: "fk_test",
        expiresAt: new Date(clock.now().getTime() + 300_000),
      });

      it("remembers a signature once and reports the replay", async () => {
        const n = nonce();
        assert.equal(await stores.nonces.remember(n), true);
        assert.equal(await stores.nonces.remember(n), false);
      });

      it("answers a burst exactly: one acceptance per signature, replays and known ones refused", async () => {
        const known = nonce();
        await stores.nonces.remember(known);
        const fresh = Array.from({ length: 40 }, () => nonce());
        const repeated = nonce();
        const burst = [...fresh, known, ...Array.from({ length: 10 }, () => repeated)];

        const answers = await Promise.all(burst.map((n) => stores.nonces.remember(n)));

        assert.deepEqual(answers.slice(0, 40), Array(40).fill(true));
        assert.equal(answers[40], false, "already remembered before the burst");
        assert.deepEqual(
          answers.slice(41).filter(Boolean).length,
          1,
          "ten copies of one signature: exactly one is accepted",
        );
        assert.equal(await stores.nonces.remember(repeated), false);
      });

      it("forgets a nonce whose transaction rolled back", async () => {
        const n = nonce();
        await assert.rejects(
          tdb.database.run(async (scope) => {
            assert.equal(await stores.nonces.remember(n, scope), true);
            throw new Error("the request failed later");
          }),
        );
        assert.equal(await stores.nonces.remember(n), true);
      });

      it("lets exactly one of two hosts accept the same signature at once", async () => {
        const other = postgresFleetProvisioningStores(await tdb.openAnother(), bus);
        const n = nonce();
        const results = await Promise.all([stores.nonces.remember(n), other.nonces.remember(n)]);
        assert.deepEqual(results.sort(), [false, true]);
      });

      it("purges only expired nonces", async () => {
        const expired = { ...nonce(), expiresAt: new Date(clock.now().getTime() - 1) };
        const live = nonce();
        await stores.nonces.remember(expired);
        await stores.nonces.remember(live);

        const purged = await stores.nonces.purgeExpired(clock.now());

        assert.ok(purged >= 1);
        assert.equal(await stores.nonces.remember(expired), true, "the expired one is gone");
        assert.equal(await stores.nonces.remember(live), false, "the live one stays");
      });
    });

    describe("claim-certificate expiry", () => {
      it("pages Active registered certificates that expire before an instant", async () => {
        const now = clock.now().getTime();
        const soon = certificateId();
        const later = certificateId();
        const inactive = certificateId();
        for (const [id, days] of [
          [soon, 10],
          [later, 90],
          [inactive, 5],
        ] as const) {
          await stores.claimCertificates.add(
            newClaimCertificate(
              {
                certificateId: id,
                tenantId: TENANT_A,
                templateName: "fleet",
                notAfter: new Date(now + days * DAY),
              },
              change(),
            ),
          );
        }
        await stores.claimCertificates.setStatus(inactive, TENANT_A, "Inactive", change());

        const seen: string[] = [];
        let cursor: string | null = null;
        do {
          const page = await stores.claimExpiry.pageExpiringCertificates({
            expiresBefore: new Date(now + 30 * DAY),
            limit: 1,
            cursor,
          });
          seen.push(...page.items.map((c) => c.certificateId));
          cursor = page.nextCursor;
        } while (cursor);

        assert.ok(seen.includes(soon));
        assert.ok(!seen.includes(later));
        assert.ok(!seen.includes(inactive));
      });

      it("pages live Active JITP bindings whose claim certificate expires before an instant", async () => {
        const bindings = new PostgresAwsThingBindingStore(tdb.database, bus);
        const now = clock.now().getTime();
        const make = (serial: string, days: number | null) => {
          const thingName = ThingName.from(TENANT_B, serial);
          return AwsThingBinding.createForJitp(
            {
              deviceId: uuidv7(),
              tenantId: TENANT_B,
              thingName,
              thingArn: `arn:aws:iot:eu-west-1:123456789012:thing/${thingName}`,
              certificateArn: `arn:aws:iot:eu-west-1:123456789012:cert/${certificateId()}`,
              claimCertificateExpiresAt: days === null ? null : new Date(now + days * DAY),
            },
            change("fleet"),
          );
        };
        const soon = make("EXP-SOON", 3);
        await bindings.add(soon);
        await bindings.add(make("EXP-LATER", 300));
        await bindings.add(make("EXP-NONE", null));

        const page = await stores.claimExpiry.pageExpiringJitpBindings({
          expiresBefore: new Date(now + 30 * DAY),
          limit: 100,
        });

        const names = page.items.map((b) => b.thingName);
        assert.ok(names.includes(soon.thingName.value));
        assert.ok(!names.some((n) => n.endsWith("EXP-LATER") || n.endsWith("EXP-NONE")));
        const found = page.items.find((b) => b.deviceId === soon.deviceId);
        assert.equal(found?.claimCertificateExpiresAt.getTime(), now + 3 * DAY);
      });

      it("records a notice and publishes its event once per subject and window", async () => {
        const id = certificateId();
        const notice: ClaimExpiryNotice = {
          subjectKey: id,
          claimCertificateId: id,
          deviceId: null,
          tenantId: TENANT_A,
          expiresAt: new Date("2026-06-01T00:00:00Z"),
          windowStartsAt: new Date("2026-05-02T00:00:00Z"),
          daysUntilExpiry: 30,
          notifiedAt: clock.now(),
        };
        const event: ClaimCertificateExpiringEvent = {
          type: "ClaimCertificateExpiringEvent",
          eventId: uuidv7(),
          occurredAt: clock.now().toISOString(),
          tenantId: TENANT_A,
          claimCertificateId: id,
          deviceId: null,
          expiresAt: notice.expiresAt.toISOString(),
          daysUntilExpiry: 30,
        };
        const before = (await delivered()).length;

        const first = await stores.claimExpiry.recordNotice(notice, event);
        const second = await stores.claimExpiry.recordNotice(
          { ...notice, daysUntilExpiry: 29 },
          { ...event, eventId: uuidv7(), daysUntilExpiry: 29 },
        );
        const otherWindow = await stores.claimExpiry.recordNotice(
          { ...notice, windowStartsAt: new Date("2026-05-10T00:00:00Z") },
          { ...event, eventId: uuidv7() },
        );

        assert.deepEqual([first, second, otherWindow], [true, false, true]);
        const events = (await delivered()).slice(before);
        assert.equal(events.length, 2);
        assert.equal(events[0]?.eventId, event.eventId);
      });

      it("hands a sweep to one host per interval", async () => {
        const name = `sweep-${uuidv7()}`;
        const t0 = clock.now();
        const next = new Date(t0.getTime() + DAY);
        const other = postgresFleetProvisioningStores(await tdb.openAnother(), bus);

        const first = await Promise.all([
          stores.claimExpiry.claimSweep(name, t0, next, "host-a"),
          other.claimExpiry.claimSweep(name, t0, next, "host-b"),
        ]);
        const early = await stores.claimExpiry.claimSweep(
          name,
          new Date(t0.getTime() + DAY - 1),
          new Date(t0.getTime() + 2 * DAY),
          "host-a",
        );
        const due = await other.claimExpiry.claimSweep(
          name,
          next,
          new Date(t0.getTime() + 2 * DAY),
          "host-b",
        );

        assert.deepEqual(first.sort(), [false, true]);
        assert.equal(early, false);
        assert.equal(due, true);
      });
    });
  });
}
