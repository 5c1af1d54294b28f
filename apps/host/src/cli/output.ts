/**
 * Everything the CLI writes: results on stdout (aligned tables for lists, key/value blocks for one
 * resource, or pretty JSON with `--json`), errors and progress on stderr. Colours only when the
 * stream is a terminal and `NO_COLOR` is unset (https://no-color.org).
 */
import type { Problem } from "./cli-errors.ts";

/** A writable stream as the CLI uses it (`process.stdout`, or a test's buffer). */
export interface OutputStream {
  write(chunk: string): unknown;
  readonly isTTY?: boolean | undefined;
  readonly columns?: number | undefined;
}

const STYLES = {
  bold: [1, 22],
  dim: [2, 22],
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  cyan: [36, 39],
} as const;
export type Style = keyof typeof STYLES;

const STATUS_STYLES: Readonly<Record<string, Style>> = {
  Active: "green",
  Succeeded: "green",
  Provisioning: "cyan",
  Pending: "cyan",
  Dispatching: "cyan",
  Dispatched: "cyan",
  Suspended: "yellow",
  Inactive: "yellow",
  Canceled: "yellow",
  Expired: "yellow",
  Failed: "red",
  Decommissioned: "dim",
};

// biome-ignore lint/suspicious/noControlCharactersInRegex: strips the ANSI colour sequences this module writes.
const ANSI = /\u001b\[[0-9;]*m/g;

/** The colour of a status value (Active green, Failed red, ...), for table columns. */
export function statusStyle(status: string): Style | undefined {
  return STATUS_STYLES[status];
}

/** Width of a cell as a terminal shows it (colour codes take no room). */
function visibleLength(text: string): number {
  return text.replace(ANSI, "").length;
}

export interface Column<T> {
  readonly header: string;
  readonly value: (row: T) => string | number | null | undefined;
  /** Colours the cell from its text (e.g. a status). */
  readonly style?: (text: string) => Style | undefined;
  readonly align?: "left" | "right";
}

export class Output {
  readonly json: boolean;
  readonly stdout: OutputStream;
  readonly stderr: OutputStream;
  readonly #colorOut: boolean;
  readonly #colorErr: boolean;

  constructor(options: {
    readonly json: boolean;
    readonly stdout: OutputStream;
    readonly stderr: OutputStream;
    readonly env: NodeJS.ProcessEnv;
  }) {
    this.json = options.json;
    this.stdout = options.stdout;
    this.stderr = options.stderr;
    const noColor = options.env.NO_COLOR !== undefined && options.env.NO_COLOR !== "";
    this.#colorOut = !noColor && options.stdout.isTTY === true;
    this.#colorErr = !noColor && options.stderr.isTTY === true;
  }

  /** `text` in `style` on stdout when colours are on. */
  paint(style: Style | undefined, text: string, stream: "stdout" | "stderr" = "stdout"): string {
    const on = stream === "stdout" ? this.#colorOut : this.#colorErr;
    if (!on || style === undefined || text === "") return text;
    const [open, close] = STYLES[style];
    return `\u001b[${open}m${text}\u001b[${close}m`;
  }

  /** A status value in its colour (Active green, Failed red, ...). */
  status(text: string): string {
    return this.paint(statusStyle(text), text);
  }

  line(text = ""): void {
    this.stdout.write(`${text}\n`);
  }

  /** A note for the human on stderr (never part of the result a script reads). */
  note(text: string): void {
    this.stderr.write(`${text}\n`);
  }

  /** With `--json` the value as pretty JSON; otherwise what `human` prints. */
  result(value: unknown, human: () => void): void {
    if (this.json) this.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    else human();
  }

  /** An aligned table with a header row; `empty` when there are no rows. */
  table<T>(rows: readonly T[], columns: readonly Column<T>[], empty: string): void {
    if (rows.length === 0) {
      this.line(empty);
      return;
    }
    const cells = rows.map((row) =>
      columns.map((column) => {
        const raw = column.value(row);
        const text = raw === null || raw === undefined || raw === "" ? "-" : String(raw);
        return this.paint(column.style?.(text), text);
      }),
    );
    const widths = columns.map((column, i) =>
      Math.max(column.header.length, ...cells.map((row) => visibleLength(row[i] ?? ""))),
    );
    const render = (values: readonly string[]) =>
      values
        .map((value, i) => {
          const pad = " ".repeat((widths[i] ?? 0) - visibleLength(value));
          if (i === values.length - 1 && columns[i]?.align !== "right") return value;
          return columns[i]?.align === "right" ? pad + value : value + pad;
        })
        .join("  ")
        .trimEnd();
    this.line(this.paint("bold", render(columns.map((c) => c.header))));
    for (const row of cells) this.line(render(row));
  }

  /** `key: value` lines with the values aligned; `null`/`undefined`/empty shown as `-`. */
  keyValues(pairs: readonly (readonly [string, unknown])[]): void {
    const width = Math.max(...pairs.map(([key]) => key.length)) + 1;
    for (const [key, value] of pairs) {
      this.line(`${`${key}:`.padEnd(width)}  ${formatValue(value)}`);
    }
  }

  /** The host's problem: `--json` → the document on stderr; else title, detail and field errors, one per line. */
  problem(problem: Problem, request?: string): void {
    if (this.json) {
      this.stderr.write(`${JSON.stringify(problem, null, 2)}\n`);
      return;
    }
    const head = `error: ${problem.title} (HTTP ${problem.status}${request ? `, ${request}` : ""})`;
    this.stderr.write(`${this.paint("red", head, "stderr")}\n`);
    if (problem.detail && problem.detail !== problem.title) this.stderr.write(`  ${problem.detail}\n`);
    for (const error of problem.errors ?? []) {
      this.stderr.write(`  ${error.field}: ${error.message} (${error.rule})\n`);
    }
  }

  /** A CLI-side failure: `--json` → a problem-shaped document on stderr; else `error: message`. */
  failure(kind: string, message: string, exitCode: number, extra: readonly string[] = []): void {
    if (this.json) {
      const document = { type: `urn:granit:iot:cli:${kind}`, title: message, exitCode };
      this.stderr.write(`${JSON.stringify(document, null, 2)}\n`);
      return;
    }
    this.stderr.write(`${this.paint("red", `error: ${message}`, "stderr")}\n`);
    for (const line of extra) this.stderr.write(`${line}\n`);
  }
}

/** One value of a key/value block: objects as compact JSON, `k=v` for flat string records. */
export function formatValue(value: unknown): string {
  if (value === null || value === undefined || value === "") return "-";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (typeof value === "object" && !Array.isArray(value)) {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0) return "-";
    if (entries.every(([, v]) => typeof v === "string"))
      return entries.map(([k, v]) => `${k}=${v}`).join(" ");
  }
  return JSON.stringify(value);
}
