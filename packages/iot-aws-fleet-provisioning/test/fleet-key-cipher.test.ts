import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { FleetKeyCipher, FleetKeyCipherError } from "@granit/iot-aws-fleet-provisioning";

const key = randomBytes(32);

describe("FleetKeyCipher (AES-256-GCM under the master key)", () => {
  it("round-trips a secret and never stores it in clear", () => {
    const cipher = new FleetKeyCipher(key);
    const ciphertext = cipher.encrypt("the-secret-value", "fk_1");
    assert.ok(!ciphertext.includes("the-secret-value"));
    assert.match(ciphertext, /^v1\.[0-9a-f]{8}\.[\w-]+\.[\w-]+\.[\w-]+$/);
    assert.equal(cipher.decrypt(ciphertext, "fk_1"), "the-secret-value");
    assert.notEqual(cipher.encrypt("the-secret-value", "fk_1"), ciphertext, "a fresh IV every time");
  });

  it("binds a ciphertext to its key id (a row copied onto another key fails)", () => {
    const cipher = new FleetKeyCipher(key);
    const ciphertext = cipher.encrypt("secret", "fk_1");
    assert.throws(() => cipher.decrypt(ciphertext, "fk_2"), FleetKeyCipherError);
  });

  it("refuses a tampered ciphertext and an unknown master key", () => {
    const cipher = new FleetKeyCipher(key);
    const ciphertext = cipher.encrypt("secret", "fk_1");
    const parts = ciphertext.split(".");
    parts[4] = Buffer.from("tampered").toString("base64url");
    assert.throws(() => cipher.decrypt(parts.join("."), "fk_1"), FleetKeyCipherError);
    assert.throws(() => new FleetKeyCipher(randomBytes(32)).decrypt(ciphertext, "fk_1"), /not configured/);
    assert.throws(() => cipher.decrypt("garbage", "fk_1"), FleetKeyCipherError);
  });

  it("decrypts rows of a previous master key after a rotation", () => {
    const old = new FleetKeyCipher(key.toString("base64"));
    const ciphertext = old.encrypt("secret", "fk_1");
    const rotated = new FleetKeyCipher(randomBytes(32).toString("hex"), [key.toString("base64")]);
    assert.equal(rotated.decrypt(ciphertext, "fk_1"), "secret");
    assert.equal(rotated.isCurrent(ciphertext), false);
    assert.equal(rotated.isCurrent(rotated.encrypt("secret", "fk_1")), true);
  });

  it("refuses a master key that is not 32 bytes", () => {
    assert.throws(() => new FleetKeyCipher(randomBytes(16)), /32 random bytes/);
    assert.throws(() => new FleetKeyCipher("too-short"), /32 random bytes/);
  });
});
