/**
 * Fault injection: rules that make matching calls fail the way AWS fails under stress — throttled,
 * an HTTP 500, slow, or a dropped connection. A rule fires with `probability` (default 1) and, when
 * `count` is set, only for the next `count` matching calls. Latency rules add up and let the call go
 * on; the first throttle/error500/drop rule that fires decides the call.
 */

/** A fault to inject into matching calls. */
export interface FaultRule {
  /** SigV4 service name: `iot`, `iotdata`, `iot-jobs-data`, `secretsmanager`. Absent = every service. */
  service?: string;
  /** AWS operation name (e.g. `CreateKeysAndCertificate`); absent or `"*"` = every operation. */
  operation?: string | "*";
  kind: "throttle" | "error500" | "latency" | "drop";
  /** Chance, 0..1, that a matching call is hit. @default 1 */
  probability?: number;
  /** Only the next N matching calls are hit; then the rule is spent. */
  count?: number;
  /** Added delay for `latency` rules. @default 100 */
  latencyMs?: number;
}

export interface FaultDecision {
  readonly latencyMs: number;
  readonly kind: "throttle" | "error500" | "drop" | undefined;
}

const NONE: FaultDecision = { latencyMs: 0, kind: undefined };
const KINDS = new Set(["throttle", "error500", "latency", "drop"]);

export class Faults {
  #rules: { rule: FaultRule; remaining: number }[] = [];
  readonly #random: () => number;

  constructor(random: () => number = Math.random) {
    this.#random = random;
  }

  set(rules: readonly FaultRule[]): void {
    for (const rule of rules) {
      if (!KINDS.has(rule.kind)) throw new TypeError(`Unknown fault kind ${String(rule.kind)}`);
    }
    this.#rules = rules.map((rule) => ({
      rule: { ...rule },
      remaining: rule.count ?? Number.POSITIVE_INFINITY,
    }));
  }

  list(): FaultRule[] {
    return this.#rules
      .filter((r) => r.remaining > 0)
      .map((r) => ({ ...r.rule, ...(Number.isFinite(r.remaining) ? { count: r.remaining } : {}) }));
  }

  decide(service: string, operation: string): FaultDecision {
    if (this.#rules.length === 0) return NONE;
    let latencyMs = 0;
    for (const entry of this.#rules) {
      const { rule } = entry;
      if (entry.remaining <= 0) continue;
      if (rule.service !== undefined && rule.service !== service) continue;
      if (rule.operation !== undefined && rule.operation !== "*" && rule.operation !== operation) continue;
      if (this.#random() >= (rule.probability ?? 1)) continue;
      entry.remaining--;
      if (rule.kind === "latency") {
        latencyMs += rule.latencyMs ?? 100;
        continue;
      }
      return { latencyMs, kind: rule.kind };
    }
    return latencyMs === 0 ? NONE : { latencyMs, kind: undefined };
  }
}
