/**
 * The `state.delta` of a shadow: "iterating through each field in the desired state and comparing it
 * to the reported state". Fields only in desired are included, fields only in reported are not; for
 * nested objects only the differing leaf paths are included; "Arrays are treated like values", so a
 * differing array is copied whole.
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/device-shadow-document.html#delta-state
 */

export type JsonObject = Record<string, unknown>;

export function isPlainObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  }
  if (isPlainObject(a)) {
    if (!isPlainObject(b)) return false;
    const keys = Object.keys(a);
    return (
      keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]))
    );
  }
  return false;
}

/** The delta between desired and reported, or undefined when they agree. */
export function computeDelta(
  desired: JsonObject | undefined,
  reported: JsonObject | undefined,
): JsonObject | undefined {
  if (!desired) return undefined;
  let delta: JsonObject | undefined;
  for (const [key, want] of Object.entries(desired)) {
    const have = reported?.[key];
    let diff: unknown;
    if (isPlainObject(want) && isPlainObject(have)) diff = computeDelta(want, have);
    else if (!deepEqual(want, have)) diff = structuredClone(want);
    if (diff !== undefined) {
      delta ??= {};
      delta[key] = diff;
    }
  }
  return delta;
}
