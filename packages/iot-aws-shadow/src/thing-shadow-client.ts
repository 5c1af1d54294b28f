/**
 * The classic Device Shadow of a thing over the IoT Data plane, the only way this package reaches
 * AWS: every call waits for the thing's per-thing budget (AWS allows 20 shadow requests per second per
 * thing, all shadow APIs together), then goes through the host's `AwsCallPolicy` (account-wide rate per
 * operation, retries of throttling and 5xx, credential gate, call metrics). Methods are named after
 * the AWS operations they wrap.
 *
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_iotdata_GetThingShadow.html
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_iotdata_UpdateThingShadow.html
 */
import {
  GetThingShadowCommand,
  type IoTDataPlaneClient,
  UpdateThingShadowCommand,
} from "@aws-sdk/client-iot-data-plane";
import type { TenantId } from "@granit/iot";
import {
  type AwsCallPolicy,
  type AwsServiceCaller,
  awsErrorName,
  type JsonObject,
  type Scheduler,
} from "@granit/iot-aws";
import { KeyedRateLimiter } from "./internal/keyed-rate-limiter.ts";
import { parseShadowDocument, type ShadowDocument } from "./shadow-document.ts";

/** Who a shadow call is for (metrics) and how to cancel it. */
export interface ShadowCallContext {
  readonly tenantId: TenantId | null;
  readonly signal?: AbortSignal | undefined;
}

/** The `state` of an update request: the sections to merge (`null` values delete keys). */
export interface ShadowStateUpdate {
  readonly desired?: JsonObject | undefined;
  readonly reported?: JsonObject | undefined;
}

/** `UpdateThingShadow` was refused because the document's version moved (HTTP 409). */
export function isVersionConflict(error: unknown): boolean {
  return awsErrorName(error) === "ConflictException";
}

/** The shadow (or the thing) does not exist (HTTP 404). */
export function isShadowNotFound(error: unknown): boolean {
  return awsErrorName(error) === "ResourceNotFoundException";
}

export class ThingShadowClient {
  readonly #data: AwsServiceCaller<Pick<IoTDataPlaneClient, "send">>;
  readonly #perThing: KeyedRateLimiter;

  /**
   * @param dataClient an `IoTDataPlaneClient` built with `maxAttempts: 1` and the account's
   *   `iot:Data-ATS` endpoint (retries belong to the call policy).
   * @param perThingRequestsPerSecond `IoT:Aws:Shadow:PerThingRequestsPerSecond`
   */
  constructor(
    dataClient: Pick<IoTDataPlaneClient, "send">,
    callPolicy: AwsCallPolicy,
    options: { readonly perThingRequestsPerSecond: number; readonly scheduler: Scheduler },
  ) {
    this.#data = callPolicy.forClient(dataClient, "iotdata");
    this.#perThing = new KeyedRateLimiter(
      options.perThingRequestsPerSecond,
      options.perThingRequestsPerSecond,
      options.scheduler,
    );
  }

  /**
   * The classic shadow of `thingName`, or `null` when it has none (`ResourceNotFoundException`).
   * Throws `MalformedShadowDocumentError` for a payload that is not a JSON object.
   */
  async getThingShadow(thingName: string, context: ShadowCallContext): Promise<ShadowDocument | null> {
    await this.#perThing.acquire(thingName, context.signal);
    try {
      const output = await this.#data.call(new GetThingShadowCommand({ thingName }), context);
      return parseShadowDocument(output.payload);
    } catch (error) {
      if (isShadowNotFound(error)) return null;
      throw error;
    }
  }

  /**
   * Merges `state` into the classic shadow. With `version`, AWS applies it only if the document is
   * still at that version (else `ConflictException`, see `isVersionConflict`). Returns the response
   * document (the request's state echoed, with the new `version`).
   */
  async updateThingShadow(
    thingName: string,
    state: ShadowStateUpdate,
    context: ShadowCallContext & { readonly version?: number | undefined },
  ): Promise<ShadowDocument> {
    await this.#perThing.acquire(thingName, context.signal);
    const body: Record<string, unknown> = { state };
    if (context.version !== undefined) body.version = context.version;
    const output = await this.#data.call(
      new UpdateThingShadowCommand({ thingName, payload: new TextEncoder().encode(JSON.stringify(body)) }),
      { tenantId: context.tenantId, signal: context.signal },
    );
    return parseShadowDocument(output.payload);
  }
}
