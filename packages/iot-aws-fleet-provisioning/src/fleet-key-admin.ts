/**
 * Management of per-tenant fleet keys: issue (the secret is returned **once**, then only its
 * ciphertext is stored), list, revoke. Used by the host's management API and by scripts.
 */
import { randomBytes } from "node:crypto";
import {
  type Clock,
  DomainValidationError,
  EntityNotFoundError,
  type Page,
  systemClock,
  type TenantContext,
  type TenantId,
} from "@granit/iot";
import { type FleetCredential, FleetCredentialStatus, type FleetCredentialStore } from "@granit/iot-aws";
import type { FleetKeyCipher } from "./fleet-key-cipher.ts";

/** A fleet key as the management API shows it: never the secret, never its ciphertext. */
export interface FleetKeyView {
  readonly keyId: string;
  readonly tenantId: TenantId | null;
  readonly description: string | null;
  readonly status: FleetCredentialStatus;
  readonly createdAt: Date;
  readonly createdBy: string | null;
  readonly revokedAt: Date | null;
  readonly revokedBy: string | null;
}

/** A newly issued key: the only time the secret is available. */
export interface IssuedFleetKey extends FleetKeyView {
  readonly secret: string;
}

export interface FleetKeyAdminOptions {
  readonly credentials: FleetCredentialStore;
  readonly cipher: FleetKeyCipher;
  /** @default systemClock */
  readonly clock?: Clock;
  /** Called after a revoke (the authenticator forgets its cached copy). */
  readonly onRevoked?: (keyId: string) => void;
}

/** Longest description kept. */
export const FLEET_KEY_DESCRIPTION_MAX_LENGTH = 256;

export class FleetKeyAdmin {
  readonly #credentials: FleetCredentialStore;
  readonly #cipher: FleetKeyCipher;
  readonly #clock: Clock;
  readonly #onRevoked: (keyId: string) => void;

  constructor(options: FleetKeyAdminOptions) {
    this.#credentials = options.credentials;
    this.#cipher = options.cipher;
    this.#clock = options.clock ?? systemClock;
    this.#onRevoked = options.onRevoked ?? (() => {});
  }

  /** Issues a key for the principal's tenant: `fk_` + 24 hex id, 256-bit base64url secret. */
  async create(
    principal: TenantContext,
    input: { readonly description?: unknown } = {},
  ): Promise<IssuedFleetKey> {
    const description = parseDescription(input.description);
    const keyId = `fk_${randomBytes(12).toString("hex")}`;
    const secret = randomBytes(32).toString("base64url");
    const credential: FleetCredential = {
      keyId,
      tenantId: principal.tenantId,
      secretCiphertext: this.#cipher.encrypt(secret, keyId),
      description,
      status: FleetCredentialStatus.Active,
      createdAt: this.#clock.now(),
      createdBy: principal.actor,
      revokedAt: null,
      revokedBy: null,
    };
    await this.#credentials.add(credential);
    return { ...toView(credential), secret };
  }

  async list(
    tenantId: TenantId | null,
    query: { readonly limit: number; readonly cursor?: string | null },
  ): Promise<Page<FleetKeyView>> {
    const page = await this.#credentials.page({ tenant: tenantId, limit: query.limit, cursor: query.cursor });
    return { items: page.items.map(toView), nextCursor: page.nextCursor };
  }

  /** Active → Revoked (idempotent). `EntityNotFoundError` for another tenant's or an unknown key. */
  async revoke(principal: TenantContext, keyId: string): Promise<FleetKeyView> {
    const revoked = await this.#credentials.revoke(keyId, principal.tenantId, {
      at: this.#clock.now(),
      by: principal.actor,
    });
    if (!revoked) throw new EntityNotFoundError("Fleet key", keyId);
    this.#onRevoked(keyId);
    return toView(revoked);
  }
}

function toView(credential: FleetCredential): FleetKeyView {
  const { secretCiphertext, ...view } = credential;
  return view;
}

function parseDescription(value: unknown): string | null {
  if (value === undefined || value === null || value === "") return null;
  if (typeof value !== "string" || value.length > FLEET_KEY_DESCRIPTION_MAX_LENGTH) {
    throw DomainValidationError.single(
      "description",
      "maxLength",
      `must be text of at most ${FLEET_KEY_DESCRIPTION_MAX_LENGTH} characters`,
    );
  }
  return value;
}
