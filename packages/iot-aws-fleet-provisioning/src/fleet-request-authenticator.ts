/**
 * Authentication of the signed fleet endpoints (scheme: `fleet-request-signature.ts`), in two steps
 * so an HTTP layer can refuse anonymous callers before reading their body:
 *
 * 1. `identify(method, path, authorization)` — header well-formed, key known and `Active`,
 *    timestamp within ± `SignatureToleranceSeconds` of the injected clock;
 * 2. `verify(pending, rawBody)` — recomputes the HMAC over the raw body and compares it in constant
 *    time (`timingSafeEqual`).
 *
 * The result carries the caller (tenant and key, **only** from the key) and the request's nonce; the
 * service records the nonce in its transaction and refuses a replay. Decrypted secrets are cached
 * for `CredentialCacheSeconds` per host, which bounds how long a revoked key still works on another
 * host (the host that revokes forgets it at once). Failures never reveal which part was wrong beyond
 * "missing / malformed / stale", and unknown keys cost the same HMAC as known ones.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { type Clock, type Logger, silentLogger, type TenantId } from "@granit/iot";
import {
  type FleetCredential,
  FleetCredentialStatus,
  type FleetCredentialStore,
  type FleetRequestNonce,
} from "@granit/iot-aws";
import { FleetAuthenticationError, FleetAuthFailure } from "./errors.ts";
import type { FleetKeyCipher } from "./fleet-key-cipher.ts";
import type { FleetProvisioningMetrics } from "./fleet-provisioning-metrics.ts";
import {
  type FleetAuthorization,
  fleetStringToSign,
  parseFleetAuthorization,
  parseFleetTimestamp,
} from "./fleet-request-signature.ts";

/** Who signed a fleet request. */
export interface FleetCaller {
  readonly tenantId: TenantId | null;
  readonly keyId: string;
  /** Written to audit columns: `fleet-key:<keyId>`. */
  readonly actor: string;
}

/** Step 1 passed: header, key and timestamp are fine; the signature is still unchecked. */
export interface PendingFleetRequest {
  readonly method: string;
  readonly path: string;
  readonly authorization: FleetAuthorization;
  readonly caller: FleetCaller;
  readonly secret: string;
  readonly signedAtMs: number;
}

/** An authenticated request: its caller and the nonce to record. */
export interface AuthenticatedFleetRequest {
  readonly caller: FleetCaller;
  readonly nonce: FleetRequestNonce;
}

export interface FleetRequestAuthenticatorOptions {
  readonly credentials: FleetCredentialStore;
  readonly cipher: FleetKeyCipher;
  readonly clock: Clock;
  /** @default 300 */
  readonly toleranceSeconds?: number;
  /** @default 10 */
  readonly cacheSeconds?: number;
  readonly metrics: FleetProvisioningMetrics;
  readonly logger?: Logger;
}

interface CachedKey {
  readonly credential: FleetCredential;
  readonly secret: string;
  readonly loadedAtMs: number;
}

const MAX_CACHED_KEYS = 10_000;
/** HMAC key used for unknown key ids, so they cost what a known key costs. */
const DECOY_SECRET = createHash("sha256").update("granit-fleet-decoy").digest("hex");

export class FleetRequestAuthenticator {
  readonly #credentials: FleetCredentialStore;
  readonly #cipher: FleetKeyCipher;
  readonly #clock: Clock;
  readonly #toleranceMs: number;
  readonly #cacheMs: number;
  readonly #metrics: FleetProvisioningMetrics;
  readonly #logger: Logger;
  readonly #cache = new Map<string, CachedKey>();

  constructor(options: FleetRequestAuthenticatorOptions) {
    this.#credentials = options.credentials;
    this.#cipher = options.cipher;
    this.#clock = options.clock;
    this.#toleranceMs = (options.toleranceSeconds ?? 300) * 1000;
    this.#cacheMs = (options.cacheSeconds ?? 10) * 1000;
    this.#metrics = options.metrics;
    this.#logger = (options.logger ?? silentLogger).child({ component: "fleet-auth" });
  }

  /** The accepted clock difference, in milliseconds. */
  get toleranceMs(): number {
    return this.#toleranceMs;
  }

