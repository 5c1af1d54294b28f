/**
 * `DeviceStore` on PostgreSQL / PGlite. A write stores the row, the aggregate's pending events (on
 * the durable bus) and one timeline entry per lifecycle event in a single transaction.
 * Optimistic concurrency: `UPDATE ... WHERE id = $1 AND version = <loaded>`; zero rows updated
 * means someone else wrote first → `ConcurrencyConflictError`, nothing written.
 */
import {
  ALL_TENANTS,
  ConcurrencyConflictError,
  Device,
  DeviceCredential,
  type DeviceLifecycleEvent,
  type DeviceStatus,
  type DeviceStore,
  type DomainEvent,
  DomainValidationError,
  DuplicateKeyError,
  isUuid,
  type ListDevicesQuery,
  type MessageBus,
  type Page,
  type TenantFilter,
  type TenantId,
  type TimelineEntry,
  type TransactionScope,
  timelineMessage,
  uuidv7,
} from "@granit/iot";
import { and, asc, count, desc, eq, gt, isNull, type SQL, sql } from "drizzle-orm";
import type { Database, SqlExecutor } from "./database.ts";
import { decodeCursor, encodeCursor } from "./internal/cursor.ts";
import { PG_UNIQUE_VIOLATION, sqlState } from "./internal/pg-errors.ts";
import { iotDevices, iotTimelineEntries } from "./schema.ts";

type DeviceRow = typeof iotDevices.$inferSelect;

const DEVICE_EVENT_TYPES = new Set<string>([
  "DeviceProvisionedEvent",
  "DeviceActivatedEvent",
  "DeviceSuspendedEvent",
  "DeviceReactivatedEvent",
  "DeviceDecommissionedEvent",
]);

export function tenantCondition(column: typeof iotDevices.tenantId, tenant: TenantFilter): SQL | undefined {
  if (tenant === ALL_TENANTS) return undefined;
  return tenant === null ? isNull(column) : eq(column, tenant);
}

function toRow(device: Device): typeof iotDevices.$inferInsert {
  const s = device.toSnapshot();
  return {
    id: s.id,
    tenantId: s.tenantId,
    serialNumber: s.serialNumber,
    model: s.model,
    firmware: s.firmware,
    label: s.label,
    status: s.status,
    credentialType: s.credential?.type ?? null,
    credentialSecret: s.credential?.revealProtectedSecret() ?? null,
    lastHeartbeatAt: s.lastHeartbeatAt,
    suspensionReason: s.suspensionReason,
    tags: { ...s.tags },
    createdAt: s.audit.createdAt,
    createdBy: s.audit.createdBy,
    modifiedAt: s.audit.modifiedAt,
    modifiedBy: s.audit.modifiedBy,
    deletedAt: s.audit.deletedAt,
    deletedBy: s.audit.deletedBy,
    version: s.version,
  };
}

function fromRow(row: DeviceRow): Device {
  return Device.rehydrate({
    id: row.id,
    tenantId: row.tenantId,
    serialNumber: row.serialNumber as Device["serialNumber"],
    model: row.model as Device["model"],
    firmware: row.firmware as Device["firmware"],
    label: row.label,
    status: row.status as DeviceStatus,
    credential:
      row.credentialType && row.credentialSecret
        ? DeviceCredential.create(row.credentialType, row.credentialSecret)
        : null,
    lastHeartbeatAt: row.lastHeartbeatAt,
    suspensionReason: row.suspensionReason,
    tags: Object.freeze({ ...row.tags }),
    audit: {
      createdAt: row.createdAt,
      createdBy: row.createdBy,
      modifiedAt: row.modifiedAt,
      modifiedBy: row.modifiedBy,
      deletedAt: row.deletedAt,
      deletedBy: row.deletedBy,
    },
    version: row.version,
  });
}

/**
 * The by-id read, prepared once per store: handlers (the provisioning saga, the shadow push) read a
 * device per event, and drizzle building the query each time cost more CPU than the round trip.
 */
function prepareById(database: Database) {
  return database.db
    .select()
    .from(iotDevices)
    .where(and(eq(iotDevices.id, sql.placeholder("id")), isNull(iotDevices.deletedAt)))
    .prepare("iot_device_by_id");
}

export class PostgresDeviceStore implements DeviceStore {
  readonly #database: Database;
  readonly #bus: MessageBus;
  #byId: ReturnType<typeof prepareById> | undefined;

  constructor(database: Database, bus: MessageBus) {
    this.#database = database;
    this.#bus = bus;
  }

