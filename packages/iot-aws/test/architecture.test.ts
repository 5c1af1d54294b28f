import assert from "node:assert/strict";
import { glob, readFile } from "node:fs/promises";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { findForbiddenImports } from "./support/forbidden-imports.ts";

const repo = fileURLToPath(new URL("../../../", import.meta.url));
const CORE_PACKAGES = ["packages/iot", "packages/iot-aws"] as const;

async function sourcesOf(pkg: string): Promise<string[]> {
  const files: string[] = [];
  for await (const file of glob(`${pkg}/src/**/*.ts`, { cwd: repo })) files.push(file);
  return files.sort();
}

describe("the dependency rule of @granit/iot and @granit/iot-aws", () => {
  for (const pkg of CORE_PACKAGES) {
    it(`finds no AWS SDK or database driver import in ${pkg}/src`, async () => {
      const files = await sourcesOf(pkg);
      assert.ok(files.length > 5, `expected the sources of ${pkg}, found ${files.length} files`);
      const offences = [];
      for (const file of files) {
        offences.push(...findForbiddenImports(await readFile(`${repo}${file}`, "utf8"), file));
      }
      assert.deepEqual(
        offences.map((o) => `${o.file}:${o.line} imports ${o.specifier}`),
        [],
        "the core packages must stay free of @aws-sdk/*, @smithy/*, pg, @electric-sql/* and drizzle-orm",
      );
    });

    it(`lists no AWS SDK or database driver among the runtime dependencies of ${pkg}`, async () => {
      const manifest = JSON.parse(await readFile(`${repo}${pkg}/package.json`, "utf8")) as {
        dependencies?: Record<string, string>;
        peerDependencies?: Record<string, string>;
      };
      const names = Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies });
      const offences = names.flatMap((name) => findForbiddenImports(`import "${name}";`, "package.json"));
      assert.deepEqual(
        offences.map((o) => o.specifier),
        [],
      );
    });
  }

  it("catches every form of a forbidden import in a deliberately bad file", () => {
    const bad = [
      'import { IoTClient } from "@aws-sdk/client-iot";',
      'import type { HttpRequest } from "@smithy/types";',
      'import pg from "pg";',
      'export { sql } from "drizzle-orm";',
      'import "drizzle-orm/pg-core";',
      'const { PGlite } = await import("@electric-sql/pglite");',
      'const Pool = require("pg/lib/pool");',
      "import {",
      "  migrate,",
      '} from "drizzle-orm/node-postgres/migrator";',
      '// import { S3 } from "@aws-sdk/client-s3"; (a comment: ignored)',
      'import { ThingName } from "@granit/iot-aws";',
      'import { pgp } from "pg-promise-lookalike";',
    ].join("\n");
    assert.deepEqual(
      findForbiddenImports(bad, "bad.ts").map((o) => `${o.line}:${o.specifier}`),
      [
        "1:@aws-sdk/client-iot",
        "2:@smithy/types",
        "3:pg",
        "4:drizzle-orm",
        "5:drizzle-orm/pg-core",
        "6:@electric-sql/pglite",
        "7:pg/lib/pool",
        "8:drizzle-orm/node-postgres/migrator",
      ],
    );
  });
});

describe("the public surface of @granit/iot-aws", () => {
  it("does not expose src/internal through the package exports", async () => {
    // A computed specifier: what an outside importer would write, kept away from the linter and tsc.
    const internal = ["@granit/iot-aws", "internal", "credentials", "gate.ts"].join("/");
    await assert.rejects(import(internal), (error: unknown) => {
      assert.equal((error as { code?: string }).code, "ERR_PACKAGE_PATH_NOT_EXPORTED");
      return true;
    });
  });

  it("exposes the binding, the thing name, the credential provider and the call policy", async () => {
    const api = await import("@granit/iot-aws");
    for (const name of [
      "AwsThingBinding",
      "ThingName",
      "createAwsIoTCredentialProvider",
      "AwsCallPolicy",
      "parseOptionsSection",
    ]) {
      assert.ok(name in api, `${name} is exported`);
    }
  });
});
