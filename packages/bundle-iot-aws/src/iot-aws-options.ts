/**
 * The configuration sections of the AWS bridge (`IoT:Aws:*`), one per package, each validated by
 * the package's own parser: `registerIoTAwsConfigSections(registry)` plugs them into a host's section
 * registry (start-up then fails on a bad value, naming the key and its range), and
 * `readIoTAwsOptions(sections)` gives the bundle the parsed options back.
 *
 * Keys are matched case-insensitively before the package's strict parser runs, so
 * `IOT__AWS__SHADOW__POLLINTERVALSECONDS=10` sets `PollIntervalSeconds` and a typo is still refused.
 */
import {
  AWS_CALLS_SECTION,
  AWS_IOT_CREDENTIALS_SECTION,
  type AwsCallOptions,
  type AwsIoTCredentialOptions,
  awsCallOptionsSchema,
  awsIoTCredentialOptionsSchema,
  parseAwsCallOptions,
  parseAwsIoTCredentialOptions,
} from "@granit/iot-aws";
import {
  FLEET_PROVISIONING_SECTION,
  type FleetProvisioningOptions,
  fleetProvisioningOptionsSchema,
  parseFleetProvisioningOptions,
} from "@granit/iot-aws-fleet-provisioning";
import {
  AWS_JOBS_SECTION,
  type AwsJobsOptions,
  awsJobsOptionsSchema,
  parseAwsJobsOptions,
} from "@granit/iot-aws-jobs";
import {
  AWS_PROVISIONING_SECTION,
  type AwsProvisioningOptions,
  awsProvisioningOptionsSchema,
  parseAwsProvisioningOptions,
} from "@granit/iot-aws-provisioning";
import {
  AWS_SHADOW_SECTION,
  type AwsShadowOptions,
  awsShadowOptionsSchema,
  parseAwsShadowOptions,
} from "@granit/iot-aws-shadow";

/** The parsed options of every bridge package, by package. */
export interface IoTAwsOptions {
  /** `IoT:Aws:Credentials` (`@granit/iot-aws`). */
  readonly credentials: AwsIoTCredentialOptions;
  /** `IoT:Aws:Calls` (`@granit/iot-aws`): rate limits and retries of every AWS call. */
  readonly calls: AwsCallOptions;
  /** `IoT:Aws:Provisioning` (`@granit/iot-aws-provisioning`); `DevicePolicyName` is required. */
  readonly provisioning: AwsProvisioningOptions;
  /** `IoT:Aws:Shadow` (`@granit/iot-aws-shadow`). */
  readonly shadow: AwsShadowOptions;
  /** `IoT:Aws:Jobs` (`@granit/iot-aws-jobs`). */
  readonly jobs: AwsJobsOptions;
  /** `IoT:Aws:FleetProvisioning` (`@granit/iot-aws-fleet-provisioning`); `MasterKey` is required to serve it. */
  readonly fleetProvisioning: FleetProvisioningOptions;
}

interface SectionDefinition<K extends keyof IoTAwsOptions> {
  readonly key: K;
  readonly path: string;
  readonly parse: (raw: unknown) => IoTAwsOptions[K];
  readonly settings: readonly string[];
}

function section<K extends keyof IoTAwsOptions>(
  key: K,
  path: string,
  parse: (raw: unknown) => IoTAwsOptions[K],
  schema: { readonly shape: Readonly<Record<string, unknown>> },
): SectionDefinition<K> {
  return { key, path, parse, settings: Object.keys(schema.shape) };
}

/** Every `IoT:Aws:*` section of the bridge packages, in wiring order. */
export const IOT_AWS_SECTIONS = [
  section(
    "credentials",
    AWS_IOT_CREDENTIALS_SECTION,
    parseAwsIoTCredentialOptions,
    awsIoTCredentialOptionsSchema,
  ),
  section("calls", AWS_CALLS_SECTION, parseAwsCallOptions, awsCallOptionsSchema),
  section(
    "provisioning",
    AWS_PROVISIONING_SECTION,
    parseAwsProvisioningOptions,
    awsProvisioningOptionsSchema,
  ),
  section("shadow", AWS_SHADOW_SECTION, parseAwsShadowOptions, awsShadowOptionsSchema),
  section("jobs", AWS_JOBS_SECTION, parseAwsJobsOptions, awsJobsOptionsSchema),
  section(
    "fleetProvisioning",
    FLEET_PROVISIONING_SECTION,
    parseFleetProvisioningOptions,
    fleetProvisioningOptionsSchema,
  ),
] as const;

