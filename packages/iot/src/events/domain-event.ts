/**
 * The shape every event of the system shares. Events are plain JSON-serialisable objects (dates as
 * ISO-8601 strings) because the durable bus stores them as JSON and may deliver them to another
 * process, possibly more than once: handlers must be idempotent.
 */
export interface DomainEvent {
  /** Discriminator and routing key on the bus, e.g. `"DeviceProvisionedEvent"`. */
  readonly type: string;
  /** Unique per event; stays the same across redeliveries. */
  readonly eventId: string;
  /** ISO-8601 instant from the injected clock. */
  readonly occurredAt: string;
  readonly tenantId: string | null;
}

/** An aggregate that records events while it changes; the store commits them with the row. */
export abstract class AggregateRoot {
  #pending: DomainEvent[] = [];

  protected raise(event: DomainEvent): void {
    this.#pending.push(event);
  }

  /** Events raised since the last call, in order; the store publishes them in the write transaction. */
  pullEvents(): DomainEvent[] {
    const events = this.#pending;
    this.#pending = [];
    return events;
  }

  /** Events raised and not yet pulled (read-only view, for tests and assertions). */
  get pendingEvents(): readonly DomainEvent[] {
    return this.#pending;
  }
}
