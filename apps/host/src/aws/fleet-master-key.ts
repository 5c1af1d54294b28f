/**
 * The fleet-provisioning master key of the embedded default (the in-process emulator): like the
 * operator token, the first start generates 32 random bytes (base64) into
 * `<DataDir>/fleet-master-key` (mode 0600, created exclusively) and later starts read the same file,
 * so fleet keys issued before a restart still verify. Against an AWS account the key must come from
 * the configuration (`IoT:Aws:FleetProvisioning:MasterKey`, a secret) instead.
 */
import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const FLEET_MASTER_KEY_FILE = "fleet-master-key";

export interface FleetMasterKey {
  /** 32 bytes as base64 (never logged). */
  readonly key: string;
  readonly file: string;
  readonly generated: boolean;
}

export function loadOrCreateFleetMasterKey(dataDir: string): FleetMasterKey {
  const file = join(dataDir, FLEET_MASTER_KEY_FILE);
  try {
    const key = readFileSync(file, "utf8").trim();
    if (Buffer.from(key, "base64").length !== 32) {
      throw new Error(
        `The fleet master key file ${file} does not hold 32 bytes as base64; delete it to generate a new key (fleet keys issued with the old one stop verifying).`,
      );
    }
    if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
    return { key, file, generated: false };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const key = randomBytes(32).toString("base64");
  writeFileSync(file, `${key}\n`, { mode: 0o600, flag: "wx" });
  return { key, file, generated: true };
}
