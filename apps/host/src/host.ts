/**
 * The composition root of the runnable host: one database (PostgreSQL when `Database:Url` /
 * `DATABASE_URL` is set, else PGlite under `<Host:DataDir>/pglite`), the durable message bus, the
 * device store and service, and a Fastify app with the devices API, health, metrics and OpenAPI.
 *
 * `createHost` builds everything without touching the network; packages then register what they
 * bring (bus subscriptions, routes, readiness gates, background services, migrations) and
 * `start()` migrates, starts the bus and the services, and listens. `stop()` shuts down in the
 * reverse order: stop accepting HTTP and let in-flight requests finish, stop the background
 * services, stop the bus (in-flight handlers finish), close the database.
 */
import "./telemetry/meter-provider.ts";

import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import fastifySwagger from "@fastify/swagger";
import fastifySwaggerUi from "@fastify/swagger-ui";
import { type Clock, type Logger, systemClock } from "@granit/iot";
import { Database, migrateIoT, PostgresDeviceStore, PostgresMessageBus } from "@granit/iot-postgres";
import Fastify, { type FastifyInstance } from "fastify";
import {
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
} from "fastify-type-provider-zod";
import type { Logger as PinoLogger } from "pino";
import { useBearerAuth } from "./auth/bearer-auth.ts";
import { loadOrCreateOperatorToken, type OperatorToken } from "./auth/operator-token.ts";
import { OPERATOR_SCOPES } from "./auth/scopes.ts";
import { TokenRegistry } from "./auth/token-registry.ts";
import { registerDeadLetterRoutes } from "./bus/dead-letter-routes.ts";
import type { HostConfig } from "./config/host-config.ts";
import { DeviceService } from "./devices/device-service.ts";
import { registerDeviceRoutes } from "./devices/routes.ts";
import { ReadinessRegistry } from "./health/readiness.ts";
import { registerHealthRoutes } from "./health/routes.ts";
import { installErrorHandling } from "./http/error-handler.ts";
import { installJsonParser } from "./http/json-parser.ts";
import { installHttpMetrics } from "./telemetry/http-metrics.ts";
import { createLogger, toIoTLogger } from "./telemetry/logger.ts";
import { isGlobalMeterProvider } from "./telemetry/meter-provider.ts";
import { registerMetricsRoute } from "./telemetry/metrics-route.ts";

/** A migration folder of a package (`{ folder, table }`, e.g. `IOT_MIGRATIONS`). */
export interface HostMigration {
  readonly folder: string;
  readonly table: string;
}

/**
 * Work that runs for the life of the host (pollers, schedulers). Started after the bus, stopped
 * before it; `stop` must let the current iteration finish.
 */
export interface BackgroundService {
  readonly name: string;
  start(): Promise<void> | void;
  stop(): Promise<void> | void;
}

/** Replacements for tests and embedding. */
export interface HostOverrides {
  /** An already-open database (tests: `databaseTargets()`); the host migrates it but never closes it. */
  readonly database?: Database;
  /** @default systemClock */
  readonly clock?: Clock;
  /** @default a pino logger on stdout at `Logging:Level` */
  readonly logger?: PinoLogger;
  /**
   * Scopes of the generated operator token (embedded default, no `Auth:Tokens`); `main.ts` adds the
   * fleet-provisioning scopes when the AWS bridge is wired. @default OPERATOR_SCOPES
   */
  readonly operatorScopes?: readonly string[];
}

export interface Host {
  readonly config: HostConfig;
  readonly app: FastifyInstance;
  readonly database: Database;
  readonly bus: PostgresMessageBus;
  readonly deviceStore: PostgresDeviceStore;
  readonly devices: DeviceService;
  readonly tokens: TokenRegistry;
  readonly readiness: ReadinessRegistry;
  /** The `@granit/iot` logger port on the host's pino logger. */
  readonly logger: Logger;
  readonly clock: Clock;
  /** The embedded default's operator token when no `Auth:Tokens` are configured, else `null`. */
  readonly operatorToken: OperatorToken | null;
  /** `http://address:port`, once started. */
  readonly url: string;
  addMigration(migration: HostMigration): void;
  addBackgroundService(service: BackgroundService): void;
  start(): Promise<void>;
  /** Graceful shutdown; idempotent (a second call returns the same promise). */
  stop(): Promise<void>;
}

const VERSION = (
  JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }
).version;

