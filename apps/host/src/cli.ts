#!/usr/bin/env node
/**
 * `granit-iot`: the operator CLI of the Granit IoT host (`npx granit-iot --help`). The commands
 * live in `./cli/`; this entry only hands them the process's arguments, streams and environment,
 * and sets the exit code (see `./cli/exit-codes.ts`).
 */
import { runCli } from "./cli/run-cli.ts";

// `granit-iot devices list | head -1`: a reader that went away is not an error worth a stack trace.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw error;
});

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
});
