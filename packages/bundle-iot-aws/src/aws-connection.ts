/**
 * Where the bridge's AWS calls go. Either bring your own SDK clients (`AwsClientsConnection`: the
 * host controls everything, e.g. a custom HTTP handler or credentials), or let the bundle build them
 * from a region (`AwsAccountConnection`): every client with `maxAttempts: 1` (the shared
 * `AwsCallPolicy` retries, visible in metrics and paced by the rate limiter), the data planes on the
 * account's own endpoints — `DescribeEndpoint` `iot:Data-ATS` for shadows and `iot:Jobs` for the
 * jobs data plane, asked once on first use through the call policy — unless given.
 *
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_DescribeEndpoint.html
 */
import type { IoTClient } from "@aws-sdk/client-iot";
import type { IoTDataPlaneClient } from "@aws-sdk/client-iot-data-plane";
import type { IoTJobsDataPlaneClient } from "@aws-sdk/client-iot-jobs-data-plane";
import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { STSClient } from "@aws-sdk/client-sts";
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "@granit/iot-aws";

/** Endpoint URLs per service (`http://127.0.0.1:4566` for the emulator, a VPC endpoint, ...). */
export interface AwsEndpoints {
  /** The IoT control plane. @default the SDK's regional endpoint (or `AWS_ENDPOINT_URL_IOT`) */
  readonly iot?: string | undefined;
  /** The Device Shadow data plane. @default `https://` + DescribeEndpoint(`iot:Data-ATS`) */
  readonly iotData?: string | undefined;
  /** The IoT Jobs data plane (devices; the simulated fleet). @default `https://` + DescribeEndpoint(`iot:Jobs`) */
  readonly iotJobsData?: string | undefined;
  /** Secrets Manager. @default the SDK's regional endpoint */
  readonly secretsManager?: string | undefined;
  /** STS (the account id). @default the SDK's regional endpoint */
  readonly sts?: string | undefined;
}

/** Let the bundle build the SDK clients. */
export interface AwsAccountConnection {
  /** The AWS region, e.g. `eu-west-1`. */
  readonly region: string;
  /**
   * Credentials of every client when the credential provider does not supply them (IAM-role mode);
   * @default the SDK default chain (env, profile, container / instance role)
   */
  readonly credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider | undefined;
  /** One endpoint for every service (an emulator, LocalStack); `endpoints` win per service. */
  readonly endpoint?: string | undefined;
  readonly endpoints?: AwsEndpoints | undefined;
  /** The account id (device policy ARNs). @default read with STS GetCallerIdentity */
  readonly accountId?: string | undefined;
}

/** Bring your own SDK v3 clients (build them with `maxAttempts: 1`). */
export interface AwsClientsConnection {
  readonly clients: {
    readonly iot: Pick<IoTClient, "send">;
    /** On the account's `iot:Data-ATS` endpoint. */
    readonly iotData: Pick<IoTDataPlaneClient, "send">;
    /** On the account's `iot:Jobs` endpoint; only simulated devices use it. */
    readonly iotJobsData?: Pick<IoTJobsDataPlaneClient, "send"> | undefined;
    readonly secrets: Pick<SecretsManagerClient, "send">;
    /** The rotating credential loader's client (the bootstrap identity). @default `secrets` */
    readonly bootstrapSecrets?: Pick<SecretsManagerClient, "send"> | undefined;
    /** Reads the account id when `accountId` is not given. */
    readonly sts?: Pick<STSClient, "send"> | undefined;
  };
  /** The region the clients talk to (device policy ARNs). */
  readonly region: string;
  /** The account id (device policy ARNs). @default read with `clients.sts`, else unknown */
  readonly accountId?: string | undefined;
}

/** Where the bridge's AWS calls go. */
export type AwsConnection = AwsAccountConnection | AwsClientsConnection;

/** True when the connection brings its own clients. */
export function bringsOwnClients(connection: AwsConnection): connection is AwsClientsConnection {
  return "clients" in connection;
}
