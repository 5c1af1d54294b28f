/**
 * `@granit/iot-aws-fleet-provisioning/lambda` — the AWS Lambda handlers of fleet provisioning by
 * claim, with **no** dependency on the host, on a database or on the rest of this package:
 *
 * - `preProvisioningHook` — the template's `PreProvisioningHook`: asks `/verify`, denies by default;
 * - `registrationForwarder` — for an IoT Rule on `$aws/events/thing/+/created`: posts `/registered`.
 *
 * Both read their configuration from environment variables (`fleetLambdaConfigFromEnv`) on the
 * first invocation and keep their client for the container's life. `createPreProvisioningHook` /
 * `createRegistrationForwarder` build handlers with explicit options (tests, custom wiring).
 */
import { FleetApiClient, loadSecretFromSecretsManager } from "./fleet-api-client.ts";
import { type FleetLambdaConfig, fleetLambdaConfigFromEnv } from "./lambda-config.ts";
import { consoleLambdaLog } from "./lambda-log.ts";
import {
  createPreProvisioningHook,
  type PreProvisioningHookEvent,
  type PreProvisioningHookResult,
} from "./pre-provisioning-hook.ts";
import {
  createRegistrationForwarder,
  type RegistrationForwardResult,
  type ThingCreatedEvent,
} from "./registration-forwarder.ts";

export {
  FLEET_SIGNATURE_ALGORITHM,
  fleetAuthorizationHeader,
  fleetStringToSign,
} from "../fleet-request-signature.ts";
export {
  type AwsClientLike,
  FleetApiClient,
  type FleetApiClientOptions,
  type FleetApiResponse,
  loadSecretFromSecretsManager,
} from "./fleet-api-client.ts";
export {
  DEFAULT_THING_ATTRIBUTES,
  type FleetLambdaConfig,
  FleetLambdaConfigError,
  fleetLambdaConfigFromEnv,
  MAX_HOOK_TIMEOUT_MS,
  type ThingAttributeNames,
} from "./lambda-config.ts";
export { consoleLambdaLog, type LambdaLog } from "./lambda-log.ts";
export {
  createPreProvisioningHook,
  type PreProvisioningHookEvent,
  type PreProvisioningHookOptions,
  type PreProvisioningHookResult,
  templateNameOf,
} from "./pre-provisioning-hook.ts";
export {
  createRegistrationForwarder,
  type RegistrationForwarderOptions,
  type RegistrationForwardResult,
  type ThingCreatedEvent,
} from "./registration-forwarder.ts";

/** A `FleetApiClient` for a configuration (secret from the variable, or from Secrets Manager once). */
export function fleetApiClientFor(config: FleetLambdaConfig): FleetApiClient {
  const secretArn = config.secretArn;
  return new FleetApiClient({
    url: config.url,
    keyId: config.keyId,
    secret: config.secret ?? ((signal) => loadSecretFromSecretsManager(secretArn as string, { signal })),
  });
}

let hook: ((event: PreProvisioningHookEvent) => Promise<PreProvisioningHookResult>) | null = null;
let forwarder: ((event: ThingCreatedEvent) => Promise<RegistrationForwardResult>) | null = null;

/** The pre-provisioning hook handler, configured from the environment. Denies on any error. */
export async function preProvisioningHook(
  event: PreProvisioningHookEvent,
): Promise<PreProvisioningHookResult> {
  if (!hook) {
    try {
      const config = fleetLambdaConfigFromEnv();
      hook = createPreProvisioningHook({
        client: fleetApiClientFor(config),
        serialParameter: config.serialParameter,
        timeoutMs: config.timeoutMs,
      });
    } catch (error) {
      consoleLambdaLog({ level: "error", message: "hook misconfigured; denying", error: String(error) });
      return { allowProvisioning: false };
    }
  }
  return hook(event);
}

/** The registration forwarder handler, configured from the environment. */
export async function registrationForwarder(event: ThingCreatedEvent): Promise<RegistrationForwardResult> {
  if (!forwarder) {
    const config = fleetLambdaConfigFromEnv();
    forwarder = createRegistrationForwarder({
      client: fleetApiClientFor(config),
      attributes: config.attributes,
      defaultModel: config.defaultModel,
      defaultFirmwareVersion: config.defaultFirmwareVersion,
      principalWaitMs: config.principalWaitMs,
    });
  }
  return forwarder(event);
}