  async add(device: Device, scope?: TransactionScope): Promise<void> {
    await this.#write(scope, async (tx, txScope) => {
      try {
        await tx.insert(iotDevices).values(toRow(device));
      } catch (error) {
        if (sqlState(error) === PG_UNIQUE_VIOLATION) {
          throw new DuplicateKeyError(
            "Device",
            "serialNumber",
            `A device with serial number '${device.serialNumber}' already exists in this tenant.`,
            { cause: error },
          );
        }
        throw error;
      }
      await this.#publish(tx, txScope, device);
    });
    device.markPersisted();
  }

  async update(device: Device, scope?: TransactionScope): Promise<void> {
    await this.#write(scope, async (tx, txScope) => {
      const { id, createdAt, createdBy, ...changes } = toRow(device);
      const updated = await tx
        .update(iotDevices)
        .set(changes)
        .where(and(eq(iotDevices.id, device.id), eq(iotDevices.version, device.loadedVersion)))
        .returning({ id: iotDevices.id });
      if (updated.length === 0) throw new ConcurrencyConflictError("Device", device.id, device.loadedVersion);
      await this.#publish(tx, txScope, device);
    });
    device.markPersisted();
  }

  async findById(id: string, tenant: TenantFilter, scope?: TransactionScope): Promise<Device | null> {
    if (!scope) {
      this.#byId ??= prepareById(this.#database);
      const row = (await this.#byId.execute({ id })).find(
        (r) => tenant === ALL_TENANTS || r.tenantId === tenant,
      );
      return row ? fromRow(row) : null;
    }
    const rows = await this.#database
      .executor(scope)
      .select()
      .from(iotDevices)
      .where(
        and(
          eq(iotDevices.id, id),
          isNull(iotDevices.deletedAt),
          tenantCondition(iotDevices.tenantId, tenant),
        ),
      );
    return rows[0] ? fromRow(rows[0]) : null;
  }

  async findBySerialNumber(
    tenantId: TenantId | null,
    serialNumber: string,
    scope?: TransactionScope,
  ): Promise<Device | null> {
    const rows = await this.#database
      .executor(scope)
      .select()
      .from(iotDevices)
      .where(
        and(
          eq(iotDevices.serialNumber, serialNumber),
          isNull(iotDevices.deletedAt),
          tenantCondition(iotDevices.tenantId, tenantId),
        ),
      );
    return rows[0] ? fromRow(rows[0]) : null;
  }

  async findAllBySerialNumber(serialNumber: string, scope?: TransactionScope): Promise<readonly Device[]> {
    const rows = await this.#database
      .executor(scope)
      .select()
      .from(iotDevices)
      .where(and(eq(iotDevices.serialNumber, serialNumber), isNull(iotDevices.deletedAt)));
    return rows.map(fromRow);
  }

  async list(query: ListDevicesQuery): Promise<Page<Device>> {
    const limit = Math.min(Math.max(Math.trunc(query.limit), 1), 1000);
    const after = decodeCursor(query.cursor);
    if (after && (after.length !== 1 || !isUuid(after[0]))) {
      throw DomainValidationError.single(
        "cursor",
        "format",
        "is not a cursor this API returned; start again without one",
      );
    }
    const rows = await this.#database.db
      .select()
      .from(iotDevices)
      .where(
        and(
          isNull(iotDevices.deletedAt),
          tenantCondition(iotDevices.tenantId, query.tenant),
          query.status ? eq(iotDevices.status, query.status) : undefined,
          after ? gt(iotDevices.id, String(after[0])) : undefined,
        ),
      )
      .orderBy(asc(iotDevices.id))
      .limit(limit + 1);
    const items = rows.slice(0, limit).map(fromRow);
    const last = items.at(-1);
    return { items, nextCursor: rows.length > limit && last ? encodeCursor([last.id]) : null };
  }

  async count(tenant: TenantFilter, status?: DeviceStatus): Promise<number> {
    const [row] = await this.#database.db
      .select({ n: count() })
      .from(iotDevices)
      .where(
        and(
          isNull(iotDevices.deletedAt),
          tenantCondition(iotDevices.tenantId, tenant),
          status ? eq(iotDevices.status, status) : undefined,
        ),
      );
    return row?.n ?? 0;
  }

  async recordHeartbeat(id: string, tenant: TenantFilter, at: Date): Promise<boolean> {
    const updated = await this.#database.db
      .update(iotDevices)
      .set({ lastHeartbeatAt: at })
      .where(
        and(
          eq(iotDevices.id, id),
          isNull(iotDevices.deletedAt),
          tenantCondition(iotDevices.tenantId, tenant),
        ),
      )
      .returning({ id: iotDevices.id });
    return updated.length > 0;
  }

  async timeline(
    deviceId: string,
    tenant: TenantFilter,
    options: { limit?: number } = {},
  ): Promise<readonly TimelineEntry[]> {
    const rows = await this.#database.db
      .select()
      .from(iotTimelineEntries)
      .where(
        and(
          eq(iotTimelineEntries.entityType, "Device"),
          eq(iotTimelineEntries.entityId, deviceId),
          tenant === ALL_TENANTS
            ? undefined
            : tenant === null
              ? isNull(iotTimelineEntries.tenantId)
              : eq(iotTimelineEntries.tenantId, tenant),
        ),
      )
      .orderBy(desc(iotTimelineEntries.occurredAt), desc(iotTimelineEntries.id))
      .limit(Math.min(Math.max(options.limit ?? 100, 1), 1000));
    return rows.map((r) => ({
      id: r.id,
      entityType: "Device" as const,
      entityId: r.entityId,
      tenantId: r.tenantId,
      entryType: "SystemLog" as const,
      eventType: r.eventType,
      message: r.message,
      occurredAt: r.occurredAt,
      actor: r.actor,
    }));
  }

  #write(
    scope: TransactionScope | undefined,
    work: (tx: SqlExecutor, scope: TransactionScope) => Promise<void>,
  ) {
    return scope ? work(this.#database.executor(scope), scope) : this.#database.transaction(work);
  }

  async #publish(tx: SqlExecutor, scope: TransactionScope, device: Device): Promise<void> {
    const events: DomainEvent[] = device.pullEvents();
    if (events.length === 0) return;
    const lifecycle = events.filter((e): e is DeviceLifecycleEvent => DEVICE_EVENT_TYPES.has(e.type));
    if (lifecycle.length > 0) {
      const actor = device.audit.modifiedBy ?? device.audit.createdBy;
      await tx.insert(iotTimelineEntries).values(
        lifecycle.map((e) => ({
          id: uuidv7(Date.parse(e.occurredAt)),
          entityType: "Device",
          entityId: e.deviceId,
          tenantId: e.tenantId,
          entryType: "SystemLog",
          eventType: e.type,
          message: timelineMessage(e),
          occurredAt: new Date(e.occurredAt),
          actor,
        })),
      );
    }
    await this.#bus.publish(events, scope);
  }
}
