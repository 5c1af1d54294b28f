import "../src/telemetry/meter-provider.ts";

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  ClaimCertificateRegistry,
  FleetKeyAdmin,
  FleetKeyCipher,
  fleetAuthorizationHeader,
} from "@granit/iot-aws-fleet-provisioning";
import { IOTAWS_MIGRATIONS, postgresFleetProvisioningStores } from "@granit/iot-aws-postgres";
import { databaseTargets } from "@granit/iot-postgres/testing";
import {
  FLEET_ADMIN_PREFIX,
  FleetProvisioningScopes,
  fleetProvisioningAdminRoutes,
} from "../src/aws/fleet-provisioning-routes.ts";
import {
  type ApiResponse,
  startTestHost,
  TENANT_A,
  TENANT_B,
  type TestHost,
  TOKENS,
} from "./support/test-host.ts";

const MASTER_KEY = Buffer.alloc(32, 9).toString("base64");
const ADMIN = {
  a: "fleet-admin-tenant-a-token-01",
  b: "fleet-admin-tenant-b-token-01",
  readerA: "fleet-reader-tenant-a-token-01",
} as const;
const CERTS = "/api/iot/aws/claim-certificates";
const KEYS = "/api/iot/aws/fleet-keys";
let counter = 0;
const certificateId = () => (++counter).toString(16).padStart(64, "c");

