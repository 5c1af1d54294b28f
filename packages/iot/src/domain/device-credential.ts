import { requireText } from "./field-rules.ts";

/**
 * How a device authenticates: a free-form type (`"api-key"`, `"x509-thumbprint"`,
 * `"aws-iot-cert-arn"`, ≤ 64 characters) and an already-protected secret (≤ 2048 characters).
 *
 * The secret is sensitive: it is never serialised to API responses or logs. `toJSON` and the
 * `util.inspect` hook redact it, so an accidental `JSON.stringify(device)` or `logger.info(device)`
 * cannot leak it.
 */
export class DeviceCredential {
  readonly type: string;
  readonly #protectedSecret: string;

  private constructor(type: string, protectedSecret: string) {
    this.type = type;
    this.#protectedSecret = protectedSecret;
  }

  static create(type: unknown, protectedSecret: unknown): DeviceCredential {
    return new DeviceCredential(
      requireText(type, "credential.type", 64),
      requireText(protectedSecret, "credential.protectedSecret", 2048),
    );
  }

  /** The stored secret, for the persistence layer only. */
  revealProtectedSecret(): string {
    return this.#protectedSecret;
  }

  equals(other: DeviceCredential | null): boolean {
    return other !== null && other.type === this.type && other.#protectedSecret === this.#protectedSecret;
  }

  toJSON(): { type: string } {
    return { type: this.type };
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return `DeviceCredential { type: '${this.type}', protectedSecret: [REDACTED] }`;
  }
}
