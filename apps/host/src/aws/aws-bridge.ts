/**
 * Wires the AWS bridge into a host: `addGranitBundleIoTAws` (the six packages, their bus handlers,
 * background services and the fleet endpoints at `/api/iot/fleet-provisioning`), then the host's
 * route modules over the handles it returns — provisioning (bindings, retry, reconcile, device
 * policy), device shadows, device commands, and the fleet-provisioning management API. Call it after
 * `createHost` and before `host.start()`.
 */
import {
  AwsAccountUnknownError,
  addGranitBundleIoTAws,
  type GranitBundleIoTAwsOptions,
  type GranitIoTAwsBundle,
} from "@granit/bundle-iot-aws";
import type { Host } from "../host.ts";
import { HttpProblem } from "../http/problem-details.ts";
import { registerCommandRoutes } from "./commands-routes.ts";
import { FLEET_ADMIN_PREFIX, fleetProvisioningAdminRoutes } from "./fleet-provisioning-routes.ts";
import { type DevicePolicyRouteDependency, registerProvisioningRoutes } from "./provisioning-routes.ts";
import { registerShadowRoutes } from "./shadow-routes.ts";

/** Seconds a client should wait after a 503 of the AWS routes. */
const RETRY_AFTER_SECONDS = 30;

const UNAVAILABLE = new Set([
  "AwsAccountUnknownError",
  "AwsCredentialsNotReadyError",
  "AwsCallRetriesExhaustedError",
]);

function unavailable(error: unknown): unknown {
  const name = (error as { name?: unknown }).name;
  if (typeof name !== "string" || !UNAVAILABLE.has(name)) return error;
  const detail =
    error instanceof AwsAccountUnknownError
      ? error.message
      : name === "AwsCredentialsNotReadyError"
        ? "AWS credentials are not ready yet; nothing was sent. Retry later."
        : "AWS is throttling or failing; nothing is known to be written. Retry later.";
  return new HttpProblem("unavailable", detail, { headers: { "Retry-After": String(RETRY_AFTER_SECONDS) } });
}

/** Adds the bundle and mounts every AWS route module on `host`. */
export async function wireAwsBridge(
  host: Host,
  options: GranitBundleIoTAwsOptions,
): Promise<GranitIoTAwsBundle> {
  const bundle = await addGranitBundleIoTAws(host, options);
  const devicePolicy: DevicePolicyRouteDependency = {
    policyName: bundle.devicePolicy.policyName,
    document() {
      try {
        return bundle.devicePolicy.document();
      } catch (error) {
        throw unavailable(error);
      }
    },
    async ensure() {
      try {
        return await bundle.devicePolicy.ensure();
      } catch (error) {
        throw unavailable(error);
      }
    },
  };
  await registerProvisioningRoutes(host.app, {
    tokens: host.tokens,
    provisioning: bundle.provisioning,
    devicePolicy,
  });
  registerShadowRoutes(host.app, {
    tokens: host.tokens,
    shadows: bundle.shadow.shadows,
    retryAfterSeconds: RETRY_AFTER_SECONDS,
  });
  registerCommandRoutes(host.app, {
    tokens: host.tokens,
    commands: bundle.jobs.commands,
    retryAfterSeconds: RETRY_AFTER_SECONDS,
  });
  if (bundle.fleet) {
    await host.app.register(fleetProvisioningAdminRoutes, {
      prefix: FLEET_ADMIN_PREFIX,
      tokens: host.tokens,
      claimCertificates: bundle.fleet.claimCertificates,
      fleetKeys: bundle.fleet.fleetKeys,
    });
  }
  return bundle;
}