for (const target of databaseTargets()) {
  describe(`fleet-provisioning management API (${target.name})`, { skip: target.skip }, () => {
    let t: TestHost;
    const cipher = new FleetKeyCipher(MASTER_KEY);
    before(async () => {
      t = await startTestHost(target, {
        beforeStart(host) {
          host.addMigration(IOTAWS_MIGRATIONS);
          const stores = postgresFleetProvisioningStores(host.database, host.bus);
          const { Read, Manage } = FleetProvisioningScopes;
          host.tokens.add({
            name: "fleet-admin@tenant-a",
            tenantId: TENANT_A,
            scopes: [Read, Manage],
            token: ADMIN.a,
          });
          host.tokens.add({
            name: "fleet-admin@tenant-b",
            tenantId: TENANT_B,
            scopes: [Read, Manage],
            token: ADMIN.b,
          });
          host.tokens.add({
            name: "fleet-reader@tenant-a",
            tenantId: TENANT_A,
            scopes: [Read],
            token: ADMIN.readerA,
          });
          void host.app.register(fleetProvisioningAdminRoutes, {
            prefix: FLEET_ADMIN_PREFIX,
            tokens: host.tokens,
            claimCertificates: new ClaimCertificateRegistry({
              store: stores.claimCertificates,
              clock: host.clock,
            }),
            fleetKeys: new FleetKeyAdmin({ credentials: stores.fleetCredentials, cipher, clock: host.clock }),
          });
        },
      });
    });
    after(() => t?.dispose());

    const rows = async () => {
      const [row] = await t.testDatabase.database.execute<{
        certificates: number;
        keys: number;
        versions: number;
      }>(
        `SELECT (SELECT count(*)::int FROM iotaws_claim_certificates) AS certificates,
                (SELECT count(*)::int FROM iotaws_fleet_credentials) AS keys,
                (SELECT coalesce(sum(version), 0)::int FROM iotaws_claim_certificates) AS versions`,
      );
      return { ...row, revoked: await revokedCount(), core: await t.snapshot() };
    };
    const revokedCount = async () =>
      Number(
        (
          await t.testDatabase.database.execute<{ n: number }>(
            "SELECT count(*)::int AS n FROM iotaws_fleet_credentials WHERE status = 'Revoked'",
          )
        )[0]?.n,
      );
    /** Runs `act` and asserts it wrote nothing. */
    const nothingWritten = async (act: () => Promise<ApiResponse>): Promise<ApiResponse> => {
      const before = await rows();
      const response = await act();
      assert.deepEqual(await rows(), before, "an error must write nothing");
      return response;
    };
    const register = (token: string, overrides: Record<string, unknown> = {}) =>
      t.call("POST", CERTS, {
        token,
        json: {
          certificateId: certificateId(),
          templateName: "granit-fleet",
          notAfter: "2027-03-01T00:00:00Z",
          ...overrides,
        },
      });

    describe("claim certificates", () => {
      it("registers one for the token's tenant: 201, Location, Active", async () => {
        const id = certificateId();
        const response = await register(ADMIN.a, { certificateId: id.toUpperCase(), description: "batch 7" });

        assert.equal(response.status, 201);
        assert.equal(response.headers.get("location"), `${CERTS}/${id}`);
        assert.deepEqual(response.body, {
          certificateId: id,
          tenantId: TENANT_A,
          templateName: "granit-fleet",
          notAfter: "2027-03-01T00:00:00.000Z",
          status: "Active",
          description: "batch 7",
          createdAt: "2026-03-01T08:00:00.000Z",
          createdBy: "fleet-admin@tenant-a",
          modifiedAt: null,
          modifiedBy: null,
          version: 1,
        });
        const fetched = await t.call("GET", `${CERTS}/${id}`, { token: ADMIN.readerA });
        assert.deepEqual(fetched.body, response.body);
      });

      it("deactivates and reactivates, idempotently, and shows the status change", async () => {
        const id = (await register(ADMIN.a)).body.certificateId;
        const first = await t.call("POST", `${CERTS}/${id}/deactivate`, { token: ADMIN.a });
        const again = await t.call("POST", `${CERTS}/${id}/deactivate`, { token: ADMIN.a });
        const back = await t.call("POST", `${CERTS}/${id}/activate`, { token: ADMIN.a });

        assert.equal(first.status, 200);
        assert.equal(first.body.status, "Inactive");
        assert.equal(first.body.version, 2);
        assert.deepEqual(again.body, first.body);
        assert.equal(back.body.status, "Active");
        assert.equal(back.body.version, 3);
      });

      it("lists only the tenant's certificates, by pages, filtered by status", async () => {
        await register(ADMIN.b);
        const ids = [
          (await register(ADMIN.a)).body.certificateId,
          (await register(ADMIN.a)).body.certificateId,
        ];
        await t.call("POST", `${CERTS}/${ids[0]}/deactivate`, { token: ADMIN.a });

        const seen: string[] = [];
        let cursor: string | null = null;
        do {
          const page: ApiResponse = await t.call(
            "GET",
            `${CERTS}?limit=2${cursor ? `&cursor=${cursor}` : ""}`,
            {
              token: ADMIN.readerA,
            },
          );
          assert.equal(page.status, 200);
          for (const item of page.body.items) {
            assert.equal(item.tenantId, TENANT_A);
            seen.push(item.certificateId);
          }
          cursor = page.body.nextCursor;
        } while (cursor);
        const inactive = await t.call("GET", `${CERTS}?status=Inactive`, { token: ADMIN.a });

        assert.ok(ids.every((id) => seen.includes(id)));
        assert.equal(new Set(seen).size, seen.length, "no certificate twice");
        assert.ok(inactive.body.items.some((c: { certificateId: string }) => c.certificateId === ids[0]));
        assert.ok(inactive.body.items.every((c: { status: string }) => c.status === "Inactive"));
      });

      it("answers 404 for another tenant's certificate, and writes nothing", async () => {
        const id = (await register(ADMIN.b)).body.certificateId;
        const get = await nothingWritten(() => t.call("GET", `${CERTS}/${id}`, { token: ADMIN.a }));
        const deactivate = await nothingWritten(() =>
          t.call("POST", `${CERTS}/${id}/deactivate`, { token: ADMIN.a }),
        );
        assert.equal(get.status, 404);
        assert.equal(deactivate.status, 404);
        assert.equal(get.body.type, "urn:granit:iot:problem:not-found");
      });

      it("answers 409 for a certificate already registered (by any tenant), writing nothing", async () => {
        const id = (await register(ADMIN.b)).body.certificateId;
        const response = await nothingWritten(() => register(ADMIN.a, { certificateId: id }));
        assert.equal(response.status, 409);
        assert.equal(response.body.type, "urn:granit:iot:problem:duplicate-key");
      });

      for (const [name, overrides, fields] of [
        [
          "a malformed id, template and date",
          { certificateId: "abc", templateName: "a b", notAfter: "soon" },
          ["certificateId", "templateName", "notAfter"],
        ],
        ["a missing field", { templateName: undefined }, ["templateName"]],
        ["an unknown field", { tenantId: TENANT_B }, ["tenantId"]],
      ] as const) {
        it(`answers 400 with field errors for ${name}, writing nothing`, async () => {
          const response = await nothingWritten(() => register(ADMIN.a, overrides));
          assert.equal(response.status, 400);
          assert.deepEqual(
            response.body.errors.map((e: { field: string }) => e.field),
            fields,
          );
        });
      }

      it("answers 400 for a malformed id in the path and for a forged cursor", async () => {
        assert.equal((await t.call("GET", `${CERTS}/not-hex`, { token: ADMIN.a })).status, 400);
        assert.equal((await t.call("GET", `${CERTS}?cursor=bm9wZQ`, { token: ADMIN.a })).status, 400);
      });

      it("answers 401 without a token and 403 without the scope, writing nothing", async () => {
        const anonymous = await nothingWritten(() => register(""));
        const devicesOnly = await nothingWritten(() => register(TOKENS.tenantA));
        const reader = await nothingWritten(() => register(ADMIN.readerA));
        assert.equal(anonymous.status, 401);
        assert.equal(devicesOnly.status, 403);
        assert.equal(reader.status, 403);
        assert.equal((await t.call("GET", CERTS, { token: TOKENS.tenantA })).status, 403);
      });

      it("answers 415 for a non-JSON body, writing nothing", async () => {
        const response = await nothingWritten(() =>
          t.call("POST", CERTS, {
            token: ADMIN.a,
            body: "certificateId=1",
            headers: { "content-type": "text/plain" },
          }),
        );
        assert.equal(response.status, 415);
      });
    });

    it("documents the management routes in the OpenAPI document", async () => {
      const docs = await t.call("GET", "/docs/json");
      assert.equal(docs.status, 200);
      for (const path of [CERTS, `${CERTS}/{certificateId}/deactivate`, KEYS, `${KEYS}/{keyId}/revoke`]) {
        assert.ok(path in docs.body.paths, `${path} is documented`);
      }
    });

    describe("fleet keys", () => {
      it("issues a key whose secret is shown once, stored only encrypted, and signs fleet requests", async () => {
        const response = await t.call("POST", KEYS, {
          token: ADMIN.a,
          json: { description: "pre-provisioning hook" },
        });

        assert.equal(response.status, 201);
        assert.equal(response.headers.get("cache-control"), "no-store");
        const { keyId, secret } = response.body;
        assert.match(keyId, /^fk_[0-9a-f]{24}$/);
        assert.match(secret, /^[A-Za-z0-9_-]{43}$/);
        assert.deepEqual(
          { ...response.body, keyId: undefined, secret: undefined },
          {
            keyId: undefined,
            secret: undefined,
            tenantId: TENANT_A,
            description: "pre-provisioning hook",
            status: "Active",
            createdAt: "2026-03-01T08:00:00.000Z",
            createdBy: "fleet-admin@tenant-a",
            revokedAt: null,
            revokedBy: null,
          },
        );
        const [stored] = await t.testDatabase.database.execute<{ secret_ciphertext: string }>(
          "SELECT secret_ciphertext FROM iotaws_fleet_credentials WHERE key_id = $1",
          [keyId],
        );
        assert.ok(
          stored && !stored.secret_ciphertext.includes(secret),
          "the database never holds the secret",
        );
        assert.equal(cipher.decrypt(stored.secret_ciphertext, keyId), secret);
        assert.match(
          fleetAuthorizationHeader({ keyId, secret, method: "POST", path: "/x", body: "" }),
          new RegExp(`KeyId=${keyId}`),
        );
      });

      it("lists the tenant's keys without their secrets", async () => {
        const issued = await t.call("POST", KEYS, { token: ADMIN.a, json: {} });
        await t.call("POST", KEYS, { token: ADMIN.b });
        const list = await t.call("GET", `${KEYS}?limit=1000`, { token: ADMIN.readerA });

        assert.equal(list.status, 200);
        assert.ok(list.body.items.some((k: { keyId: string }) => k.keyId === issued.body.keyId));
        assert.ok(list.body.items.every((k: { tenantId: string }) => k.tenantId === TENANT_A));
        assert.ok(!list.text.includes(issued.body.secret), "the list never shows a secret");
        assert.ok(!list.text.includes("secret"), "nor a ciphertext field");
      });

      it("revokes a key once; another tenant's or an unknown key is 404 and nothing changes", async () => {
        const created = await t.call("POST", KEYS, { token: ADMIN.a });
        assert.equal(created.status, 201, created.text);
        const { keyId } = created.body;
        const foreign = await nothingWritten(() =>
          t.call("POST", `${KEYS}/${keyId}/revoke`, { token: ADMIN.b }),
        );
        const unknown = await nothingWritten(() =>
          t.call("POST", `${KEYS}/fk_nope/revoke`, { token: ADMIN.a }),
        );
        const revoked = await t.call("POST", `${KEYS}/${keyId}/revoke`, { token: ADMIN.a });
        const again = await t.call("POST", `${KEYS}/${keyId}/revoke`, { token: ADMIN.a });

        assert.equal(foreign.status, 404);
        assert.equal(unknown.status, 404);
        assert.equal(revoked.status, 200);
        assert.equal(revoked.body.status, "Revoked");
        assert.equal(revoked.body.revokedBy, "fleet-admin@tenant-a");
        assert.deepEqual(again.body, revoked.body);
      });

      it("refuses to issue keys without the Manage scope or with a bad body, writing nothing", async () => {
        const reader = await nothingWritten(() => t.call("POST", KEYS, { token: ADMIN.readerA }));
        const devicesOnly = await nothingWritten(() => t.call("POST", KEYS, { token: TOKENS.operator }));
        const unknownField = await nothingWritten(() =>
          t.call("POST", KEYS, { token: ADMIN.a, json: { tenantId: TENANT_B } }),
        );
        const tooLong = await nothingWritten(() =>
          t.call("POST", KEYS, { token: ADMIN.a, json: { description: "x".repeat(300) } }),
        );
        assert.deepEqual(
          [reader.status, devicesOnly.status, unknownField.status, tooLong.status],
          [403, 403, 400, 400],
        );
      });
    });
  });
}