export async function createHost(config: HostConfig, overrides: HostOverrides = {}): Promise<Host> {
  const pino = overrides.logger ?? createLogger(config.Logging.Level);
  const logger = toIoTLogger(pino);
  const clock = overrides.clock ?? systemClock;
  const dataDir = resolve(config.Host.DataDir);
  if (!isGlobalMeterProvider) {
    logger.warn(
      {},
      "another global OpenTelemetry meter provider is registered; /metrics shows the host's only",
    );
  }

  const ownsDatabase = overrides.database === undefined;
  const database =
    overrides.database ??
    (await Database.open({
      url: config.Database.Url ?? undefined,
      dataDir: config.Database.Url ? undefined : join(dataDir, "pglite"),
      schema: config.Database.Schema,
      poolSize: config.Database.PoolSize,
      applicationName: "granit-iot-host",
    }));

  try {
    const bus = new PostgresMessageBus(database, {
      concurrency: config.IoT.MessageBus.Concurrency,
      batchSize: config.IoT.MessageBus.BatchSize,
      leaseMs: config.IoT.MessageBus.LeaseSeconds * 1000,
      pollIntervalMs: config.IoT.MessageBus.PollIntervalMilliseconds,
      defaults: { maxAttempts: config.IoT.MessageBus.MaxAttempts },
      logger,
    });
    const deviceStore = new PostgresDeviceStore(database, bus);
    const devices = new DeviceService(deviceStore, clock);
    const readiness = new ReadinessRegistry();

    const tokens = new TokenRegistry(
      config.Auth.Tokens.map((t) => ({
        name: t.Name,
        tenantId: t.TenantId,
        scopes: t.Scopes,
        token: t.Token,
        tokenSha256: t.TokenSha256,
      })),
    );
    let operatorToken: OperatorToken | null = null;
    if (tokens.size === 0) {
      operatorToken = loadOrCreateOperatorToken(dataDir);
      tokens.add({
        name: "operator",
        tenantId: null,
        scopes: overrides.operatorScopes ?? OPERATOR_SCOPES,
        token: operatorToken.token,
      });
    }

    const app = Fastify({
      loggerInstance: pino,
      bodyLimit: config.Host.BodyLimitBytes,
      routerOptions: { ignoreTrailingSlash: true },
      genReqId: () => randomUUID(),
      return503OnClosing: true,
      forceCloseConnections: "idle",
    }) as unknown as FastifyInstance;
    app.setValidatorCompiler(validatorCompiler);
    app.setSerializerCompiler(serializerCompiler);
    let closing = false;
    // While shutting down, finish each in-flight response with `Connection: close`, so keep-alive
    // sockets do not hold `app.close()` open after their last request.
    app.addHook("onSend", async (_request, reply, payload) => {
      if (closing) reply.header("connection", "close");
      return payload;
    });
    installJsonParser(app);
    installErrorHandling(app);
    installHttpMetrics(app);
    await app.register(fastifySwagger, {
      openapi: {
        openapi: "3.1.0",
        info: {
          title: "Granit IoT host",
          version: VERSION,
          description: "Devices API of Granit IoT. Every /api route needs 'Authorization: Bearer <token>'.",
        },
        components: { securitySchemes: { bearerAuth: { type: "http", scheme: "bearer" } } },
      },
      transform: jsonSchemaTransform,
      transformObject: jsonSchemaTransformObject,
    });
    await app.register(fastifySwaggerUi, { routePrefix: "/docs", logLevel: "warn" });
    registerHealthRoutes(app, { readiness, pingDatabase: () => database.ping() });
    registerMetricsRoute(app);
    await app.register(
      async (api) => {
        useBearerAuth(api, { tokens });
        registerDeviceRoutes(api, devices);
      },
      { prefix: "/api/iot/devices" },
    );
    await registerDeadLetterRoutes(app, { tokens, bus });

    const migrations: HostMigration[] = [];
    const services: BackgroundService[] = [];
    let url: string | null = null;
    let started: Promise<void> | null = null;
    let stopped: Promise<void> | null = null;
    const shutdownMs = config.Host.ShutdownTimeoutSeconds * 1000;

    const stopWork = async (running: readonly BackgroundService[]) => {
      for (const service of [...running].reverse()) {
        try {
          await service.stop();
        } catch (error) {
          logger.error({ service: service.name, err: String(error) }, "background service failed to stop");
        }
      }
      await bus.stop(shutdownMs);
    };

    const host: Host = {
      config,
      app,
      database,
      bus,
      deviceStore,
      devices,
      tokens,
      readiness,
      logger,
      clock,
      operatorToken,
      get url() {
        if (!url) throw new Error("The host is not started.");
        return url;
      },
      addMigration(migration) {
        if (started) throw new Error("Add migrations before start().");
        migrations.push(migration);
      },
      addBackgroundService(service) {
        if (started) throw new Error("Add background services before start().");
        services.push(service);
      },
      start() {
        started ??= (async () => {
          await migrateIoT(database);
          for (const migration of migrations) await database.migrate(migration);
          await bus.start();
          const running: BackgroundService[] = [];
          try {
            for (const service of services) {
              await service.start();
              running.push(service);
            }
            await app.listen({ port: config.Host.Port, host: config.Host.Address });
          } catch (error) {
            await app.close().catch(() => {});
            await stopWork(running);
            throw error;
          }
          const address = app.server.address() as AddressInfo;
          const shown = /^(0\.0\.0\.0|::)$/.test(address.address)
            ? "localhost"
            : address.family === "IPv6"
              ? `[${address.address}]`
              : address.address;
          url = `http://${shown}:${address.port}`;
          logger.info({ url, database: database.kind }, "host started");
        })();
        return started;
      },
      stop() {
        stopped ??= (async () => {
          logger.info({}, "host stopping");
          closing = true;
          // 1. Stop taking HTTP work; in-flight requests finish (bounded by the shutdown timeout).
          let timer: NodeJS.Timeout | undefined;
          await Promise.race([
            app.close(),
            new Promise<void>((done) => {
              timer = setTimeout(() => {
                logger.warn(
                  { timeoutMs: shutdownMs },
                  "in-flight requests did not finish; closing connections",
                );
                app.server.closeAllConnections();
                done();
              }, shutdownMs);
              timer.unref();
            }),
          ]);
          clearTimeout(timer);
          // 2. Background services, then the bus (its in-flight handlers finish).
          if (started) await stopWork(services);
          // 3. The database, last.
          if (ownsDatabase) await database.close();
          logger.info({}, "host stopped");
        })();
        return stopped;
      },
    };
    return host;
  } catch (error) {
    if (ownsDatabase) await database.close();
    throw error;
  }
}
