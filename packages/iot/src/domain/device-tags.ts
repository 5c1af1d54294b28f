import { DomainValidationError } from "../errors.ts";

/** Free key/value labels on a device: at most 50 tags, keys 1–128 characters, values ≤ 256 characters. */
export type DeviceTags = Readonly<Record<string, string>>;

export const MAX_TAGS = 50;

export function parseDeviceTags(value: unknown, field = "tags"): DeviceTags {
  if (value === null || value === undefined) return {};
  if (typeof value !== "object" || Array.isArray(value)) {
    throw DomainValidationError.single(field, "type", "must be an object of string values");
  }
  const entries = Object.entries(value);
  if (entries.length > MAX_TAGS) {
    throw DomainValidationError.single(field, "maxItems", `must hold at most ${MAX_TAGS} tags`);
  }
  const tags: Record<string, string> = {};
  for (const [key, tagValue] of entries) {
    if (key.length === 0 || key.length > 128) {
      throw DomainValidationError.single(`${field}.${key}`, "keyLength", "tag keys must be 1–128 characters");
    }
    if (typeof tagValue !== "string" || tagValue.length > 256) {
      throw DomainValidationError.single(
        `${field}.${key}`,
        "value",
        "tag values must be strings of at most 256 characters",
      );
    }
    tags[key] = tagValue;
  }
  return Object.freeze(tags);
}
