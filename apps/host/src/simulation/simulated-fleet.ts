/**
 * `--simulate-devices N`: a fleet of N simulated devices against the in-process emulator, so a
 * newcomer sees the whole loop move. A host background service that, without holding up start-up:
 *
 * 1. creates the host devices `SIM-0001` … `SIM-000N` through the device service when absent
 *    (a restart reuses them; decommissioned ones stay decommissioned);
 * 2. waits until the provisioning saga made each binding Active, then activates the device (so the
 *    shadow bridge pushes `reported.status`);
 * 3. runs one loop per device, as a real device would over the AWS data planes: it reports
 *    `{firmware, connection, simulated}` in its classic shadow, takes its pending jobs through the IoT
 *    Jobs data plane (`SimulatedJobsDevice`) and, for `shadow.applyDesiredState`, writes the desired
 *    values into `reported` (so the delta disappears), answers `SUCCEEDED`, and — standing in for
 *    the device's firmware report reaching the core — records a new firmware on the device. It sends
 *    a heartbeat now and then, and stops when its device is decommissioned.
 *
 * Only against the emulator: `main.ts` refuses `--simulate-devices` when the host talks to an AWS
 * account.
 */
import { IoTDataPlaneClient, UpdateThingShadowCommand } from "@aws-sdk/client-iot-data-plane";
import { IoTJobsDataPlaneClient } from "@aws-sdk/client-iot-jobs-data-plane";
import {
  type Device,
  DeviceStatus,
  type DeviceStore,
  DuplicateKeyError,
  type Logger,
  type TenantContext,
} from "@granit/iot";
import { APPLY_DESIRED_STATE_OPERATION } from "@granit/iot-aws-jobs";
import {
  type SimulatedJob,
  type SimulatedJobDecision,
  SimulatedJobsDevice,
} from "@granit/iot-aws-jobs/testing";
import type { DeviceService } from "../devices/device-service.ts";
import type { BackgroundService } from "../host.ts";

/** The simulator's identity in audit columns and timelines. */
export const SIMULATOR: TenantContext = { tenantId: null, actor: "simulator" };
export const SIMULATED_MODEL = "SIM-100";
export const SIMULATED_FIRMWARE = "1.0.0";

/** `SIM-0001` for 1. */
export function simulatedSerial(index: number): string {
  return `SIM-${String(index).padStart(4, "0")}`;
}

/** The binding as the simulator needs it (`AwsProvisioning.describeBinding`). */
export interface SimulatedBindingView {
  readonly status: string;
  readonly thingName: string;
  readonly failureReason: string | null;
}

export interface SimulatedFleetOptions {
  readonly count: number;
  /** Pause between two job polls of one device (jittered ±25 %). */
  readonly tickMilliseconds: number;
  readonly devices: DeviceService;
  readonly deviceStore: DeviceStore;
  readonly bindings: {
    describeBinding(deviceId: string, tenant: null): Promise<SimulatedBindingView | null>;
  };
  /** Where the devices' AWS data planes are (the emulator's `clientConfig()`). */
  readonly aws: {
    readonly endpoint: string;
    readonly region: string;
    readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  };
  readonly logger: Logger;
}

/** What the fleet did so far (for logs and tests). */
export interface SimulatedFleetStatus {
  readonly devices: number;
  readonly running: number;
  readonly jobsSucceeded: number;
  readonly shadowReports: number;
}

const HEARTBEAT_EVERY_TICKS = 10;
const WAIT_FOR_BINDINGS_MS = 1000;

export class SimulatedFleet implements BackgroundService {
  readonly name = "granit.iot.host.simulated-fleet";
  readonly #options: SimulatedFleetOptions;
  readonly #logger: Logger;
  readonly #abort = new AbortController();
  readonly #loops: Promise<void>[] = [];
  #run: Promise<void> | null = null;
  #running = 0;
  #jobsSucceeded = 0;
  #shadowReports = 0;
  #data: IoTDataPlaneClient | null = null;
  #jobs: IoTJobsDataPlaneClient | null = null;

  constructor(options: SimulatedFleetOptions) {
    this.#options = options;
    this.#logger = options.logger.child({ component: "simulated-fleet" });
  }

  status(): SimulatedFleetStatus {
    return {
      devices: this.#options.count,
      running: this.#running,
      jobsSucceeded: this.#jobsSucceeded,
      shadowReports: this.#shadowReports,
    };
  }

  start(): void {
    const config = { ...this.#options.aws, maxAttempts: 3 };
    this.#data = new IoTDataPlaneClient(config);
    this.#jobs = new IoTJobsDataPlaneClient(config);
    this.#run = this.#setUp().catch((error: unknown) => {
      if (!this.#abort.signal.aborted) {
        this.#logger.error({ err: (error as Error).message }, "the simulated fleet stopped");
      }
    });
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#run;
    await Promise.allSettled(this.#loops);
    this.#data?.destroy();
    this.#jobs?.destroy();
  }

