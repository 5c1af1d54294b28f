import type { OptionsValidationError } from "@granit/iot";

/**
 * The configuration could not be loaded: an unreadable file, an unknown flag, or one or more
 * values out of range. `errors` holds one `OptionsValidationError` per offending key (full
 * `Section:Key` path and the allowed range), so start-up can print every problem at once.
 */
export class ConfigurationError extends Error {
  override readonly name = "ConfigurationError";
  readonly errors: readonly OptionsValidationError[];

  constructor(errors: readonly OptionsValidationError[], options?: ErrorOptions) {
    super(
      errors.length === 1
        ? `Invalid configuration: ${errors[0]?.message}`
        : `Invalid configuration (${errors.length} problems):\n${errors.map((e) => `  ${e.message}`).join("\n")}`,
      options,
    );
    this.errors = errors;
  }
}
