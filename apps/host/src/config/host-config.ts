/**
 * The sections the host itself owns — `Host`, `Database`, `Auth`, `Logging` and the core `IoT`
 * settings — with their defaults and allowed ranges. `IoT:Aws:*` belongs to the AWS packages and
 * is parsed by the section parsers registered in `ConfigSectionRegistry`.
 */
import { isUuid } from "@granit/iot";
import { z } from "zod";
import { OPERATOR_SCOPES, SCOPE_PATTERN } from "../auth/scopes.ts";
import { isSection } from "./config-tree.ts";
import { integerSetting, oneOfSetting, optionalTextSetting, sectionSchema, textSetting } from "./settings.ts";

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

/** The defaults, as a configuration tree (merged first, so they fix the canonical key spelling). */
export const HOST_DEFAULTS = {
  Host: {
    Port: 8080,
    Address: "127.0.0.1",
    DataDir: "./.data",
    BodyLimitBytes: 1_048_576,
    ShutdownTimeoutSeconds: 30,
  },
  Database: { Url: null, Schema: "public", PoolSize: 10 },
  Auth: { Tokens: {} },
  Logging: { Level: "info" },
  IoT: {
    MessageBus: {
      Concurrency: 16,
      BatchSize: 64,
      LeaseSeconds: 30,
      PollIntervalMilliseconds: 1000,
      MaxAttempts: 10,
    },
    Aws: {},
  },
};

const tenantIdSetting = z
  .unknown()
  .optional()
  .transform((value, ctx): string | null => {
    if (value === null || value === "") return null;
    if (isUuid(value)) return value.toLowerCase();
    ctx.addIssue({
      code: "custom",
      message:
        value === undefined
          ? 'is required: the tenant UUID the token acts for, or null (or "") for the host operator'
          : `must be a tenant UUID, or null (or "") for the host operator (got ${String(value)})`,
    });
    return z.NEVER;
  });

const scopesSetting = z
  .unknown()
  .optional()
  .transform((value, ctx): readonly string[] => {
    if (value === undefined || value === null) return OPERATOR_SCOPES;
    if (Array.isArray(value) && value.every((s) => typeof s === "string" && SCOPE_PATTERN.test(s))) {
      return value as string[];
    }
    ctx.addIssue({
      code: "custom",
      message: `must be a list of scope names such as ${OPERATOR_SCOPES.join(", ")} (got ${JSON.stringify(value)})`,
    });
    return z.NEVER;
  });

const tokenSchema = sectionSchema({
  Name: textSetting({ max: 128 }),
  Token: optionalTextSetting({
    min: 16,
    max: 512,
    pattern: /^[\x21-\x7E]+$/,
    hint: "printable ASCII without spaces",
  }),
  TokenSha256: optionalTextSetting({
    min: 64,
    max: 64,
    pattern: /^[0-9a-fA-F]{64}$/,
    hint: "the 64 hex digits of the token's SHA-256",
  }),
  TenantId: tenantIdSetting,
  Scopes: scopesSetting,
}).superRefine(
  (_token, ctx) => {
    const raw = ctx.value as { Token?: unknown; TokenSha256?: unknown };
    const has = (v: unknown) => v !== undefined && v !== null && v !== "";
    if (has(raw.Token) === has(raw.TokenSha256)) {
      ctx.addIssue({
        code: "custom",
        path: ["Token"],
        message:
          "set exactly one of Token (at least 16 characters) or TokenSha256 (hex SHA-256 of the token)",
      });
    }
  },
  // Also when other fields of the token are invalid, so every problem is reported at once.
  { when: () => true },
);

export const hostConfigSchema = sectionSchema({
  Host: sectionSchema({
    Port: integerSetting(0, 65535),
    Address: textSetting({ max: 255 }),
    DataDir: textSetting({ max: 4096 }),
    BodyLimitBytes: integerSetting(1024, 104_857_600),
    ShutdownTimeoutSeconds: integerSetting(1, 600),
  }),
  Database: sectionSchema({
    Url: optionalTextSetting({
      max: 4096,
      pattern: /^postgres(ql)?:\/\//,
      hint: "a postgres:// or postgresql:// URL",
    }),
    Schema: textSetting({
      max: 63,
      pattern: /^[a-z_][a-z0-9_]{0,62}$/,
      hint: "a lower-case SQL identifier",
    }),
    PoolSize: integerSetting(1, 200),
  }),
  Auth: sectionSchema({
    // An empty list arrives as an empty section (arrays are index-keyed sections while merging).
    Tokens: z.preprocess(
      (value) => (isSection(value) && Object.keys(value).length === 0 ? [] : value),
      z.array(tokenSchema, {
        error: "must be a list of tokens (Auth:Tokens:0:Name, Auth:Tokens:0:Token, ...)",
      }),
    ),
  }),
  Logging: sectionSchema({ Level: oneOfSetting(LOG_LEVELS) }),
  IoT: sectionSchema({
    MessageBus: sectionSchema({
      Concurrency: integerSetting(1, 256),
      BatchSize: integerSetting(1, 1000),
      LeaseSeconds: integerSetting(5, 3600),
      PollIntervalMilliseconds: integerSetting(50, 60_000),
      MaxAttempts: integerSetting(1, 100),
    }),
    // Owned by the AWS packages: validated by their registered section parsers.
    Aws: z.record(z.string(), z.unknown(), { error: "must be a section" }),
  }),
});

/** One configured bearer token (`Auth:Tokens:<n>`). */
export type TokenConfig = z.output<typeof tokenSchema>;

type HostOwnedConfig = z.output<typeof hostConfigSchema>;

/**
 * The validated configuration of a host. Keys are spelled as in the configuration sources
 * (`config.Host.Port` ↔ `Host:Port` ↔ `Host__Port`). `sections` holds the value returned by each
 * registered section parser, by path (`"IoT:Aws:Shadow"`).
 */
export interface HostConfig extends HostOwnedConfig {
  readonly sections: ReadonlyMap<string, unknown>;
  /** The JSON file the configuration was read from, if any (for the start-up banner). */
  readonly configFile: string | null;
}
