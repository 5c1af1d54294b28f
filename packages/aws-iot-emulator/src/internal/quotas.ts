/**
 * Per-operation throttling with token buckets (burst = one second of tokens), refilled on the
 * emulator's injected clock: with a fake clock that stands still, a bucket stays empty until the test
 * advances it, so throttling tests never depend on wall-clock speed. Off by default; `"aws-default"`
 * applies {@link AWS_DEFAULT_QUOTAS}; a record sets your own rates. Keys are `service:Operation`, plus
 * the shared buckets below.
 */

/**
 * Default AWS quotas, in requests per second per account and region.
 *
 * Sources: the AWS IoT Core throttling table (https://docs.aws.amazon.com/general/latest/gr/iot-core.html,
 * last full table in awsdocs/aws-iot-docs limits-iot.md, 2019), and Secrets Manager quotas
 * (https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_limits.html).
 * Assumptions (not in those tables, or not retrieved): CreateKeysAndCertificate 10, ListCertificates 10,
 * DeletePolicy/ListAttachedPolicies 10, DescribeEndpoint 10, thing-group APIs, the account-wide shadow
 * rates (2000/s for Get/Update/DeleteThingShadow, 10/s for ListNamedShadowsForThing), Create/DeleteSecret 50.
 */
export const AWS_DEFAULT_QUOTAS: Readonly<Record<string, number>> = Object.freeze({
  "iot:CreateThing": 15,
  "iot:DescribeThing": 350,
  "iot:UpdateThing": 10,
  "iot:DeleteThing": 15,
  "iot:ListThings": 10,
  "iot:CreateThingGroup": 25,
  "iot:DescribeThingGroup": 100,
  "iot:DeleteThingGroup": 25,
  "iot:AddThingToThingGroup": 60,
  "iot:RemoveThingFromThingGroup": 60,
  "iot:ListThingsInThingGroup": 10,
  "iot:CreateKeysAndCertificate": 10,
  "iot:CreateCertificateFromCsr": 15,
  "iot:DescribeCertificate": 10,
  "iot:UpdateCertificate": 10,
  "iot:DeleteCertificate": 10,
  "iot:ListCertificates": 10,
  "iot:CreatePolicy": 10,
  "iot:GetPolicy": 10,
  "iot:DeletePolicy": 10,
  "iot:AttachPolicy": 15,
  "iot:DetachPolicy": 15,
  "iot:ListAttachedPolicies": 10,
  "iot:AttachThingPrincipal": 15,
  "iot:DetachThingPrincipal": 15,
  "iot:ListThingPrincipals": 10,
  "iot:ListPrincipalThings": 10,
  "iot:CreateJob": 10,
  "iot:DescribeJob": 10,
  "iot:GetJobDocument": 10,
  "iot:CancelJob": 10,
  "iot:DeleteJob": 10,
  "iot:DescribeJobExecution": 10,
  "iot:ListJobExecutionsForThing": 10,
  "iot:ListJobExecutionsForJob": 10,
  "iot:DescribeEndpoint": 10,
  "iotdata:GetThingShadow": 2000,
  "iotdata:UpdateThingShadow": 2000,
  "iotdata:DeleteThingShadow": 2000,
  "iotdata:ListNamedShadowsForThing": 10,
  /** All shadow operations on one thing combined (limits-iot: "20 requests per second per thing"). */
  "iotdata:PerThing": 20,
  /** DescribeJobExecution + GetPendingJobExecutions combined. */
  "iot-jobs-data:Read": 200,
  /** StartNextPendingJobExecution + UpdateJobExecution combined. */
  "iot-jobs-data:Write": 200,
  "secretsmanager:GetSecretValue": 10_000,
  "secretsmanager:DescribeSecret": 40_000,
  "secretsmanager:CreateSecret": 50,
  "secretsmanager:DeleteSecret": 50,
  "secretsmanager:PutSecretValue": 50,
  "secretsmanager:RestoreSecret": 50,
  "secretsmanager:ListSecrets": 100,
});

/** Operations that share one bucket in AWS. */
const SHARED_BUCKETS: Readonly<Record<string, string>> = {
  "iot-jobs-data:DescribeJobExecution": "iot-jobs-data:Read",
  "iot-jobs-data:GetPendingJobExecutions": "iot-jobs-data:Read",
  "iot-jobs-data:StartNextPendingJobExecution": "iot-jobs-data:Write",
  "iot-jobs-data:UpdateJobExecution": "iot-jobs-data:Write",
};

export type QuotaSetting = "off" | "aws-default" | Record<string, number> | undefined;

interface Bucket {
  tokens: number;
  at: number;
}

export class Quotas {
  #rates: Readonly<Record<string, number>> = {};
  #enabled = false;
  #buckets = new Map<string, Bucket>();
  readonly #now: () => number;

  /** @param now epoch milliseconds (the injected clock) */
  constructor(now: () => number) {
    this.#now = now;
  }

  set(setting: QuotaSetting): void {
    if (setting === undefined || setting === "off") this.#rates = {};
    else if (setting === "aws-default") this.#rates = AWS_DEFAULT_QUOTAS;
    else if (typeof setting === "object") {
      for (const [key, rate] of Object.entries(setting)) {
        if (typeof rate !== "number" || !(rate > 0))
          throw new TypeError(`Quota ${key} must be a positive number`);
      }
      this.#rates = { ...setting };
    } else throw new TypeError(`Unknown quota setting ${String(setting)}`);
    this.#enabled = Object.keys(this.#rates).length > 0;
    this.#buckets.clear();
  }

  get rates(): Readonly<Record<string, number>> {
    return this.#rates;
  }

  /** Takes one token from every bucket that applies; false = throttled (no token taken). */
  tryAcquire(service: string, operation: string, thingName: string | undefined): boolean {
    const rates = this.#rates;
    if (this.#enabled) {
      const key = `${service}:${operation}`;
      const keys: [bucket: string, rate: number][] = [];
      const own = rates[key];
      if (own !== undefined) keys.push([key, own]);
      const shared = SHARED_BUCKETS[key];
      const sharedRate = shared === undefined ? undefined : rates[shared];
      if (shared !== undefined && sharedRate !== undefined) keys.push([shared, sharedRate]);
      const perThing = rates["iotdata:PerThing"];
      if (service === "iotdata" && thingName !== undefined && perThing !== undefined) {
        keys.push([`iotdata:PerThing:${thingName}`, perThing]);
      }
      if (keys.length === 0) return true;
      const now = this.#now();
      const buckets = keys.map(([name, rate]) => {
        let bucket = this.#buckets.get(name);
        if (!bucket) {
          bucket = { tokens: rate, at: now };
          this.#buckets.set(name, bucket);
        }
        bucket.tokens = Math.min(rate, bucket.tokens + (Math.max(0, now - bucket.at) / 1000) * rate);
        bucket.at = now;
        return bucket;
      });
      if (buckets.some((b) => b.tokens < 1)) return false;
      for (const b of buckets) b.tokens -= 1;
    }
    return true;
  }
}
