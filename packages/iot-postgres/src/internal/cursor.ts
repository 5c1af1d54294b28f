import { DomainValidationError } from "@granit/iot";

/**
 * Keyset-pagination cursors: opaque base64url of the last row's sort key. Keyset (not OFFSET)
 * pagination returns every row exactly once even while rows are inserted, and costs one index
 * range scan per page.
 */
export function encodeCursor(key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(key)).toString("base64url");
}

/** Decodes a cursor; a cursor this API did not issue is a 400 on field `cursor`. */
export function decodeCursor(cursor: string | null | undefined): (string | number)[] | null {
  if (!cursor) return null;
  try {
    const key = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (Array.isArray(key) && key.every((k) => typeof k === "string" || typeof k === "number")) return key;
  } catch {
    // fall through to the validation error
  }
  throw DomainValidationError.single(
    "cursor",
    "format",
    "is not a cursor this API returned; start again without one",
  );
}