/** The section paths (`"IoT:Aws:Shadow"`, ...). */
export type IoTAwsSectionPath =
  | typeof AWS_IOT_CREDENTIALS_SECTION
  | typeof AWS_CALLS_SECTION
  | typeof AWS_PROVISIONING_SECTION
  | typeof AWS_SHADOW_SECTION
  | typeof AWS_JOBS_SECTION
  | typeof FLEET_PROVISIONING_SECTION;

/**
 * What `registerIoTAwsConfigSections` needs: a host's section registry (structurally
 * `ConfigSectionRegistry` of `@granit/iot-host`). `defaults` are merged under the configured values.
 */
export interface ConfigSectionRegistrar {
  register(
    path: string,
    parse: (raw: Readonly<Record<string, unknown>> | undefined, path: string) => unknown,
    defaults?: Readonly<Record<string, unknown>>,
  ): unknown;
}

/** Values parsed by the registered parsers (so `readIoTAwsOptions` never parses twice). */
const parsed = new WeakSet<object>();

/** `raw` with its top-level keys spelled as the schema spells them (case-insensitive match). */
function canonicalKeys(raw: unknown, settings: readonly string[]): unknown {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return raw;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    out[settings.find((s) => s.toLowerCase() === key.toLowerCase()) ?? key] = value;
  }
  return out;
}

function parseSection<K extends keyof IoTAwsOptions>(
  definition: SectionDefinition<K>,
  raw: unknown,
): IoTAwsOptions[K] {
  const value = definition.parse(canonicalKeys(raw, definition.settings));
  if (typeof value === "object" && value !== null) parsed.add(value);
  return value;
}

/**
 * Registers the parser of every `IoT:Aws:*` section of the bridge on a host's section registry
 * (before the configuration is loaded). `defaults` per section are merged under what is configured,
 * e.g. `{ "IoT:Aws:Provisioning": { DevicePolicyName: "granit-device-policy" } }` for a development host.
 */
export function registerIoTAwsConfigSections<R extends ConfigSectionRegistrar>(
  registry: R,
  defaults: Readonly<Partial<Record<IoTAwsSectionPath, Readonly<Record<string, unknown>>>>> = {},
): R {
  for (const definition of IOT_AWS_SECTIONS) {
    const parse = (raw: Readonly<Record<string, unknown>> | undefined) => parseSection(definition, raw);
    const sectionDefaults = defaults[definition.path as IoTAwsSectionPath];
    if (sectionDefaults) registry.register(definition.path, parse, sectionDefaults);
    else registry.register(definition.path, parse);
  }
  return registry;
}

/**
 * The options of every package: `explicit` ones first, else the host's configuration sections
 * (`config.sections`, by path; parsed by the registered parsers, or parsed here when a section was
 * registered as pass-through), else every default. Throws the package parser's
 * `OptionsValidationError` for a bad or missing value (e.g. `IoT:Aws:Provisioning:DevicePolicyName`).
 */
export function readIoTAwsOptions(
  sections: ReadonlyMap<string, unknown> | undefined,
  explicit: Partial<IoTAwsOptions> = {},
): IoTAwsOptions {
  const lookup = (path: string): unknown => {
    if (!sections) return undefined;
    for (const [key, value] of sections) if (key.toLowerCase() === path.toLowerCase()) return value;
    return undefined;
  };
  const read = <K extends keyof IoTAwsOptions>(definition: SectionDefinition<K>): IoTAwsOptions[K] => {
    const given = explicit[definition.key];
    if (given !== undefined) return given as IoTAwsOptions[K];
    const value = lookup(definition.path);
    if (typeof value === "object" && value !== null && parsed.has(value)) return value as IoTAwsOptions[K];
    return parseSection(definition, value);
  };
  const [credentials, calls, provisioning, shadow, jobs, fleetProvisioning] = IOT_AWS_SECTIONS;
  return {
    credentials: read(credentials),
    calls: read(calls),
    provisioning: read(provisioning),
    shadow: read(shadow),
    jobs: read(jobs),
    fleetProvisioning: read(fleetProvisioning),
  };
}
