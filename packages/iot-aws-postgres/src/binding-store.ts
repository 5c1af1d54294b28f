/**
 * `AwsThingBindingStore` on PostgreSQL / PGlite. A write stores the row and publishes the binding's
 * pending events on the durable bus in one transaction — the caller's when given a scope, so a
 * binding can commit together with a device write and its events (transactional outbox).
 *
 * - Optimistic concurrency: `UPDATE ... WHERE id = $1 AND version = <loaded>`; zero rows means
 *   someone else wrote first → `ConcurrencyConflictError`, nothing written, nothing published.
 * - Unique violations map to `DuplicateKeyError` with `key` `"thingName"` (account-wide, across
 *   tenants), `"deviceId"` (one live binding per device) or `"id"`.
 * - `pageByStatus` is a keyset page on `id`: one index range scan on `(provisioning_status, id)`
 *   per status, merged (`UNION ALL` of per-status `ORDER BY id LIMIT n`).
 */
import {
  ALL_TENANTS,
  type ChangeContext,
  ConcurrencyConflictError,
  DeviceStatus,
  DomainValidationError,
  DuplicateKeyError,
  type MessageBus,
  type Page,
  type TenantFilter,
  type TransactionScope,
} from "@granit/iot";
import {
  AwsThingBinding,
  type AwsThingBindingStore,
  isProvisioningStatus,
  type PageBindingsByStatusQuery,
  type ProvisioningCheckpoint,
  type ProvisioningStatus,
  ThingName,
} from "@granit/iot-aws";
import {
  constraintName,
  type Database,
  decodeCursor,
  deliveryValues,
  encodeCursor,
  iotSchema,
  PG_UNIQUE_VIOLATION,
  PostgresMessageBus,
  type SqlExecutor,
  sqlState,
} from "@granit/iot-postgres";
import { and, asc, eq, getTableColumns, gt, isNull, ne, type SQL, sql } from "drizzle-orm";
import { unionAll } from "drizzle-orm/pg-core";
import { iotawsThingBindings } from "./schema/thing-bindings.ts";

type BindingRow = typeof iotawsThingBindings.$inferSelect;
type BindingInsert = typeof iotawsThingBindings.$inferInsert;

const ENTITY = "AwsThingBinding";
/** Largest page `pageByStatus` returns. */
export const MAX_BINDING_PAGE_SIZE = 1000;

const UNIQUE_KEYS: Readonly<Record<string, string>> = {
  ux_iotaws_thing_bindings_thing_name: "thingName",
  ux_iotaws_thing_bindings_tenant_device: "deviceId",
  iotaws_thing_bindings_pkey: "id",
};

function toRow(binding: AwsThingBinding): typeof iotawsThingBindings.$inferInsert {
  const s = binding.toSnapshot();
  return {
    id: s.id,
    deviceId: s.deviceId,
    tenantId: s.tenantId,
    thingName: s.thingName.value,
    thingArn: s.thingArn,
    certificateArn: s.certificateArn,
    certificateSecretArn: s.certificateSecretArn,
    provisioningStatus: s.provisioningStatus,
    failedFromStatus: s.failedFromStatus,
    failureReason: s.failureReason,
    certificateRequestedAt: s.certificateRequestedAt,
    lastShadowReportedAt: s.lastShadowReportedAt,
    shadowReportedDeviceVersion: s.shadowReportedDeviceVersion,
    claimCertificateExpiresAt: s.claimCertificateExpiresAt,
    claimCertificateId: s.claimCertificateId,
    provisionedViaJitp: s.provisionedViaJitp,
    createdAt: s.audit.createdAt,
    createdBy: s.audit.createdBy,
    modifiedAt: s.audit.modifiedAt,
    modifiedBy: s.audit.modifiedBy,
    deletedAt: s.audit.deletedAt,
    deletedBy: s.audit.deletedBy,
    version: s.version,
  };
}

/** Every column as a named placeholder: the SET / VALUES of the prepared writes. */
const placeholders = Object.fromEntries(
  Object.keys(iotawsThingBindings).map((column) => [column, sql`${sql.placeholder(column)}`]),
) as Record<keyof BindingInsert, SQL>;

/**
 * The saga's hot statements, prepared once per store (drizzle builds the SQL once; PostgreSQL
 * parses it once per connection). They run outside a transaction: a write without events is one
 * statement, so autocommit is as atomic as BEGIN/…/COMMIT at a third of the round trips.
 */
