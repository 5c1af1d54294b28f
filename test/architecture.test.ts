import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { checkImports, checkWorkspace, importsOf, workspacePackages } from "../scripts/architecture.ts";

describe("architecture", () => {
  it("finds every import form in a source text", () => {
    const source = [
      'import { a } from "@granit/iot";',
      'import type { B } from "pg";',
      'export { c } from "./c.ts";',
      'import "reflect-metadata";',
      'const d = await import("@aws-sdk/client-iot");',
      "// prose that says import from nowhere is not an import",
    ].join("\n");
    assert.deepEqual(importsOf(source), [
      "@granit/iot",
      "pg",
      "./c.ts",
      "reflect-metadata",
      "@aws-sdk/client-iot",
    ]);
  });

  it("fails on a deliberately bad import: the AWS SDK and a driver in @granit/iot-aws", () => {
    const bad = 'import { IoTClient } from "@aws-sdk/client-iot";\nimport pg from "pg";\n';
    const violations = checkImports(
      "@granit/iot-aws",
      "packages/iot-aws/src/bad.ts",
      bad,
      new Set(["@granit/iot"]),
    );
    assert.deepEqual(
      violations.map((v) => v.rule),
      [
        "@granit/iot-aws must not import the AWS SDK or a database driver",
        "@aws-sdk/client-iot is not declared in @granit/iot-aws's package.json",
        "@granit/iot-aws must not import the AWS SDK or a database driver",
        "pg is not declared in @granit/iot-aws's package.json",
      ],
    );
  });

  it("fails on a deliberately bad import: one bridge package importing a sibling, and an internal module", () => {
    const bad =
      'import { x } from "@granit/iot-aws-shadow";\nimport { y } from "@granit/iot-aws/internal/calls/token-bucket.ts";\n';
    const declared = new Set(["@granit/iot-aws-shadow", "@granit/iot-aws"]);
    const rules = checkImports("@granit/iot-aws-jobs", "f.ts", bad, declared).map((v) => v.rule);
    assert.ok(rules.includes("@granit/iot-aws-jobs may not import @granit/iot-aws-shadow (DESIGN.md §2)"));
    assert.ok(rules.includes("imports another package's internal/ module"));
  });

  it("fails on a deliberately bad import: a relative path into another package's src/", () => {
    const bad = 'import { z } from "../../../iot/src/internal/secret.ts";\n';
    const rules = checkImports("@granit/iot-aws", "f.ts", bad, new Set()).map((v) => v.rule);
    assert.deepEqual(rules, ["reaches into another package's source by path"]);
  });

  it("holds for every package of the workspace", () => {
    assert.deepEqual(checkWorkspace(), []);
  });

  for (const pkg of workspacePackages()) {
    it(`${pkg.name} hides src/internal/ behind its exports map`, async () => {
      assert.equal(pkg.manifest.exports?.["./internal/*"], null, "exports must map ./internal/* to null");
      const internalDir = join(pkg.dir, "src", "internal");
      const probe = existsSync(internalDir)
        ? readdirSync(internalDir).find((f) => f.endsWith(".ts"))
        : undefined;
      if (!probe) return;
      await assert.rejects(import(`${pkg.name}/internal/${probe}`), {
        code: "ERR_PACKAGE_PATH_NOT_EXPORTED",
      });
    });
  }
});
