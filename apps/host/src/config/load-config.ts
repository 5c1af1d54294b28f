/**
 * Builds the one validated configuration tree of a host. Sources, later wins per key:
 * defaults ← JSON file (`--config <file>` or `GRANIT_CONFIG`) ← environment variables
 * (`Section__Key`, plus `DATABASE_URL`) ← command-line flags. Every invalid value is reported at
 * once, each as an `OptionsValidationError` naming the full key and the allowed range, inside one
 * `ConfigurationError`.
 */
import { OptionsValidationError } from "@granit/iot";
import { type ConfigSectionRegistry, defaultConfigSections } from "./config-sections.ts";
import { envSource, parseCommandLine, readJsonSource, resolveConfigFile } from "./config-sources.ts";
import { type ConfigSection, finishTree, getPath, mergeTree, toTree } from "./config-tree.ts";
import { ConfigurationError } from "./configuration-error.ts";
import { HOST_DEFAULTS, type HostConfig, hostConfigSchema } from "./host-config.ts";
import { toOptionsErrors } from "./settings.ts";

export interface LoadConfigOptions {
  /** Command-line arguments (without `node main.ts`). @default [] */
  readonly argv?: readonly string[];
  /** @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Base of relative paths (config file). @default process.cwd() */
  readonly cwd?: string;
  /** Parsers of the package-owned sections. @default every `IoT:Aws:*` section as pass-through */
  readonly sections?: ConfigSectionRegistry;
  /** Extra values applied last, as a tree (`{ Host: { Port: 0 } }`), for tests and embedding. */
  readonly overrides?: Readonly<Record<string, unknown>>;
}

/** Thrown for `--help`: the caller prints `usage` and exits 0. */
export class HelpRequested extends Error {
  override readonly name = "HelpRequested";
}

function wrap(error: unknown): never {
  if (error instanceof OptionsValidationError) throw new ConfigurationError([error], { cause: error });
  throw error;
}

export function loadConfig(options: LoadConfigOptions = {}): HostConfig {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const sections = options.sections ?? defaultConfigSections();
  let tree: ConfigSection;
  let configFile: string | null;
  try {
    const commandLine = parseCommandLine(options.argv ?? []);
    if (commandLine.help) throw new HelpRequested("--help");
    configFile = resolveConfigFile(commandLine, env, cwd);
    tree = mergeTree({}, toTree(HOST_DEFAULTS) as ConfigSection);
    for (const registration of sections.registrations) {
      if (registration.defaults) {
        mergeTree(tree, nest(registration.path, toTree(registration.defaults) as ConfigSection));
      }
    }
    if (configFile) mergeTree(tree, readJsonSource(configFile));
    mergeTree(tree, envSource(env));
    mergeTree(tree, commandLine.tree);
    if (options.overrides) mergeTree(tree, toTree(options.overrides) as ConfigSection);
  } catch (error) {
    wrap(error);
  }

  const finished = finishTree(tree) as Record<string, unknown>;
  const parsed = hostConfigSchema.safeParse(finished);
  const errors = parsed.success ? [] : toOptionsErrors(parsed.error, "");
  const plugged = sections.parseAll((path) => finishTree(getPath(tree, path.split(":"))));
  errors.push(...plugged.errors);
  if (errors.length > 0 || !parsed.success) throw new ConfigurationError(errors);
  return { ...parsed.data, sections: plugged.values, configFile };
}

function nest(path: string, value: ConfigSection): ConfigSection {
  return path.split(":").reduceRight<ConfigSection>((inner, segment) => ({ [segment]: inner }), value);
}

/** The `--help` text. */
export const USAGE = `Usage: npm start -- [--config granit.json] [--port 8080] [--address 127.0.0.1]
                    [--data-dir ./.data] [--database-url postgres://...] [--log-level info]
                    [--Section:Key=value ...]

Configuration (later wins): defaults < JSON file (--config or GRANIT_CONFIG) < environment
(Section__Key=value, e.g. IoT__Aws__Shadow__PollIntervalSeconds=10; DATABASE_URL) < flags.
DATABASE_URL selects PostgreSQL; without it the embedded PGlite stores data under Host:DataDir.
See apps/host/README.md for every key, its default and its allowed range.`;
