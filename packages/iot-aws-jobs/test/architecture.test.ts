import assert from "node:assert/strict";
import { glob, readFile } from "node:fs/promises";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const pkg = fileURLToPath(new URL("../", import.meta.url));

describe("the boundaries of @granit/iot-aws-jobs", () => {
  it("keeps src/internal unreachable from outside the package", async () => {
    // A computed specifier: what an outside importer would write, kept away from the linter and tsc.
    const internal = ["@granit/iot-aws-jobs", "internal", "job-document.ts"].join("/");
    await assert.rejects(import(internal), {
      code: "ERR_PACKAGE_PATH_NOT_EXPORTED",
    });
    const testing = await import("@granit/iot-aws-jobs/testing");
    assert.equal(typeof testing.SimulatedJobsDevice, "function");
  });

  it("imports no sibling bridge package and no database driver (the store is a port)", async () => {
    const offences: string[] = [];
    for await (const file of glob("src/**/*.ts", { cwd: pkg })) {
      const text = await readFile(`${pkg}${file}`, "utf8");
      for (const match of text.matchAll(/from\s+"([^"]+)"/g)) {
        const specifier = match[1] ?? "";
        if (
          /^@granit\/(iot-aws-(provisioning|shadow|fleet-provisioning|postgres)|iot-postgres|bundle)/.test(
            specifier,
          ) ||
          /^(pg|drizzle-orm|@electric-sql\/)/.test(specifier)
        ) {
          offences.push(`${file} imports ${specifier}`);
        }
      }
    }
    assert.deepEqual(offences, []);
  });
});
