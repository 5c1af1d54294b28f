import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, relative } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const src = fileURLToPath(new URL("../src/", import.meta.url));
const IMPORT =
  /(?:^|[^.\w])(?:import|export)\s[^"'`;]*?from\s*["']([^"']+)["']|(?:^|[^.\w])import\s*\(\s*["']([^"']+)["']\s*\)|(?:^|[^.\w])import\s*["']([^"']+)["']/g;

/** Every module the file reaches, following relative imports; bare specifiers are returned as is. */
function reach(entry: string): { files: string[]; bare: string[] } {
  const files = new Set<string>();
  const bare = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    for (const match of readFileSync(file, "utf8").matchAll(IMPORT)) {
      const specifier = (match[1] ?? match[2] ?? match[3]) as string;
      if (specifier.startsWith(".")) visit(join(dirname(file), specifier));
      else bare.add(specifier);
    }
  };
  visit(entry);
  return { files: [...files].map((f) => relative(src, f)).sort(), bare: [...bare].sort() };
}

describe("the Lambda entry point", () => {
  it("reaches only its own folder and the signature scheme", () => {
    const { files } = reach(join(src, "lambda/index.ts"));
    assert.deepEqual(
      files.filter((f) => !f.startsWith("lambda/")),
      ["fleet-request-signature.ts"],
    );
  });

  it("imports only Node built-ins and the AWS SDK bundled with the Lambda runtime — no host, no database, no Granit package", () => {
    const { bare } = reach(join(src, "lambda/index.ts"));
    const foreign = bare.filter(
      (s) => !s.startsWith("node:") && !builtinModules.includes(s) && !s.startsWith("@aws-sdk/"),
    );
    assert.deepEqual(foreign, []);
    assert.deepEqual(
      bare.filter((s) => s.startsWith("@aws-sdk/")),
      ["@aws-sdk/client-iot", "@aws-sdk/client-secrets-manager"],
    );
  });
});

describe("the public surface", () => {
  it("does not expose src/internal through the package exports", async () => {
    const internal = ["@granit/iot-aws-fleet-provisioning", "internal", "problem.ts"].join("/");
    await assert.rejects(import(internal), (error: unknown) => {
      assert.equal((error as { code?: string }).code, "ERR_PACKAGE_PATH_NOT_EXPORTED");
      return true;
    });
  });

  it("exposes the plugin, the service, the wiring function and the Lambda handlers", async () => {
    const api = await import("@granit/iot-aws-fleet-provisioning");
    for (const name of [
      "fleetProvisioningPlugin",
      "FleetProvisioningService",
      "createFleetProvisioning",
      "ClaimCertificateRotationCheckService",
      "parseFleetProvisioningOptions",
    ]) {
      assert.ok(name in api, `${name} is exported`);
    }
    const lambda = await import("@granit/iot-aws-fleet-provisioning/lambda");
    for (const name of [
      "preProvisioningHook",
      "registrationForwarder",
      "createPreProvisioningHook",
      "createRegistrationForwarder",
    ]) {
      assert.ok(name in lambda, `${name} is exported from /lambda`);
    }
  });
});
