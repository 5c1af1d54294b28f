/**
 * Small readers for request members. AWS validates inputs server-side; the emulator mirrors the
 * checks that matter to callers and reports them with the service's validation error.
 */
import { AwsError, invalidRequest } from "../errors.ts";

export type Fail = (message: string) => AwsError;

export function optionalString(input: Record<string, unknown>, key: string, fail: Fail = invalidRequest) {
  const value = input[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw fail(`${key} must be a string`);
  return value;
}

export function requiredString(input: Record<string, unknown>, key: string, fail: Fail = invalidRequest) {
  const value = optionalString(input, key, fail);
  if (value === undefined || value === "") throw fail(`${key} is required`);
  return value;
}

export function optionalNumber(input: Record<string, unknown>, key: string, fail: Fail = invalidRequest) {
  const value = input[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value)) throw fail(`${key} must be a number`);
  return value;
}

export function optionalBoolean(input: Record<string, unknown>, key: string, fail: Fail = invalidRequest) {
  const value = input[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "boolean") throw fail(`${key} must be a boolean`);
  return value;
}

export function optionalObject(input: Record<string, unknown>, key: string, fail: Fail = invalidRequest) {
  const value = input[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "object" || Array.isArray(value)) throw fail(`${key} must be an object`);
  return value as Record<string, unknown>;
}

export function stringMap(value: unknown, key: string, fail: Fail = invalidRequest): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) throw fail(`${key} must be a map of strings`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== "string") throw fail(`${key}.${k} must be a string`);
    out[k] = v;
  }
  return out;
}

export function queryBoolean(query: ReadonlyMap<string, string>, key: string): boolean | undefined {
  const value = query.get(key);
  if (value === undefined) return undefined;
  if (value === "true") return true;
  if (value === "false") return false;
  throw invalidRequest(`${key} must be true or false`);
}

export function queryNumber(query: ReadonlyMap<string, string>, key: string): number | undefined {
  const value = query.get(key);
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n)) throw invalidRequest(`${key} must be an integer`);
  return n;
}

/** Validates a name against AWS's length and pattern constraints. */
export function checkName(
  value: string,
  what: string,
  max: number,
  pattern: RegExp,
  fail: Fail = invalidRequest,
) {
  if (value.length < 1 || value.length > max || !pattern.test(value)) {
    throw fail(`${what} '${value}' must be 1-${max} characters matching ${pattern.source}`);
  }
}

export { AwsError };
