/**
 * The `granit-iot` dispatcher: finds the command in the arguments, parses its options strictly with
 * `node:util` `parseArgs` (global options may appear anywhere), prints help, runs the command and
 * turns every failure into a few plain lines on stderr and an exit code (see `exit-codes.ts`) —
 * never a stack trace. `runCli` takes its streams and environment as arguments and never calls
 * `process.exit`, so `src/cli.ts` stays a two-line entry point.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import {
  ApiClient,
  DEFAULT_TIMEOUT_SECONDS,
  DEFAULT_URL,
  resolveConnection,
  TOKEN_FILE,
} from "./api-client.ts";
import { integerArgument } from "./arguments.ts";
import { BINDING_COMMANDS, RECONCILE_COMMANDS } from "./bindings.ts";
import { BUS_COMMANDS } from "./bus.ts";
import { CLAIM_CERTIFICATE_COMMANDS } from "./claim-certs.ts";
import { ApiProblemError, CliError, HostUnreachableError, UsageError } from "./cli-errors.ts";
import {
  type CommandContext,
  type CommandSpec,
  commandName,
  type OptionSpec,
  type OptionValues,
} from "./command.ts";
import { DEVICE_COMMAND_COMMANDS } from "./commands.ts";
import { DEVICE_COMMANDS } from "./devices.ts";
import { importCommand } from "./devices-import.ts";
import { EXIT_CODES_HELP, ExitCode } from "./exit-codes.ts";
import { Output, type OutputStream } from "./output.ts";
import { POLICY_COMMANDS } from "./policy.ts";
import { SHADOW_COMMANDS } from "./shadow.ts";

export const PROGRAM = "granit-iot";

/** Every command, in the order help lists them. */
export const COMMANDS: readonly CommandSpec[] = [
  ...DEVICE_COMMANDS,
  importCommand,
  ...BINDING_COMMANDS,
  ...RECONCILE_COMMANDS,
  ...SHADOW_COMMANDS,
  ...DEVICE_COMMAND_COMMANDS,
  ...POLICY_COMMANDS,
  ...CLAIM_CERTIFICATE_COMMANDS,
  ...BUS_COMMANDS,
];

const GROUPS: Readonly<Record<string, string>> = {
  devices: "devices: create, list, show, lifecycle, bulk import",
  bindings: "AWS thing bindings: show, retry a Failed provisioning",
  shadow: "device shadows: read, set the desired state",
  commands: "device commands (AWS IoT jobs): send, status, cancel",
  policy: "the AWS IoT device policy: print, ensure",
  "claim-certs": "fleet-provisioning claim certificates: add, list, show, deactivate, activate",
  bus: "the durable message bus: dead letters, requeue",
};

const GLOBAL_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  url: { type: "string", value: "<url>", description: `Host URL (default: GRANIT_URL, else ${DEFAULT_URL})` },
  token: {
    type: "string",
    value: "<token>",
    description: `Operator token (default: GRANIT_TOKEN, else the file ./${TOKEN_FILE})`,
  },
  json: { type: "boolean", description: "Results as JSON on stdout; errors as problem documents on stderr" },
  timeout: {
    type: "string",
    value: "<seconds>",
    description: `Wait at most this long for each answer, 1-3600 (default ${DEFAULT_TIMEOUT_SECONDS})`,
  },
  help: {
    type: "boolean",
    short: "h",
    description: "Help: granit-iot --help, granit-iot devices list --help",
  },
  version: { type: "boolean", description: "Print the CLI version" },
};

export interface CliEnvironment {
  readonly stdout: OutputStream;
  readonly stderr: OutputStream;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
}

export function cliVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  return manifest.version;
}

type ParseArgsOptions = NonNullable<Parameters<typeof parseArgs>[0]>["options"];

function toParseArgs(options: Readonly<Record<string, OptionSpec>>): ParseArgsOptions {
  const result: NonNullable<ParseArgsOptions> = {};
  for (const [name, spec] of Object.entries(options)) {
    result[name] = {
      type: spec.type,
      ...(spec.multiple ? { multiple: true } : {}),
      ...(spec.short ? { short: spec.short } : {}),
    };
  }
  return result;
}