function prepareStatements(database: Database, bus: MessageBus) {
  const t = iotawsThingBindings;
  const { id, createdAt, createdBy, ...changes } = placeholders;
  const update = () =>
    database.db
      .update(t)
      .set(changes)
      .where(and(eq(t.id, sql.placeholder("id")), eq(t.version, sql.placeholder("loadedVersion"))))
      .returning({ id: t.id });
  return {
    insert: database.db.insert(t).values(placeholders).prepare("iotaws_binding_insert"),
    reserve: prepareReserve(database),
    deviceIsLive: database.db
      .select({ id: iotDevices.id })
      .from(iotDevices)
      .where(and(eq(iotDevices.id, sql.placeholder("deviceId")), liveDevice))
      .prepare("iotaws_binding_device_is_live"),
    update: update().prepare("iotaws_binding_update"),
    /**
     * A write with events, outside a caller's transaction: the UPDATE and the outbox INSERT as one
     * statement (data-modifying CTEs commit together or not at all), one round trip instead of four
     * (BEGIN, UPDATE, INSERT, COMMIT). The deliveries are inserted only when the UPDATE matched;
     * workers are woken only when there is one (no NOTIFY for an event nobody subscribed to).
     */
    updateAndEnqueue:
      bus instanceof PostgresMessageBus ? prepareUpdateAndEnqueue(database, bus, update) : null,
    byDevice: database.db
      .select()
      .from(t)
      .where(and(eq(t.deviceId, sql.placeholder("deviceId")), isNull(t.deletedAt)))
      .prepare("iotaws_binding_by_device"),
  };
}

const { iotDevices } = iotSchema;
/** A device the bridge may still provision: not soft-deleted, not decommissioned. */
const liveDevice = and(isNull(iotDevices.deletedAt), ne(iotDevices.status, DeviceStatus.Decommissioned));

/**
 * The reservation: `INSERT … SELECT <the binding> WHERE <its device is live> ON CONFLICT DO
 * NOTHING`. Reading the device in the statement that inserts makes the check as late as it can be:
 * the saga sends it once it holds the device's lock, so a device whose decommission ran before
 * (that teardown takes the same lock) is never reserved, whenever the saga first read the device.
 * A live binding of the device or of the name makes it insert nothing, without an error (no server
 * log line). The casts type the placeholders, which a SELECT list leaves untyped.
 */
function prepareReserve(database: Database): (values: Record<string, unknown>) => Promise<unknown[]> {
  const columns = Object.entries(getTableColumns(iotawsThingBindings));
  return database.prepare(
    "iotaws_binding_reserve",
    sql`INSERT INTO ${iotawsThingBindings} (${sql.join(
      columns.map(([, column]) => sql.identifier(column.name)),
      sql`, `,
    )})
        SELECT ${sql.join(
          columns.map(([key, column]) => sql`${sql.placeholder(key)}::${sql.raw(column.getSQLType())}`),
          sql`, `,
        )}
        WHERE EXISTS (SELECT 1 FROM ${iotDevices}
                      WHERE ${iotDevices.id} = ${sql.placeholder("deviceId")}::uuid AND ${liveDevice})
        ON CONFLICT DO NOTHING
        RETURNING 1 AS reserved`,
  );
}

/** The statement behind `updateAndEnqueue`; answers whether the UPDATE matched, and wakes the bus. */
function prepareUpdateAndEnqueue(
  database: Database,
  bus: PostgresMessageBus,
  update: () => { getSQL(): SQL },
): (values: Record<string, unknown>) => Promise<boolean> {
  const run = database.prepare<{ updated: number; enqueued: number }>(
    "iotaws_binding_update_enqueue",
    sql`WITH updated AS (${update().getSQL()}),
             enqueued AS (${bus.preparedDeliveriesInsert(sql`EXISTS (SELECT 1 FROM updated)`)})
        SELECT (SELECT count(*)::int FROM updated) AS updated,
               (SELECT count(*)::int FROM enqueued) AS enqueued`,
  );
  return async (values) => {
    const [counts] = await run(values);
    if (counts && counts.enqueued > 0) bus.announce();
    return counts?.updated === 1;
  };
}

/** `UPDATE … WHERE id = … AND version = <loaded> RETURNING id`: no row back means someone wrote first. */
function optimisticUpdate(executor: SqlExecutor, binding: AwsThingBinding) {
  const t = iotawsThingBindings;
  const { id, createdAt, createdBy, ...changes } = toRow(binding);
  return executor
    .update(t)
    .set(changes)
    .where(and(eq(t.id, binding.id), eq(t.version, binding.loadedVersion)))
    .returning({ id: t.id });
}

function matchesTenant(row: BindingRow, tenant: TenantFilter): boolean {
  return tenant === ALL_TENANTS || row.tenantId === tenant;
}

