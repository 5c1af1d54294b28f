/**
 * The configuration sources, each read into a raw tree: the optional JSON file, environment
 * variables (`IoT__Aws__Shadow__PollIntervalSeconds=10`, `__` separates sections as in ASP.NET
 * Core; `DATABASE_URL` is an alias of `Database__Url`), and command-line flags
 * (`--Host:Port=9090`, `--port 9090`).
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { OptionsValidationError } from "@granit/iot";
import { type ConfigSection, setPath, toTree } from "./config-tree.ts";

/** The top-level sections read from env vars; anything else in the environment is ignored. */
export const ROOT_SECTIONS = ["Host", "Database", "Auth", "Logging", "IoT"] as const;

/** Reads the JSON file; a missing or malformed file is an error naming it. */
export function readJsonSource(file: string): ConfigSection {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new OptionsValidationError(
      "GRANIT_CONFIG",
      `cannot read the configuration file ${file} (${(error as NodeJS.ErrnoException).code ?? "error"})`,
      { cause: error },
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new OptionsValidationError(
      "GRANIT_CONFIG",
      `the configuration file ${file} is not valid JSON: ${(error as Error).message}`,
      { cause: error },
    );
  }
  const tree = toTree(parsed);
  if (typeof tree !== "object" || tree === null) {
    throw new OptionsValidationError(
      "GRANIT_CONFIG",
      `the configuration file ${file} must hold a JSON object`,
    );
  }
  return tree;
}

/** Environment variables whose first `__` segment is a known section, as a tree of strings. */
export function envSource(env: Readonly<Record<string, string | undefined>>): ConfigSection {
  const tree: ConfigSection = {};
  const roots = new Set(ROOT_SECTIONS.map((r) => r.toLowerCase()));
  const databaseUrl = env.DATABASE_URL;
  if (databaseUrl !== undefined) setPath(tree, ["Database", "Url"], databaseUrl);
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || !name.includes("__")) continue;
    const path = name.split("__");
    if (!roots.has((path[0] ?? "").toLowerCase()) || path.some((s) => s === "")) continue;
    setPath(tree, path, value);
  }
  return tree;
}

/** What the command line asked for. */
export interface CommandLine {
  readonly configFile: string | null;
  readonly help: boolean;
  readonly tree: ConfigSection;
}

const SHORTCUTS: Readonly<Record<string, readonly string[]>> = {
  port: ["Host", "Port"],
  address: ["Host", "Address"],
  "data-dir": ["Host", "DataDir"],
  "database-url": ["Database", "Url"],
  "log-level": ["Logging", "Level"],
};

/**
 * Parses `--config <file>`, `--help`, the shortcuts (`--port`, `--address`, `--data-dir`,
 * `--database-url`, `--log-level`) and any key as `--Section:Key=value` / `--Section:Key value`.
 */
export function parseCommandLine(argv: readonly string[]): CommandLine {
  const tree: ConfigSection = {};
  let configFile: string | null = null;
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (arg === "--help" || arg === "-h") {
      help = true;
      continue;
    }
    const match = /^--([^=]+)(?:=(.*))?$/s.exec(arg);
    if (!match?.[1]) {
      throw new OptionsValidationError("argv", `unexpected argument '${arg}' (try --help)`);
    }
    const name = match[1];
    let value = match[2];
    if (value === undefined) {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith("--")) {
        throw new OptionsValidationError(`--${name}`, "needs a value (--name=value or --name value)");
      }
      value = next;
      i++;
    }
    if (name === "config") {
      configFile = value;
      continue;
    }
    const path = SHORTCUTS[name] ?? (name.includes(":") ? name.split(":") : null);
    if (!path || path.some((s) => s === "")) {
      throw new OptionsValidationError(
        `--${name}`,
        `is not a known flag; use --config, --${Object.keys(SHORTCUTS).join(", --")} or --Section:Key=value`,
      );
    }
    setPath(tree, path, value);
  }
  return { configFile, help, tree };
}

export function resolveConfigFile(
  commandLine: CommandLine,
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
): string | null {
  const file = commandLine.configFile ?? (env.GRANIT_CONFIG || null);
  return file ? resolve(cwd, file) : null;
}
