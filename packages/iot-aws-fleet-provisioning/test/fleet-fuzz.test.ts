/**
 * Fuzz: 10,000 random and malformed requests against `/verify` and `/registered` — random bytes,
 * wrong types, huge strings, missing and unknown fields, bad JSON, wrong content types, random and
 * almost-right Authorization headers, stale and future timestamps, replays, and **validly signed**
 * requests whose bodies are broken (every generated body is invalid or denied by construction). The
 * host must never answer 5xx (nor 2xx) and no row of any `iot_*` / `iotaws_*` table may change.
 * The seed is printed; `FUZZ_SEED=<n>` replays a run.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { fleetAuthorizationHeader, type IssuedFleetKey } from "@granit/iot-aws-fleet-provisioning";
import { databaseTargets } from "@granit/iot-postgres/testing";
import {
  type FleetFixture,
  openFleetFixture,
  registeredBody,
  TENANT_A,
  TENANT_B,
} from "./support/fleet-fixture.ts";

const REQUESTS = 10_000;
const ALLOWED = new Set([400, 401, 403, 404, 413, 415, 422]);
const PREFIX = "/api/iot/fleet-provisioning";

/** mulberry32: a small seeded PRNG, so a failing run can be replayed. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T;
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)));
  const text = (n: number) =>
    Array.from({ length: n }, () =>
      String.fromCodePoint(pick([int(0x7f), 0x20 + int(0x5f), 0x80 + int(0xff00)])),
    ).join("");
  return { next, int, pick, bytes, text };
}

type Rng = ReturnType<typeof prng>;

interface FuzzRequest {
  readonly kind: string;
  readonly path: string;
  readonly method: string;
  readonly headers: Record<string, string>;
  readonly payload: string | Buffer;
}

const WEIRD_VALUES = (r: Rng): unknown[] => [
  null,
  true,
  0,
  -1,
  1e308,
  Number.NaN,
  [],
  {},
  ["SN-1"],
  { $gt: "" },
  "",
  " ",
  "x".repeat(200 + r.int(5000)),
  r.text(1 + r.int(40)),
  "SN-1\u0000",
  "SN 1",
  "-SN",
  "SN-1; DROP TABLE iot_devices;--",
  "../../etc/passwd",
  "ünïcödé",
  "\ud83d\ude00",
];

/** True when `value` would pass for `field` of `/registered` (the fuzzer must only send broken values). */
function wouldBeValid(field: string, value: unknown): boolean {
  if (typeof value !== "string") return false;
  if (field === "model") return value.trim().length > 0 && value.length <= 128;
  if (field === "firmwareVersion")
    return value.length <= 64 && /^v?\d+(\.\d+){0,3}(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/.test(value);
  return false; // serial, thing name and ARNs: a stray valid value still mismatches the thing name (422)
}

/** A body that is invalid (or denied) for `/verify`, whatever the dice say. */
function badVerifyBody(r: Rng): unknown {
  const valid = () => ({ serialNumber: `SN-${r.int(1e6)}` });
  switch (r.int(8)) {
    case 0:
      return {};
    case 1:
      return {
        serialNumber: r.pick(
          WEIRD_VALUES(r).filter(
            (v) =>
              typeof v !== "string" ||
              v.length === 0 ||
              v.length > 94 ||
              !/^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(v),
          ),
        ),
      };
    case 2:
      return {
        ...valid(),
        [r.pick(["tenant", "TenantId", "extra", "__proto__x", "serialnumber"])]: r.pick(WEIRD_VALUES(r)),
      };
    case 3:
      return { ...valid(), claimCertificateId: r.pick(["abc", "g".repeat(64), 42, "a".repeat(65)]) };
    case 4:
      return {
        ...valid(),
        parameters: r.pick([
          [],
          "x",
          { a: 1 },
          Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`p${i}`, "v"])),
        ]),
      };
    case 5:
      return { ...valid(), tenantId: r.pick([TENANT_B, null, "not-a-uuid", 7]) };
    case 6:
      return { serialNumber: r.pick(["SN-DENIED", "sn-denied"]) }; // valid, denied → 403, no write
    default:
      return r.pick([[], "text", 42, null, true]);
  }
}

