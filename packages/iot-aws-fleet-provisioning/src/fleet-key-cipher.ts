/**
 * Encryption at rest of fleet-key secrets: AES-256-GCM (node:crypto) under the host's master key.
 *
 * Why encryption and not a hash: an HMAC signature can only be checked by someone holding the
 * secret, so the host must be able to recover it; a one-way hash (as for bearer tokens) cannot be
 * used. A database dump alone reveals nothing: the master key lives in configuration (env), not in
 * the database.
 *
 * Format: `v1.<masterKeyId>.<iv>.<tag>.<ciphertext>` (base64url parts; `masterKeyId` = first 8 hex
 * of SHA-256 of the master key). The key id is the additional authenticated data, so a ciphertext
 * copied onto another key's row fails to decrypt. To rotate the master key, move the old one to
 * `PreviousMasterKeys` (still decrypts), issue new fleet keys, then revoke the old ones.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { FleetKeyCipherError } from "./errors.ts";
import { decodeMasterKey } from "./fleet-provisioning-options.ts";

const VERSION = "v1";

function masterKeyId(key: Buffer): string {
  return createHash("sha256").update(key).digest("hex").slice(0, 8);
}

export class FleetKeyCipher {
  readonly #current: { id: string; key: Buffer };
  readonly #keys: ReadonlyMap<string, Buffer>;

  /** `masterKey` and `previousMasterKeys`: 32 bytes, or their base64 / hex text. */
  constructor(masterKey: Buffer | string, previousMasterKeys: readonly (Buffer | string)[] = []) {
    const current = toKey(masterKey, "MasterKey");
    this.#current = { id: masterKeyId(current), key: current };
    const keys = new Map<string, Buffer>([[this.#current.id, current]]);
    for (const [index, previous] of previousMasterKeys.entries()) {
      const key = toKey(previous, `PreviousMasterKeys:${index}`);
      keys.set(masterKeyId(key), key);
    }
    this.#keys = keys;
  }

  /** The id of the master key new secrets are encrypted with (a fingerprint, never the key). */
  get currentKeyId(): string {
    return this.#current.id;
  }

  /** Encrypts `secret`, bound to `keyId` (the fleet key it belongs to). */
  encrypt(secret: string, keyId: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.#current.key, iv);
    cipher.setAAD(Buffer.from(keyId, "utf8"));
    const ciphertext = Buffer.concat([cipher.update(secret, "utf8"), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [VERSION, this.#current.id, iv, tag, ciphertext]
      .map((part) => (typeof part === "string" ? part : part.toString("base64url")))
      .join(".");
  }

  /** Decrypts a ciphertext made by `encrypt` for `keyId`; `FleetKeyCipherError` when it cannot. */
  decrypt(ciphertext: string, keyId: string): string {
    const [version, id, iv, tag, data, ...rest] = ciphertext.split(".");
    if (version !== VERSION || !id || !iv || !tag || data === undefined || rest.length > 0) {
      throw new FleetKeyCipherError(`The stored secret of fleet key '${keyId}' is not in a known format.`);
    }
    const key = this.#keys.get(id);
    if (!key) {
      throw new FleetKeyCipherError(
        `Fleet key '${keyId}' was encrypted with master key ${id}, which is not configured. ` +
          "Add it to IoT:Aws:FleetProvisioning:PreviousMasterKeys or issue a new fleet key.",
      );
    }
    try {
      const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url"));
      decipher.setAAD(Buffer.from(keyId, "utf8"));
      decipher.setAuthTag(Buffer.from(tag, "base64url"));
      return Buffer.concat([decipher.update(Buffer.from(data, "base64url")), decipher.final()]).toString(
        "utf8",
      );
    } catch (error) {
      throw new FleetKeyCipherError(
        `The stored secret of fleet key '${keyId}' failed authentication (wrong master key or tampered row).`,
        { cause: error },
      );
    }
  }

  /** True when `ciphertext` is under the current master key (false: issued before a rotation). */
  isCurrent(ciphertext: string): boolean {
    return ciphertext.split(".")[1] === this.#current.id;
  }
}

function toKey(value: Buffer | string, name: string): Buffer {
  const key = typeof value === "string" ? decodeMasterKey(value) : value;
  if (key?.length !== 32) {
    throw new FleetKeyCipherError(
      `IoT:Aws:FleetProvisioning:${name} must be 32 random bytes (base64 or 64 hex digits); generate one with 'openssl rand -base64 32'.`,
    );
  }
  return key;
}
