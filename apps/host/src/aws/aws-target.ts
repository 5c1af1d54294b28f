/**
 * Which AWS the host talks to. With `IoT:Aws:Target` = `Auto` (the default):
 *
 * - an endpoint variable (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_IOT`, ...) → that endpoint;
 * - a region (`IoT:Aws:Region`, `AWS_REGION`, `AWS_DEFAULT_REGION`) with credentials in sight
 *   (`AWS_ACCESS_KEY_ID`, `AWS_PROFILE`, a web-identity token, a container credentials URI, or a
 *   rotating `IoT:Aws:Credentials:FleetCredentialSecretArn`) → that account;
 * - otherwise the in-process emulator: no AWS account is ever used by accident.
 *
 * `Emulator` and `Account` force the choice (`Account` for an instance role, which cannot be seen
 * from the environment).
 *
 * @see https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html
 */
import type { AwsEndpoints } from "@granit/bundle-iot-aws";
import type { AwsHostSettings } from "./aws-settings.ts";

export type AwsTarget =
  | { readonly kind: "disabled" }
  | { readonly kind: "emulator"; readonly port: number }
  | {
      readonly kind: "account";
      /** `null` when none is configured (start-up then stops and says so). */
      readonly region: string | null;
      /** Per-service endpoints from the `AWS_ENDPOINT_URL*` variables (empty for AWS itself). */
      readonly endpoints: AwsEndpoints;
      /** Why this target was chosen, for the banner. */
      readonly reason: string;
    };

type Env = Readonly<Record<string, string | undefined>>;

const SERVICE_ENDPOINT_VARIABLES = {
  iot: "AWS_ENDPOINT_URL_IOT",
  iotData: "AWS_ENDPOINT_URL_IOT_DATA_PLANE",
  iotJobsData: "AWS_ENDPOINT_URL_IOT_JOBS_DATA_PLANE",
  secretsManager: "AWS_ENDPOINT_URL_SECRETS_MANAGER",
  sts: "AWS_ENDPOINT_URL_STS",
} as const satisfies Record<keyof AwsEndpoints, string>;

const CREDENTIAL_VARIABLES = [
  "AWS_ACCESS_KEY_ID",
  "AWS_PROFILE",
  "AWS_WEB_IDENTITY_TOKEN_FILE",
  "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
  "AWS_CONTAINER_CREDENTIALS_FULL_URI",
] as const;

const set = (env: Env, name: string): string | undefined => {
  const value = env[name]?.trim();
  return value ? value : undefined;
};

/** The endpoints the `AWS_ENDPOINT_URL*` variables name (a service variable wins over the global one). */
export function endpointsFromEnv(env: Env): AwsEndpoints {
  const global = set(env, "AWS_ENDPOINT_URL");
  const endpoints: Record<string, string> = {};
  for (const [service, variable] of Object.entries(SERVICE_ENDPOINT_VARIABLES)) {
    const url = set(env, variable) ?? global;
    if (url) endpoints[service] = url;
  }
  return endpoints;
}

/** Chooses the target (see the module comment). */
export function selectAwsTarget(
  settings: AwsHostSettings,
  env: Env,
  context: { readonly rotatingCredentials: boolean },
): AwsTarget {
  if (!settings.enabled) return { kind: "disabled" };
  if (settings.target === "Emulator") return { kind: "emulator", port: settings.emulator.port };
  const endpoints = endpointsFromEnv(env);
  const region = settings.region ?? set(env, "AWS_REGION") ?? set(env, "AWS_DEFAULT_REGION") ?? null;
  const credentials = CREDENTIAL_VARIABLES.find((name) => set(env, name));
  if (settings.target === "Account") {
    return {
      kind: "account",
      region,
      endpoints,
      reason: "IoT:Aws:Target=Account",
    };
  }
  if (Object.keys(endpoints).length > 0) {
    return {
      kind: "account",
      region: region ?? "us-east-1",
      endpoints,
      reason: "AWS_ENDPOINT_URL* is set",
    };
  }
  if (region && (credentials || context.rotatingCredentials)) {
    return {
      kind: "account",
      region,
      endpoints,
      reason: credentials ? `${credentials} is set` : "IoT:Aws:Credentials:FleetCredentialSecretArn is set",
    };
  }
  return { kind: "emulator", port: settings.emulator.port };
}
