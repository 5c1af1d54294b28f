/**
 * The CLI's output helpers in-process: aligned tables, key/value blocks, colours only on a terminal
 * and never with NO_COLOR, and progress (a bar redrawn in place on a terminal, a line at every
 * tenth otherwise).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Output, type OutputStream } from "../src/cli/output.ts";
import { createProgress } from "../src/cli/progress.ts";

class Capture implements OutputStream {
  text = "";
  readonly isTTY: boolean;
  readonly columns: number | undefined;
  constructor(isTTY: boolean, columns?: number) {
    this.isTTY = isTTY;
    this.columns = columns;
  }
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}

function output(options: { tty: boolean; env?: NodeJS.ProcessEnv; json?: boolean }) {
  const stdout = new Capture(options.tty);
  const stderr = new Capture(options.tty);
  return {
    out: new Output({ json: options.json ?? false, stdout, stderr, env: options.env ?? {} }),
    stdout,
    stderr,
  };
}

const rows = [
  { id: "a1", status: "Active", label: null },
  { id: "b22222", status: "Decommissioned", label: "roof" },
];
const columns = [
  { header: "ID", value: (r: (typeof rows)[number]) => r.id },
  {
    header: "STATUS",
    value: (r: (typeof rows)[number]) => r.status,
    style: (s: string) => (s === "Active" ? ("green" as const) : undefined),
  },
  { header: "LABEL", value: (r: (typeof rows)[number]) => r.label },
];

describe("Output", () => {
  it("aligns table columns, shows missing values as '-' and trims trailing blanks", () => {
    const { out, stdout } = output({ tty: false });

    out.table(rows, columns, "none");

    assert.equal(
      stdout.text,
      "ID      STATUS          LABEL\na1      Active          -\nb22222  Decommissioned  roof\n",
    );
  });

  it("colours a terminal's output without breaking the alignment", () => {
    const { out, stdout } = output({ tty: true });

    out.table(rows, columns, "none");

    assert.equal(
      stdout.text,
      "\u001b[1mID      STATUS          LABEL\u001b[22m\na1      \u001b[32mActive\u001b[39m          -\nb22222  Decommissioned  roof\n",
    );
  });

  it("writes no colour codes when NO_COLOR is set, even on a terminal", () => {
    const { out, stdout, stderr } = output({ tty: true, env: { NO_COLOR: "1" } });

    out.table(rows, columns, "none");
    out.failure("usage", "bad", 2);

    assert.ok(!(stdout.text + stderr.text).includes("\u001b["), "no escape sequence");
  });

  it("prints key/value blocks with aligned values; objects of strings as k=v, others as JSON", () => {
    const { out, stdout } = output({ tty: false });

    out.keyValues([
      ["id", "x"],
      ["tags", { site: "lyon", floor: "3" }],
      ["parameters", { n: 1 }],
      ["label", null],
      ["suspensionReason", ""],
    ]);

    assert.equal(
      stdout.text,
      'id:                x\ntags:              site=lyon floor=3\nparameters:        {"n":1}\nlabel:             -\nsuspensionReason:  -\n',
    );
  });

  it("prints a problem's title, detail and field errors, or the document itself with --json", () => {
    const problem = {
      type: "urn:granit:iot:problem:validation",
      title: "The request is not valid.",
      status: 400,
      detail: "The request has invalid fields.",
      errors: [{ field: "model", rule: "required", message: "is required" }],
    };
    const human = output({ tty: false });
    const json = output({ tty: false, json: true });

    human.out.problem(problem, "POST /api/iot/devices");
    json.out.problem(problem);

    assert.equal(
      human.stderr.text,
      "error: The request is not valid. (HTTP 400, POST /api/iot/devices)\n  The request has invalid fields.\n  model: is required (required)\n",
    );
    assert.deepEqual(JSON.parse(json.stderr.text), problem);
  });
});

describe("createProgress", () => {
  it("prints a line at every tenth and the final count off a terminal", () => {
    const stream = new Capture(false);
    const progress = createProgress(stream, { verb: "imported", enabled: true });

    for (let done = 1; done <= 25; done++) progress.update({ done, total: 25 });
    progress.finish({ done: 25, total: 25 });

    assert.equal(
      stream.text,
      ["3", "6", "9", "12", "15", "18", "21", "24", "25"].map((n) => `imported ${n}/25\n`).join(""),
    );
  });

  it("redraws one bar in place on a terminal and ends its line when finished", () => {
    const stream = new Capture(true, 200);
    const progress = createProgress(stream, { verb: "imported", enabled: true });

    progress.finish({ done: 4, total: 4, detail: "created 3  existing 1  failed 0" });

    assert.equal(
      stream.text,
      `\rimported [${"█".repeat(30)}] 100% 4/4  created 3  existing 1  failed 0\u001b[K\n`,
    );
  });

  it("writes nothing when disabled (--quiet)", () => {
    const stream = new Capture(true);
    const progress = createProgress(stream, { verb: "imported", enabled: false });

    progress.update({ done: 1, total: 2 });
    progress.finish({ done: 2, total: 2 });

    assert.equal(stream.text, "");
  });
});
