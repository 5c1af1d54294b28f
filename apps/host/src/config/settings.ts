/**
 * Zod building blocks for configuration values. Values from env vars and CLI flags arrive as
 * strings, values from the JSON file arrive typed; each builder accepts both and coerces, and its
 * error message states the allowed range and the value it got, e.g.
 * `must be between 5 and 600 (got 2)`. `toOptionsErrors` turns zod issues into
 * `OptionsValidationError`s that carry the full `Section:Key` path.
 */
import { OptionsValidationError } from "@granit/iot";
import { type ZodError, type ZodRawShape, z } from "zod";

function show(value: unknown): string {
  if (value === undefined) return "nothing";
  if (typeof value === "string") return value === "" ? '""' : value;
  return JSON.stringify(value);
}

/** An integer in `[min, max]` (inclusive); numeric strings are accepted. */
export function integerSetting(min: number, max: number) {
  return z
    .unknown()
    .optional()
    .transform((value, ctx): number => {
      const n = typeof value === "string" && value.trim() !== "" ? Number(value.trim()) : value;
      if (typeof n !== "number" || !Number.isInteger(n)) {
        ctx.addIssue({
          code: "custom",
          message: `must be an integer between ${min} and ${max} (got ${show(value)})`,
        });
        return z.NEVER;
      }
      if (n < min || n > max) {
        ctx.addIssue({ code: "custom", message: `must be between ${min} and ${max} (got ${show(value)})` });
        return z.NEVER;
      }
      return n;
    });
}

/** `true`/`false` (case-insensitive strings accepted). */
export function booleanSetting() {
  return z
    .unknown()
    .optional()
    .transform((value, ctx): boolean => {
      if (typeof value === "boolean") return value;
      if (typeof value === "string" && /^(true|false)$/i.test(value.trim())) {
        return value.trim().toLowerCase() === "true";
      }
      ctx.addIssue({ code: "custom", message: `must be true or false (got ${show(value)})` });
      return z.NEVER;
    });
}

/** A string of `min`–`max` characters, optionally matching `pattern` (described by `hint`). */
export function textSetting(options: { min?: number; max: number; pattern?: RegExp; hint?: string }) {
  const min = options.min ?? 1;
  return z
    .unknown()
    .optional()
    .transform((value, ctx): string => {
      if (typeof value !== "string" || value.length < min || value.length > options.max) {
        ctx.addIssue({
          code: "custom",
          message: `must be a string of ${min} to ${options.max} characters (got ${show(value)})`,
        });
        return z.NEVER;
      }
      if (options.pattern && !options.pattern.test(value)) {
        ctx.addIssue({
          code: "custom",
          message: `must be ${options.hint ?? options.pattern} (got ${show(value)})`,
        });
        return z.NEVER;
      }
      return value;
    });
}

/** Like `textSetting`, but `null`, a missing value and `""` mean "not set" (`null`). */
export function optionalTextSetting(options: { min?: number; max: number; pattern?: RegExp; hint?: string }) {
  const text = textSetting(options);
  return z
    .unknown()
    .optional()
    .transform((value, ctx): string | null => {
      if (value === null || value === undefined || value === "") return null;
      const result = text.safeParse(value);
      if (result.success) return result.data;
      for (const issue of result.error.issues) ctx.addIssue({ code: "custom", message: issue.message });
      return z.NEVER;
    });
}

/** One of a fixed list of strings (matched case-insensitively, returned in canonical spelling). */
export function oneOfSetting<const T extends string>(values: readonly T[]) {
  return z
    .unknown()
    .optional()
    .transform((value, ctx): T => {
      const match =
        typeof value === "string"
          ? values.find((v) => v.toLowerCase() === value.trim().toLowerCase())
          : undefined;
      if (match === undefined) {
        ctx.addIssue({ code: "custom", message: `must be one of ${values.join(", ")} (got ${show(value)})` });
        return z.NEVER;
      }
      return match;
    });
}

/**
 * A section with a fixed set of keys: an unknown key is an error that lists the known ones, so a
 * typo (`PollIntervalSecond`) stops start-up instead of being silently ignored.
 */
export function sectionSchema<const S extends ZodRawShape>(shape: S) {
  const known = Object.keys(shape).join(", ");
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === "unrecognized_keys"
        ? `is not a known setting (known settings here: ${known})`
        : issue.code === "invalid_type"
          ? `must be a section with the settings ${known} (got ${show(issue.input)})`
          : undefined,
  });
}

/** One `OptionsValidationError` per zod issue (and per unknown key), keyed by the full path. */
export function toOptionsErrors(error: ZodError, basePath: string): OptionsValidationError[] {
  const join = (path: readonly PropertyKey[]) => [basePath, ...path.map(String)].filter(Boolean).join(":");
  return error.issues.flatMap((issue) =>
    issue.code === "unrecognized_keys"
      ? issue.keys.map((key) => new OptionsValidationError(join([...issue.path, key]), issue.message))
      : [new OptionsValidationError(join(issue.path), issue.message)],
  );
}
