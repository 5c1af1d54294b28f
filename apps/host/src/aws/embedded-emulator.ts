/**
 * The in-process AWS emulator of the embedded default: `@granit/aws-iot-emulator` on
 * `IoT:Aws:Emulator:Port` (4566; any free port when it is taken, e.g. by a second host), its account
 * persisted in `<DataDir>/emulator-state.json` so things, certificates, secrets and shadows survive a
 * restart together with the PGlite database.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { type Emulator, startEmulator } from "@granit/aws-iot-emulator";

export const EMULATOR_STATE_FILE = "emulator-state.json";

export async function startEmbeddedEmulator(options: {
  readonly port: number;
  readonly dataDir: string;
  readonly host?: string;
}): Promise<{ readonly emulator: Emulator; readonly stateFile: string; readonly portTaken: boolean }> {
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const stateFile = join(options.dataDir, EMULATOR_STATE_FILE);
  const start = (port: number) =>
    startEmulator({ port, host: options.host ?? "127.0.0.1", stateFile, keyPool: { size: 4 } });
  try {
    return { emulator: await start(options.port), stateFile, portTaken: false };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EADDRINUSE" || options.port === 0) throw error;
    return { emulator: await start(0), stateFile, portTaken: true };
  }
}
