import { z } from "zod";
import {
  defineOptionsSection,
  integerOption,
  parseOptionsSection,
} from "../options/parse-options-section.ts";
import type { RateLimit } from "./aws-rate-limits.ts";

/** The configuration section of the AWS call discipline. */
export const AWS_CALLS_SECTION = "IoT:Aws:Calls";

const rate = z.preprocess(
  (value) => (typeof value === "string" && value.trim() !== "" ? Number(value) : value),
  z
    .number({
      error: (issue) =>
        `must be a rate in requests per second (0 < rate ≤ 100000); got ${JSON.stringify(issue.input)}`,
    })
    .positive({ error: "must be a rate in requests per second (0 < rate ≤ 100000)" })
    .max(100_000, { error: "must be a rate in requests per second (0 < rate ≤ 100000)" }),
);

const rateLimit = z.union([rate, z.strictObject({ TokensPerSecond: rate, Burst: rate.optional() })]);

/**
 * Schema of `IoT:Aws:Calls`. `RateLimits` nests service then operation, so each rate is one
 * configuration key (`IoT:Aws:Calls:RateLimits:iot:CreateThing = 20`, env
 * `IoT__Aws__Calls__RateLimits__iot__CreateThing=20`); a value is a rate or `{TokensPerSecond, Burst}`.
 */
export const awsCallOptionsSchema = defineOptionsSection({
  MaxAttempts: integerOption({ min: 1, max: 20, default: 8 }),
  BaseDelayMilliseconds: integerOption({ min: 10, max: 10_000, default: 200 }),
  MaxDelayMilliseconds: integerOption({ min: 100, max: 120_000, default: 20_000 }),
  MaxElapsedSeconds: integerOption({ min: 1, max: 900, default: 120 }),
  DefaultTokensPerSecond: integerOption({ min: 1, max: 100_000, default: 10 }),
  RateLimits: z
    .record(
      z.string().regex(/^[a-z][a-z0-9-]*$/, {
        error: "must be a SigV4 service name such as iot, iotdata, secretsmanager",
      }),
      z.record(
        z
          .string()
          .regex(/^[A-Z][A-Za-z0-9]*$/, { error: "must be an AWS operation name such as CreateThing" }),
        rateLimit,
      ),
    )
    .default({})
    .transform((services) => {
      const flat: Record<string, RateLimit> = {};
      for (const [service, operations] of Object.entries(services)) {
        for (const [operation, limit] of Object.entries(operations)) {
          flat[`${service}:${operation}`] =
            typeof limit === "number"
              ? { tokensPerSecond: limit }
              : { tokensPerSecond: limit.TokensPerSecond, burst: limit.Burst };
        }
      }
      return flat;
    }),
});

/** Parsed `IoT:Aws:Calls`: how `AwsCallPolicy` paces and retries AWS calls. */
export interface AwsCallOptions {
  /** Attempts per call, the first included, 1–20. @default 8 */
  readonly maxAttempts: number;
  /** First retry delay; doubles per attempt (equal jitter), 10–10000. @default 200 */
  readonly baseDelayMilliseconds: number;
  /** Cap of one retry delay, 100–120000. @default 20000 */
  readonly maxDelayMilliseconds: number;
  /** No retry starts after this long since the first attempt, 1–900. @default 120 */
  readonly maxElapsedSeconds: number;
  /** Rate of operations missing from `AWS_DEFAULT_RATE_LIMITS` and `rateLimits`, 1–100000. @default 10 */
  readonly defaultTokensPerSecond: number;
  /** Overrides of `AWS_DEFAULT_RATE_LIMITS`, keyed `service:Operation`. @default {} */
  readonly rateLimits: Readonly<Record<string, RateLimit>>;
}

/** Validates `IoT:Aws:Calls`; throws `OptionsValidationError` naming the key and its allowed range. */
export function parseAwsCallOptions(raw: unknown): AwsCallOptions {
  return parseOptionsSection(awsCallOptionsSchema, raw, AWS_CALLS_SECTION);
}

/** Every default of `IoT:Aws:Calls`. */
export function defaultAwsCallOptions(): AwsCallOptions {
  return parseAwsCallOptions({});
}
