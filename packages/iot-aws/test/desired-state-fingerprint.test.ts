import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { canonicalJson, desiredStateFingerprint } from "../src/index.ts";

describe("desiredStateFingerprint", () => {
  it("is the same for the same delta written with keys in another order", () => {
    const a = desiredStateFingerprint(
      { firmware: "1.5.0", config: { a: 1, b: [1, 2] } },
      { firmware: 10, "config.a": 11 },
    );
    const b = desiredStateFingerprint(
      { config: { b: [1, 2], a: 1 }, firmware: "1.5.0" },
      { "config.a": 11, firmware: 10 },
    );
    assert.equal(a, b);
  });

  it("changes when a value changes, when array order changes, or when a desired timestamp changes", () => {
    const base = desiredStateFingerprint({ firmware: "1.5.0", list: [1, 2] }, { firmware: 10 });
    assert.notEqual(base, desiredStateFingerprint({ firmware: "1.5.1", list: [1, 2] }, { firmware: 10 }));
    assert.notEqual(base, desiredStateFingerprint({ firmware: "1.5.0", list: [2, 1] }, { firmware: 10 }));
    assert.notEqual(base, desiredStateFingerprint({ firmware: "1.5.0", list: [1, 2] }, { firmware: 11 }));
  });

  it("writes canonical JSON with sorted keys at every level and keeps nulls", () => {
    assert.equal(
      canonicalJson({ b: null, a: { d: 1, c: [true, "x"] } }),
      '{"a":{"c":[true,"x"],"d":1},"b":null}',
    );
  });
});
