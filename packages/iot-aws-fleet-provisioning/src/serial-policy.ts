import type { TenantId } from "@granit/iot";

/** What a `SerialPolicy` decides for one serial number in one tenant. */
export type SerialPolicyVerdict =
  | {
      readonly allow: true;
      /** Extra template parameters to return to AWS (merged over the defaults). */
      readonly parameterOverrides?: Readonly<Record<string, string>>;
    }
  | {
      readonly allow: false;
      /** Text for the operator and the response (`policy_denied` is the code). */
      readonly reason?: string;
    };

/** What a policy sees of a `/verify` request. */
export interface SerialPolicyContext {
  readonly claimCertificateId: string | null;
  readonly templateName: string | null;
  /** The template parameters the device sent (as the pre-provisioning hook received them). */
  readonly parameters: Readonly<Record<string, string>>;
}

/**
 * A pluggable eligibility rule of `/verify` (Granit's `IFleetProvisioningSerialPolicy`): e.g. "the
 * serial must be in this tenant's manufacturing list". It runs after the built-in checks (deny list,
 * claim certificate, ownership). Keep it fast — AWS gives the pre-provisioning hook 5 seconds in
 * all — and make no AWS call. A policy that throws makes `/verify` answer 500, which the Lambda
 * turns into a denial.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/pre-provisioning-hook.html
 */
export interface SerialPolicy {
  evaluate(
    serialNumber: string,
    tenantId: TenantId | null,
    context: SerialPolicyContext,
  ): Promise<SerialPolicyVerdict> | SerialPolicyVerdict;
}

/** The default policy: every serial that passed the built-in checks is eligible. */
export const allowAllSerialPolicy: SerialPolicy = Object.freeze({
  evaluate: (): SerialPolicyVerdict => ({ allow: true }),
});
