/**
 * Structured logs with pino: JSON lines on stdout, secrets redacted by path (authorization
 * headers, tokens, private keys, credential secrets), request bodies never logged.
 * `toIoTLogger` adapts pino to the `Logger` port of `@granit/iot`, so every package logs
 * through the host's sink and redaction.
 */
import type { Logger } from "@granit/iot";
import { type DestinationStream, type Level, type Logger as PinoLogger, pino } from "pino";

const SECRET_KEYS = [
  "authorization",
  "Authorization",
  "token",
  "Token",
  "accessToken",
  "sessionToken",
  "secret",
  "protectedSecret",
  "secretAccessKey",
  "SecretString",
  "privateKey",
  "privateKeyPem",
  "PrivateKey",
  "password",
];

/** Redaction paths: each secret key at the top level and up to three levels deep, plus `credential.*`. */
export const REDACT_PATHS: readonly string[] = [
  "req.headers.authorization",
  "req.headers.cookie",
  "credential.*",
  "*.credential.*",
  ...SECRET_KEYS.flatMap((key) => [key, `*.${key}`, `*.*.${key}`, `*.*.*.${key}`]),
];

export function createLogger(level: Level | "silent", destination?: DestinationStream): PinoLogger {
  return pino(
    {
      level,
      base: { service: "granit-iot-host", pid: process.pid },
      redact: { paths: [...REDACT_PATHS], censor: "[REDACTED]" },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}

/** The `@granit/iot` `Logger` port on top of a pino logger. */
export function toIoTLogger(logger: PinoLogger): Logger {
  return {
    debug: (fields, message) => logger.debug(fields, message),
    info: (fields, message) => logger.info(fields, message),
    warn: (fields, message) => logger.warn(fields, message),
    error: (fields, message) => logger.error(fields, message),
    child: (bindings) => toIoTLogger(logger.child(bindings)),
  };
}
