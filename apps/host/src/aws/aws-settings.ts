/**
 * The host's own AWS settings, next to the bridge packages' sections under `IoT:Aws`:
 *
 * | key | default | meaning |
 * |---|---|---|
 * | `IoT:Aws:Enabled` | `true` | wire the AWS bridge (`false`: devices only, no AWS at all) |
 * | `IoT:Aws:Target` | `Auto` | `Auto`, `Emulator` (always the in-process emulator) or `Account` (always AWS, e.g. an instance role) |
 * | `IoT:Aws:Region` | `AWS_REGION` | the account's region |
 * | `IoT:Aws:AccountId` | read with STS | the account id (device policy ARNs) |
 * | `IoT:Aws:Emulator:Port` | `4566` | the in-process emulator's port (a free one when taken; 0 = any) |
 * | `IoT:Aws:Simulation:Devices` | `0` | simulated devices against the emulator (`--simulate-devices N`) |
 * | `IoT:Aws:Simulation:TickMilliseconds` | `2000` | how often each simulated device looks for jobs |
 *
 * `IoT:Aws` holds nothing else: a key that is neither one of these nor a registered section stops
 * start-up (a typo never silently falls back to a default).
 */
import { OptionsValidationError } from "@granit/iot";
import { defineOptionsSection, integerOption, parseOptionsSection } from "@granit/iot-aws";
import type { ConfigSectionRegistry } from "../config/config-sections.ts";
import { ConfigurationError } from "../config/configuration-error.ts";
import type { HostConfig } from "../config/host-config.ts";

export const AWS_EMULATOR_SECTION = "IoT:Aws:Emulator";
export const AWS_SIMULATION_SECTION = "IoT:Aws:Simulation";

/** The emulator's default port (LocalStack's, which AWS tooling knows). */
export const DEFAULT_EMULATOR_PORT = 4566;
/** Most simulated devices one host runs. */
export const MAX_SIMULATED_DEVICES = 1000;

const emulatorSchema = defineOptionsSection({
  Port: integerOption({ min: 0, max: 65_535, default: DEFAULT_EMULATOR_PORT }),
});
const simulationSchema = defineOptionsSection({
  Devices: integerOption({ min: 0, max: MAX_SIMULATED_DEVICES, default: 0 }),
  TickMilliseconds: integerOption({ min: 200, max: 60_000, default: 2000 }),
});

export const AWS_TARGETS = ["Auto", "Emulator", "Account"] as const;
export type AwsTargetSetting = (typeof AWS_TARGETS)[number];

/** The host's AWS settings (see the module comment). */
export interface AwsHostSettings {
  readonly enabled: boolean;
  readonly target: AwsTargetSetting;
  readonly region: string | null;
  readonly accountId: string | null;
  readonly emulator: { readonly port: number };
  readonly simulation: { readonly devices: number; readonly tickMilliseconds: number };
}

const SCALARS = ["Enabled", "Target", "Region", "AccountId"] as const;

/** Registers `IoT:Aws:Emulator` and `IoT:Aws:Simulation` (defaults: `simulationDefaults`). */
export function registerAwsHostSections<R extends ConfigSectionRegistry>(registry: R): R {
  registry.register(AWS_EMULATOR_SECTION, (raw) =>
    parseOptionsSection(emulatorSchema, raw, AWS_EMULATOR_SECTION),
  );
  registry.register(AWS_SIMULATION_SECTION, (raw) =>
    parseOptionsSection(simulationSchema, raw, AWS_SIMULATION_SECTION),
  );
  return registry;
}

function sectionValue<T>(config: HostConfig, path: string, parse: (raw: unknown) => T): T {
  for (const [key, value] of config.sections) if (key.toLowerCase() === path.toLowerCase()) return value as T;
  return parse(undefined);
}

/**
 * Reads the settings above from a loaded configuration; throws `ConfigurationError` with one line per
 * bad key, including keys under `IoT:Aws` that nothing reads.
 */
export function readAwsHostSettings(config: HostConfig): AwsHostSettings {
  const raw = config.IoT.Aws as Readonly<Record<string, unknown>>;
  const errors: OptionsValidationError[] = [];
  const sections = [...config.sections.keys()]
    .filter((path) => path.toLowerCase().startsWith("iot:aws:") && path.split(":").length === 3)
    .map((path) => path.split(":")[2] as string);
  const value = (name: string): unknown => {
    const key = Object.keys(raw).find((k) => k.toLowerCase() === name.toLowerCase());
    return key === undefined ? undefined : raw[key];
  };
  for (const key of Object.keys(raw)) {
    const lower = key.toLowerCase();
    if (SCALARS.some((s) => s.toLowerCase() === lower) || sections.some((s) => s.toLowerCase() === lower))
      continue;
    errors.push(
      new OptionsValidationError(
        `IoT:Aws:${key}`,
        `is not a known setting (known here: ${[...SCALARS, ...sections].join(", ")})`,
      ),
    );
  }

  let enabled = true;
  const enabledRaw = value("Enabled");
  if (enabledRaw !== undefined && enabledRaw !== null && enabledRaw !== "") {
    const text = String(enabledRaw).trim().toLowerCase();
    if (text === "true" || text === "false") enabled = text === "true";
    else
      errors.push(
        new OptionsValidationError("IoT:Aws:Enabled", `must be true or false (got ${String(enabledRaw)})`),
      );
  }
  let target: AwsTargetSetting = "Auto";
  const targetRaw = value("Target");
  if (targetRaw !== undefined && targetRaw !== null && targetRaw !== "") {
    const match = AWS_TARGETS.find((t) => t.toLowerCase() === String(targetRaw).trim().toLowerCase());
    if (match) target = match;
    else {
      errors.push(
        new OptionsValidationError(
          "IoT:Aws:Target",
          `must be one of ${AWS_TARGETS.join(", ")} (got ${String(targetRaw)})`,
        ),
      );
    }
  }
  const text = (name: string, pattern: RegExp, hint: string): string | null => {
    const v = value(name);
    if (v === undefined || v === null || v === "") return null;
    if (typeof v === "string" && pattern.test(v.trim())) return v.trim();
    errors.push(new OptionsValidationError(`IoT:Aws:${name}`, `must be ${hint} (got ${String(v)})`));
    return null;
  };
  const region = text("Region", /^[a-z]{2}(-[a-z]+)+-\d+$/, "an AWS region such as eu-west-1");
  const accountId = text("AccountId", /^\d{12}$/, "a 12-digit AWS account id");
  if (errors.length > 0) throw new ConfigurationError(errors);

  const emulator = sectionValue(config, AWS_EMULATOR_SECTION, (r) =>
    parseOptionsSection(emulatorSchema, r, AWS_EMULATOR_SECTION),
  );
  const simulation = sectionValue(config, AWS_SIMULATION_SECTION, (r) =>
    parseOptionsSection(simulationSchema, r, AWS_SIMULATION_SECTION),
  );
  return {
    enabled,
    target,
    region,
    accountId,
    emulator: { port: emulator.port },
    simulation: { devices: simulation.devices, tickMilliseconds: simulation.tickMilliseconds },
  };
}
