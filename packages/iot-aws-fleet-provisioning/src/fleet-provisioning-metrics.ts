/**
 * The meter `granit.iot.aws.fleet_provisioning`. Instruments are created when the object is
 * constructed — never at import, where a meter taken before the host registers its provider would
 * stay a no-op. Every point carries `tenant_id` (`host` for host devices, `unknown` when an
 * unauthenticated request named no known key).
 *
 * | instrument | tags | counts |
 * |---|---|---|
 * | `granit.iot.aws.fleet_provisioning.verify.allowed` | tenant_id | `/verify` answered allow |
 * | `granit.iot.aws.fleet_provisioning.verify.denied` | tenant_id, reason | `/verify` answered deny |
 * | `granit.iot.aws.fleet_provisioning.verify.duration` (ms) | outcome | time to a verdict |
 * | `granit.iot.aws.fleet_provisioning.registered` | tenant_id | `/registered` created a binding |
 * | `granit.iot.aws.fleet_provisioning.already_provisioned` | tenant_id | `/registered` replays |
 * | `granit.iot.aws.fleet_provisioning.auth_failures` | tenant_id, reason | refused signatures |
 * | `granit.iot.aws.fleet_provisioning.claim_expiring` | tenant_id | expiry events raised |
 */
import { type TenantId, tenantTag } from "@granit/iot";
import { type Counter, type Histogram, type Meter, metrics } from "@opentelemetry/api";

export const FLEET_PROVISIONING_METER_NAME = "granit.iot.aws.fleet_provisioning";

const PREFIX = FLEET_PROVISIONING_METER_NAME;

export class FleetProvisioningMetrics {
  readonly #verifyAllowed: Counter;
  readonly #verifyDenied: Counter;
  readonly #verifyDuration: Histogram;
  readonly #registered: Counter;
  readonly #alreadyProvisioned: Counter;
  readonly #authFailures: Counter;
  readonly #claimExpiring: Counter;

  /** @param meter defaults to the global provider's `granit.iot.aws.fleet_provisioning` meter. */
  constructor(meter: Meter = metrics.getMeter(FLEET_PROVISIONING_METER_NAME)) {
    this.#verifyAllowed = meter.createCounter(`${PREFIX}.verify.allowed`, {
      description: "/verify requests answered with allowProvisioning = true",
    });
    this.#verifyDenied = meter.createCounter(`${PREFIX}.verify.denied`, {
      description: "/verify requests answered with allowProvisioning = false, by reason",
    });
    this.#verifyDuration = meter.createHistogram(`${PREFIX}.verify.duration`, {
      unit: "ms",
      description: "Time from an authenticated /verify request to its verdict",
    });
    this.#registered = meter.createCounter(`${PREFIX}.registered`, {
      description: "/registered calls that recorded a fleet-provisioned device",
    });
    this.#alreadyProvisioned = meter.createCounter(`${PREFIX}.already_provisioned`, {
      description: "/registered calls for a device already recorded (idempotent replays)",
    });
    this.#authFailures = meter.createCounter(`${PREFIX}.auth_failures`, {
      description: "Fleet requests refused for their signature, by reason",
    });
    this.#claimExpiring = meter.createCounter(`${PREFIX}.claim_expiring`, {
      description: "ClaimCertificateExpiringEvent raised",
    });
  }

  verifyAllowed(tenantId: TenantId | null, durationMs: number): void {
    this.#verifyAllowed.add(1, { tenant_id: tenantTag(tenantId) });
    this.#verifyDuration.record(durationMs, { outcome: "allowed" });
  }

  verifyDenied(tenantId: TenantId | null, reason: string, durationMs: number): void {
    this.#verifyDenied.add(1, { tenant_id: tenantTag(tenantId), reason });
    this.#verifyDuration.record(durationMs, { outcome: "denied" });
  }

  registered(tenantId: TenantId | null): void {
    this.#registered.add(1, { tenant_id: tenantTag(tenantId) });
  }

  alreadyProvisioned(tenantId: TenantId | null): void {
    this.#alreadyProvisioned.add(1, { tenant_id: tenantTag(tenantId) });
  }

  authFailure(tenantId: TenantId | null | undefined, reason: string): void {
    this.#authFailures.add(1, {
      tenant_id: tenantId === undefined ? "unknown" : tenantTag(tenantId),
      reason,
    });
  }

  claimExpiring(tenantId: TenantId | null): void {
    this.#claimExpiring.add(1, { tenant_id: tenantTag(tenantId) });
  }
}
