/**
 * The embedded default's operator token. When no token is configured, the host must still never
 * accept anonymous requests: the first start generates a random token (32 bytes, base64url),
 * stores it in `<DataDir>/operator-token` (mode 0600, created exclusively) and reports it so the
 * start-up banner can print it; later starts read the same file.
 */
import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const OPERATOR_TOKEN_FILE = "operator-token";

export interface OperatorToken {
  readonly token: string;
  readonly file: string;
  /** True when this start created the token (the banner prints it only then). */
  readonly generated: boolean;
}

export function loadOrCreateOperatorToken(dataDir: string): OperatorToken {
  const file = join(dataDir, OPERATOR_TOKEN_FILE);
  try {
    const token = readFileSync(file, "utf8").trim();
    if (token.length >= 16) {
      // Tighten permissions left open by hand (copying the data directory, an editor).
      if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
      return { token, file, generated: false };
    }
    throw new Error(
      `The operator token file ${file} is empty or too short; delete it to generate a new token.`,
    );
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const token = randomBytes(32).toString("base64url");
  // `wx`: fails if another process created it meanwhile, instead of overwriting its token.
  writeFileSync(file, `${token}\n`, { mode: 0o600, flag: "wx" });
  return { token, file, generated: true };
}
