/**
 * The per-device AWS IoT policy this bridge expects as `DevicePolicyName`: one policy shared by every
 * device certificate, made per-device by the thing policy variable `${iot:Connection.Thing.ThingName}`
 * (the MQTT client id must equal the thing name, and the certificate must be attached to the thing):
 *
 * - connect only as its own thing (`client/${ThingName}`, `IsAttached`);
 * - publish / receive / subscribe only on its own shadow (`$aws/things/${ThingName}/shadow/*`,
 *   classic and named) and jobs (`$aws/things/${ThingName}/jobs/*`) topics;
 * - the HTTPS shadow and jobs data-plane actions on its own thing only.
 *
 * A device can never read another device's shadow or jobs. It isolates devices, not tenants: a
 * per-tenant prefix (`client/t{tenantHex}-*`) needs one policy per tenant.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/thing-policy-variables.html
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/device-shadow-mqtt.html
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/jobs-mqtt-api.html
 */
import type { TenantId } from "@granit/iot";
import type { AwsCallPolicy, AwsClientLike } from "@granit/iot-aws";
import { AwsApi } from "./internal/aws-api.ts";

/** Where the policy applies: the ARNs it names carry the partition, region and account. */
export interface DevicePolicyScope {
  readonly region: string;
  readonly accountId: string;
  /** @default "aws" */
  readonly partition?: string | undefined;
}

/** An IoT policy statement (the subset this document uses). */
export interface DevicePolicyStatement {
  readonly Effect: "Allow" | "Deny";
  readonly Action: string | readonly string[];
  readonly Resource: string | readonly string[];
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

export interface DevicePolicyDocument {
  readonly Version: "2012-10-17";
  readonly Statement: readonly DevicePolicyStatement[];
}

/** The thing policy variable every resource of the document is scoped by. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: an IoT policy variable, not a JavaScript placeholder.
export const THING_NAME_VARIABLE = "${iot:Connection.Thing.ThingName}";

/** The device policy document (see the module comment). */
export function devicePolicyDocument(scope: DevicePolicyScope): DevicePolicyDocument {
  const arn = `arn:${scope.partition ?? "aws"}:iot:${scope.region}:${scope.accountId}`;
  const own = `$aws/things/${THING_NAME_VARIABLE}`;
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Action: "iot:Connect",
        Resource: `${arn}:client/${THING_NAME_VARIABLE}`,
        Condition: { Bool: { "iot:Connection.Thing.IsAttached": "true" } },
      },
      {
        Effect: "Allow",
        Action: ["iot:Publish", "iot:Receive"],
        Resource: [`${arn}:topic/${own}/shadow/*`, `${arn}:topic/${own}/jobs/*`],
      },
      {
        Effect: "Allow",
        Action: "iot:Subscribe",
        Resource: [`${arn}:topicfilter/${own}/shadow/*`, `${arn}:topicfilter/${own}/jobs/*`],
      },
      {
        Effect: "Allow",
        Action: [
          "iot:GetThingShadow",
          "iot:UpdateThingShadow",
          "iot:DeleteThingShadow",
          "iotjobsdata:DescribeJobExecution",
          "iotjobsdata:GetPendingJobExecutions",
          "iotjobsdata:StartNextPendingJobExecution",
          "iotjobsdata:UpdateJobExecution",
        ],
        Resource: `${arn}:thing/${THING_NAME_VARIABLE}`,
      },
    ],
  };
}

/** What `ensureDevicePolicy` found or did. */
export interface EnsureDevicePolicyResult {
  readonly policyName: string;
  /** True when the policy did not exist and was created now. */
  readonly created: boolean;
  /** False when an existing policy's default version differs from `document` (left untouched). */
  readonly matches: boolean;
}

/**
 * Creates the device policy when it does not exist (`GetPolicy` → `CreatePolicy`); an existing
 * policy is never changed — `matches` says whether it is the expected document. Goes through the
 * call policy like every bridge call; pass the IoT client built with `maxAttempts: 1`.
 *
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_CreatePolicy.html
 */
export async function ensureDevicePolicy(
  aws: { readonly iot: AwsClientLike; readonly callPolicy: AwsCallPolicy },
  policyName: string,
  document: DevicePolicyDocument | string,
  context: { readonly tenantId?: TenantId | null; readonly signal?: AbortSignal } = {},
): Promise<EnsureDevicePolicyResult> {
  const api = new AwsApi(aws.callPolicy, aws.iot, aws.iot);
  const ctx = { tenantId: context.tenantId ?? null, signal: context.signal };
  const text = typeof document === "string" ? document : JSON.stringify(document);
  const existing = await api.getPolicy(policyName, ctx);
  if (existing !== null) return { policyName, created: false, matches: sameDocument(existing, text) };
  try {
    await api.createPolicy(policyName, text, ctx);
    return { policyName, created: true, matches: true };
  } catch (error) {
    if ((error as { name?: unknown }).name !== "ResourceAlreadyExistsException") throw error;
    const raced = await api.getPolicy(policyName, ctx); // another host created it meanwhile
    return { policyName, created: false, matches: raced !== null && sameDocument(raced, text) };
  }
}

function sameDocument(a: string, b: string): boolean {
  try {
    return JSON.stringify(JSON.parse(a)) === JSON.stringify(JSON.parse(b));
  } catch {
    return a === b;
  }
}
