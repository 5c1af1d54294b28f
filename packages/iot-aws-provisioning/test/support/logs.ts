/** A Logger that keeps every line, so tests can assert on transitions and grep for key material. */
import type { Logger } from "@granit/iot";

export interface LogLine {
  readonly level: "debug" | "info" | "warn" | "error";
  readonly message: string;
  readonly fields: Record<string, unknown>;
}

export class CapturingLogger implements Logger {
  readonly lines: LogLine[];
  readonly #bindings: Record<string, unknown>;

  constructor(lines: LogLine[] = [], bindings: Record<string, unknown> = {}) {
    this.lines = lines;
    this.#bindings = bindings;
  }

  debug(fields: Record<string, unknown>, message: string): void {
    this.lines.push({ level: "debug", message, fields: { ...this.#bindings, ...fields } });
  }
  info(fields: Record<string, unknown>, message: string): void {
    this.lines.push({ level: "info", message, fields: { ...this.#bindings, ...fields } });
  }
  warn(fields: Record<string, unknown>, message: string): void {
    this.lines.push({ level: "warn", message, fields: { ...this.#bindings, ...fields } });
  }
  error(fields: Record<string, unknown>, message: string): void {
    this.lines.push({ level: "error", message, fields: { ...this.#bindings, ...fields } });
  }
  child(bindings: Record<string, unknown>): Logger {
    return new CapturingLogger(this.lines, { ...this.#bindings, ...bindings });
  }

  /** Every line as one JSON text (what a log sink would receive). */
  text(): string {
    return this.lines.map((line) => JSON.stringify(line)).join("\n");
  }
}

/** Markers of key material that must never appear in a log line, an error or an API response. */
export const KEY_MATERIAL_MARKERS = [/-----BEGIN/, /PRIVATE KEY/, /MIG[A-Za-z0-9+/]{40,}/];
