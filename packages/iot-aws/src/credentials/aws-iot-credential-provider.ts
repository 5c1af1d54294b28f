import type { Logger, ReadinessGate } from "@granit/iot";
import type { Meter } from "@opentelemetry/api";
import { AWS_CREDENTIALS_GATE } from "../internal/credentials/gate.ts";
import { IamRoleAwsIoTCredentialProvider } from "../internal/credentials/iam-role-credential-provider.ts";
import { RotatingAwsIoTCredentialProvider } from "../internal/credentials/rotating-credential-provider.ts";
import type { Scheduler } from "../scheduler.ts";
import type { AwsIoTCredentialOptions } from "./aws-iot-credential-options.ts";

/** The readiness-gate name both providers report under (`/health/ready`). */
export { AWS_CREDENTIALS_GATE };

/** AWS keys as a loader returns them. */
export interface LoadedAwsIoTCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string | undefined;
  /** When the keys stop working (temporary credentials); absent for long-lived keys. */
  readonly expiration?: Date | undefined;
}

/**
 * Where rotating mode reads the keys from. The Secrets Manager loader ships in
 * `@granit/iot-aws-provisioning` so this package never imports the AWS SDK. `null` means "nothing
 * configured here: let the SDK default chain authenticate" (the provider is then ready).
 * Honour `signal`: it aborts when the fetch times out or the provider stops.
 */
export interface AwsIoTCredentialLoader {
  load(signal: AbortSignal): Promise<LoadedAwsIoTCredentials | null>;
}

/** Structurally the AWS SDK v3 `AwsCredentialIdentity` (no `@aws-sdk/*` import needed). */
export interface AwsCredentialIdentity {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiration?: Date;
}

/** Structurally the AWS SDK v3 `AwsCredentialIdentityProvider`: pass it as a client's `credentials`. */
export type AwsCredentialIdentityProvider = () => Promise<AwsCredentialIdentity>;

export type AwsIoTCredentialMode = "iam-role" | "rotating";

/** What `/health/ready` and operators see; never contains key material. */
export interface AwsIoTCredentialStatus {
  readonly mode: AwsIoTCredentialMode;
  readonly ready: boolean;
  /** What signs requests: loaded keys, the SDK default chain, or nothing yet. */
  readonly source: "loaded-keys" | "default-chain" | "none";
  /** Last four characters of the access key id in use, for telling rotations apart in logs. */
  readonly accessKeyIdSuffix: string | null;
  readonly lastSuccessAt: Date | null;
  readonly lastFailureAt: Date | null;
  readonly lastError: string | null;
  readonly consecutiveFailures: number;
  readonly totalFailures: number;
}

/**
 * The AWS credentials of the bridge and the readiness gate in front of every AWS call.
 *
 * - IAM-role mode (`FleetCredentialSecretArn` unset): `sdkCredentials()` is `undefined` — build
 *   clients without `credentials` so the SDK default chain (instance/task role, env) authenticates;
 *   always ready.
 * - Rotating mode: a background refresh re-reads the loader every `RotationCheckIntervalMinutes`;
 *   reads never block (the last good keys are served from memory); a failed refresh keeps the last
 *   good keys (stale-ok) and is counted; not ready until the first successful fetch.
 *
 * `isReady()` gates every AWS call (`AwsCallPolicy` refuses while it is closed) and is reported by
 * the host's `/health/ready`.
 */
export interface AwsIoTCredentialProvider extends ReadinessGate {
  readonly mode: AwsIoTCredentialMode;
  /**
   * The value for an AWS SDK v3 client's `credentials`: `undefined` in IAM-role mode (omit the
   * option), else a provider function that always returns the current keys. Spread it:
   * `new IoTClient({ ...(creds ? { credentials: creds } : {}) })`.
   */
  sdkCredentials(): AwsCredentialIdentityProvider | undefined;
  status(): AwsIoTCredentialStatus;
  /** Starts the refresh loop; resolves after the first fetch settled (success, failure or timeout). Never rejects. */
  start(): Promise<void>;
  /** Stops the loop and aborts a fetch in flight. */
  stop(): Promise<void>;
  /** Fetches now (outside the schedule); true on success. */
  refresh(): Promise<boolean>;
}

/** What the factory needs besides the options. */
export interface AwsIoTCredentialProviderDependencies {
  /** Required in rotating mode. */
  readonly loader?: AwsIoTCredentialLoader | undefined;
  /**
   * Rotating mode only: the SDK default chain (e.g. `fromNodeProviderChain()` from
   * `@aws-sdk/credential-providers`), used when the loader answers `null`. Without it such a
   * provider rejects requests with `AwsCredentialsNotReadyError`.
   */
  readonly defaultChain?: AwsCredentialIdentityProvider | undefined;
  /** @default systemScheduler */
  readonly scheduler?: Scheduler | undefined;
  /** @default silentLogger */
  readonly logger?: Logger | undefined;
  /** @default the global `granit.iot.aws` meter */
  readonly meter?: Meter | undefined;
}

/**
 * Picks the mode from the options: IAM-role when `fleetCredentialSecretArn` is `null`, rotating
 * otherwise (then `dependencies.loader` is required).
 */
export function createAwsIoTCredentialProvider(
  options: AwsIoTCredentialOptions,
  dependencies: AwsIoTCredentialProviderDependencies = {},
): AwsIoTCredentialProvider {
  if (options.fleetCredentialSecretArn === null) return new IamRoleAwsIoTCredentialProvider();
  if (!dependencies.loader) {
    throw new TypeError(
      "IoT:Aws:Credentials:FleetCredentialSecretArn is set (rotating mode) but no credential loader was given; " +
        "pass the Secrets Manager loader from @granit/iot-aws-provisioning.",
    );
  }
  return new RotatingAwsIoTCredentialProvider(options, { ...dependencies, loader: dependencies.loader });
}
