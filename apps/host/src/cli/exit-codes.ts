/**
 * The exit codes of `granit-iot`, a contract with the scripts that run it: each names one kind of
 * outcome, so a script can tell "fix the input" from "retry later" without reading the message.
 */
export const ExitCode = {
  /** The command did what it was asked. */
  Success: 0,
  /** The host refused the request (a 4xx problem other than 401/403), or some import rows failed. */
  Refused: 1,
  /** Bad command line or input file (unknown command or flag, missing argument, unreadable CSV); no request was sent. */
  Usage: 2,
  /** The host could not be reached: connection refused, unknown host, timeout. */
  Unreachable: 3,
  /** No operator token was found, or the host refused it (401 / 403). */
  Authentication: 4,
  /** The host failed (5xx). */
  ServerError: 5,
  /** A bug in the CLI itself (reported without a stack trace; `GRANIT_DEBUG=1` shows it). */
  Internal: 70,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** The table printed by `--help` and copied into the README. */
export const EXIT_CODES_HELP = `Exit codes:
  0   success
  1   the host refused the request (4xx problem: its title, detail and field errors are printed),
      or some rows of an import failed
  2   usage error: unknown command or flag, missing or malformed argument, unreadable CSV
      (detected before any request is sent)
  3   the host is unreachable: connection refused, unknown host, timeout (the URL is printed)
  4   authentication: no token found, or the host answered 401 / 403
  5   the host failed (5xx)
  70  unexpected CLI failure (a bug; GRANIT_DEBUG=1 prints the stack)`;
