/**
 * The failures of a CLI run, each carrying the exit code it ends with. They are printed as one or
 * a few plain lines (never a stack trace) by `runCli`; with `--json` as a problem document.
 */
import { ExitCode } from "./exit-codes.ts";

/** One offending input of a 400, as the host's problem details list them. */
export interface ProblemFieldError {
  readonly field: string;
  readonly rule: string;
  readonly message: string;
}

/** An RFC 9457 problem document as received (the host's, or one synthesized for a non-JSON answer). */
export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail?: string;
  readonly instance?: string;
  readonly errors?: readonly ProblemFieldError[];
  readonly [extension: string]: unknown;
}

/** Base class: a failure the CLI reports and ends with `exitCode`. */
export class CliError extends Error {
  override readonly name: string = "CliError";
  readonly exitCode: ExitCode;

  constructor(message: string, exitCode: ExitCode, options?: { cause?: unknown }) {
    super(message, options);
    this.exitCode = exitCode;
  }
}

/** Bad command line or input; raised before any request is sent. */
export class UsageError extends CliError {
  override readonly name = "UsageError";
  /** The command whose usage line should be printed with the error (`devices list`). */
  readonly command: string | undefined;

  constructor(message: string, command?: string, options?: { cause?: unknown }) {
    super(message, ExitCode.Usage, options);
    this.command = command;
  }
}

/** No connection to the host: refused, unknown host, reset, timeout. */
export class HostUnreachableError extends CliError {
  override readonly name = "HostUnreachableError";
  readonly url: string;

  constructor(url: string, reason: string, options?: { cause?: unknown }) {
    super(`cannot reach the host at ${url}: ${reason}`, ExitCode.Unreachable, options);
    this.url = url;
  }
}

/** No operator token to send (no --token, no GRANIT_TOKEN, no .data/operator-token). */
export class MissingTokenError extends CliError {
  override readonly name = "MissingTokenError";

  constructor(message: string) {
    super(message, ExitCode.Authentication);
  }
}

/** The host answered with an error status; `problem` is its problem document. */
export class ApiProblemError extends CliError {
  override readonly name = "ApiProblemError";
  readonly problem: Problem;
  /** `METHOD /path` of the refused request. */
  readonly request: string;

  constructor(problem: Problem, request: string) {
    super(problem.detail ?? problem.title, exitCodeOf(problem.status));
    this.problem = problem;
    this.request = request;
  }

  get status(): number {
    return this.problem.status;
  }
}

function exitCodeOf(status: number): ExitCode {
  if (status === 401 || status === 403) return ExitCode.Authentication;
  if (status >= 500) return ExitCode.ServerError;
  return ExitCode.Refused;
}
