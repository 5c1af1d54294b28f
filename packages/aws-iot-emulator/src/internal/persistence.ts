/**
 * The optional state file: the whole account (and the CA, so issued certificates stay verifiable)
 * as JSON. Loaded at start, written after changes (debounced) and on stop. Writes go to a temporary
 * file renamed over the target, so a crash never leaves half a file.
 */
import { readFile, rename, writeFile } from "node:fs/promises";
import type { CaSnapshot } from "./iot/certificate-authority.ts";
import { createState, type State } from "./state.ts";

const FORMAT = 1;

interface StateFile {
  format: number;
  ca: CaSnapshot;
  state: State;
}

export async function loadStateFile(path: string): Promise<{ state: State; ca: CaSnapshot } | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  const file = JSON.parse(text, revive) as StateFile;
  if (file.format !== FORMAT) throw new Error(`Unsupported state file format ${file.format} in ${path}`);
  return { state: { ...createState(), ...file.state }, ca: file.ca };
}

export async function saveStateFile(path: string, state: State, ca: CaSnapshot): Promise<void> {
  const file: StateFile = { format: FORMAT, ca, state };
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(file, replace));
  await rename(tmp, path);
}

function replace(_key: string, value: unknown): unknown {
  if (value instanceof Map) return { $map: [...value] };
  if (value instanceof Set) return { $set: [...value] };
  return value;
}

function revive(_key: string, value: unknown): unknown {
  if (value && typeof value === "object" && !Array.isArray(value)) {
    const v = value as { $map?: [unknown, unknown][]; $set?: unknown[] };
    if (Array.isArray(v.$map) && Object.keys(value).length === 1) return new Map(v.$map);
    if (Array.isArray(v.$set) && Object.keys(value).length === 1) return new Set(v.$set);
  }
  return value;
}

/** Runs `save` at most once per `delayMs`, and once more if changes came in while it ran. */
export class DebouncedSaver {
  readonly #save: () => Promise<void>;
  readonly #delayMs: number;
  readonly #onError: (error: unknown) => void;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #dirty = false;

  constructor(save: () => Promise<void>, delayMs: number, onError: (error: unknown) => void) {
    this.#save = save;
    this.#delayMs = delayMs;
    this.#onError = onError;
  }

  schedule(): void {
    this.#dirty = true;
    if (this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.flush();
    }, this.#delayMs);
    this.#timer.unref();
  }

  async flush(): Promise<void> {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    while (this.#running) await this.#running;
    if (!this.#dirty) return;
    this.#dirty = false;
    this.#running = this.#save().catch(this.#onError);
    await this.#running;
    this.#running = undefined;
  }
}
