/**
 * Progress of a long command on stderr: a bar redrawn in place when stderr is a terminal, and
 * plain lines (`imported 250/1000`) at every tenth otherwise, so logs of a script stay readable.
 * Lines are counted, not timed: the same run prints the same lines.
 */
import type { OutputStream } from "./output.ts";

export interface ProgressCounts {
  readonly done: number;
  readonly total: number;
  /** Extra counters shown next to the bar (`created 240  existing 5  failed 5`). */
  readonly detail?: string;
}

export interface Progress {
  update(counts: ProgressCounts): void;
  /** Draws the final state and ends the bar's line. */
  finish(counts: ProgressCounts): void;
}

const BAR_WIDTH = 30;
/** Redraws of the bar at most this often (a terminal cannot show more anyway). */
const REDRAW_MS = 80;

export function createProgress(
  stream: OutputStream,
  options: { readonly verb: string; readonly enabled: boolean },
): Progress {
  if (!options.enabled) return { update() {}, finish() {} };
  return stream.isTTY ? new ProgressBar(stream, options.verb) : new ProgressLines(stream, options.verb);
}

class ProgressBar implements Progress {
  readonly #stream: OutputStream;
  readonly #verb: string;
  #drawnAt = 0;

  constructor(stream: OutputStream, verb: string) {
    this.#stream = stream;
    this.#verb = verb;
  }

  update(counts: ProgressCounts): void {
    const now = Date.now();
    if (now - this.#drawnAt < REDRAW_MS) return;
    this.#drawnAt = now;
    this.#draw(counts);
  }

  finish(counts: ProgressCounts): void {
    this.#draw(counts);
    this.#stream.write("\n");
  }

  #draw({ done, total, detail }: ProgressCounts): void {
    const ratio = total === 0 ? 1 : done / total;
    const filled = Math.round(ratio * BAR_WIDTH);
    const bar = `${"█".repeat(filled)}${"░".repeat(BAR_WIDTH - filled)}`;
    const percent = `${Math.floor(ratio * 100)}%`.padStart(4);
    const text = `\r${this.#verb} [${bar}] ${percent} ${done}/${total}${detail ? `  ${detail}` : ""}`;
    const width = this.#stream.columns;
    // Clear to the end of the line; cut to the terminal width so the bar never wraps.
    this.#stream.write(`${width && text.length > width ? text.slice(0, width) : text}\u001b[K`);
  }
}

class ProgressLines implements Progress {
  readonly #stream: OutputStream;
  readonly #verb: string;
  #nextAt: number | undefined;

  constructor(stream: OutputStream, verb: string) {
    this.#stream = stream;
    this.#verb = verb;
  }

  update({ done, total }: ProgressCounts): void {
    const step = Math.max(1, Math.ceil(total / 10));
    this.#nextAt ??= step;
    if (done < this.#nextAt || done >= total) return;
    while (this.#nextAt <= done) this.#nextAt += step;
    this.#stream.write(`${this.#verb} ${done}/${total}\n`);
  }

  finish({ done, total }: ProgressCounts): void {
    this.#stream.write(`${this.#verb} ${done}/${total}\n`);
  }
}
