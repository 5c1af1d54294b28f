/**
 * Checks of command-line values, made before any request: a malformed value is a `UsageError`
 * (exit code 2) that names the flag or argument and what it expects.
 */
import { isUuid } from "@granit/iot";
import { UsageError } from "./cli-errors.ts";

/** An integer flag in `[min, max]`; `fallback` when absent. */
export function integerArgument(
  value: string | undefined,
  name: string,
  range: { readonly min: number; readonly max: number },
  fallback: number,
): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < range.min || n > range.max) {
    throw new UsageError(`${name} must be an integer from ${range.min} to ${range.max} (got '${value}')`);
  }
  return n;
}

/** A UUID argument (device or command id). */
export function uuidArgument(value: string, name: string): string {
  if (!isUuid(value)) throw new UsageError(`${name} must be a UUID (got '${value}')`);
  return value;
}

/** One of `allowed`. */
export function choiceArgument<T extends string>(value: string, name: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new UsageError(`${name} must be one of ${allowed.join(", ")} (got '${value}')`);
  }
  return value as T;
}

/** `k=v` pairs of a repeatable flag into a record of strings (`--tag site=lyon`). */
export function keyValueArguments(values: readonly string[], name: string): Record<string, string> {
  const record: Record<string, string> = {};
  for (const item of values) {
    const at = item.indexOf("=");
    if (at <= 0) throw new UsageError(`${name} takes key=value (got '${item}')`);
    const key = item.slice(0, at);
    if (Object.hasOwn(record, key)) throw new UsageError(`${name} ${key} is given twice`);
    record[key] = item.slice(at + 1);
  }
  return record;
}

/**
 * `k=v` pairs into a JSON object, each value read as JSON when it is JSON (`3`, `true`, `null`,
 * `{"a":1}`) and as a string otherwise; dotted keys nest (`led.color=red` → `{led:{color:"red"}}`).
 */
export function jsonAssignments(values: readonly string[], name: string): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const item of values) {
    const at = item.indexOf("=");
    if (at <= 0) throw new UsageError(`${name} takes key=value (got '${item}')`);
    const path = item.slice(0, at).split(".");
    if (path.some((part) => part === "")) throw new UsageError(`${name} has an empty key part in '${item}'`);
    let node = root;
    for (const part of path.slice(0, -1)) {
      const next = node[part];
      if (next === undefined) node[part] = {};
      else if (typeof next !== "object" || next === null || Array.isArray(next)) {
        throw new UsageError(`${name} sets '${part}' both as a value and as an object`);
      }
      node = node[part] as Record<string, unknown>;
    }
    const leaf = path.at(-1) as string;
    if (Object.hasOwn(node, leaf)) throw new UsageError(`${name} ${path.join(".")} is given twice`);
    node[leaf] = jsonOrString(item.slice(at + 1));
  }
  return root;
}

function jsonOrString(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** A JSON object argument (`'{"fan":3}'`). */
export function jsonObjectArgument(text: string, name: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${name} is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    const kind = value === null ? "null" : Array.isArray(value) ? "an array" : typeof value;
    throw new UsageError(`${name} must be a JSON object (got ${kind})`);
  }
  return value as Record<string, unknown>;
}
