/**
 * The seam through which packages bring their own configuration sections. A package exports a
 * parser for its section (`IoT:Aws:Shadow` → `ShadowOptions`); the host (or the bundle) registers
 * it before `loadConfig`, and start-up then fails with that parser's `OptionsValidationError`s
 * exactly like it does for the host's own keys.
 *
 * Values reach a parser as they were configured: typed from the JSON file, strings from env vars
 * and CLI flags (`IoT__Aws__Shadow__PollIntervalSeconds=10` gives `"10"`), so parsers coerce.
 */
import { GranitIoTError, OptionsValidationError } from "@granit/iot";
import { ConfigurationError } from "./configuration-error.ts";

/**
 * Parses one section. `raw` is the section's subtree (an object of keys, `undefined` when absent);
 * `path` is its full path, to build error keys (`${path}:PollIntervalSeconds`). Throw an
 * `OptionsValidationError` (or a `ConfigurationError` holding several) for invalid values.
 */
export type ConfigSectionParser<T = unknown> = (
  raw: Readonly<Record<string, unknown>> | undefined,
  path: string,
) => T;

/** A section registration: the parser, and optional defaults merged under the configured values. */
export interface ConfigSectionRegistration<T = unknown> {
  readonly path: string;
  readonly parse: ConfigSectionParser<T>;
  readonly defaults?: Readonly<Record<string, unknown>>;
}

/** The AWS sections of the seed; pass-through until each package registers its parser. */
export const AWS_SECTION_PATHS = [
  "IoT:Aws:Credentials",
  "IoT:Aws:Provisioning",
  "IoT:Aws:Shadow",
  "IoT:Aws:Jobs",
  "IoT:Aws:FleetProvisioning",
] as const;

const PATH = /^[A-Za-z][A-Za-z0-9]*(:[A-Za-z][A-Za-z0-9]*)*$/;

/** Keeps the raw values; the placeholder for a section whose package has not plugged in yet. */
export const passThroughSection: ConfigSectionParser<Readonly<Record<string, unknown>>> = (raw) => raw ?? {};

export class ConfigSectionRegistry {
  readonly #sections = new Map<string, ConfigSectionRegistration>();

  /** Registers (or replaces) the parser of `path`, e.g. `"IoT:Aws:Shadow"`. Only `IoT:Aws:*` paths for now. */
  register<T>(
    path: string,
    parse: ConfigSectionParser<T>,
    defaults?: Readonly<Record<string, unknown>>,
  ): this {
    if (!PATH.test(path) || !path.toLowerCase().startsWith("iot:aws:")) {
      throw new TypeError(`Config section path '${path}' must look like IoT:Aws:<Name>.`);
    }
    const existing = [...this.#sections.keys()].find((p) => p.toLowerCase() === path.toLowerCase());
    if (existing) this.#sections.delete(existing);
    this.#sections.set(path, defaults ? { path, parse, defaults } : { path, parse });
    return this;
  }

  get registrations(): readonly ConfigSectionRegistration[] {
    return [...this.#sections.values()];
  }

  /** Runs every parser; collects all their errors, prefixing keys that the parser left relative. */
  parseAll(lookup: (path: string) => unknown): {
    values: Map<string, unknown>;
    errors: OptionsValidationError[];
  } {
    const values = new Map<string, unknown>();
    const errors: OptionsValidationError[] = [];
    for (const { path, parse } of this.#sections.values()) {
      const raw = lookup(path);
      try {
        if (raw !== undefined && (typeof raw !== "object" || raw === null || Array.isArray(raw))) {
          throw new OptionsValidationError(path, "must be a section of settings");
        }
        values.set(path, parse(raw as Record<string, unknown> | undefined, path));
      } catch (error) {
        const found = error instanceof ConfigurationError ? error.errors : [error];
        for (const item of found) {
          if (item instanceof OptionsValidationError) {
            errors.push(
              item.key.toLowerCase().startsWith(path.toLowerCase())
                ? item
                : new OptionsValidationError(
                    `${path}:${item.key}`,
                    item.message.replace(`${item.key}: `, ""),
                  ),
            );
          } else if (item instanceof GranitIoTError || item instanceof Error) {
            errors.push(new OptionsValidationError(path, item.message, { cause: item }));
          } else {
            throw item;
          }
        }
      }
    }
    return { values, errors };
  }
}

/** A registry with every AWS section registered as pass-through. */
export function defaultConfigSections(): ConfigSectionRegistry {
  const registry = new ConfigSectionRegistry();
  for (const path of AWS_SECTION_PATHS) registry.register(path, passThroughSection);
  return registry;
}
