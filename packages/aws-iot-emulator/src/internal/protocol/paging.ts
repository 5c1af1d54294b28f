/**
 * Opaque page tokens for list operations. A token encodes the offset of the next item; an invalid
 * token is a validation error, as in AWS.
 */
import { invalidRequest } from "../errors.ts";
import type { Fail } from "./input.ts";

export interface Page<T> {
  readonly items: T[];
  readonly nextToken: string | undefined;
}

export function paginate<T>(
  all: readonly T[],
  token: string | undefined,
  size: number,
  fail: Fail = invalidRequest,
): Page<T> {
  let start = 0;
  if (token !== undefined && token !== "") {
    start = Number(Buffer.from(token, "base64url").toString("utf8"));
    if (!Number.isInteger(start) || start < 0) throw fail("The pagination token is invalid");
  }
  const items = all.slice(start, start + size);
  const next = start + size;
  return {
    items,
    nextToken: next < all.length ? Buffer.from(String(next)).toString("base64url") : undefined,
  };
}

/** Clamps a requested page size to `[1, max]`, with `fallback` when absent. */
export function pageSize(
  requested: number | undefined,
  fallback: number,
  max: number,
  fail: Fail = invalidRequest,
) {
  if (requested === undefined) return fallback;
  if (requested < 1 || requested > max) throw fail(`page size must be between 1 and ${max}`);
  return requested;
}
