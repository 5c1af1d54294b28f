/**
 * `granit-iot devices import <csv>`: creates one device per CSV row through the devices API, a few
 * requests at a time, with progress on stderr and a summary at the end (created, already existing,
 * failed with line numbers and reasons).
 *
 * The whole file is read and checked first (header, field counts, required values, serial numbers
 * repeated in the file), so an unreadable file or a wrong header stops with exit code 2 before any
 * request. Re-running an import is safe: rows whose serial number already exists (409
 * `duplicate-key`) are counted as "already existing", not as failures. A lost connection or a
 * refused token stops the import at once (exit 3 / 4) after printing what was done so far.
 */
import { readFileSync } from "node:fs";
import type { DeviceResponse } from "../devices/device-schemas.ts";
import { integerArgument } from "./arguments.ts";
import { ApiProblemError, CliError, type ProblemFieldError, UsageError } from "./cli-errors.ts";
import { type CommandSpec, flag, stringOption } from "./command.ts";
import { parseCsv } from "./csv.ts";
import { DEVICES_PATH } from "./devices.ts";
import { ExitCode } from "./exit-codes.ts";
import type { Output } from "./output.ts";
import { createProgress } from "./progress.ts";

const REQUIRED_COLUMNS = ["serialNumber", "model", "firmware"] as const;
const TAG_PREFIX = "tag:";
const DUPLICATE_KEY = "urn:granit:iot:problem:duplicate-key";

interface CreateDeviceInput {
  readonly serialNumber: string;
  readonly model: string;
  readonly firmware: string;
  readonly label?: string;
  readonly tags?: Record<string, string>;
}

/** One data row: what to send, or why it cannot be sent. */
interface ImportRow {
  readonly line: number;
  readonly serialNumber: string | null;
  readonly input: CreateDeviceInput | null;
  readonly error: string | null;
}

export interface ImportFailure {
  readonly line: number;
  readonly serialNumber: string | null;
  readonly reason: string;
  /** The host's problem, when the host refused the row. */
  readonly status?: number;
  readonly type?: string;
  readonly errors?: readonly ProblemFieldError[];
}

export interface ImportSummary {
  readonly file: string;
  readonly rows: number;
  /** Rows handled before the import stopped (= rows unless `stopped`). */
  readonly processed: number;
  readonly created: number;
  readonly alreadyExisting: number;
  readonly failed: number;
  /** Whether `--activate` was asked: created rows count only once activated. */
  readonly activate: boolean;
  /** True when a lost connection or a refused token stopped the import early. */
  readonly stopped: boolean;
  readonly devices: readonly { line: number; id: string; serialNumber: string; status: string }[];
  readonly existing: readonly { line: number; serialNumber: string }[];
  readonly failures: readonly ImportFailure[];
}

type Column =
  | { readonly kind: "field"; readonly name: string }
  | { readonly kind: "tag"; readonly key: string };

const KNOWN_COLUMNS: Readonly<Record<string, string>> = {
  serialnumber: "serialNumber",
  model: "model",
  firmware: "firmware",
  label: "label",
};

/** The header's columns; a `UsageError` for unknown, repeated or missing columns. */
function readHeader(fields: readonly string[], file: string): Column[] {
  const seen = new Set<string>();
  const columns = fields.map((raw): Column => {
    const name = raw.trim();
    if (name.toLowerCase().startsWith(TAG_PREFIX) && name.length > TAG_PREFIX.length) {
      const key = name.slice(TAG_PREFIX.length);
      if (seen.has(`tag:${key}`)) throw new UsageError(`${file}: the header repeats the column '${name}'`);
      seen.add(`tag:${key}`);
      return { kind: "tag", key };
    }
    const known = KNOWN_COLUMNS[name.toLowerCase()];
    if (known === undefined) {
      throw new UsageError(
        `${file}: unknown column '${name}' in the header (expected serialNumber, model, firmware, label, tag:<key>)`,
      );
    }
    if (seen.has(known)) throw new UsageError(`${file}: the header repeats the column '${known}'`);
    seen.add(known);
    return { kind: "field", name: known };
  });
  const missing = REQUIRED_COLUMNS.filter((name) => !seen.has(name));
  if (missing.length > 0) {
    throw new UsageError(
      `${file}: the header lacks the column${missing.length > 1 ? "s" : ""} ${missing.join(", ")}`,
    );
  }
  return columns;
}

