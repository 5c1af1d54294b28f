/**
 * `npm start`: loads the configuration, chooses the AWS target, starts a host with the AWS bridge
 * wired (`@granit/bundle-iot-aws` and the AWS route modules) and prints where it listens, the API
 * docs, the operator token (when this start generated it), the database and the AWS target in use.
 *
 * AWS target (`src/aws/aws-target.ts`): with no AWS configured, the in-process emulator starts first
 * and every client points at it — the first line printed says so; with `AWS_REGION` and credentials
 * (or an `AWS_ENDPOINT_URL*` variable) the host talks to that account. `IoT:Aws:Enabled=false` leaves
 * AWS out. `--simulate-devices N` runs N simulated devices against the emulator.
 *
 * SIGINT/SIGTERM shut it down gracefully (HTTP, background services, bus, database, then the
 * emulator last); a second signal exits at once. An invalid configuration prints one line per
 * offending key and exits with code 2 (no stack trace).
 */
import "./telemetry/meter-provider.ts";

import { isAbsolute, join, relative, resolve } from "node:path";
import { readIoTAwsOptions, registerIoTAwsConfigSections } from "@granit/bundle-iot-aws";
import { OptionsValidationError } from "@granit/iot";
import { OPERATOR_SCOPES } from "./auth/scopes.ts";
import { type AwsHostSettings, readAwsHostSettings, registerAwsHostSections } from "./aws/aws-settings.ts";
import { type AwsTarget, selectAwsTarget } from "./aws/aws-target.ts";
import { defaultConfigSections } from "./config/config-sections.ts";
import { ConfigurationError } from "./config/configuration-error.ts";
import type { HostConfig } from "./config/host-config.ts";
import { HelpRequested, loadConfig, USAGE } from "./config/load-config.ts";

/** The device policy a host on the emulator creates and uses (`IoT:Aws:Provisioning:DevicePolicyName`). */
const EMBEDDED_DEVICE_POLICY = "granit-device-policy";
/** The shortest poll intervals the packages allow, so a simulated fleet moves within seconds. */
const SIMULATION_SHADOW_POLL_SECONDS = 5;
const SIMULATION_JOB_STATUS_POLL_SECONDS = 15;
/** Where `npx granit-iot` looks for the token when run from the working directory. */
const OPERATOR_TOKEN_HINT = ".data/operator-token";

const AWS_USAGE = `
AWS (apps/host/README.md, "AWS target"): with no AWS configured the host starts the in-process
emulator (IoT:Aws:Emulator:Port, 4566) and uses no AWS account; AWS_REGION with credentials, or an
AWS_ENDPOINT_URL* variable, selects that account instead (IoT:Aws:Target=Auto|Emulator|Account;
IoT:Aws:Enabled=false leaves AWS out).
  --simulate-devices N   run N simulated devices against the emulator (IoT:Aws:Simulation:Devices)`;

/** A path as the operator would type it: relative below the working directory, absolute elsewhere. */
function shown(path: string): string {
  const rel = relative(process.cwd(), resolve(path));
  return rel === "" ? "." : rel.startsWith("..") || isAbsolute(rel) ? resolve(path) : rel;
}

function describeDatabase(config: HostConfig): string {
  if (!config.Database.Url) return `PGlite (embedded) in ${join(shown(config.Host.DataDir), "pglite")}`;
  const url = new URL(config.Database.Url);
  return `PostgreSQL ${url.hostname}:${url.port || 5432}${url.pathname} (schema ${config.Database.Schema})`;
}

/** `--simulate-devices N` / `--simulate-devices=N` → `--IoT:Aws:Simulation:Devices=N`. */
function expandShortcuts(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    const match = /^--simulate-devices(?:=(.*))?$/.exec(arg);
    if (!match) {
      out.push(arg);
      continue;
    }
    let value = match[1];
    if (value === undefined) {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith("--")) {
        throw new ConfigurationError([
          new OptionsValidationError(
            "--simulate-devices",
            "needs a number of devices (--simulate-devices 20)",
          ),
        ]);
      }
      value = next;
      i++;
    }
    out.push(`--IoT:Aws:Simulation:Devices=${value}`);
  }
  return out;
}

function sections(options: { readonly embedded: boolean; readonly simulate: boolean }) {
  const defaults: Parameters<typeof registerIoTAwsConfigSections>[1] = {
    ...(options.embedded ? { "IoT:Aws:Provisioning": { DevicePolicyName: EMBEDDED_DEVICE_POLICY } } : {}),
    ...(options.simulate
      ? {
          "IoT:Aws:Shadow": { PollIntervalSeconds: SIMULATION_SHADOW_POLL_SECONDS },
          "IoT:Aws:Jobs": { StatusPollIntervalSeconds: SIMULATION_JOB_STATUS_POLL_SECONDS },
        }
      : {}),
  };
  return registerAwsHostSections(registerIoTAwsConfigSections(defaultConfigSections(), defaults));
}