/** A body that is invalid for `/registered`, whatever the dice say. */
function badRegisteredBody(r: Rng): unknown {
  const serial = `FZ-${r.int(1e6)}`;
  const base = registeredBody(TENANT_A, serial);
  const field = r.pick(Object.keys(base));
  switch (r.int(9)) {
    case 0: {
      const { [field]: _dropped, ...rest } = base;
      return rest;
    }
    case 1:
      return { ...base, [field]: r.pick(WEIRD_VALUES(r).filter((v) => !wouldBeValid(field, v))) };
    case 2:
      return { ...base, [r.pick(["extra", "deviceId", "status", "__proto__x"])]: r.pick(WEIRD_VALUES(r)) };
    case 3:
      return {
        ...base,
        thingName: r.pick([
          "sensor-1",
          `t${"0".repeat(31)}-${serial}`,
          `t${"a".repeat(32)}-${serial}`,
          "x".repeat(129),
        ]),
      };
    case 4:
      return { ...registeredBody(TENANT_B, serial) }; // another tenant's thing name → 422
    case 5:
      return {
        ...base,
        certificateArn: r.pick(["arn:aws:iot:eu-west-1:1:cert/x", "cert", `arn:aws:s3:::${"b".repeat(64)}`]),
      };
    case 6:
      return { ...base, tenantId: TENANT_B };
    case 7:
      return registeredBody(TENANT_A, "SN-DENIED"); // denied serial → 403
    default:
      return { ...base, firmwareVersion: r.pick(["", "v1 beta", "1..2", "x".repeat(300)]) };
  }
}

function generate(r: Rng, fx: FleetFixture, replayable: Map<string, FuzzRequest>): FuzzRequest {
  const path = r.pick(["/verify", "/registered"]);
  const url = `${PREFIX}${path}`;
  const now = fx.clock.now().getTime();
  const sign = (
    key: IssuedFleetKey,
    payload: string | Buffer,
    timestamp = new Date(now).toISOString(),
    signedPath = url,
  ) =>
    fleetAuthorizationHeader({
      keyId: key.keyId,
      secret: key.secret,
      method: "POST",
      path: signedPath,
      body: payload,
      timestamp,
    });
  const badBody = () => JSON.stringify(path === "/verify" ? badVerifyBody(r) : badRegisteredBody(r));
  const json = { "content-type": "application/json" };
  const kind = r.int(12);
  switch (kind) {
    case 0: {
      // Random bytes, random content type, no credential.
      const payload = r.bytes(r.int(3000));
      return {
        kind: "random-bytes",
        path: url,
        method: "POST",
        payload,
        headers: {
          "content-type": r.pick([
            "application/json",
            "application/octet-stream",
            "text/plain",
            "",
            "application/json; charset=utf-16",
          ]),
        },
      };
    }
    case 1: {
      // Random Authorization headers on a plausible body.
      const auth = r.pick([
        r.text(r.int(100)),
        `Bearer ${r.text(20)}`,
        `GRANIT-HMAC-SHA256 ${r.text(r.int(200))}`,
        `GRANIT-HMAC-SHA256 KeyId=${fx.keys.a.keyId}, Timestamp=${new Date(now).toISOString()}, Signature=${r.bytes(32).toString("hex")}`,
        `GRANIT-HMAC-SHA256 KeyId=fk_${r.bytes(12).toString("hex")}, Timestamp=${Math.floor(now / 1000)}, Signature=${r.bytes(32).toString("hex")}`,
        `GRANIT-HMAC-SHA256 KeyId=${fx.keys.a.keyId}, Timestamp=${new Date(now).toISOString()}, Signature=${r.bytes(32).toString("hex")}, KeyId=x`,
        "x".repeat(600),
      ]);
      return {
        kind: "random-auth",
        path: url,
        method: "POST",
        payload: JSON.stringify(registeredBody(TENANT_A, `RA-${r.int(1e6)}`)),
        headers: { ...json, authorization: auth.replace(/[\r\n]/g, "") },
      };
    }
    case 2: {
      // Validly signed, malformed JSON text.
      const payload = r.pick([
        '{"serialNumber":',
        "{",
        "[",
        "nul",
        '{"a":1}}',
        `{"serialNumber":"${r.text(5)}`,
        r.bytes(r.int(200)).toString("latin1"),
        "\ufeff{}",
      ]);
      return {
        kind: "signed-bad-json",
        path: url,
        method: "POST",
        payload,
        headers: { ...json, authorization: sign(fx.keys.a, payload) },
      };
    }
    case 3:
    case 4:
    case 5: {
      // Validly signed, schema-breaking or denied body.
      const payload = badBody();
      return {
        kind: "signed-bad-body",
        path: url,
        method: "POST",
        payload,
        headers: { ...json, authorization: sign(fx.keys.a, payload) },
      };
    }
    case 6: {
      // Validly signed, wrong content type.
      const payload = badBody();
      const contentType = r.pick([
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/jsonx",
        "application/xml",
        "application/problem+json",
      ]);
      return {
        kind: "signed-wrong-type",
        path: url,
        method: "POST",
        payload,
        headers: { "content-type": contentType, authorization: sign(fx.keys.a, payload) },
      };
    }
    case 7: {
      // Signed, but stale / future / for another path / with the wrong key's secret.
      const payload = JSON.stringify(
        path === "/verify"
          ? { serialNumber: `OK-${r.int(1e6)}` }
          : registeredBody(TENANT_A, `OK-${r.int(1e6)}`),
      );
      const variant = r.int(4);
      const authorization =
        variant === 0
          ? sign(fx.keys.a, payload, new Date(now - 301_000 - r.int(1e9)).toISOString())
          : variant === 1
            ? sign(fx.keys.a, payload, String(Math.floor(now / 1000) + 301 + r.int(1e6)))
            : variant === 2
              ? sign(
                  fx.keys.a,
                  payload,
                  undefined,
                  path === "/verify" ? `${PREFIX}/registered` : `${PREFIX}/verify`,
                )
              : sign({ ...fx.keys.a, secret: fx.keys.b.secret }, payload);
      return {
        kind: "signed-wrong",
        path: url,
        method: "POST",
        payload,
        headers: { ...json, authorization },
      };
    }
    case 8: {
      // Huge bodies, validly signed: over the limit.
      const payload = JSON.stringify({ serialNumber: "SN-1", pad: "x".repeat(17_000 + r.int(100_000)) });
      return {
        kind: "signed-huge",
        path: url,
        method: "POST",
        payload,
        headers: { ...json, authorization: sign(fx.keys.a, payload) },
      };
    }
    case 9: {
      // A replay of a request that succeeded before the measurement began.
      const replay = r.pick([...replayable.values()]);
      return { ...replay, kind: "replay" };
    }
    case 10: {
      // Other methods and paths under the prefix.
      const payload = badBody();
      return {
        kind: "other-route",
        path: `${PREFIX}${r.pick(["/verify/", "/verifyx", "/", "/registered/1", "/../verify"])}`,
        method: r.pick(["POST", "GET", "PUT", "DELETE", "PATCH"]),
        payload: r.int(2) ? payload : "",
        headers: { ...json, authorization: sign(fx.keys.a, payload) },
      };
    }
    default: {
      // Signed with a lying Content-Length or an empty body.
      const payload = r.int(2) ? "" : badBody();
      const headers: Record<string, string> = { ...json, authorization: sign(fx.keys.a, payload) };
      if (payload && r.int(2)) headers["content-length"] = String(payload.length + 1 + r.int(50));
      return { kind: "signed-odd-length", path: url, method: "POST", payload, headers };
    }
  }
}

