/**
 * The shape of one CLI command (`devices list`, `reconcile`, ...): its arguments and options as
 * `node:util` `parseArgs` declares them, the text `--help` prints, and `run`. Command groups are
 * plain arrays of these, one file per group; `run-cli.ts` dispatches and prints help from them.
 */
import type { ApiClient } from "./api-client.ts";
import type { ExitCode } from "./exit-codes.ts";
import type { Output } from "./output.ts";

export interface OptionSpec {
  readonly type: "string" | "boolean";
  readonly multiple?: boolean;
  readonly short?: string;
  /** Placeholder of the value in help (`<status>`). */
  readonly value?: string;
  readonly description: string;
}

export interface CommandSpec {
  /** `["devices", "list"]`, or one word for a command without subcommands (`["reconcile"]`). */
  readonly path: readonly [string] | readonly [string, string];
  /** One line for the command lists. */
  readonly summary: string;
  /** The positional part of the usage line: `<deviceId> [<commandId>]`. */
  readonly args?: string;
  /** How many positionals it takes. */
  readonly positionals: { readonly min: number; readonly max: number };
  readonly options?: Readonly<Record<string, OptionSpec>>;
  /** Extra help paragraphs (what it calls, what it prints). */
  readonly details?: string;
  readonly examples: readonly string[];
  readonly run: (context: CommandContext) => Promise<ExitCode | undefined>;
}

export type OptionValues = Readonly<Record<string, string | boolean | (string | boolean)[] | undefined>>;

/** What a command's `run` gets. */
export interface CommandContext {
  readonly command: CommandSpec;
  readonly positionals: readonly string[];
  readonly values: OptionValues;
  readonly out: Output;
  /** The API client; resolving the URL and the token happens here, so usage errors come first. */
  api(): ApiClient;
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
}

/** The name a command is typed with: `devices list`. */
export function commandName(command: CommandSpec): string {
  return command.path.join(" ");
}

/** A string option's value (the last one when repeated). */
export function stringOption(context: CommandContext, name: string): string | undefined {
  const value = context.values[name];
  if (Array.isArray(value)) {
    const last = value.at(-1);
    return typeof last === "string" ? last : undefined;
  }
  return typeof value === "string" ? value : undefined;
}

/** Every value of a repeatable string option, in order. */
export function stringOptions(context: CommandContext, name: string): string[] {
  const value = context.values[name];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === "string");
  return typeof value === "string" ? [value] : [];
}

export function flag(context: CommandContext, name: string): boolean {
  return context.values[name] === true;
}
