/**
 * Every call the emulator answered (or faulted), for tests and the admin API. The log keeps the most
 * recent {@link CALL_LOG_LIMIT} entries; the counts cover every call since start or reset.
 */

export interface CallLogEntry {
  /** SigV4 service name. */
  service: string;
  operation: string;
  /** HTTP status answered; 0 when the connection was dropped by a fault. */
  status: number;
  /** ISO-8601 time from the injected clock. */
  at: string;
  thingName?: string;
  /** Access key id of the SigV4 signature (`Credential=AKID/...`): which keys signed the call. */
  accessKeyId?: string;
  /** AWS error code, when the call failed. */
  error?: string;
}

const CALL_LOG_LIMIT = 10_000;

export class CallLog {
  #entries: CallLogEntry[] = [];
  #counts = new Map<string, number>();

  record(entry: CallLogEntry): void {
    if (this.#entries.length >= CALL_LOG_LIMIT) this.#entries.splice(0, CALL_LOG_LIMIT / 10);
    this.#entries.push(entry);
    const key = `${entry.service}:${entry.operation}`;
    this.#counts.set(key, (this.#counts.get(key) ?? 0) + 1);
  }

  entries(): CallLogEntry[] {
    return this.#entries.map((e) => ({ ...e }));
  }

  counts(): Record<string, number> {
    return Object.fromEntries(this.#counts);
  }

  clear(): void {
    this.#entries = [];
    this.#counts.clear();
  }
}