for (const target of databaseTargets()) {
  describe(`fleet endpoints fuzz (${target.name})`, { skip: target.skip }, () => {
    let fx: FleetFixture;
    before(async () => {
      fx = await openFleetFixture(target, { config: { DeniedSerialNumbers: ["SN-DENIED"] } });
    });
    after(() => fx?.dispose());

    it(`answers ${REQUESTS} random and malformed requests without a 5xx and without writing a row`, async () => {
      // Prepare: some successful requests whose exact bytes the fuzzer will replay.
      const replayable = new Map<string, FuzzRequest>();
      for (const [i, path] of (["/verify", "/registered", "/verify"] as const).entries()) {
        const payload = JSON.stringify(
          path === "/verify" ? { serialNumber: `RP-${i}` } : registeredBody(TENANT_A, `RP-${i}`),
        );
        const url = `${PREFIX}${path}`;
        const headers = {
          "content-type": "application/json",
          authorization: fleetAuthorizationHeader({
            keyId: fx.keys.a.keyId,
            secret: fx.keys.a.secret,
            method: "POST",
            path: url,
            body: payload,
            timestamp: fx.clock.now().toISOString(),
          }),
        };
        const first = await fx.app.inject({ method: "POST", url, headers, payload });
        assert.equal(first.statusCode, 200, first.body);
        replayable.set(url + i, { kind: "replay", path: url, method: "POST", headers, payload });
      }
      const seed = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
      console.log(`# fuzz seed ${seed} (FUZZ_SEED=${seed} replays this run)`);
      const r = prng(seed);
      await fx.bus.drain();
      const before = await fx.rowCounts();

      // Act
      const statuses = new Map<number, number>();
      const failures: string[] = [];
      for (let i = 0; i < REQUESTS; i++) {
        const request = generate(r, fx, replayable);
        const response = await fx.app.inject({
          method: request.method as "POST",
          url: request.path,
          headers: request.headers,
          payload: request.payload,
        });
        statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
        if (!ALLOWED.has(response.statusCode) && failures.length < 10) {
          failures.push(
            `#${i} ${request.kind} ${request.method} ${request.path} → ${response.statusCode} ${response.body.slice(0, 300)}`,
          );
        }
      }

      // Assess
      await fx.bus.drain();
      console.log(`# fuzz statuses ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`);
      assert.deepEqual(failures, [], "every answer is a 4xx refusal");
      assert.equal(
        [...statuses.values()].reduce((a, b) => a + b, 0),
        REQUESTS,
      );
      assert.deepEqual(await fx.rowCounts(), before, "no row of any iot_* / iotaws_* table changed");
    });
  });
}
