import assert from "node:assert/strict";
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { SerialDenyList } from "@granit/iot-aws-fleet-provisioning";

const dir = mkdtempSync(join(tmpdir(), "granit-deny-"));
after(() => rmSync(dir, { recursive: true, force: true }));

describe("SerialDenyList", () => {
  it("denies configured serials case-insensitively", () => {
    const list = new SerialDenyList({ serials: ["SN-1", " sn-2 "] });
    assert.equal(list.has("sn-1"), true);
    assert.equal(list.has("SN-2"), true);
    assert.equal(list.has("SN-3"), false);
  });

  it("adds the file's serials, skipping comments and blank lines, and picks up changes", async () => {
    const file = join(dir, "denied.txt");
    writeFileSync(file, "# stolen batch\nSN-100\n\nSN-101  # returned\n");
    let now = 0;
    const list = await SerialDenyList.load({ serials: ["SN-1"], file, recheckMs: 1000, now: () => now });
    assert.deepEqual(
      ["SN-100", "SN-101", "SN-1", "SN-102"].map((s) => list.has(s)),
      [true, true, true, false],
    );

    writeFileSync(file, "SN-102\n");
    utimesSync(file, new Date(), new Date(Date.now() + 5000));
    now = 2000;
    list.has("SN-102"); // starts the re-read without waiting for it
    await list.reload();

    assert.equal(list.has("SN-102"), true);
    assert.equal(list.has("SN-100"), false);
    assert.equal(list.size, 2);
  });

  it("refuses to start on an unreadable file, but keeps the last list when it later disappears", async () => {
    await assert.rejects(SerialDenyList.load({ file: join(dir, "missing.txt") }), /DeniedSerialNumbersFile/);
    const file = join(dir, "vanishing.txt");
    writeFileSync(file, "SN-9\n");
    const list = await SerialDenyList.load({ file });
    rmSync(file);
    await list.reload();
    assert.equal(list.has("SN-9"), true, "fail closed: the last good list stays");
  });
});
