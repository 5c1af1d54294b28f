/**
 * The bearer tokens a host accepts, each mapped to a principal: a name (written to the audit
 * columns), the tenant it acts for (`null` = host operator) and its scopes. Only SHA-256 hashes
 * are held in memory; a presented token is hashed and compared with every entry in constant time
 * (`timingSafeEqual`), so neither the secret nor its position leaks through timing.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { TenantContext, TenantId } from "@granit/iot";
import type { Scope } from "./scopes.ts";

/** Who is calling, as established by the bearer token (never by the request body). */
export interface Principal extends TenantContext {
  /** The token's configured name; also the actor written to audit columns and the timeline. */
  readonly name: string;
  readonly tenantId: TenantId | null;
  readonly actor: string;
  readonly scopes: ReadonlySet<Scope>;
}

/** A token to register: either the secret or the hex SHA-256 of it. */
export interface TokenRegistration {
  readonly name: string;
  readonly tenantId: TenantId | null;
  readonly scopes: readonly Scope[];
  readonly token?: string | null;
  readonly tokenSha256?: string | null;
}

export function sha256(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}

export class TokenRegistry {
  readonly #entries: { readonly hash: Buffer; readonly principal: Principal }[] = [];

  constructor(registrations: readonly TokenRegistration[] = []) {
    for (const registration of registrations) this.add(registration);
  }

  add(registration: TokenRegistration): void {
    const hash = registration.token
      ? sha256(registration.token)
      : registration.tokenSha256
        ? Buffer.from(registration.tokenSha256, "hex")
        : null;
    if (hash?.length !== 32) {
      throw new TypeError(`Token '${registration.name}' needs a token or the hex SHA-256 of one.`);
    }
    this.#entries.push({
      hash,
      principal: Object.freeze({
        name: registration.name,
        actor: registration.name,
        tenantId: registration.tenantId,
        scopes: new Set(registration.scopes),
      }),
    });
  }

  get size(): number {
    return this.#entries.length;
  }

  /** The principal of a presented token, or `null`. Compares against every entry, always. */
  authenticate(token: string): Principal | null {
    const presented = sha256(token);
    let found: Principal | null = null;
    for (const entry of this.#entries) {
      if (timingSafeEqual(entry.hash, presented) && found === null) found = entry.principal;
    }
    return found;
  }
}