function fail(lines: readonly string[]): never {
  process.stderr.write("granit-iot: invalid configuration, not starting:\n");
  for (const line of lines) process.stderr.write(`  ${line}\n`);
  process.exit(2);
}

let config: HostConfig;
let settings: AwsHostSettings;
let target: AwsTarget;
try {
  const argv = expandShortcuts(process.argv.slice(2));
  // First pass with the development defaults: learn the target and the simulation switch.
  config = loadConfig({ argv, sections: sections({ embedded: true, simulate: false }) });
  settings = readAwsHostSettings(config);
  const rotatingCredentials =
    readIoTAwsOptions(config.sections).credentials.fleetCredentialSecretArn !== null;
  target = selectAwsTarget(settings, process.env, { rotatingCredentials });
  const simulate = settings.simulation.devices > 0;
  if (simulate && target.kind !== "emulator") {
    fail([
      target.kind === "disabled"
        ? "IoT:Aws:Simulation:Devices (--simulate-devices): needs the AWS bridge, but IoT:Aws:Enabled is false"
        : `IoT:Aws:Simulation:Devices (--simulate-devices): simulated devices run only against the in-process emulator, and this host talks to an AWS account (${target.reason}); unset it, or set IoT:Aws:Target=Emulator`,
    ]);
  }
  if (target.kind === "account" && target.region === null) {
    fail(["IoT:Aws:Region: is required to talk to an AWS account (or set AWS_REGION)"]);
  }
  // Second pass: no development default for an AWS account (DevicePolicyName is required there),
  // and the shortest poll intervals for a simulated fleet (configured values still win).
  if (target.kind === "account" || simulate) {
    config = loadConfig({ argv, sections: sections({ embedded: target.kind !== "account", simulate }) });
  }
} catch (error) {
  if (error instanceof HelpRequested) {
    process.stdout.write(`${USAGE}\n${AWS_USAGE}\n`);
    process.exit(0);
  }
  if (error instanceof ConfigurationError) fail(error.errors.map((item) => item.message));
  throw error;
}

// Loaded only once the configuration is valid, so a configuration error answers at once.
const { createHost } = await import("./host.ts");
const { wireAwsBridge } = await import("./aws/aws-bridge.ts");
const { startEmbeddedEmulator } = await import("./aws/embedded-emulator.ts");
const { loadOrCreateFleetMasterKey } = await import("./aws/fleet-master-key.ts");
const { FleetProvisioningScopes } = await import("./aws/fleet-provisioning-routes.ts");
const { SimulatedFleet, simulatedSerial } = await import("./simulation/simulated-fleet.ts");

const dataDir = resolve(config.Host.DataDir);
let emulator: Awaited<ReturnType<typeof startEmbeddedEmulator>> | null = null;
let awsLine: string;
if (target.kind === "emulator") {
  emulator = await startEmbeddedEmulator({ port: target.port, dataDir }).catch((error: unknown) => {
    process.stderr.write(`granit-iot: cannot start the AWS emulator: ${(error as Error).message}\n`);
    process.exit(1);
  });
  awsLine =
    `in-process emulator at ${emulator.emulator.url} (no AWS account used; state in ${shown(emulator.stateFile)})` +
    (emulator.portTaken ? ` — port ${target.port} was taken` : "");
} else if (target.kind === "account") {
  const endpoint = Object.values(target.endpoints)[0];
  awsLine = endpoint
    ? `account via endpoint ${endpoint}, region ${target.region} (${target.reason})`
    : `account via region ${target.region} (${target.reason})`;
} else {
  awsLine = "disabled (IoT:Aws:Enabled=false): devices only";
}
// The first line the host prints: which AWS it is about to use.
process.stdout.write(`AWS:            ${awsLine}\n`);

const stopEmulator = async () => {
  await emulator?.emulator.stop().catch(() => {});
};

const awsEnabled = target.kind !== "disabled";
const host = await createHost(config, {
  ...(awsEnabled
    ? { operatorScopes: [...OPERATOR_SCOPES, FleetProvisioningScopes.Read, FleetProvisioningScopes.Manage] }
    : {}),
}).catch(async (error: unknown) => {
  process.stderr.write(`granit-iot: cannot open the database: ${(error as Error).message}\n`);
  await stopEmulator();
  process.exit(1);
});

