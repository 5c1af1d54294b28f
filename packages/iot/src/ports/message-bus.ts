import type { DomainEvent } from "../events/domain-event.ts";
import type { TransactionScope } from "./unit-of-work.ts";

/** What a handler learns about the delivery it is processing. */
export interface DeliveryContext {
  /** Stable id of this (event, handler) delivery; the same across retries and redeliveries. */
  readonly deliveryId: string;
  /** 1 on the first try. */
  readonly attempt: number;
  readonly maxAttempts: number;
  /** Aborted when the bus shuts down; long handlers should stop at the next checkpoint. */
  readonly signal: AbortSignal;
}

export type EventHandler<E extends DomainEvent = DomainEvent> = (
  event: E,
  context: DeliveryContext,
) => Promise<void>;

export interface SubscribeOptions {
  /** Attempts before the delivery is dead-lettered. @default 10 */
  readonly maxAttempts?: number;
  /** First retry delay; doubles every attempt (with jitter), capped at `maxBackoffMs`. @default 500 */
  readonly backoffMs?: number;
  /** @default 60000 */
  readonly maxBackoffMs?: number;
}

/**
 * The durable message bus port. Delivery is at-least-once to every subscribed handler, so every
 * handler must be idempotent.
 *
 * `publish` with a scope enqueues in that transaction (transactional outbox): a rolled-back write
 * publishes nothing. `subscribe` registers a named handler for one event type; each handler gets
 * its own copy of every event published after it was registered, retried with exponential backoff
 * and dead-lettered after `maxAttempts`. Several processes may subscribe the same handler name:
 * each delivery is then processed by one of them.
 */
export interface MessageBus {
  publish(events: readonly DomainEvent[], scope?: TransactionScope): Promise<void>;
  subscribe<E extends DomainEvent>(
    eventType: E["type"],
    handlerName: string,
    handler: EventHandler<E>,
    options?: SubscribeOptions,
  ): void;
}
