/**
 * IAM-role mode: the bridge holds no keys. SDK clients are built without `credentials`, so the AWS
 * SDK default chain (environment, web identity, ECS task role, EC2 instance role) authenticates.
 * Always ready: the chain's own failures surface as AWS errors on the first call.
 */
import type {
  AwsCredentialIdentityProvider,
  AwsIoTCredentialProvider,
  AwsIoTCredentialStatus,
} from "../../credentials/aws-iot-credential-provider.ts";
import { AWS_CREDENTIALS_GATE } from "./gate.ts";

export class IamRoleAwsIoTCredentialProvider implements AwsIoTCredentialProvider {
  readonly name = AWS_CREDENTIALS_GATE;
  readonly mode = "iam-role" as const;

  isReady(): boolean {
    return true;
  }

  describe(): string {
    return "IAM-role mode: the AWS SDK default credential chain authenticates";
  }

  sdkCredentials(): AwsCredentialIdentityProvider | undefined {
    return undefined;
  }

  status(): AwsIoTCredentialStatus {
    return {
      mode: this.mode,
      ready: true,
      source: "default-chain",
      accessKeyIdSuffix: null,
      lastSuccessAt: null,
      lastFailureAt: null,
      lastError: null,
      consecutiveFailures: 0,
      totalFailures: 0,
    };
  }

  async start(): Promise<void> {}

  async stop(): Promise<void> {}

  async refresh(): Promise<boolean> {
    return true;
  }
}