let bundle: Awaited<ReturnType<typeof wireAwsBridge>> | null = null;
let fleetKeyLine: string | null = null;
let simulation: InstanceType<typeof SimulatedFleet> | null = null;
if (awsEnabled) {
  try {
    const options = readIoTAwsOptions(config.sections);
    let fleetProvisioning = options.fleetProvisioning;
    if (emulator && fleetProvisioning.masterKey === null) {
      const key = loadOrCreateFleetMasterKey(dataDir);
      fleetProvisioning = { ...fleetProvisioning, masterKey: key.key };
      fleetKeyLine = `master key ${key.generated ? "generated into" : "in"} ${shown(key.file)}`;
    } else {
      fleetKeyLine = "master key from IoT:Aws:FleetProvisioning:MasterKey";
    }
    bundle = await wireAwsBridge(host, {
      aws: emulator
        ? { ...emulator.emulator.clientConfig(), accountId: emulator.emulator.accountId }
        : target.kind === "account"
          ? {
              region: target.region ?? "",
              endpoints: target.endpoints,
              ...(settings.accountId ? { accountId: settings.accountId } : {}),
            }
          : { region: "" },
      options: { ...options, fleetProvisioning },
      ensureDevicePolicy: emulator !== null,
    });
    if (emulator && settings.simulation.devices > 0) {
      const wired = bundle;
      simulation = new SimulatedFleet({
        count: settings.simulation.devices,
        tickMilliseconds: settings.simulation.tickMilliseconds,
        devices: host.devices,
        deviceStore: host.deviceStore,
        bindings: {
          describeBinding: (deviceId, tenant) => wired.provisioning.describeBinding(deviceId, tenant),
        },
        aws: emulator.emulator.clientConfig(),
        logger: host.logger,
      });
      host.addBackgroundService(simulation);
    }
  } catch (error) {
    await host.stop().catch(() => {});
    bundle?.destroy();
    await stopEmulator();
    if (error instanceof OptionsValidationError) fail([error.message]);
    process.stderr.write(`granit-iot: cannot wire the AWS bridge: ${(error as Error).message}\n`);
    process.exit(1);
  }
}

await host.start().catch(async (error: unknown) => {
  process.stderr.write(`granit-iot: cannot start: ${(error as Error).message}\n`);
  await host.stop().catch(() => {});
  bundle?.destroy();
  await stopEmulator();
  process.exit(1);
});

const lines = [
  `Granit IoT host listening on ${host.url}`,
  `API docs:       ${host.url}/docs`,
  host.operatorToken
    ? host.operatorToken.generated
      ? `Operator token: ${host.operatorToken.token}   (generated; stored in ${shown(host.operatorToken.file)})`
      : `Operator token: stored in ${shown(host.operatorToken.file)}`
    : `Operator tokens: ${host.tokens.size} configured (Auth:Tokens)`,
  `Database:       ${describeDatabase(config)}`,
  `AWS:            ${awsLine}`,
];
if (bundle) {
  lines.push(`Device policy:  ${bundle.devicePolicy.policyName}${emulator ? " (created when absent)" : ""}`);
  if (bundle.fleet) {
    lines.push(
      `Fleet:          ${host.url}/api/iot/fleet-provisioning/verify and /registered (${fleetKeyLine})`,
    );
  }
}
if (simulation) {
  const count = settings.simulation.devices;
  const { shadow, jobs } = bundle?.options ?? { shadow: null, jobs: null };
  lines.push(
    `Simulation:     ${count} devices ${simulatedSerial(1)}…${simulatedSerial(count)} against the emulator; ` +
      `shadow deltas polled every ${shadow?.pollIntervalSeconds} s, job status every ${jobs?.statusPollIntervalSeconds} s ` +
      "(IoT:Aws:Shadow:PollIntervalSeconds, IoT:Aws:Jobs:StatusPollIntervalSeconds)",
  );
}
lines.push(`Try:            curl -H "Authorization: Bearer <token>" ${host.url}/api/iot/devices`);
if (host.operatorToken && shown(host.operatorToken.file) === OPERATOR_TOKEN_HINT) {
  lines.push(`                npx granit-iot devices list   (the CLI reads ${OPERATOR_TOKEN_HINT})`);
}
process.stdout.write(`${lines.join("\n")}\n`);

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) {
      process.stderr.write(`granit-iot: second ${signal}, exiting now\n`);
      process.exit(130);
    }
    stopping = true;
    host
      .stop()
      .then(async () => {
        bundle?.destroy();
        await emulator?.emulator.stop(); // last: it saves its state file
      })
      .then(
        () => process.exit(0),
        (error: unknown) => {
          process.stderr.write(`granit-iot: shutdown failed: ${(error as Error).message}\n`);
          process.exit(1);
        },
      );
  });
}
