/**
 * The readiness gates a host reports on `/health/ready`. The database is always checked; packages
 * add their own gates (AWS credentials loaded, ...) with `host.readiness.register(gate)`, and the
 * host answers 503 naming every closed gate until all are open.
 */
import type { ReadinessGate } from "@granit/iot";

export interface ReadinessCheck {
  readonly name: string;
  readonly status: "up" | "down";
  readonly detail?: string;
}

export class ReadinessRegistry {
  readonly #gates: ReadinessGate[] = [];

  register(gate: ReadinessGate): void {
    if (this.#gates.some((g) => g.name === gate.name)) {
      throw new TypeError(`A readiness gate named '${gate.name}' is already registered.`);
    }
    this.#gates.push(gate);
  }

  get gates(): readonly ReadinessGate[] {
    return this.#gates;
  }

  /** The state of every gate; a gate that throws counts as closed. */
  check(): ReadinessCheck[] {
    return this.#gates.map((gate) => {
      try {
        if (gate.isReady()) return { name: gate.name, status: "up" };
        const detail = gate.describe?.();
        return detail ? { name: gate.name, status: "down", detail } : { name: gate.name, status: "down" };
      } catch {
        return { name: gate.name, status: "down", detail: "the readiness check failed" };
      }
    });
  }
}
