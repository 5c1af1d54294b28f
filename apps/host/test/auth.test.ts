import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { loadOrCreateOperatorToken } from "../src/auth/operator-token.ts";
import { TokenRegistry } from "../src/auth/token-registry.ts";

const root = mkdtempSync(join(tmpdir(), "granit-auth-test-"));
after(() => rmSync(root, { recursive: true, force: true }));

describe("operator token of the embedded default", () => {
  it("generates a 32-byte base64url token on first start, stored with mode 0600", () => {
    const dataDir = join(root, "first");

    const token = loadOrCreateOperatorToken(dataDir);

    assert.equal(token.generated, true);
    assert.match(token.token, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(readFileSync(join(dataDir, "operator-token"), "utf8").trim(), token.token);
    assert.equal(statSync(token.file).mode & 0o777, 0o600);
  });

  it("reuses the stored token on later starts and tightens loose permissions", () => {
    const dataDir = join(root, "again");
    const first = loadOrCreateOperatorToken(dataDir);
    writeFileSync(first.file, `${first.token}\n`, { mode: 0o644 });

    const second = loadOrCreateOperatorToken(dataDir);

    assert.equal(second.generated, false);
    assert.equal(second.token, first.token);
    assert.equal(statSync(second.file).mode & 0o777, 0o600);
  });

  it("refuses an empty token file instead of accepting an empty token", () => {
    const dataDir = join(root, "empty");
    loadOrCreateOperatorToken(dataDir);
    writeFileSync(join(dataDir, "operator-token"), "\n");

    assert.throws(() => loadOrCreateOperatorToken(dataDir), /empty or too short/);
  });
});

describe("token registry", () => {
  const registry = new TokenRegistry([
    { name: "ops", tenantId: null, scopes: ["IoT.Devices.Read"], token: "plain-token-value-1" },
    {
      name: "hashed",
      tenantId: "0194a5e0-aaaa-7aaa-8aaa-aaaaaaaaaaaa",
      scopes: [],
      tokenSha256: createHash("sha256").update("hashed-token-value-2").digest("hex"),
    },
  ]);

  it("maps a token to its principal, whether configured in clear or by hash", () => {
    const ops = registry.authenticate("plain-token-value-1");
    const hashed = registry.authenticate("hashed-token-value-2");

    assert.equal(ops?.name, "ops");
    assert.equal(ops?.tenantId, null);
    assert.deepEqual([...(ops?.scopes ?? [])], ["IoT.Devices.Read"]);
    assert.equal(hashed?.tenantId, "0194a5e0-aaaa-7aaa-8aaa-aaaaaaaaaaaa");
    assert.equal(hashed?.actor, "hashed");
  });

  it("answers null for an unknown token, a prefix of a token, or an empty one", () => {
    assert.equal(registry.authenticate("plain-token-value-"), null);
    assert.equal(registry.authenticate("unknown"), null);
    assert.equal(registry.authenticate(""), null);
  });
});
