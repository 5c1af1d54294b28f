/**
 * The **registration forwarder** Lambda. AWS has no post-provisioning hook, so an IoT Rule on the
 * registry event `$aws/events/thing/+/created` invokes it: it finds the certificate AWS attached to
 * the new thing (`ListThingPrincipals`, waiting briefly — the template attaches it right after
 * creating the thing), reads the model / firmware / claim-certificate attributes the template set,
 * and posts `/registered`.
 *
 * Outcome: `{ forwarded: true }` on 200; a refusal that a retry cannot fix (400/403/409/422) is
 * logged and returned as `{ forwarded: false }`; anything transient (5xx, timeout, network, no
 * principal yet, 401) **throws**, so Lambda's asynchronous retries (and a DLQ) take over.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/registry-events.html
 */
import type { AwsClientLike, FleetApiClient } from "./fleet-api-client.ts";
import { DEFAULT_THING_ATTRIBUTES, type ThingAttributeNames } from "./lambda-config.ts";
import { consoleLambdaLog, type LambdaLog } from "./lambda-log.ts";

/** The registry event of a created thing, as AWS IoT publishes it. */
export interface ThingCreatedEvent {
  readonly eventType?: string;
  readonly eventId?: string;
  readonly timestamp?: number;
  /** `CREATED`, `UPDATED` or `DELETED`. */
  readonly operation?: string;
  readonly accountId?: string;
  readonly thingId?: string;
  readonly thingName?: string;
  readonly versionNumber?: number;
  readonly thingTypeName?: string | null;
  readonly attributes?: Readonly<Record<string, string>> | null;
}

/** What one invocation did. */
export interface RegistrationForwardResult {
  readonly forwarded: boolean;
  readonly status?: number;
  readonly deviceId?: string;
  readonly alreadyProvisioned?: boolean;
  readonly reason?: string;
}

export interface RegistrationForwarderOptions {
  readonly client: FleetApiClient;
  /** An IoT control-plane client (`@aws-sdk/client-iot` `IoTClient`); created from the environment when absent. */
  readonly iot?: AwsClientLike;
  readonly attributes?: ThingAttributeNames;
  readonly defaultModel?: string | null;
  readonly defaultFirmwareVersion?: string | null;
  /** How long to wait for the certificate to be attached. @default 5000 */
  readonly principalWaitMs?: number;
  /** Budget of the `/registered` call. @default 10000 */
  readonly timeoutMs?: number;
  /** @default setTimeout-based */
  readonly sleep?: (ms: number) => Promise<void>;
  readonly log?: LambdaLog;
}

const GRANIT_THING_NAME = /^t[0-9a-f]{32}-([A-Za-z0-9][A-Za-z0-9_-]*)$/;
const CERTIFICATE_ARN = /^arn:([a-z-]+):iot:([a-z0-9-]+):(\d{12}):cert\/[0-9a-f]{64}$/;
/** Answers that a retry cannot change. */
const PERMANENT = new Set([400, 403, 404, 409, 413, 415, 422]);

/** Builds the forwarder handler. */
export function createRegistrationForwarder(
  options: RegistrationForwarderOptions,
): (event: ThingCreatedEvent) => Promise<RegistrationForwardResult> {
  const attributes = options.attributes ?? DEFAULT_THING_ATTRIBUTES;
  const waitMs = options.principalWaitMs ?? 5000;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const log = options.log ?? consoleLambdaLog;
  let iot: Promise<AwsClientLike> | null = options.iot ? Promise.resolve(options.iot) : null;
  const iotClient = () => {
    iot ??= import("@aws-sdk/client-iot").then((sdk) => new sdk.IoTClient({}) as AwsClientLike);
    return iot;
  };

  return async (event) => {
    const thingName = event?.thingName;
    if (event?.operation !== "CREATED" || typeof thingName !== "string") {
      return skipped("not_a_thing_creation");
    }
    const match = GRANIT_THING_NAME.exec(thingName);
    if (!match?.[1]) return skipped("not_a_granit_thing_name", { thingName });
    const serialNumber = match[1];
    const attrs = event.attributes ?? {};
    const model = attrs[attributes.model] ?? options.defaultModel ?? null;
    const firmwareVersion = attrs[attributes.firmwareVersion] ?? options.defaultFirmwareVersion ?? null;
    if (!model || !firmwareVersion) {
      throw new Error(
        `Thing ${thingName} has no '${attributes.model}' / '${attributes.firmwareVersion}' attribute and no default is configured; set them in the provisioning template.`,
      );
    }
    const certificateArn = await findCertificate(await iotClient(), thingName, waitMs, sleep);
    const parts = CERTIFICATE_ARN.exec(certificateArn);
    if (!parts) throw new Error(`Unexpected certificate ARN for ${thingName}.`);
    const [, partition, region, account] = parts;
    const claimCertificateId = attrs[attributes.claimCertificateId];
    const label = attrs[attributes.label];
    const response = await options.client.post(
      "/registered",
      {
        serialNumber,
        thingName,
        thingArn: `arn:${partition}:iot:${region}:${account}:thing/${thingName}`,
        certificateArn,
        model,
        firmwareVersion,
        ...(label ? { label } : {}),
        ...(claimCertificateId ? { claimCertificateId } : {}),
      },
      AbortSignal.timeout(options.timeoutMs ?? 10_000),
    );
    const body = response.body as
      | { deviceId?: string; alreadyProvisioned?: boolean; reason?: string }
      | undefined;
    if (response.status === 200) {
      log({
        level: "info",
        message: "registration forwarded",
        thingName,
        deviceId: body?.deviceId,
        alreadyProvisioned: body?.alreadyProvisioned,
      });
      return {
        forwarded: true,
        status: 200,
        ...(body?.deviceId ? { deviceId: body.deviceId } : {}),
        alreadyProvisioned: body?.alreadyProvisioned === true,
      };
    }
    if (PERMANENT.has(response.status)) {
      const reason = typeof body?.reason === "string" ? body.reason : `http_${response.status}`;
      log({
        level: "error",
        message: "registration refused; reconcile this thing",
        thingName,
        status: response.status,
        reason,
      });
      return { forwarded: false, status: response.status, reason };
    }
    throw new Error(`/registered answered ${response.status} for ${thingName}; Lambda will retry.`);
  };

  function skipped(reason: string, extra: Record<string, unknown> = {}): RegistrationForwardResult {
    log({ level: "debug", message: "event ignored", reason, ...extra });
    return { forwarded: false, reason };
  }
}

async function findCertificate(
  iot: AwsClientLike,
  thingName: string,
  waitMs: number,
  sleep: (ms: number) => Promise<void>,
): Promise<string> {
  const { ListThingPrincipalsCommand } = await import("@aws-sdk/client-iot");
  const deadline = Date.now() + waitMs;
  for (let attempt = 0; ; attempt++) {
    const output = (await iot.send(new ListThingPrincipalsCommand({ thingName }))) as {
      principals?: string[];
    };
    const certificate = (output.principals ?? []).find((p) => CERTIFICATE_ARN.test(p));
    if (certificate) return certificate;
    if (Date.now() >= deadline) {
      throw new Error(`No certificate is attached to ${thingName} yet; Lambda will retry.`);
    }
    await sleep(Math.min(250 * 2 ** attempt, 1000));
  }
}