function fromRow(row: BindingRow): AwsThingBinding {
  return AwsThingBinding.rehydrate({
    id: row.id,
    deviceId: row.deviceId,
    tenantId: row.tenantId,
    thingName: ThingName.parse(row.thingName),
    thingArn: row.thingArn,
    certificateArn: row.certificateArn,
    certificateSecretArn: row.certificateSecretArn,
    provisioningStatus: row.provisioningStatus as ProvisioningStatus,
    failedFromStatus: row.failedFromStatus as ProvisioningCheckpoint | null,
    failureReason: row.failureReason,
    certificateRequestedAt: row.certificateRequestedAt,
    lastShadowReportedAt: row.lastShadowReportedAt,
    shadowReportedDeviceVersion: row.shadowReportedDeviceVersion,
    claimCertificateExpiresAt: row.claimCertificateExpiresAt,
    claimCertificateId: row.claimCertificateId,
    provisionedViaJitp: row.provisionedViaJitp,
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

function tenantCondition(tenant: TenantFilter): SQL | undefined {
  if (tenant === ALL_TENANTS) return undefined;
  return tenant === null ? isNull(iotawsThingBindings.tenantId) : eq(iotawsThingBindings.tenantId, tenant);
}

export class PostgresAwsThingBindingStore implements AwsThingBindingStore {
  readonly #database: Database;
  readonly #bus: MessageBus;
  #prepared: ReturnType<typeof prepareStatements> | undefined;

  constructor(database: Database, bus: MessageBus) {
    this.#database = database;
    this.#bus = bus;
  }

  get #statements(): ReturnType<typeof prepareStatements> {
    this.#prepared ??= prepareStatements(this.#database, this.#bus);
    return this.#prepared;
  }

  async add(binding: AwsThingBinding, scope?: TransactionScope): Promise<void> {
    if (!scope && binding.pendingEvents.length === 0) {
      try {
        await this.#statements.insert.execute(toRow(binding));
      } catch (error) {
        throw duplicateKey(error, binding) ?? error;
      }
      this.#persisted(binding);
      return;
    }
    await this.#write(scope, async (tx, txScope) => {
      try {
        await tx.insert(iotawsThingBindings).values(toRow(binding));
      } catch (error) {
        throw duplicateKey(error, binding) ?? error;
      }
      await this.#publish(binding, txScope);
    });
    this.#persisted(binding);
  }

  async reserve(binding: AwsThingBinding): Promise<AwsThingBinding | null> {
    if (binding.pendingEvents.length > 0) {
      throw new TypeError("reserve() writes no events: publish them with add() in a transaction.");
    }
    for (let attempt = 1; ; attempt++) {
      const inserted = await this.#statements.reserve(toRow(binding));
      if (inserted.length === 1) {
        this.#persisted(binding);
        return binding;
      }
      const existing = await this.findByDevice(binding.deviceId, ALL_TENANTS);
      if (existing) return existing;
      const live = await this.#statements.deviceIsLive.execute({ deviceId: binding.deviceId });
      if (live.length === 0) return null;
      // The name, then: held by another device's binding — unless that one was deleted meanwhile.
      if ((await this.findByThingName(binding.thingName)) || attempt === 3) {
        throw new DuplicateKeyError(ENTITY, "thingName", thingNameTaken(binding));
      }
    }
  }

  async update(binding: AwsThingBinding, scope?: TransactionScope): Promise<void> {
    if (!scope && binding.pendingEvents.length === 0) {
      let updated: { id: string }[];
      try {
        updated = await this.#statements.update.execute({
          ...toRow(binding),
          loadedVersion: binding.loadedVersion,
        });
      } catch (error) {
        throw duplicateKey(error, binding) ?? error;
      }
      if (updated.length === 0) throw new ConcurrencyConflictError(ENTITY, binding.id, binding.loadedVersion);
      this.#persisted(binding);
      return;
    }
    const updateAndEnqueue = this.#statements.updateAndEnqueue;
    if (!scope && updateAndEnqueue) {
      let matched: boolean;
      try {
        matched = await updateAndEnqueue({
          ...toRow(binding),
          loadedVersion: binding.loadedVersion,
          ...deliveryValues(binding.pendingEvents),
        });
      } catch (error) {
        throw duplicateKey(error, binding) ?? error;
      }
      if (!matched) throw new ConcurrencyConflictError(ENTITY, binding.id, binding.loadedVersion);
      this.#persisted(binding);
      return;
    }
    await this.#write(scope, async (tx, txScope) => {
      let updated: { id: string }[];
      try {
        updated = await optimisticUpdate(tx, binding);
      } catch (error) {
        throw duplicateKey(error, binding) ?? error;
      }
      if (updated.length === 0) throw new ConcurrencyConflictError(ENTITY, binding.id, binding.loadedVersion);
      await this.#publish(binding, txScope);
    });
    this.#persisted(binding);
  }

  async softDelete(binding: AwsThingBinding, change: ChangeContext, scope?: TransactionScope): Promise<void> {
    binding.markDeleted(change);
    await this.update(binding, scope);
  }

  async findByDevice(
    deviceId: string,
    tenant: TenantFilter,
    scope?: TransactionScope,
  ): Promise<AwsThingBinding | null> {
    if (!scope) {
      const rows = await this.#statements.byDevice.execute({ deviceId });
      const row = rows.find((r) => matchesTenant(r, tenant));
      return row ? fromRow(row) : null;
    }
    const rows = await this.#database
      .executor(scope)
      .select()
      .from(iotawsThingBindings)
      .where(
        and(
          eq(iotawsThingBindings.deviceId, deviceId),
          isNull(iotawsThingBindings.deletedAt),
          tenantCondition(tenant),
        ),
      );
    return rows[0] ? fromRow(rows[0]) : null;
  }

  async findByThingName(
    thingName: ThingName | string,
    scope?: TransactionScope,
  ): Promise<AwsThingBinding | null> {
    const rows = await this.#database
      .executor(scope)
      .select()
      .from(iotawsThingBindings)
      .where(
        and(eq(iotawsThingBindings.thingName, String(thingName)), isNull(iotawsThingBindings.deletedAt)),
      );
    return rows[0] ? fromRow(rows[0]) : null;
  }

  async pageByStatus(
    query: PageBindingsByStatusQuery,
    scope?: TransactionScope,
  ): Promise<Page<AwsThingBinding>> {
    const statuses = [...new Set(query.statuses)];
    if (statuses.length === 0 || !statuses.every(isProvisioningStatus)) {
      throw DomainValidationError.single(
        "statuses",
        "required",
        "must list at least one provisioning status",
      );
    }
    const limit = Math.min(Math.max(Math.trunc(query.limit), 1), MAX_BINDING_PAGE_SIZE);
    const after = decodeCursor(query.cursor);
    const db = this.#database.executor(scope);
    const branch = (status: ProvisioningStatus) =>
      db
        .select()
        .from(iotawsThingBindings)
        .where(
          and(
            isNull(iotawsThingBindings.deletedAt),
            eq(iotawsThingBindings.provisioningStatus, status),
            after ? gt(iotawsThingBindings.id, String(after[0])) : undefined,
            tenantCondition(query.tenant === undefined ? ALL_TENANTS : query.tenant),
          ),
        )
        .orderBy(asc(iotawsThingBindings.id))
        .limit(limit + 1);
    const [first, second, ...rest] = statuses.map(branch);
    if (!first) throw new Error("unreachable: statuses is not empty");
    const rows = second
      ? await unionAll(first, second, ...rest)
          .orderBy(asc(iotawsThingBindings.id))
          .limit(limit + 1)
      : await first;
    const items = rows.slice(0, limit).map(fromRow);
    const last = items.at(-1);
    return { items, nextCursor: rows.length > limit && last ? encodeCursor([last.id]) : null };
  }

  /** Publishes the pending events in the write's transaction; they are cleared only once the write succeeded. */
  async #publish(binding: AwsThingBinding, scope: TransactionScope): Promise<void> {
    if (binding.pendingEvents.length > 0) await this.#bus.publish([...binding.pendingEvents], scope);
  }

  #persisted(binding: AwsThingBinding): void {
    binding.pullEvents();
    binding.markPersisted();
  }

  #write(
    scope: TransactionScope | undefined,
    work: (tx: SqlExecutor, scope: TransactionScope) => Promise<void>,
  ): Promise<void> {
    return scope ? work(this.#database.executor(scope), scope) : this.#database.transaction(work);
  }
}

function duplicateKey(error: unknown, binding: AwsThingBinding): DuplicateKeyError | undefined {
  if (sqlState(error) !== PG_UNIQUE_VIOLATION) return undefined;
  const key = UNIQUE_KEYS[constraintName(error) ?? ""] ?? "unknown";
  const message =
    key === "thingName"
      ? thingNameTaken(binding)
      : key === "deviceId"
        ? `Device '${binding.deviceId}' already has an AWS thing binding.`
        : `AWS thing binding '${binding.id}' already exists.`;
  return new DuplicateKeyError(ENTITY, key, message, { cause: error });
}

function thingNameTaken(binding: AwsThingBinding): string {
  return `Thing name '${binding.thingName}' is already bound to another device (AWS thing names are unique in the account).`;
}