/** Where the command words are: the first positionals, found without knowing the command's options. */
function locateCommand(args: readonly string[]): {
  readonly words: readonly { readonly value: string; readonly index: number }[];
} {
  const { tokens } = parseArgs({
    args: [...args],
    options: toParseArgs(GLOBAL_OPTIONS),
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const words = tokens
    .filter((token) => token.kind === "positional")
    .slice(0, 3)
    .map((token) => ({ value: (token as { value: string }).value, index: token.index }));
  return { words };
}

function optionLines(options: Readonly<Record<string, OptionSpec>>): string[] {
  const entries = Object.entries(options).map(([name, spec]) => {
    const short = spec.short ? `-${spec.short}, ` : "";
    const value = spec.type === "string" ? ` ${spec.value ?? "<value>"}` : "";
    const repeat = spec.multiple ? " ..." : "";
    return [`${short}--${name}${value}${repeat}`, spec.description] as const;
  });
  const width = Math.max(...entries.map(([left]) => left.length));
  return entries.map(([left, description]) => `  ${left.padEnd(width)}  ${description}`);
}

function usageLine(command: CommandSpec): string {
  const options = Object.keys(command.options ?? {}).length > 0 ? " [options]" : "";
  return `${PROGRAM} ${commandName(command)}${command.args ? ` ${command.args}` : ""}${options}`;
}

function commandList(commands: readonly CommandSpec[]): string[] {
  const width = Math.max(...commands.map((c) => commandName(c).length));
  return commands.map((c) => `  ${commandName(c).padEnd(width)}  ${c.summary}`);
}

export function topHelp(): string {
  return [
    `${PROGRAM} — operator CLI of the Granit IoT host (talks to its API with the operator token)`,
    "",
    `Usage: ${PROGRAM} <command> [<subcommand>] [arguments] [options]`,
    "",
    "Commands:",
    ...commandList(COMMANDS),
    "",
    "Global options (anywhere on the line):",
    ...optionLines(GLOBAL_OPTIONS),
    "",
    EXIT_CODES_HELP,
  ].join("\n");
}

function groupHelp(group: string): string {
  const commands = COMMANDS.filter((c) => c.path[0] === group);
  return [
    `${PROGRAM} ${group} — ${GROUPS[group] ?? commands[0]?.summary ?? ""}`,
    "",
    `Usage: ${PROGRAM} ${group} <subcommand> [arguments] [options]`,
    "",
    "Subcommands:",
    ...commandList(commands),
    "",
    `${PROGRAM} ${group} <subcommand> --help prints the options of one.`,
  ].join("\n");
}

function commandHelp(command: CommandSpec): string {
  const lines = [
    `${PROGRAM} ${commandName(command)} — ${command.summary}`,
    "",
    `Usage: ${usageLine(command)}`,
  ];
  if (command.details) lines.push("", command.details);
  if (Object.keys(command.options ?? {}).length > 0)
    lines.push("", "Options:", ...optionLines(command.options ?? {}));
  lines.push("", "Global options:", ...optionLines(GLOBAL_OPTIONS));
  lines.push(
    "",
    command.examples.length > 1 ? "Examples:" : "Example:",
    ...command.examples.map((e) => `  ${e}`),
  );
  lines.push("", EXIT_CODES_HELP);
  return lines.join("\n");
}

/** What the arguments ask for: help text, the version, or a command with its parsed values. */
type Resolved =
  | { readonly kind: "help"; readonly text: string }
  | { readonly kind: "version" }
  | {
      readonly kind: "run";
      readonly command: CommandSpec;
      readonly positionals: string[];
      readonly values: OptionValues;
    };

function wantsFlag(args: readonly string[], ...names: string[]): boolean {
  const end = args.indexOf("--");
  return (end === -1 ? args : args.slice(0, end)).some((arg) => names.includes(arg));
}

function resolve(args: readonly string[]): Resolved {
  const helpAsked = wantsFlag(args, "--help", "-h");
  const { words } = locateCommand(args);
  let consumed = words.slice(0);
  // `granit-iot help [group [subcommand]]` is `--help` spelled as a command.
  const helpCommand = consumed[0]?.value === "help";
  if (helpCommand) consumed = consumed.slice(1);
  const asksHelp = helpAsked || helpCommand;

  const group = consumed[0];
  if (group === undefined) {
    if (asksHelp) return { kind: "help", text: topHelp() };
    if (wantsFlag(args, "--version")) return { kind: "version" };
    throw new UsageError(`a command is required; run '${PROGRAM} --help' for the list`);
  }
  const inGroup = COMMANDS.filter((c) => c.path[0] === group.value);
  if (inGroup.length === 0) {
    throw new UsageError(`unknown command '${group.value}'; run '${PROGRAM} --help' for the list`);
  }
  let command = inGroup.find((c) => c.path.length === 1);
  let used = [group];
  if (command === undefined) {
    const sub = consumed[1];
    if (sub === undefined) {
      if (asksHelp) return { kind: "help", text: groupHelp(group.value) };
      const names = inGroup.map((c) => c.path[1]).join(", ");
      throw new UsageError(`'${group.value}' needs a subcommand: ${names}`);
    }
    command = inGroup.find((c) => c.path[1] === sub.value);
    if (command === undefined) {
      const names = inGroup.map((c) => c.path[1]).join(", ");
      throw new UsageError(`unknown subcommand '${group.value} ${sub.value}'; expected one of ${names}`);
    }
    used = [group, sub];
  }
  if (asksHelp) return { kind: "help", text: commandHelp(command) };

  const drop = new Set([...used.map((w) => w.index), ...(helpCommand ? [words[0]?.index ?? -1] : [])]);
  const rest = args.filter((_, i) => !drop.has(i));
  const name = commandName(command);
  let parsed: { values: OptionValues; positionals: string[] };
  try {
    parsed = parseArgs({
      args: rest,
      options: toParseArgs({ ...GLOBAL_OPTIONS, ...command.options }),
      strict: true,
      allowPositionals: true,
    }) as { values: OptionValues; positionals: string[] };
  } catch (error) {
    throw new UsageError(parseArgsMessage(error, name), name, { cause: error });
  }
  const { min, max } = command.positionals;
  if (parsed.positionals.length < min) {
    throw new UsageError(`'${name}' needs ${command.args ?? `${min} argument(s)`}`, name);
  }
  if (parsed.positionals.length > max) {
    const extra = parsed.positionals.slice(max).join(" ");
    throw new UsageError(
      `'${name}' takes ${max === 0 ? "no arguments" : command.args} (unexpected: ${extra})`,
      name,
    );
  }
  return { kind: "run", command, positionals: parsed.positionals, values: parsed.values };
}

/** `parseArgs`' messages, in the words of this CLI. */
function parseArgsMessage(error: unknown, command: string): string {
  const { code, message } = error as { code?: string; message: string };
  const option = /'(-[^' ]+)/.exec(message)?.[1];
  switch (code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
      return `unknown option '${option ?? message}' for '${command}'`;
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE":
      if (/ambiguous/.test(message)) {
        return `option ${option ?? ""} needs a value (write ${option ?? "--option"}=-value for a value starting with '-')`;
      }
      return /argument missing/.test(message)
        ? `option ${option ?? ""} needs a value`
        : `option ${option ?? ""} takes no value`;
    default:
      return message;
  }
}

