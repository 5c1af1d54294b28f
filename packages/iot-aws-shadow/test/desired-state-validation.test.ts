import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DomainValidationError } from "@granit/iot";
import { DesiredStateTooLargeError, MAX_SHADOW_STATE_BYTES, validateDesired } from "../src/index.ts";

const nested = (levels: number): Record<string, unknown> =>
  levels === 1 ? { leaf: 1 } : { n: nested(levels - 1) };

describe("validateDesired (what AWS would refuse, refused before calling it)", () => {
  it("accepts objects with nested objects, arrays and null (null deletes a key)", () => {
    const desired = { firmware: "1.5.0", config: { interval: 30, tags: ["a", "b"] }, obsolete: null };
    assert.equal(validateDesired(desired), desired);
    assert.deepEqual(validateDesired(nested(6)), nested(6));
  });

  for (const [what, value] of [
    ["an array", [1, 2]],
    ["a string", "on"],
    ["null", null],
    ["a number", 3],
  ] as const) {
    it(`refuses ${what}: the desired state must be a JSON object`, () => {
      assert.throws(
        () => validateDesired(value),
        (error: unknown) => {
          assert.ok(error instanceof DomainValidationError);
          assert.deepEqual(
            error.violations.map((v) => `${v.field}:${v.rule}`),
            ["desired:type"],
          );
          return true;
        },
      );
    });
  }

  it("refuses more than 6 levels of nesting and null inside arrays, naming the path", () => {
    assert.throws(
      () => validateDesired(nested(7)),
      (error: unknown) => {
        assert.ok(error instanceof DomainValidationError);
        assert.deepEqual(
          error.violations.map((v) => v.rule),
          ["nesting"],
        );
        assert.match(error.violations[0]?.field ?? "", /^desired\.n\.n\.n\.n\.n\.n$/);
        return true;
      },
    );
    assert.throws(() => validateDesired({ list: [1, null] }), /desired\.list\[1\]: arrays cannot hold null/);
  });

  it("refuses more than 8 KB of JSON with its own error (HTTP 413)", () => {
    const big = { blob: "x".repeat(MAX_SHADOW_STATE_BYTES) };
    assert.throws(
      () => validateDesired(big),
      (error: unknown) => {
        assert.ok(error instanceof DesiredStateTooLargeError);
        assert.equal(error.maxBytes, 8192);
        assert.ok(error.bytes > 8192);
        return true;
      },
    );
  });
});
