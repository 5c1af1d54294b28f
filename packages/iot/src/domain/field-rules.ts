import { DomainValidationError } from "../errors.ts";

/** Shared guard for the string value objects: present, a string, trimmed length within bounds. */
export function requireText(value: unknown, field: string, maxLength: number): string {
  if (typeof value !== "string" || value.trim().length === 0) {
    throw DomainValidationError.single(field, "required", "must be a non-empty string");
  }
  if (value.length > maxLength) {
    throw DomainValidationError.single(field, "maxLength", `must be at most ${maxLength} characters`);
  }
  return value;
}