/** Reads and checks the whole file; a `UsageError` when it cannot be imported at all. */
export function readImportFile(file: string): ImportRow[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory" : (error as Error).message;
    throw new UsageError(`cannot read ${file}: ${reason}`, "devices import");
  }
  let records: ReturnType<typeof parseCsv>;
  try {
    records = parseCsv(text);
  } catch (error) {
    throw new UsageError(`${file} is not valid CSV: ${(error as Error).message}`, "devices import");
  }
  const [header, ...data] = records;
  if (header === undefined)
    throw new UsageError(`${file} is empty: expected a header line`, "devices import");
  const columns = readHeader(header.fields, file);
  const firstLineOf = new Map<string, number>();
  return data.map((record): ImportRow => {
    if (record.fields.length !== columns.length) {
      return {
        line: record.line,
        serialNumber: null,
        input: null,
        error: `has ${record.fields.length} field${record.fields.length === 1 ? "" : "s"}, the header has ${columns.length}`,
      };
    }
    const values: Record<string, string> = {};
    const tags: Record<string, string> = {};
    columns.forEach((column, i) => {
      const value = (record.fields[i] ?? "").trim();
      if (column.kind === "tag") {
        if (value !== "") tags[column.key] = value;
      } else {
        values[column.name] = value;
      }
    });
    const serialNumber = values.serialNumber || null;
    const empty = REQUIRED_COLUMNS.filter((name) => !values[name]);
    if (empty.length > 0) {
      return { line: record.line, serialNumber, input: null, error: `${empty.join(", ")}: is required` };
    }
    const first = firstLineOf.get(values.serialNumber as string);
    if (first !== undefined) {
      return {
        line: record.line,
        serialNumber,
        input: null,
        error: `serial number ${serialNumber} repeats line ${first}`,
      };
    }
    firstLineOf.set(values.serialNumber as string, record.line);
    return {
      line: record.line,
      serialNumber,
      error: null,
      input: {
        serialNumber: values.serialNumber as string,
        model: values.model as string,
        firmware: values.firmware as string,
        ...(values.label ? { label: values.label } : {}),
        ...(Object.keys(tags).length > 0 ? { tags } : {}),
      },
    };
  });
}

/** Errors that make every further row fail the same way: stop instead of hammering the host. */
function isFatal(error: unknown): error is CliError {
  return (
    error instanceof CliError &&
    (error.exitCode === ExitCode.Unreachable || error.exitCode === ExitCode.Authentication)
  );
}

function failureOf(row: ImportRow, error: unknown, prefix = ""): ImportFailure {
  if (error instanceof ApiProblemError) {
    const { problem } = error;
    const fields = (problem.errors ?? []).map((e) => `${e.field}: ${e.message}`);
    const reason = fields.length > 0 ? fields.join("; ") : (problem.detail ?? problem.title);
    return {
      line: row.line,
      serialNumber: row.serialNumber,
      reason: `${prefix}${reason}`,
      status: problem.status,
      type: problem.type,
      ...(problem.errors ? { errors: problem.errors } : {}),
    };
  }
  if (error instanceof CliError)
    return { line: row.line, serialNumber: row.serialNumber, reason: `${prefix}${error.message}` };
  throw error;
}

