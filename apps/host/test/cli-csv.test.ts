/**
 * The CSV reader of `devices import` (RFC 4180): quoting, CRLF, line numbers of records that
 * follow multi-line fields, and the syntax errors that make a file unreadable.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CsvSyntaxError, parseCsv } from "../src/cli/csv.ts";

describe("parseCsv", () => {
  it("splits records on LF and CRLF and fields on commas", () => {
    const records = parseCsv("a,b,c\r\n1,2,3\n4,5,6");

    assert.deepEqual(records, [
      { line: 1, fields: ["a", "b", "c"] },
      { line: 2, fields: ["1", "2", "3"] },
      { line: 3, fields: ["4", "5", "6"] },
    ]);
  });

  it("reads quoted fields holding commas, doubled quotes and line breaks", () => {
    const records = parseCsv('name,label\r\nx,"a, b"\r\ny,"say ""hi"""\r\nz,"two\r\nlines"\r\nw,end\r\n');

    assert.deepEqual(
      records.map((r) => r.fields),
      [
        ["name", "label"],
        ["x", "a, b"],
        ["y", 'say "hi"'],
        ["z", "two\r\nlines"],
        ["w", "end"],
      ],
    );
  });

  it("numbers each record by the file line it starts on, after multi-line fields", () => {
    const records = parseCsv('h\n"one\ntwo\nthree"\nnext\n');

    assert.deepEqual(
      records.map((r) => r.line),
      [1, 2, 5],
    );
  });

  it("keeps empty fields, drops a byte-order mark and skips blank lines", () => {
    const records = parseCsv("\uFEFFa,b,c\n\n,,\n\r\nx,,\n");

    assert.deepEqual(records, [
      { line: 1, fields: ["a", "b", "c"] },
      { line: 3, fields: ["", "", ""] },
      { line: 5, fields: ["x", "", ""] },
    ]);
  });

  it("refuses a quoted field that is never closed, naming the line it opens on", () => {
    assert.throws(
      () => parseCsv('a,b\n1,"open\n2,3\n'),
      (error: unknown) => {
        assert.ok(error instanceof CsvSyntaxError);
        assert.equal(error.message, "line 2: a quoted field is never closed");
        return true;
      },
    );
  });

  it("refuses text after a closing quote", () => {
    assert.throws(() => parseCsv('a\n"x"y\n'), /line 2: unexpected 'y' after a closing quote/);
  });
});
