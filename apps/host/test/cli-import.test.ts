/**
 * `granit-iot devices import` against a real host: 1,000 rows with progress lines and an exact
 * summary (and the devices really in the database), quoted fields and CRLF, `--activate`,
 * re-runs, rows that fail locally or on the host, unreadable files (exit 2, nothing sent), and an
 * import stopped by a refused token.
 */
import "../src/telemetry/meter-provider.ts";

import assert from "node:assert/strict";
import { copyFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { databaseTargets } from "@granit/iot-postgres/testing";
import { type CliResult, FIXTURES, granitIot, removeTempDirs, tempDir } from "./cli-fixtures/run-cli.ts";
import { startTestHost, type TestHost, TOKENS } from "./support/test-host.ts";

after(removeTempDirs);

const SERIAL_PATTERN_MESSAGE =
  "must start with a letter or digit and contain only letters, digits, '_' and '-'";

/**
 * 1,000 rows (lines 2–1001), CRLF, quoted labels with commas: row 17 has a serial number the host
 * refuses, row 503 has no firmware, and the serial numbers of rows 100, 200 and 300 already exist.
 */
function thousandRows(): string {
  const lines = ["serialNumber,model,firmware,label,tag:site"];
  for (let i = 1; i <= 1000; i++) {
    const serial = i === 17 ? "bad serial!" : `IMP-${String(i).padStart(4, "0")}`;
    const firmware = i === 503 ? "" : `1.0.${i % 5}`;
    lines.push(`${serial},GW-100,${firmware},"Unit ${i}, bay ${i % 7}",${i % 2 === 0 ? "lyon" : "paris"}`);
  }
  return `${lines.join("\r\n")}\r\n`;
}

for (const target of databaseTargets()) {
  describe(`granit-iot devices import (${target.name})`, { skip: target.skip }, () => {
    let t: TestHost;
    let cwd: string;
    before(async () => {
      t = await startTestHost(target);
      cwd = tempDir();
    });
    after(async () => {
      await t?.dispose();
    });

    const cli = (args: readonly string[], token: string = TOKENS.operator): Promise<CliResult> =>
      granitIot([...args, "--url", t.host.url, "--token", token], { cwd });
    const serials = async (prefix: string) =>
      (
        await t.testDatabase.database.execute<{ serial_number: string; status: string }>(
          "SELECT serial_number, status FROM iot_devices WHERE serial_number LIKE $1 ORDER BY serial_number",
          [`${prefix}%`],
        )
      ).map((row) => `${row.serial_number}:${row.status}`);

    it("imports 1,000 rows with progress lines and a summary of created, existing and failed rows", async () => {
      // Prepare
      writeFileSync(join(cwd, "fleet.csv"), thousandRows());
      for (const serialNumber of ["IMP-0100", "IMP-0200", "IMP-0300"]) {
        await t.createDevice(TOKENS.operator, { serialNumber });
      }

      // Act
      const result = await cli(["devices", "import", "fleet.csv"]);

      // Assess: exit 1 because two rows failed; progress at every tenth; the exact summary.
      assert.equal(result.code, 1, result.stderr);
      assert.equal(
        result.stderr,
        [100, 200, 300, 400, 500, 600, 700, 800, 900, 1000].map((n) => `imported ${n}/1000\n`).join(""),
      );
      assert.equal(
        result.stdout,
        [
          "Imported fleet.csv: 1000 rows",
          "  created            995",
          "  already existing     3",
          "  failed               2",
          "Failed rows:",
          `  line 18 (bad serial!): serialNumber: ${SERIAL_PATTERN_MESSAGE}`,
          "  line 504 (IMP-0503): firmware: is required",
          "",
        ].join("\n"),
      );
      // The devices are in the database: 995 imported + the 3 that existed, none of the failed rows.
      const stored = await serials("IMP-");
      assert.equal(stored.length, 998);
      assert.ok(!stored.includes("IMP-0503:Provisioning"));
      assert.ok(stored.every((s) => s.endsWith(":Provisioning")));
      const [row] = await t.testDatabase.database.execute<{ label: string; tags: unknown; firmware: string }>(
        "SELECT label, tags, firmware FROM iot_devices WHERE serial_number = 'IMP-0042'",
      );
      assert.equal(row?.label, "Unit 42, bay 0");
      assert.equal(row?.firmware, "1.0.2");
      assert.deepEqual(typeof row?.tags === "string" ? JSON.parse(row.tags) : row?.tags, { site: "lyon" });
    });

    it("imports quoted, multi-line and CRLF rows with --activate and prints the summary as JSON", async () => {
      const result = await cli([
        "devices",
        "import",
        join(FIXTURES, "small-fleet.csv"),
        "--activate",
        "--json",
      ]);

      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stderr, "", "no progress lines with --json off a terminal");
      const summary = result.json();
      assert.deepEqual(
        { ...summary, devices: undefined, file: undefined },
        {
          file: undefined,
          rows: 4,
          processed: 4,
          created: 4,
          alreadyExisting: 0,
          failed: 0,
          activate: true,
          stopped: false,
          devices: undefined,
          existing: [],
          failures: [],
        },
      );
      assert.deepEqual(
        summary.devices.map((d: { line: number; serialNumber: string; status: string }) => [
          d.line,
          d.serialNumber,
          d.status,
        ]),
        [
          [2, "FIX-0001", "Active"],
          [3, "FIX-0002", "Active"],
          [4, "FIX-0003", "Active"],
          [6, "FIX-0004", "Active"],
        ],
      );
      const get = async (id: string) =>
        (await t.call("GET", `/api/iot/devices/${id}`, { token: TOKENS.operator })).body;
      const [first, second, third, fourth] = await Promise.all(
        summary.devices.map((d: { id: string }) => get(d.id)),
      );
      assert.deepEqual([first.label, first.tags], ["Roof gateway, north side", { site: "lyon", rack: "R1" }]);
      assert.deepEqual([second.label, second.tags], ['Says "hello"', { site: "lyon" }]);
      assert.deepEqual(
        [third.label, third.firmware, third.tags],
        ["Two-line\r\nlabel", "2.0.0-rc.1", { site: "paris", rack: "R7" }],
      );
      assert.deepEqual([fourth.label, fourth.tags], [null, {}]);
    });

    it("counts rows whose serial number exists as already existing on a re-run, exit 0", async () => {
      const result = await cli(["devices", "import", join(FIXTURES, "small-fleet.csv"), "--quiet"]);

      assert.equal(result.code, 0);
      assert.equal(result.stderr, "");
      assert.match(result.stdout, /^ {2}created {11}0\n {2}already existing {2}4\n {2}failed {12}0\n$/m);
      assert.deepEqual(await serials("FIX-"), [
        "FIX-0001:Active",
        "FIX-0002:Active",
        "FIX-0003:Active",
        "FIX-0004:Active",
      ]);
    });

    it("fails a serial number repeated in the file and a row with missing fields, and imports the rest", async () => {
      writeFileSync(
        join(cwd, "dups.csv"),
        "serialNumber,model,firmware\nDUP-1,GW-100,1.0.0\nDUP-2,GW-100,1.0.0\nDUP-1,GW-100,1.0.1\nDUP-3,GW-100\n",
      );

      const result = await cli(["devices", "import", "dups.csv", "--concurrency", "1"]);

      assert.equal(result.code, 1);
      assert.equal(
        result.stdout,
        [
          "Imported dups.csv: 4 rows",
          "  created           2",
          "  already existing  0",
          "  failed            2",
          "Failed rows:",
          "  line 4 (DUP-1): serial number DUP-1 repeats line 2",
          "  line 5: has 2 fields, the header has 3",
          "",
        ].join("\n"),
      );
      assert.equal(result.stderr, "imported 1/4\nimported 2/4\nimported 3/4\nimported 4/4\n");
      assert.deepEqual(await serials("DUP-"), ["DUP-1:Provisioning", "DUP-2:Provisioning"]);
    });

    it("refuses an unreadable CSV with exit 2 before sending anything", async () => {
      copyFileSync(join(FIXTURES, "unterminated-quote.csv"), join(cwd, "broken.csv"));
      copyFileSync(join(FIXTURES, "unknown-column.csv"), join(cwd, "columns.csv"));
      writeFileSync(join(cwd, "no-header.csv"), "");
      writeFileSync(join(cwd, "missing.csv"), "serialNumber,label\nX-1,x\n");
      const before = await t.snapshot();

      const broken = await cli(["devices", "import", "broken.csv"]);
      const columns = await cli(["devices", "import", "columns.csv"]);
      const empty = await cli(["devices", "import", "no-header.csv"]);
      const missing = await cli(["devices", "import", "missing.csv"]);

      assert.deepEqual([broken.code, columns.code, empty.code, missing.code], [2, 2, 2, 2]);
      assert.match(
        broken.stderr,
        /^error: broken.csv is not valid CSV: line 2: a quoted field is never closed\n/,
      );
      assert.match(
        columns.stderr,
        /^error: columns.csv: unknown column 'colour' in the header \(expected serialNumber, model, firmware, label, tag:<key>\)\n/,
      );
      assert.match(empty.stderr, /^error: no-header.csv is empty: expected a header line\n/);
      assert.match(missing.stderr, /^error: missing.csv: the header lacks the columns model, firmware\n/);
      assert.deepEqual(await t.snapshot(), before);
    });

    it("stops at once with exit 4 when the host refuses the token, after printing what was done", async () => {
      const result = await cli(
        ["devices", "import", join(FIXTURES, "small-fleet.csv")],
        "not-a-configured-token-01",
      );

      assert.equal(result.code, 4);
      assert.match(
        result.stdout,
        /^Import of .*small-fleet\.csv stopped after 0 of 4 rows:\n {2}created {11}0\n/,
      );
      assert.match(
        result.stderr,
        /error: Authentication is required\. \(HTTP 401, POST \/api\/iot\/devices\)\n {2}The bearer token is not valid\.\n$/,
      );
    });
  });
}