  /** Step 1; throws `FleetAuthenticationError`. Reads the key (cached) but not the body. */
  async identify(method: string, path: string, authorization: unknown): Promise<PendingFleetRequest> {
    if (authorization === undefined || authorization === null || authorization === "") {
      throw new FleetAuthenticationError(
        FleetAuthFailure.MissingCredential,
        "Sign the request: 'Authorization: GRANIT-HMAC-SHA256 KeyId=…, Timestamp=…, Signature=…'.",
      );
    }
    const parsed = parseFleetAuthorization(authorization);
    if (!parsed) {
      throw new FleetAuthenticationError(
        FleetAuthFailure.MalformedCredential,
        "The Authorization header is not 'GRANIT-HMAC-SHA256 KeyId=<id>, Timestamp=<ISO-8601 UTC or epoch seconds>, Signature=<64 hex>'.",
      );
    }
    const signedAtMs = parseFleetTimestamp(parsed.timestamp) as number;
    if (Math.abs(this.#clock.now().getTime() - signedAtMs) > this.#toleranceMs) {
      throw new FleetAuthenticationError(
        FleetAuthFailure.StaleTimestamp,
        `The signed timestamp is more than ${this.#toleranceMs / 1000} s away from the server's clock; sign each request when sending it and keep clocks in sync.`,
        { keyId: parsed.keyId },
      );
    }
    const key = await this.#key(parsed.keyId);
    if (!key) {
      // Same work as a known key, so timing does not tell which key ids exist.
      createHmac("sha256", DECOY_SECRET).update(parsed.signature).digest();
      throw new FleetAuthenticationError(
        FleetAuthFailure.UnknownKey,
        "The request signature is not accepted.",
        {
          keyId: parsed.keyId,
        },
      );
    }
    if (key.credential.status !== FleetCredentialStatus.Active) {
      throw new FleetAuthenticationError(
        FleetAuthFailure.RevokedKey,
        "The request signature is not accepted.",
        {
          keyId: parsed.keyId,
          tenantId: key.credential.tenantId,
        },
      );
    }
    return {
      method: method.toUpperCase(),
      path,
      authorization: parsed,
      caller: {
        tenantId: key.credential.tenantId,
        keyId: key.credential.keyId,
        actor: `fleet-key:${key.credential.keyId}`,
      },
      secret: key.secret,
      signedAtMs,
    };
  }

  /** Step 2; throws `FleetAuthenticationError` (`bad_signature`). */
  verify(pending: PendingFleetRequest, rawBody: Uint8Array): AuthenticatedFleetRequest {
    const expected = createHmac("sha256", pending.secret)
      .update(
        fleetStringToSign({
          method: pending.method,
          path: pending.path,
          timestamp: pending.authorization.timestamp,
          body: rawBody,
        }),
      )
      .digest();
    const given = Buffer.from(pending.authorization.signature, "hex");
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new FleetAuthenticationError(
        FleetAuthFailure.BadSignature,
        "The request signature is not accepted.",
        {
          keyId: pending.caller.keyId,
          tenantId: pending.caller.tenantId,
        },
      );
    }
    return {
      caller: pending.caller,
      nonce: {
        hash: createHash("sha256").update(pending.authorization.signature).digest("hex"),
        keyId: pending.caller.keyId,
        expiresAt: new Date(pending.signedAtMs + this.#toleranceMs),
      },
    };
  }

  /** Both steps, for callers that already hold the body. */
  async authenticate(request: {
    readonly method: string;
    readonly path: string;
    readonly authorization: unknown;
    readonly body: Uint8Array;
  }): Promise<AuthenticatedFleetRequest> {
    const pending = await this.identify(request.method, request.path, request.authorization);
    return this.verify(pending, request.body);
  }

  /** Counts and logs a refused request (reason and key id only — never a secret or signature). */
  recordFailure(error: FleetAuthenticationError, context: { path?: string; requestId?: string } = {}): void {
    this.#metrics.authFailure(error.tenantId, error.reason);
    this.#logger.warn(
      { reason: error.reason, keyId: error.keyId, path: context.path, requestId: context.requestId },
      "fleet request refused",
    );
  }

  /** Drops a cached key (after a revoke on this host). */
  forget(keyId: string): void {
    this.#cache.delete(keyId);
  }

  async #key(keyId: string): Promise<CachedKey | null> {
    const now = this.#clock.now().getTime();
    const cached = this.#cache.get(keyId);
    if (cached && now - cached.loadedAtMs < this.#cacheMs && now >= cached.loadedAtMs) return cached;
    const credential = await this.#credentials.findByKeyId(keyId);
    if (!credential) {
      this.#cache.delete(keyId);
      return null;
    }
    let secret: string;
    try {
      secret = this.#cipher.decrypt(credential.secretCiphertext, credential.keyId);
    } catch (error) {
      // A row the master key cannot open (rotated key missing, tampering): refuse, tell the operator.
      this.#logger.error({ keyId, err: (error as Error).message }, "fleet key secret cannot be decrypted");
      return null;
    }
    const entry: CachedKey = { credential, secret, loadedAtMs: now };
    if (this.#cacheMs > 0) {
      if (this.#cache.size >= MAX_CACHED_KEYS) {
        const oldest = this.#cache.keys().next().value;
        if (oldest !== undefined) this.#cache.delete(oldest);
      }
      this.#cache.set(keyId, entry);
    }
    return entry;
  }
}
