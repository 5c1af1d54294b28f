/**
 * A database transaction, opaque to the core. Stores accept an optional scope: with one they join
 * that transaction, without one they open their own. A persistence package creates scopes through
 * its `UnitOfWork`; the core never looks inside.
 */
export interface TransactionScope {
  readonly __transactionScope: true;
}

/** Runs work in one transaction: everything written through the scope commits or rolls back together. */
export interface UnitOfWork {
  run<T>(work: (scope: TransactionScope) => Promise<T>): Promise<T>;
}
