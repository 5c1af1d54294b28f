/**
 * `IoT:Aws:Shadow` (env `IoT__Aws__Shadow__…`): the seed's three settings plus the rate knobs the
 * poller needs to stay inside AWS's Device Shadow quotas. Validated at start-up; a bad value stops
 * the host with the full key and its allowed range.
 */
import { booleanOption, defineOptionsSection, integerOption, parseOptionsSection } from "@granit/iot-aws";

/** The configuration section of the shadow bridge. */
export const AWS_SHADOW_SECTION = "IoT:Aws:Shadow";

/** AWS's per-thing limit on Device Shadow requests (all shadow APIs of one thing together). */
export const AWS_SHADOW_REQUESTS_PER_THING_PER_SECOND = 20;

/** Schema of `IoT:Aws:Shadow` (PascalCase keys, as operators write them). */
export const awsShadowOptionsSchema = defineOptionsSection({
  PollIntervalSeconds: integerOption({ min: 5, max: 600, default: 30 }),
  PollBatchSize: integerOption({ min: 1, max: 1000, default: 100 }),
  AutoPushLifecycleStatus: booleanOption(true),
  MaxGetShadowPerSecond: integerOption({ min: 0, max: 100_000, default: 0 }),
  PerThingRequestsPerSecond: integerOption({
    min: 1,
    max: AWS_SHADOW_REQUESTS_PER_THING_PER_SECOND,
    default: AWS_SHADOW_REQUESTS_PER_THING_PER_SECOND,
  }),
  PollConcurrency: integerOption({ min: 1, max: 256, default: 16 }),
});

/** Parsed `IoT:Aws:Shadow`. */
export interface AwsShadowOptions {
  /** A binding's shadow is read at most once per interval, across every host, 5–600. @default 30 */
  readonly pollIntervalSeconds: number;
  /** Bindings claimed per database round trip (one batch in memory per poller), 1–1000. @default 100 */
  readonly pollBatchSize: number;
  /** Push `reported.status` on Device activated / suspended / reactivated. @default true */
  readonly autoPushLifecycleStatus: boolean;
  /**
   * The poller's own cap on `GetThingShadow` requests per second on this host, 0–100000; 0 = no cap
   * beyond `IoT:Aws:Calls:RateLimits:iotdata:GetThingShadow` (the account quota the call policy paces
   * every caller to). Set it to leave part of the account quota to other readers, or to split it
   * between hosts. @default 0
   * @see https://docs.aws.amazon.com/general/latest/gr/iot-core.html#device-shadow-limits
   */
  readonly maxGetShadowPerSecond: number;
  /**
   * Shadow requests per second to one thing from this host (pushes, polls and API reads together),
   * 1–20: AWS allows 20 per thing across all shadow APIs. @default 20
   * @see https://docs.aws.amazon.com/general/latest/gr/iot-core.html#device-shadow-limits
   */
  readonly perThingRequestsPerSecond: number;
  /** `GetThingShadow` calls one poller keeps in flight, 1–256. @default 16 */
  readonly pollConcurrency: number;
}

/** Validates `IoT:Aws:Shadow`; throws `OptionsValidationError` naming the key and its range. */
export function parseAwsShadowOptions(raw: unknown): AwsShadowOptions {
  return parseOptionsSection(awsShadowOptionsSchema, raw, AWS_SHADOW_SECTION);
}

/** Every default of `IoT:Aws:Shadow`. */
export function defaultAwsShadowOptions(): AwsShadowOptions {
  return parseAwsShadowOptions({});
}
