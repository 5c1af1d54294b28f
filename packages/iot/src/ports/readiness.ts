/**
 * A readiness gate: something the host must have before it can serve (a database connection, AWS
 * credentials). `/health/ready` reports every registered gate; components that depend on a gate
 * refuse to work while it is closed.
 */
export interface ReadinessGate {
  readonly name: string;
  isReady(): boolean;
  /** Why the gate is closed, for the health endpoint (never a secret). */
  describe?(): string;
}
