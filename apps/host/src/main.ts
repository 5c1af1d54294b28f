/**
 * `npm start`: loads the configuration, starts a host and prints where it listens, the API docs,
 * the operator token (when this start generated it) and the database in use. SIGINT/SIGTERM shut
 * it down gracefully; a second signal exits at once. An invalid configuration prints one line
 * per offending key and exits with code 2 (no stack trace).
 */
import "./telemetry/meter-provider.ts";

import { isAbsolute, join, relative, resolve } from "node:path";
import { ConfigurationError } from "./config/configuration-error.ts";
import type { HostConfig } from "./config/host-config.ts";
import { HelpRequested, loadConfig, USAGE } from "./config/load-config.ts";

/** A path as the operator would type it: relative below the working directory, absolute elsewhere. */
function shown(path: string): string {
  const rel = relative(process.cwd(), resolve(path));
  return rel === "" ? "." : rel.startsWith("..") || isAbsolute(rel) ? resolve(path) : rel;
}

function describeDatabase(config: HostConfig): string {
  if (!config.Database.Url) return `PGlite (embedded) in ${join(shown(config.Host.DataDir), "pglite")}`;
  const url = new URL(config.Database.Url);
  return `PostgreSQL ${url.hostname}:${url.port || 5432}${url.pathname} (schema ${config.Database.Schema})`;
}

let config: HostConfig;
try {
  config = loadConfig({ argv: process.argv.slice(2) });
} catch (error) {
  if (error instanceof HelpRequested) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  if (error instanceof ConfigurationError) {
    process.stderr.write("granit-iot: invalid configuration, not starting:\n");
    for (const item of error.errors) process.stderr.write(`  ${item.message}\n`);
    process.exit(2);
  }
  throw error;
}

// Loaded only once the configuration is valid, so a configuration error answers at once.
const { createHost } = await import("./host.ts");
const host = await createHost(config).catch((error: unknown) => {
  process.stderr.write(`granit-iot: cannot open the database: ${(error as Error).message}\n`);
  process.exit(1);
});
await host.start().catch(async (error: unknown) => {
  process.stderr.write(`granit-iot: cannot start: ${(error as Error).message}\n`);
  await host.stop().catch(() => {});
  process.exit(1);
});

const lines = [
  `Granit IoT host listening on ${host.url}`,
  `API docs:       ${host.url}/docs`,
  host.operatorToken
    ? host.operatorToken.generated
      ? `Operator token: ${host.operatorToken.token}   (generated; stored in ${shown(host.operatorToken.file)})`
      : `Operator token: stored in ${shown(host.operatorToken.file)}`
    : `Operator tokens: ${host.tokens.size} configured (Auth:Tokens)`,
  `Database:       ${describeDatabase(config)}`,
  `Try:            curl -H "Authorization: Bearer <token>" ${host.url}/api/iot/devices`,
];
process.stdout.write(`${lines.join("\n")}\n`);

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) {
      process.stderr.write(`granit-iot: second ${signal}, exiting now\n`);
      process.exit(130);
    }
    stopping = true;
    host.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`granit-iot: shutdown failed: ${(error as Error).message}\n`);
        process.exit(1);
      },
    );
  });
}
