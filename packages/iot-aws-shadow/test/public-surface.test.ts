import assert from "node:assert/strict";
import { describe, it } from "node:test";

describe("the public surface of @granit/iot-aws-shadow", () => {
  it("does not expose src/internal through the package exports", async () => {
    // A computed specifier: what an outside importer would write, kept away from the linter and tsc.
    const internal = ["@granit/iot-aws-shadow", "internal", "keyed-rate-limiter.ts"].join("/");
    await assert.rejects(import(internal), { code: "ERR_PACKAGE_PATH_NOT_EXPORTED" });
  });

  it("exposes the wiring, the handlers, the delta-source seam, the parser and the options", async () => {
    const api = await import("@granit/iot-aws-shadow");
    for (const name of [
      "registerAwsShadow",
      "LifecycleShadowPushHandler",
      "DesiredStateDeltaHandler",
      "ShadowDeltaPoller",
      "DeviceShadowService",
      "parseShadowDocument",
      "parseShadowDeltaMessage",
      "parseAwsShadowOptions",
      "MalformedShadowDocumentError",
    ]) {
      assert.ok(name in api, `${name} is exported`);
    }
  });
});
