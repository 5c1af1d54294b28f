/**
 * Default request rates (per second, per account and region) of the AWS operations the bridge
 * calls, keyed `service:Operation` with the SigV4 service name (`iot`, `iotdata`, `secretsmanager`).
 * Quotas are per account: one `AwsCallPolicy` per host, shared by every bridge package. Several
 * hosts on one account each get these rates — lower them (`IoT:Aws:Calls:RateLimits`) or let the
 * retry absorb the throttling.
 *
 * Sources: the AWS IoT Core throttling table (last full table in awsdocs/aws-iot-docs
 * `limits-iot.md`, 2019 — AWS has raised several since, so these are floors) and the Secrets
 * Manager quotas page. Assumptions, not in those tables: CreateKeysAndCertificate 10,
 * ListCertificates 10, DescribeEndpoint 10, Create/DeleteSecret 50, and the account-wide shadow
 * rates (region-dependent, adjustable, "low thousands" in large regions) set conservatively to 400
 * for Get/Update/DeleteThingShadow and 10 for ListNamedShadowsForThing. AWS also caps shadow traffic
 * at 20 requests/s per thing, which one poller never reaches.
 *
 * @see https://docs.aws.amazon.com/general/latest/gr/iot-core.html#limits_iot
 * @see https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_limits.html
 */
export const AWS_DEFAULT_RATE_LIMITS: Readonly<Record<string, number>> = Object.freeze({
  "iot:CreateThing": 15,
  "iot:DescribeThing": 350,
  "iot:UpdateThing": 10,
  "iot:DeleteThing": 15,
  "iot:ListThings": 10,
  "iot:AttachPolicy": 15,
  "iot:DetachPolicy": 15,
  "iot:AttachThingPrincipal": 15,
  "iot:DetachThingPrincipal": 15,
  "iot:ListThingPrincipals": 10,
  "iot:ListPrincipalThings": 10,
  "iot:CreateCertificateFromCsr": 15,
  "iot:CreateKeysAndCertificate": 10,
  "iot:UpdateCertificate": 10,
  "iot:DeleteCertificate": 10,
  "iot:DescribeCertificate": 10,
  "iot:ListCertificates": 10,
  "iot:GetPolicy": 10,
  "iot:CreatePolicy": 10,
  "iot:CreateJob": 10,
  "iot:DescribeJob": 10,
  "iot:CancelJob": 10,
  "iot:DeleteJob": 10,
  "iot:DescribeJobExecution": 10,
  "iot:DescribeThingGroup": 100,
  "iot:CreateDynamicThingGroup": 5,
  "iot:DescribeEndpoint": 10,
  "iotdata:GetThingShadow": 400,
  "iotdata:UpdateThingShadow": 400,
  "iotdata:DeleteThingShadow": 400,
  "iotdata:ListNamedShadowsForThing": 10,
  "secretsmanager:GetSecretValue": 10_000,
  "secretsmanager:DescribeSecret": 40_000,
  "secretsmanager:CreateSecret": 50,
  "secretsmanager:PutSecretValue": 50,
  "secretsmanager:UpdateSecret": 50,
  "secretsmanager:DeleteSecret": 50,
  "secretsmanager:RestoreSecret": 50,
  "secretsmanager:ListSecrets": 100,
});

/** Rate of operations absent from the table (the lowest common control-plane quota). */
export const DEFAULT_UNLISTED_TOKENS_PER_SECOND = 10;

/** One token bucket: `tokensPerSecond` sustained, up to `burst` at once. */
export interface RateLimit {
  readonly tokensPerSecond: number;
  /** @default tokensPerSecond (one second of tokens), at least 1 */
  readonly burst?: number | undefined;
}