export const importCommand: CommandSpec = {
  path: ["devices", "import"],
  summary: "Create devices from a CSV file, with progress and a summary",
  args: "<file.csv>",
  positionals: { min: 1, max: 1 },
  options: {
    concurrency: { type: "string", value: "<n>", description: "Requests in flight, 1-64 (default 8)" },
    activate: { type: "boolean", description: "Activate each device once created" },
    quiet: { type: "boolean", description: "No progress on stderr" },
  },
  details: `The CSV has a header line: serialNumber, model, firmware (required), label, and tag:<key>
columns (one tag each; empty cells add no tag). Column names are case-insensitive; fields may be
quoted ("a, b", "say ""hi"""), lines may end with CRLF. Each row is one POST /api/iot/devices.

A serial number that already exists counts as "already existing" (re-running an import is safe);
a serial number repeated inside the file fails on its later lines. Exit code 0 when every row was
created or already existed, 1 when some rows failed (each listed with its line number and reason).
Progress: a bar on a terminal, else a line at every tenth (none with --json unless on a terminal).`,
  examples: [
    "granit-iot devices import fleet.csv --activate",
    "granit-iot devices import fleet.csv --json > summary.json",
  ],
  async run(context) {
    const file = context.positionals[0] as string;
    const concurrency = integerArgument(
      stringOption(context, "concurrency"),
      "--concurrency",
      { min: 1, max: 64 },
      8,
    );
    const activate = flag(context, "activate");
    const rows = readImportFile(file);
    const api = context.api();
    const { out } = context;
    const progress = createProgress(out.stderr, {
      verb: "imported",
      enabled: !flag(context, "quiet") && (!out.json || out.stderr.isTTY === true),
    });

    const devices: { line: number; id: string; serialNumber: string; status: string }[] = [];
    const existing: { line: number; serialNumber: string }[] = [];
    const failures: ImportFailure[] = [];
    let done = 0;
    let next = 0;
    let fatal: CliError | undefined;
    const counts = () => ({
      done,
      total: rows.length,
      detail: `created ${devices.length}  existing ${existing.length}  failed ${failures.length}`,
    });

    const importRow = async (row: ImportRow): Promise<void> => {
      if (row.input === null) {
        failures.push({ line: row.line, serialNumber: row.serialNumber, reason: row.error ?? "invalid row" });
        return;
      }
      let device: DeviceResponse;
      try {
        device = await api.post<DeviceResponse>(DEVICES_PATH, { body: row.input });
      } catch (error) {
        if (isFatal(error)) throw error;
        if (error instanceof ApiProblemError && error.problem.type === DUPLICATE_KEY) {
          existing.push({ line: row.line, serialNumber: row.input.serialNumber });
          return;
        }
        failures.push(failureOf(row, error));
        return;
      }
      if (activate) {
        try {
          device = await api.post<DeviceResponse>(`${DEVICES_PATH}/${device.id}/activate`);
        } catch (error) {
          if (isFatal(error)) throw error;
          failures.push(failureOf(row, error, `created as ${device.id} but not activated: `));
          return;
        }
      }
      devices.push({
        line: row.line,
        id: device.id,
        serialNumber: device.serialNumber,
        status: device.status,
      });
    };

    const worker = async () => {
      while (fatal === undefined && next < rows.length) {
        const row = rows[next++] as ImportRow;
        try {
          await importRow(row);
        } catch (error) {
          if (!isFatal(error)) throw error;
          fatal ??= error;
          return;
        }
        done++;
        progress.update(counts());
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(1, rows.length)) }, worker));
    progress.finish(counts());

    const byLine = <T extends { line: number }>(items: T[]) => items.sort((a, b) => a.line - b.line);
    const summary: ImportSummary = {
      file,
      rows: rows.length,
      processed: done,
      created: devices.length,
      alreadyExisting: existing.length,
      failed: failures.length,
      activate,
      stopped: fatal !== undefined,
      devices: byLine(devices),
      existing: byLine(existing),
      failures: byLine(failures),
    };
    out.result(summary, () => printSummary(context.out, summary));
    if (fatal) throw fatal;
    return summary.failed > 0 ? ExitCode.Refused : ExitCode.Success;
  },
};

function printSummary(out: Output, summary: ImportSummary): void {
  const head = summary.stopped
    ? `Import of ${summary.file} stopped after ${summary.processed} of ${summary.rows} rows:`
    : `Imported ${summary.file}: ${summary.rows} row${summary.rows === 1 ? "" : "s"}`;
  out.line(head);
  const rows: [string, number][] = [
    [summary.activate ? "created and activated" : "created", summary.created],
    ["already existing", summary.alreadyExisting],
    ["failed", summary.failed],
  ];
  const labelWidth = Math.max(...rows.map(([label]) => label.length));
  const numberWidth = String(summary.rows).length;
  for (const [label, n] of rows) {
    const number = String(n).padStart(numberWidth);
    out.line(
      `  ${label.padEnd(labelWidth)}  ${label === "failed" && n > 0 ? out.paint("red", number) : number}`,
    );
  }
  if (summary.failures.length > 0) {
    out.line("Failed rows:");
    for (const failure of summary.failures) {
      const serial = failure.serialNumber ? ` (${failure.serialNumber})` : "";
      out.line(`  line ${failure.line}${serial}: ${failure.reason}`);
    }
  }
}
