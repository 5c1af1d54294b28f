/**
 * A small RFC 4180 CSV reader for `devices import`: comma-separated fields, records ended by CRLF
 * or LF, fields in double quotes may hold commas, line breaks and doubled quotes (`""`). A UTF-8
 * byte-order mark is dropped, blank lines are skipped, and each record keeps the file line it
 * starts on, so an import can name the line of a failed row even after a multi-line field.
 *
 * @see https://www.rfc-editor.org/rfc/rfc4180
 */

export interface CsvRecord {
  /** 1-based line of the file where the record starts. */
  readonly line: number;
  readonly fields: readonly string[];
}

/** The text is not CSV (an unterminated quote, text after a closing quote). */
export class CsvSyntaxError extends Error {
  override readonly name = "CsvSyntaxError";
  readonly line: number;

  constructor(line: number, message: string) {
    super(`line ${line}: ${message}`);
    this.line = line;
  }
}

export function parseCsv(text: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  const input = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  let line = 1;
  let recordLine = 1;
  let fields: string[] = [];
  let field = "";
  let i = 0;
  let atFieldStart = true;

  const endRecord = () => {
    fields.push(field);
    // A blank line is one empty field: skip it rather than import an empty row.
    if (!(fields.length === 1 && fields[0] === "")) records.push({ line: recordLine, fields });
    fields = [];
    field = "";
    atFieldStart = true;
  };

  while (i < input.length) {
    const char = input[i] as string;
    if (atFieldStart && char === '"') {
      // Quoted field: read to the closing quote, "" is a literal quote.
      const quoteLine = line;
      i++;
      for (;;) {
        if (i >= input.length) throw new CsvSyntaxError(quoteLine, "a quoted field is never closed");
        const c = input[i] as string;
        if (c === '"') {
          if (input[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        if (c === "\n") line++;
        field += c;
        i++;
      }
      const next = input[i];
      if (next !== undefined && next !== "," && next !== "\n" && !(next === "\r" && input[i + 1] === "\n")) {
        throw new CsvSyntaxError(line, `unexpected '${next}' after a closing quote (quote the whole field)`);
      }
      atFieldStart = false;
      continue;
    }
    if (char === ",") {
      fields.push(field);
      field = "";
      atFieldStart = true;
      i++;
      continue;
    }
    if (char === "\r" && input[i + 1] === "\n") {
      i++;
      continue;
    }
    if (char === "\n") {
      endRecord();
      line++;
      recordLine = line;
      i++;
      continue;
    }
    field += char;
    atFieldStart = false;
    i++;
  }
  if (!atFieldStart || field !== "" || fields.length > 0) endRecord();
  return records;
}
