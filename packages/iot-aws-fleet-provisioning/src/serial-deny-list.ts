/**
 * The serial numbers `/verify` and `/registered` always refuse (`serial_denied`): the configured
 * list plus an optional file (one serial per line, `#` comments, blank lines ignored). Matching is
 * case-insensitive — a deny list errs on the side of denying.
 *
 * The file is re-read when its modification time changes, checked at most every `recheckMs`
 * without blocking a request (the previous list answers meanwhile); `reload()` forces it. A file
 * that cannot be read keeps the last good list and is reported to the logger — it never empties the
 * list (fail closed).
 */
import { readFile, stat } from "node:fs/promises";
import { type Logger, silentLogger } from "@granit/iot";

export interface SerialDenyListOptions {
  readonly serials?: readonly string[];
  readonly file?: string | null;
  /** @default 5000 */
  readonly recheckMs?: number;
  readonly logger?: Logger;
  /** Milliseconds now (tests pass a fake clock). @default Date.now */
  readonly now?: () => number;
}

export class SerialDenyList {
  readonly #configured: ReadonlySet<string>;
  readonly #file: string | null;
  readonly #recheckMs: number;
  readonly #logger: Logger;
  readonly #now: () => number;
  #fromFile: ReadonlySet<string> = new Set();
  #fileMtimeMs = -1;
  #checkedAt = Number.NEGATIVE_INFINITY;
  #refreshing: Promise<void> | null = null;

  constructor(options: SerialDenyListOptions = {}) {
    this.#configured = new Set((options.serials ?? []).map((s) => s.trim().toLowerCase()).filter(Boolean));
    this.#file = options.file ?? null;
    this.#recheckMs = options.recheckMs ?? 5000;
    this.#logger = (options.logger ?? silentLogger).child({ component: "fleet-deny-list" });
    this.#now = options.now ?? Date.now;
  }

  /** Builds the list and reads the file once (start-up fails if the configured file is unreadable). */
  static async load(options: SerialDenyListOptions): Promise<SerialDenyList> {
    const list = new SerialDenyList(options);
    if (list.#file) await list.reload({ strict: true });
    return list;
  }

  /** True when `serial` is denied. Never waits on the file. */
  has(serial: string): boolean {
    if (this.#file && this.#now() - this.#checkedAt >= this.#recheckMs) {
      this.#refreshing ??= this.reload().finally(() => {
        this.#refreshing = null;
      });
    }
    const key = serial.toLowerCase();
    return this.#configured.has(key) || this.#fromFile.has(key);
  }

  /** Number of denied serials (configured + file). */
  get size(): number {
    return new Set([...this.#configured, ...this.#fromFile]).size;
  }

  /** Re-reads the file if it changed. With `strict`, a read failure throws instead of being logged. */
  async reload(options: { strict?: boolean } = {}): Promise<void> {
    const file = this.#file;
    if (!file) return;
    this.#checkedAt = this.#now();
    try {
      const info = await stat(file);
      if (info.mtimeMs === this.#fileMtimeMs) return;
      const text = await readFile(file, "utf8");
      this.#fromFile = new Set(
        text
          .split(/\r?\n/)
          .map((line) => (line.split("#")[0] ?? "").trim().toLowerCase())
          .filter((line) => line.length > 0),
      );
      this.#fileMtimeMs = info.mtimeMs;
      this.#logger.info({ file, serials: this.#fromFile.size }, "deny list file loaded");
    } catch (error) {
      if (options.strict) {
        throw new Error(
          `IoT:Aws:FleetProvisioning:DeniedSerialNumbersFile: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? "error"}).`,
          { cause: error },
        );
      }
      this.#logger.error({ file, err: String(error) }, "deny list file unreadable; keeping the last list");
    }
  }
}