/** Runs one command line and answers its exit code (see `ExitCode`); never throws. */
export async function runCli(args: readonly string[], environment: CliEnvironment): Promise<number> {
  const json = wantsFlag(args, "--json");
  const out = new Output({
    json,
    stdout: environment.stdout,
    stderr: environment.stderr,
    env: environment.env,
  });
  let running: string | undefined;
  try {
    const resolved = resolve(args);
    if (resolved.kind === "help") {
      out.stdout.write(`${resolved.text}\n`);
      return ExitCode.Success;
    }
    if (resolved.kind === "version") {
      out.stdout.write(
        json ? `${JSON.stringify({ version: cliVersion() })}\n` : `${PROGRAM} ${cliVersion()}\n`,
      );
      return ExitCode.Success;
    }
    const { command, positionals, values } = resolved;
    running = commandName(command);
    const timeoutSeconds = integerArgument(
      typeof values.timeout === "string" ? values.timeout : undefined,
      "--timeout",
      { min: 1, max: 3600 },
      DEFAULT_TIMEOUT_SECONDS,
    );
    let client: ApiClient | undefined;
    const context: CommandContext = {
      command,
      positionals,
      values,
      out,
      cwd: environment.cwd,
      env: environment.env,
      api() {
        client ??= new ApiClient(
          resolveConnection({
            url: typeof values.url === "string" ? values.url : undefined,
            token: typeof values.token === "string" ? values.token : undefined,
            timeoutSeconds,
            env: environment.env,
            cwd: environment.cwd,
          }),
          `${PROGRAM}/${cliVersion()}`,
        );
        return client;
      },
    };
    return (await command.run(context)) ?? ExitCode.Success;
  } catch (error) {
    return report(out, error, running, environment.env);
  }
}

function report(out: Output, error: unknown, running: string | undefined, env: NodeJS.ProcessEnv): number {
  if (error instanceof ApiProblemError) {
    out.problem(error.problem, error.request);
    if (!out.json && error.status === 404 && /^No route matches/.test(error.problem.detail ?? "")) {
      out.note("  (this host does not serve that route: is the AWS bridge enabled on it?)");
    }
    return error.exitCode;
  }
  if (error instanceof UsageError) {
    const command = error.command ?? running;
    const hint = command
      ? `usage: ${usageLine(COMMANDS.find((c) => commandName(c) === command) as CommandSpec)}\n` +
        `run '${PROGRAM} ${command} --help' for details`
      : undefined;
    out.failure("usage", error.message, error.exitCode, hint ? hint.split("\n") : []);
    return error.exitCode;
  }
  if (error instanceof HostUnreachableError) {
    out.failure("unreachable", error.message, error.exitCode);
    return error.exitCode;
  }
  if (error instanceof CliError) {
    out.failure(
      error.exitCode === ExitCode.Authentication ? "authentication" : "error",
      error.message,
      error.exitCode,
    );
    return error.exitCode;
  }
  const message = error instanceof Error ? error.message : String(error);
  out.failure("internal", `unexpected failure: ${message}`, ExitCode.Internal, [
    "  this is a bug in granit-iot; GRANIT_DEBUG=1 prints the stack",
  ]);
  if (!out.json && env.GRANIT_DEBUG) out.note(String((error as Error)?.stack ?? error));
  return ExitCode.Internal;
}