  async #setUp(): Promise<void> {
    const { count, devices, deviceStore } = this.#options;
    const fleet: Device[] = [];
    for (let index = 1; index <= count; index++) {
      const serialNumber = simulatedSerial(index);
      let device = await deviceStore.findBySerialNumber(null, serialNumber);
      if (!device) {
        try {
          device = await devices.create(SIMULATOR, {
            serialNumber,
            model: SIMULATED_MODEL,
            firmware: SIMULATED_FIRMWARE,
            label: `Simulated device ${index}`,
            tags: { simulated: "true" },
          });
        } catch (error) {
          if (!(error instanceof DuplicateKeyError)) throw error;
          device = await deviceStore.findBySerialNumber(null, serialNumber);
        }
      }
      if (device && device.status !== DeviceStatus.Decommissioned) fleet.push(device);
    }
    this.#logger.info(
      { devices: fleet.length, decommissioned: count - fleet.length },
      "simulated devices created; waiting for their AWS bindings",
    );

    const bindings = await this.#waitForBindings(fleet);
    if (!bindings) return;
    for (const device of fleet) {
      const binding = bindings.get(device.id);
      if (!binding) continue;
      if (device.status === DeviceStatus.Provisioning) {
        await devices.transition(SIMULATOR, device.id, "activate").catch((error: unknown) => {
          this.#logger.warn({ deviceId: device.id, err: (error as Error).message }, "could not activate");
        });
      }
      this.#loops.push(this.#deviceLoop(device, binding.thingName));
    }
    this.#logger.info({ running: this.#loops.length }, "simulated devices running");
  }

  /** Active bindings by device id once every device's binding is Active or Failed; null when stopped. */
  async #waitForBindings(fleet: readonly Device[]): Promise<Map<string, SimulatedBindingView> | null> {
    const active = new Map<string, SimulatedBindingView>();
    const failed = new Set<string>();
    let reported = -1;
    while (!this.#abort.signal.aborted) {
      for (const device of fleet) {
        if (active.has(device.id) || failed.has(device.id)) continue;
        const binding = await this.#options.bindings.describeBinding(device.id, null);
        if (binding?.status === "Active") active.set(device.id, binding);
        else if (binding?.status === "Failed") {
          failed.add(device.id);
          this.#logger.warn(
            { serialNumber: device.serialNumber, failureReason: binding.failureReason },
            "a simulated device's binding is Failed; it is not simulated (retry it: granit-iot bindings retry)",
          );
        }
      }
      if (active.size + failed.size >= fleet.length) return active;
      if (active.size !== reported) {
        reported = active.size;
        this.#logger.info({ active: active.size, of: fleet.length }, "simulated devices: bindings Active");
      }
      await this.#sleep(WAIT_FOR_BINDINGS_MS);
    }
    return null;
  }

  async #deviceLoop(initial: Device, thingName: string): Promise<void> {
    const id = initial.id;
    let firmware: string = initial.firmware;
    let reportedOnce = false;
    const report = async (reported: Readonly<Record<string, unknown>>) => {
      await this.#data?.send(
        new UpdateThingShadowCommand({
          thingName,
          payload: new TextEncoder().encode(JSON.stringify({ state: { reported } })),
        }),
        { abortSignal: this.#abort.signal },
      );
      this.#shadowReports++;
    };
    const decide = async (job: SimulatedJob): Promise<SimulatedJobDecision> => {
      if (job.operation !== APPLY_DESIRED_STATE_OPERATION) {
        return { status: "SUCCEEDED", statusDetails: { result: "simulated" } };
      }
      await report(job.parameters);
      const next = job.parameters.firmware;
      if (typeof next === "string" && next !== firmware) {
        try {
          await this.#options.devices.update(SIMULATOR, id, { firmware: next });
          firmware = next;
        } catch (error) {
          this.#logger.warn({ deviceId: id, err: (error as Error).message }, "could not record the firmware");
        }
      }
      return { status: "SUCCEEDED", statusDetails: { result: "applied", firmware } };
    };
    const robot = new SimulatedJobsDevice({
      client: this.#jobs as IoTJobsDataPlaneClient,
      thingName,
      decide,
    });

    this.#running++;
    try {
      await this.#sleep(Math.random() * this.#options.tickMilliseconds);
      for (let tick = 1; !this.#abort.signal.aborted; tick++) {
        try {
          if (!reportedOnce) {
            await report({ firmware, connection: "connected", simulated: true });
            reportedOnce = true;
          }
          const run = await robot.runNext();
          if (run?.decision.status === "SUCCEEDED") {
            this.#jobsSucceeded++;
            this.#logger.info(
              { serialNumber: initial.serialNumber, jobId: run.job.jobId, operation: run.job.operation },
              "simulated device completed a job",
            );
            continue; // more may be queued
          }
          if (tick % HEARTBEAT_EVERY_TICKS === 0 && !(await this.#stillLive(id))) return;
        } catch (error) {
          if (this.#abort.signal.aborted) return;
          if (!(await this.#stillLive(id))) return;
          this.#logger.debug({ deviceId: id, err: (error as Error).message }, "simulated device call failed");
        }
        const jitter = 0.75 + Math.random() * 0.5;
        await this.#sleep(this.#options.tickMilliseconds * jitter);
      }
    } finally {
      this.#running--;
    }
  }

  /** Heartbeat; false (the loop ends) once the device is decommissioned or gone. */
  async #stillLive(id: string): Promise<boolean> {
    const device = await this.#options.deviceStore.findById(id, null).catch(() => undefined);
    if (device === undefined) return true; // the database hiccuped: keep going
    if (!device || device.status === DeviceStatus.Decommissioned) {
      this.#logger.info({ deviceId: id }, "simulated device decommissioned; its loop ends");
      return false;
    }
    await this.#options.devices.heartbeat(SIMULATOR, id).catch(() => {});
    return true;
  }

  #sleep(ms: number): Promise<void> {
    const signal = this.#abort.signal;
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      }
      signal.addEventListener("abort", done, { once: true });
    });
  }
}
