/**
 * Assembles one emulator: state, CA, key pool, the four services, faults, quotas, call log, the admin
 * API and the optional state file, behind one `node:http` server with keep-alive.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createAdminHandler } from "./admin.ts";
import { CallLog, type CallLogEntry } from "./call-log.ts";
import type { EmulatorContext } from "./context.ts";
import { type FaultRule, Faults } from "./faults.ts";
import { buildInventory, type Inventory } from "./inventory.ts";
import { CertificateAuthority } from "./iot/certificate-authority.ts";
import { KeyPool } from "./iot/key-pool.ts";
import { iotService } from "./iot/service.ts";
import { jobsDataService } from "./jobs/service.ts";
import type { ServiceDefinition } from "./operation.ts";
import { DebouncedSaver, loadStateFile, saveStateFile } from "./persistence.ts";
import { type QuotaSetting, Quotas } from "./quotas.ts";
import { secretsService } from "./secrets/service.ts";
import { createRequestListener } from "./server.ts";
import { iotDataService } from "./shadow/service.ts";
import { createState } from "./state.ts";

export interface EmulatorOptions {
  /** TCP port; 0 picks a free port. @default 4566 */
  port?: number;
  /** @default "127.0.0.1" */
  host?: string;
  /** Region used in ARNs. @default "us-east-1" */
  region?: string;
  /** Account id used in ARNs. @default "000000000000" */
  accountId?: string;
  /** Injected clock for timestamps, timeouts, detach propagation and deletion windows. @default real time */
  clock?: () => Date;
  /**
   * DetachThingPrincipal takes effect this long after the call (AWS: "several seconds").
   * @default 300
   */
  detachPropagationMs?: number;
  /** Per-operation rates in requests/s: "off", "aws-default" (AWS_DEFAULT_QUOTAS) or your own. @default "off" */
  quotas?: QuotaSetting;
  /** Initial fault rules. */
  faults?: FaultRule[];
  /** Persist the account here: loaded at start, saved after changes (debounced) and on stop. */
  stateFile?: string;
  /** Receives one line per call and diagnostics. */
  logger?: (line: string) => void;
  /**
   * Pre-generated RSA-2048 key pairs for CreateKeysAndCertificate. `size` keys are kept ready; filling
   * starts at the first use, or at start with `prefill`. @default { size: 16, prefill: false }
   */
  keyPool?: { size?: number; prefill?: boolean };
}

/** A running emulator. */
export interface Emulator {
  /** Base URL for SDK clients, e.g. `http://127.0.0.1:45123`. */
  readonly url: string;
  readonly port: number;
  readonly region: string;
  readonly accountId: string;
  /** Spread into any AWS SDK v3 client config: endpoint, region and dummy static credentials. */
  clientConfig(): {
    endpoint: string;
    region: string;
    credentials: { accessKeyId: string; secretAccessKey: string };
  };
  /** Forgets every resource and the call log (keeps the CA, faults and quotas). */
  reset(): void;
  inventory(): Inventory;
  calls(): CallLogEntry[];
  /** Calls per `service:Operation` since start or reset. */
  callCounts(): Record<string, number>;
  setFaults(rules: FaultRule[]): void;
  setQuotas(quotas: EmulatorOptions["quotas"]): void;
  /** Resolves once the key pool is full (use before measuring CreateKeysAndCertificate throughput). */
  keyPoolReady(): Promise<void>;
  /** Saves the state file (if any) and closes the server. */
  stop(): Promise<void>;
}

const DEFAULT_KEY_POOL_SIZE = 16;
const SAVE_DEBOUNCE_MS = 100;

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const clock = options.clock ?? (() => new Date());
  const region = options.region ?? "us-east-1";
  const accountId = options.accountId ?? "000000000000";
  const host = options.host ?? "127.0.0.1";
  const logger = options.logger;

  const loaded = options.stateFile ? await loadStateFile(options.stateFile) : undefined;
  const ca = loaded
    ? await CertificateAuthority.restore(loaded.ca)
    : await CertificateAuthority.create(clock());
  const keyPool = new KeyPool(options.keyPool?.size ?? DEFAULT_KEY_POOL_SIZE);
  let address = "";
  const ctx: EmulatorContext = {
    state: loaded?.state ?? createState(),
    region,
    accountId,
    now: () => clock().getTime(),
    detachPropagationMs: options.detachPropagationMs ?? 300,
    ca,
    keyPool,
    endpointAddress: () => address,
  };

  const faults = new Faults();
  faults.set(options.faults ?? []);
  const quotas = new Quotas(ctx.now);
  quotas.set(options.quotas ?? "off");
  const callLog = new CallLog();
  const stateFile = options.stateFile;
  const saver = stateFile
    ? new DebouncedSaver(
        () => saveStateFile(stateFile, ctx.state, ca.snapshot()),
        SAVE_DEBOUNCE_MS,
        (error) => logger?.(`emulator: could not save ${stateFile}: ${String(error)}`),
      )
    : undefined;

  const services = new Map<string, ServiceDefinition>(
    [iotService(), iotDataService(), jobsDataService(), secretsService()].map((s) => [s.name, s]),
  );

  let url = "";
  let port = 0;
  const reset = () => {
    ctx.state = createState();
    callLog.clear();
    saver?.schedule();
  };
  const inventory = () => buildInventory(ctx);

  const admin = createAdminHandler({
    region,
    accountId,
    get url() {
      return url;
    },
    reset,
    inventory,
    callLog,
    faults: () => faults.list(),
    setFaults: (rules) => faults.set(rules),
    quotas: () => quotas.rates,
    setQuotas: (setting) => quotas.set(setting),
  });

  const server: Server = createServer(
    { keepAlive: true, keepAliveTimeout: 60_000 },
    createRequestListener({
      services,
      ctx,
      faults,
      quotas,
      callLog,
      logger,
      onChange: () => saver?.schedule(),
      admin,
    }),
  );
  server.keepAliveTimeout = 60_000;
  server.headersTimeout = 65_000;

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 4566, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(":") ? `[${host}]` : host;
  address = `${urlHost}:${port}`;
  url = `http://${address}`;
  if (options.keyPool?.prefill) void keyPool.ready();
  logger?.(`emulator: listening on ${url} (region ${region}, account ${accountId})`);

  let stopped: Promise<void> | undefined;
  return {
    url,
    port,
    region,
    accountId,
    clientConfig: () => ({
      endpoint: url,
      region,
      credentials: { accessKeyId: "emulator", secretAccessKey: "emulator" },
    }),
    reset,
    inventory,
    calls: () => callLog.entries(),
    callCounts: () => callLog.counts(),
    setFaults: (rules) => faults.set(rules),
    setQuotas: (setting) => quotas.set(setting),
    keyPoolReady: () => keyPool.ready(),
    stop: () => {
      stopped ??= (async () => {
        keyPool.stop();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        await saver?.flush();
      })();
      return stopped;
    },
  };
}
