/**
 * Configuration sections of the bridge (`IoT:Aws:Credentials`, `IoT:Aws:Shadow`, ...): PascalCase
 * keys as in the seed and the Granit docs, validated with zod at start-up, returned camelCased. A
 * bad value stops start-up with an `OptionsValidationError` naming the full key an operator writes
 * (`IoT:Aws:Credentials:RotationCheckIntervalMinutes`) and what is allowed.
 *
 * Values may arrive as strings (environment variables `IoT__Aws__Credentials__...`), so the option
 * builders below accept `"5"` for 5 and `"true"` for true.
 */
import { OptionsValidationError } from "@granit/iot";
import { type ZodType, z } from "zod";

/** `{ RotationCheckIntervalMinutes: number }` → `{ rotationCheckIntervalMinutes: number }`. */
export type CamelCasedOptions<T> = { [K in keyof T as K extends string ? Uncapitalize<K> : K]: T[K] };

/**
 * Validates one configuration section and returns it with camelCase keys. `raw` is the section's
 * object (absent = every default); unknown keys are refused when the schema is strict (as
 * `defineOptionsSection` makes it), so a typo does not silently fall back to a default.
 */
export function parseOptionsSection<T extends Record<string, unknown>>(
  schema: ZodType<T>,
  raw: unknown,
  section: string,
): CamelCasedOptions<T> {
  const input = raw ?? {};
  if (typeof input !== "object" || Array.isArray(input)) {
    throw new OptionsValidationError(section, "must be a section (an object of settings)");
  }
  const result = schema.safeParse(input);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => describeIssue(section, issue));
    const [first, ...others] = problems;
    if (!first) throw new OptionsValidationError(section, "is invalid");
    const also = others.length > 0 ? `; also ${others.map((p) => `${p.key}: ${p.message}`).join("; ")}` : "";
    throw new OptionsValidationError(first.key, `${first.message}${also}`, { cause: result.error });
  }
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(result.data)) {
    out[key.charAt(0).toLowerCase() + key.slice(1)] = value;
  }
  return out as CamelCasedOptions<T>;
}

/** A strict section schema: unknown keys are errors. */
export function defineOptionsSection<Shape extends z.ZodRawShape>(shape: Shape) {
  return z.strictObject(shape);
}

/** An integer setting in `[min, max]`; strings of digits are accepted (environment variables). */
export function integerOption(range: {
  readonly min: number;
  readonly max: number;
  readonly default: number;
}) {
  const allowed = `an integer from ${range.min} to ${range.max} (default ${range.default})`;
  const error = (issue: { input?: unknown }) => `must be ${allowed}; got ${JSON.stringify(issue.input)}`;
  return z
    .preprocess(
      (value) => (typeof value === "string" && /^\s*[+-]?\d+\s*$/.test(value) ? Number(value) : value),
      z.number({ error }).int({ error }).min(range.min, { error }).max(range.max, { error }),
    )
    .default(range.default);
}

/** A boolean setting; `"true"` / `"false"` (any case) are accepted. */
export function booleanOption(defaultValue: boolean) {
  const error = (issue: { input?: unknown }) =>
    `must be true or false (default ${defaultValue}); got ${JSON.stringify(issue.input)}`;
  return z
    .preprocess((value) => {
      if (typeof value !== "string") return value;
      const text = value.trim().toLowerCase();
      return text === "true" ? true : text === "false" ? false : value;
    }, z.boolean({ error }))
    .default(defaultValue);
}

/** A required or defaulted non-blank string setting, optionally matching `pattern`. */
export function stringOption(
  options: { readonly default?: string; readonly pattern?: RegExp; readonly hint?: string } = {},
) {
  const hint = options.hint ?? (options.pattern ? `text matching ${options.pattern}` : "non-blank text");
  const error = (issue: { input?: unknown }) =>
    issue.input === undefined
      ? `is required (${hint})`
      : `must be ${hint}; got ${JSON.stringify(issue.input)}`;
  let schema = z.string({ error }).trim().min(1, { error });
  if (options.pattern) schema = schema.regex(options.pattern, { error });
  return options.default === undefined ? schema : schema.default(options.default);
}

/**
 * An optional string setting: absent, `null` or blank mean "not set" (`null`). `check` may refuse
 * a present value by returning the reason.
 */
export function optionalStringOption(check?: (value: string) => string | undefined) {
  return z
    .preprocess(
      (value) => (value === undefined || (typeof value === "string" && value.trim() === "") ? null : value),
      z
        .string({ error: (issue) => `must be text or empty; got ${JSON.stringify(issue.input)}` })
        .trim()
        .nullable(),
    )
    .superRefine((value, ctx) => {
      const problem = value === null || !check ? undefined : check(value);
      if (problem) ctx.addIssue({ code: "custom", message: problem, input: value });
    });
}

function describeIssue(section: string, issue: z.core.$ZodIssue): { key: string; message: string } {
  if (issue.code === "unrecognized_keys") {
    const keys = issue.keys.map((k) => `${section}:${[...issue.path, k].join(":")}`);
    return {
      key: keys[0] ?? section,
      message: `unknown setting${keys.length > 1 ? `s ${keys.join(", ")}` : ""}; check the spelling`,
    };
  }
  const path = issue.path.map(String).join(":");
  const key = path ? `${section}:${path}` : section;
  if (issue.code === "invalid_key") {
    return { key, message: `is not an allowed name: ${issue.issues.map((i) => i.message).join("; ")}` };
  }
  return { key, message: issue.message };
}
