/**
 * The credential loader of the rotating credential mode (`IoT:Aws:Credentials:FleetCredentialSecretArn`):
 * reads `{ "accessKeyId", "secretAccessKey", "sessionToken"? , "expiration"? }` from a Secrets
 * Manager secret. Plug it into `createAwsIoTCredentialProvider` from `@granit/iot-aws`.
 *
 * It calls Secrets Manager with its own client — the bootstrap identity (instance / task role) —
 * and not through the `AwsCallPolicy`: the policy's credential gate stays closed until this loader
 * succeeds once, so going through it would never open.
 *
 * @see https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html
 */
import { GetSecretValueCommand } from "@aws-sdk/client-secrets-manager";
import type { AwsClientLike, AwsIoTCredentialLoader, LoadedAwsIoTCredentials } from "@granit/iot-aws";
import { CredentialSecretInvalidError } from "./errors.ts";

export interface SecretsManagerCredentialLoaderOptions {
  /** A Secrets Manager client signed by the bootstrap identity (its own retries may stay on). */
  readonly secrets: AwsClientLike;
  /** `FleetCredentialSecretArn`; `null` = nothing configured (the loader answers `null`: SDK default chain). */
  readonly secretArn: string | null;
}

export class SecretsManagerCredentialLoader implements AwsIoTCredentialLoader {
  readonly #secrets: AwsClientLike;
  readonly #secretArn: string | null;

  constructor(options: SecretsManagerCredentialLoaderOptions) {
    this.#secrets = options.secrets;
    this.#secretArn = options.secretArn;
  }

  async load(signal: AbortSignal): Promise<LoadedAwsIoTCredentials | null> {
    const secretArn = this.#secretArn;
    if (secretArn === null) return null;
    const out = (await this.#secrets.send(new GetSecretValueCommand({ SecretId: secretArn }), {
      abortSignal: signal,
    })) as { SecretString?: string };
    if (typeof out.SecretString !== "string") {
      throw new CredentialSecretInvalidError(secretArn, "holds no text value (SecretString)");
    }
    let value: unknown;
    try {
      value = JSON.parse(out.SecretString);
    } catch {
      throw new CredentialSecretInvalidError(secretArn, "does not hold JSON");
    }
    const fields = (value && typeof value === "object" ? value : {}) as Record<string, unknown>;
    const text = (key: string) => typeof fields[key] === "string" && (fields[key] as string).trim() !== "";
    const missing = ["accessKeyId", "secretAccessKey"].filter((key) => !text(key));
    if (missing.length > 0) {
      throw new CredentialSecretInvalidError(secretArn, `lacks ${missing.join(" and ")}`);
    }
    if (fields.sessionToken !== undefined && fields.sessionToken !== null && !text("sessionToken")) {
      throw new CredentialSecretInvalidError(secretArn, "has a sessionToken that is not text");
    }
    const expiration = typeof fields.expiration === "string" ? new Date(fields.expiration) : undefined;
    if (expiration && Number.isNaN(expiration.getTime())) {
      throw new CredentialSecretInvalidError(secretArn, "has an expiration that is not an ISO-8601 date");
    }
    return {
      accessKeyId: fields.accessKeyId as string,
      secretAccessKey: fields.secretAccessKey as string,
      ...(text("sessionToken") ? { sessionToken: fields.sessionToken as string } : {}),
      ...(expiration ? { expiration } : {}),
    };
  }
}
