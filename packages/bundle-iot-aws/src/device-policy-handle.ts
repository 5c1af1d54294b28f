/**
 * The device policy of the bundle's host: its name (`IoT:Aws:Provisioning:DevicePolicyName`), the
 * document it must hold (`devicePolicyDocument` of `@granit/iot-aws-provisioning`, whose ARNs name
 * the region and the account) and `ensure()`, which creates it when absent and never changes an
 * existing one. Structurally what the host's `GET /api/iot/aws/policy` and
 * `POST /api/iot/aws/policy/ensure` routes need.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/thing-policy-variables.html
 */
import type { TenantId } from "@granit/iot";
import type { DevicePolicyDocument, EnsureDevicePolicyResult } from "@granit/iot-aws-provisioning";

export interface DevicePolicyHandle {
  readonly policyName: string;
  /** The expected document; throws `AwsAccountUnknownError` while the account id is not known. */
  document(): DevicePolicyDocument;
  /** Creates the policy when absent: `{ policyName, created, matches }`. */
  ensure(context?: {
    readonly tenantId?: TenantId | null;
    readonly signal?: AbortSignal;
  }): Promise<EnsureDevicePolicyResult>;
}
