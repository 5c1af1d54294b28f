/**
 * Builds the bridge's SDK clients from an `AwsAccountConnection`: `maxAttempts: 1` everywhere (the
 * call policy retries), credentials from the rotating provider when it has keys, else the
 * connection's, else the SDK default chain; data planes on explicit endpoints or on the account's
 * own, read lazily with `DescribeEndpoint` (memoised; a failed read is asked again next time).
 */
import { IoTClient } from "@aws-sdk/client-iot";
import { IoTDataPlaneClient } from "@aws-sdk/client-iot-data-plane";
import { IoTJobsDataPlaneClient } from "@aws-sdk/client-iot-jobs-data-plane";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { STSClient } from "@aws-sdk/client-sts";
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "@granit/iot-aws";
import type { AwsAccountConnection } from "../aws-connection.ts";

/** What `DescribeEndpoint` is asked for: the Device Shadow and the Jobs data planes. */
export type DataPlaneEndpointType = "iot:Data-ATS" | "iot:Jobs";

export interface BuiltAwsClients {
  readonly iot: IoTClient;
  readonly iotData: IoTDataPlaneClient;
  readonly iotJobsData: IoTJobsDataPlaneClient;
  readonly secrets: SecretsManagerClient;
  /** The rotating loader's client: the bootstrap identity, with the SDK's own retries. */
  readonly bootstrapSecrets: SecretsManagerClient;
  readonly sts: STSClient;
  destroy(): void;
}

interface V1Endpoint {
  readonly protocol: string;
  readonly hostname: string;
  readonly port?: number;
  readonly path: string;
}

function toEndpoint(url: string): V1Endpoint {
  const parsed = new URL(url);
  return {
    protocol: parsed.protocol,
    hostname: parsed.hostname,
    ...(parsed.port ? { port: Number(parsed.port) } : {}),
    path: parsed.pathname || "/",
  };
}

/** A memoised endpoint provider over `DescribeEndpoint` (AWS answers a host name without scheme). */
function describedEndpoint(describe: () => Promise<string>): () => Promise<V1Endpoint> {
  let pending: Promise<V1Endpoint> | undefined;
  return () => {
    pending ??= describe().then(
      (address) => toEndpoint(/^[a-z]+:\/\//i.test(address) ? address : `https://${address}`),
      (error: unknown) => {
        pending = undefined;
        throw error;
      },
    );
    return pending;
  };
}

export function buildAwsClients(
  connection: AwsAccountConnection,
  dependencies: {
    /** The rotating provider's keys; `undefined` in IAM-role mode. */
    readonly rotating: AwsCredentialIdentityProvider | undefined;
    /** `DescribeEndpoint` through the call policy (only called for a data plane without an endpoint). */
    readonly describeEndpoint: (type: DataPlaneEndpointType) => Promise<string>;
  },
): BuiltAwsClients {
  const endpoints = connection.endpoints ?? {};
  const region = connection.region;
  const fixed: AwsCredentialIdentity | AwsCredentialIdentityProvider | undefined = connection.credentials;
  const bridgeCredentials = dependencies.rotating ?? fixed;
  const base = (endpoint: string | undefined) => ({
    region,
    maxAttempts: 1,
    ...(endpoint ? { endpoint } : {}),
    ...(bridgeCredentials ? { credentials: bridgeCredentials } : {}),
  });
  const iotEndpoint = endpoints.iot ?? connection.endpoint;
  const dataEndpoint = endpoints.iotData ?? connection.endpoint;
  const jobsEndpoint = endpoints.iotJobsData ?? connection.endpoint;
  const secretsEndpoint = endpoints.secretsManager ?? connection.endpoint;
  const stsEndpoint = endpoints.sts ?? connection.endpoint;

  const iot = new IoTClient(base(iotEndpoint));
  const iotData = new IoTDataPlaneClient({
    ...base(dataEndpoint),
    ...(dataEndpoint
      ? {}
      : { endpoint: describedEndpoint(() => dependencies.describeEndpoint("iot:Data-ATS")) }),
  });
  const iotJobsData = new IoTJobsDataPlaneClient({
    ...base(jobsEndpoint),
    ...(jobsEndpoint ? {} : { endpoint: describedEndpoint(() => dependencies.describeEndpoint("iot:Jobs")) }),
  });
  const secrets = new SecretsManagerClient(base(secretsEndpoint));
  const bootstrapSecrets = new SecretsManagerClient({
    region,
    ...(secretsEndpoint ? { endpoint: secretsEndpoint } : {}),
    ...(fixed ? { credentials: fixed } : {}),
  });
  const sts = new STSClient(base(stsEndpoint));
  return {
    iot,
    iotData,
    iotJobsData,
    secrets,
    bootstrapSecrets,
    sts,
    destroy() {
      for (const client of [iot, iotData, iotJobsData, secrets, bootstrapSecrets, sts]) client.destroy();
    },
  };
}
