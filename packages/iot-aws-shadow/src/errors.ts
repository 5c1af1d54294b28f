/**
 * Errors of the shadow bridge. Each has a stable `name` (the poller counts failures by it, the HTTP
 * layer maps on it), a message that says what to do, and `cause`. Messages never quote shadow
 * content: a document may hold whatever devices and apps put in it.
 */
import { GranitIoTError } from "@granit/iot";

/** Base class of every error raised by `@granit/iot-aws-shadow`. */
export class GranitIoTAwsShadowError extends GranitIoTError {
  override readonly name: string = "GranitIoTAwsShadowError";
}

/**
 * `GetThingShadow` answered something that is not a JSON object (invalid UTF-8 or JSON, an array, a
 * number). The poller logs and counts it for that binding and carries on with the others.
 */
export class MalformedShadowDocumentError extends GranitIoTAwsShadowError {
  override readonly name = "MalformedShadowDocumentError";
  /** What was wrong, without the content: `"json"` (not JSON) or `"shape"` (JSON but not an object). */
  readonly reason: "json" | "shape";

  constructor(reason: "json" | "shape", detail: string, options?: ErrorOptions) {
    super(
      `The shadow document is not a JSON object (${detail}). Inspect the thing's classic shadow in AWS and ` +
        "rewrite it with UpdateThingShadow, or delete it.",
      options,
    );
    this.reason = reason;
  }
}

/**
 * A reported-state push kept losing the shadow's optimistic version (HTTP 409 `ConflictException`) to
 * other writers after every fresh read. Transient: the message bus redelivers the event later.
 */
export class ShadowPushConflictError extends GranitIoTAwsShadowError {
  override readonly name = "ShadowPushConflictError";
  readonly thingName: string;
  readonly attempts: number;

  constructor(thingName: string, attempts: number, options?: ErrorOptions) {
    super(
      `The shadow of '${thingName}' changed under ${attempts} consecutive pushes (version conflict); ` +
        "the event will be retried. Look for a device or app writing the shadow in a tight loop.",
      options,
    );
    this.thingName = thingName;
    this.attempts = attempts;
  }
}

/** A desired-state document larger than the 8 KB AWS accepts for a whole shadow (HTTP 413). */
export class DesiredStateTooLargeError extends GranitIoTAwsShadowError {
  override readonly name = "DesiredStateTooLargeError";
  readonly bytes: number;
  readonly maxBytes: number;

  constructor(bytes: number, maxBytes: number) {
    super(
      `The desired state is ${bytes} bytes of JSON; a shadow holds at most ${maxBytes} bytes (desired and ` +
        "reported together). Send fewer or shorter keys.",
    );
    this.bytes = bytes;
    this.maxBytes = maxBytes;
  }
}
