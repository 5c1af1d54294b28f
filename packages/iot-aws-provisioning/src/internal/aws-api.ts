/**
 * The AWS operations this package uses, one method per operation (named after it), each sent through
 * the shared `AwsCallPolicy` (rate limits, retries, credential gate, metrics). Methods map "not
 * found" to `null` where the caller has a use for it and leave every other error unchanged, tagged
 * with the operation that raised it (`operationOf`), so failure reasons can name it.
 *
 * `CreateCertificateFromCsr` goes through a caller whose client turns "outcome unknown" failures
 * (5xx, timeouts, dropped connections) into `CertificateRequestOutcomeUnknownError`, which the policy
 * does not retry: a blind retry could mint a second certificate.
 */
import {
  AttachPolicyCommand,
  AttachThingPrincipalCommand,
  CreateCertificateFromCsrCommand,
  CreatePolicyCommand,
  CreateThingCommand,
  DeleteCertificateCommand,
  DeleteThingCommand,
  DescribeCertificateCommand,
  DescribeThingCommand,
  DetachPolicyCommand,
  DetachThingPrincipalCommand,
  GetPolicyCommand,
  ListAttachedPoliciesCommand,
  ListCertificatesCommand,
  ListThingPrincipalsCommand,
  ListThingsCommand,
  UpdateCertificateCommand,
} from "@aws-sdk/client-iot";
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
} from "@aws-sdk/client-secrets-manager";
import type { TenantId } from "@granit/iot";
import {
  type AwsCallPolicy,
  type AwsClientLike,
  type AwsServiceCaller,
  classifyAwsError,
  operationName,
} from "@granit/iot-aws";
import { CertificateRequestOutcomeUnknownError } from "../errors.ts";
import { awsErrorNamed } from "./aws-errors.ts";

/** Who a call is for (metrics tag) and how to cancel it. */
export interface CallContext {
  readonly tenantId: TenantId | null;
  readonly signal?: AbortSignal | undefined;
}

export interface IssuedCertificate {
  readonly arn: string;
  readonly id: string;
  readonly pem: string;
}

export interface DescribedCertificate extends IssuedCertificate {
  readonly status: string;
  readonly createdAt: Date | null;
}

export interface ListedCertificate {
  readonly arn: string;
  readonly id: string;
  readonly status: string;
  readonly createdAt: Date | null;
}

export interface SecretValue {
  readonly arn: string;
  readonly versionId: string | null;
  readonly secretString: string | null;
}

const operations = new WeakMap<object, string>();

/** The AWS operation that raised `error` (when it came from this module). */
export function operationOf(error: unknown): string | undefined {
  return error && typeof error === "object" ? operations.get(error) : undefined;
}

/**
 * Wraps the IoT client for `CreateCertificateFromCsr` only: a failure that may have happened after
 * AWS created the certificate becomes a non-retried `CertificateRequestOutcomeUnknownError`.
 * Throttling is kept (AWS refused before doing anything), so the policy still retries it.
 */
class OutcomeAwareClient implements AwsClientLike {
  readonly #inner: AwsClientLike;
  constructor(inner: AwsClientLike) {
    this.#inner = inner;
  }
  async send(command: object, options?: { abortSignal?: AbortSignal }): Promise<unknown> {
    try {
      return await this.#inner.send(command, options);
    } catch (error) {
      if (!options?.abortSignal?.aborted && classifyAwsError(error) === "transient") {
        throw new CertificateRequestOutcomeUnknownError({ cause: error });
      }
      throw error;
    }
  }
}

export class AwsApi {
  readonly #iot: AwsServiceCaller;
  readonly #iotCreateCertificate: AwsServiceCaller;
  readonly #secrets: AwsServiceCaller;

  constructor(policy: AwsCallPolicy, iot: AwsClientLike, secrets: AwsClientLike) {
    this.#iot = policy.forClient(iot, "iot");
    this.#iotCreateCertificate = policy.forClient(new OutcomeAwareClient(iot), "iot");
    this.#secrets = policy.forClient(secrets, "secretsmanager");
  }

  async #send<C extends object>(caller: AwsServiceCaller, command: C, ctx: CallContext) {
    try {
      return await caller.call(command, { tenantId: ctx.tenantId, signal: ctx.signal });
    } catch (error) {
      if (error && typeof error === "object" && !operations.has(error)) {
        operations.set(error, operationName(command));
      }
      throw error;
    }
  }

  async #orNull<T>(work: Promise<T>): Promise<T | null> {
    try {
      return await work;
    } catch (error) {
      if (awsErrorNamed(error, "ResourceNotFoundException")) return null;
      throw error;
    }
  }

  // ── things ──────────────────────────────────────────────────────────────────────────────────────

  /** The thing's ARN, or `null` when it does not exist. */
  async describeThing(thingName: string, ctx: CallContext): Promise<string | null> {
    const out = await this.#orNull(this.#send(this.#iot, new DescribeThingCommand({ thingName }), ctx));
    return out?.thingArn ?? null;
  }

  /** Creates the thing without attributes or type (so a replay is "same configuration" for AWS). */
  async createThing(thingName: string, ctx: CallContext): Promise<string> {
    const out = await this.#send(this.#iot, new CreateThingCommand({ thingName }), ctx);
    if (!out.thingArn) throw new Error("CreateThing answered without a thingArn");
    return out.thingArn;
  }

  /** Succeeds for a thing that does not exist (AWS semantics). */
  async deleteThing(thingName: string, ctx: CallContext): Promise<void> {
    await this.#send(this.#iot, new DeleteThingCommand({ thingName }), ctx);
  }

  /** Every principal attached to the thing, or `null` when the thing does not exist. */
  async listThingPrincipals(thingName: string, ctx: CallContext): Promise<string[] | null> {
    const principals: string[] = [];
    let nextToken: string | undefined;
    do {
      const out = await this.#orNull(
        this.#send(this.#iot, new ListThingPrincipalsCommand({ thingName, nextToken, maxResults: 100 }), ctx),
      );
      if (!out) return null;
      principals.push(...(out.principals ?? []));
      nextToken = out.nextToken;
    } while (nextToken);
    return principals;
  }

  /** One page of things (names and ARNs). */
  async listThingsPage(
    nextToken: string | undefined,
    ctx: CallContext,
  ): Promise<{ things: { name: string; arn: string }[]; nextToken: string | undefined }> {
    const out = await this.#send(this.#iot, new ListThingsCommand({ nextToken, maxResults: 250 }), ctx);
    return {
      things: (out.things ?? []).flatMap((t) =>
        t.thingName && t.thingArn ? [{ name: t.thingName, arn: t.thingArn }] : [],
      ),
      nextToken: out.nextToken,
    };
  }

  async attachThingPrincipal(thingName: string, principal: string, ctx: CallContext): Promise<void> {
    await this.#send(this.#iot, new AttachThingPrincipalCommand({ thingName, principal }), ctx);
  }

  /** Asynchronous in AWS: the attachment keeps blocking deletes for a while. */
  async detachThingPrincipal(thingName: string, principal: string, ctx: CallContext): Promise<void> {
    await this.#send(this.#iot, new DetachThingPrincipalCommand({ thingName, principal }), ctx);
  }

  // ── certificates ────────────────────────────────────────────────────────────────────────────────

  /** Always INACTIVE: a crash before the checkpoint must never leave an unrecorded ACTIVE certificate. */
  async createCertificateFromCsr(csrPem: string, ctx: CallContext): Promise<IssuedCertificate> {
    const out = await this.#send(
      this.#iotCreateCertificate,
      new CreateCertificateFromCsrCommand({ certificateSigningRequest: csrPem, setAsActive: false }),
      ctx,
    );
    if (!out.certificateArn || !out.certificateId || !out.certificatePem) {
      throw new Error("CreateCertificateFromCsr answered without the certificate");
    }
    return { arn: out.certificateArn, id: out.certificateId, pem: out.certificatePem };
  }

  async describeCertificate(certificateId: string, ctx: CallContext): Promise<DescribedCertificate | null> {
    const out = await this.#orNull(
      this.#send(this.#iot, new DescribeCertificateCommand({ certificateId }), ctx),
    );
    const d = out?.certificateDescription;
    if (!d?.certificateArn || !d.certificateId || !d.certificatePem) return null;
    return {
      arn: d.certificateArn,
      id: d.certificateId,
      pem: d.certificatePem,
      status: d.status ?? "UNKNOWN",
      createdAt: d.creationDate ?? null,
    };
  }

  /** One page of certificates, newest first when `descending`. */
  async listCertificatesPage(
    options: { marker?: string | undefined; pageSize: number; descending: boolean },
    ctx: CallContext,
  ): Promise<{ certificates: ListedCertificate[]; nextMarker: string | undefined }> {
    const out = await this.#send(
      this.#iot,
      new ListCertificatesCommand({
        marker: options.marker,
        pageSize: options.pageSize,
        ascendingOrder: !options.descending,
      }),
      ctx,
    );
    return {
      certificates: (out.certificates ?? []).flatMap((c) =>
        c.certificateArn && c.certificateId
          ? [
              {
                arn: c.certificateArn,
                id: c.certificateId,
                status: c.status ?? "UNKNOWN",
                createdAt: c.creationDate ?? null,
              },
            ]
          : [],
      ),
      nextMarker: out.nextMarker,
    };
  }

  async updateCertificate(certificateId: string, status: "ACTIVE" | "INACTIVE", ctx: CallContext) {
    await this.#send(this.#iot, new UpdateCertificateCommand({ certificateId, newStatus: status }), ctx);
  }

  /** `forceDelete`: policies still attached do not block (a thing attachment and ACTIVE still do). */
  async deleteCertificate(certificateId: string, ctx: CallContext): Promise<void> {
    await this.#send(this.#iot, new DeleteCertificateCommand({ certificateId, forceDelete: true }), ctx);
  }

  // ── policies ────────────────────────────────────────────────────────────────────────────────────

  async attachPolicy(policyName: string, target: string, ctx: CallContext): Promise<void> {
    await this.#send(this.#iot, new AttachPolicyCommand({ policyName, target }), ctx);
  }

  async detachPolicy(policyName: string, target: string, ctx: CallContext): Promise<void> {
    await this.#send(this.#iot, new DetachPolicyCommand({ policyName, target }), ctx);
  }

  /** Names of the policies attached to `target`. */
  async listAttachedPolicies(target: string, ctx: CallContext): Promise<string[]> {
    const names: string[] = [];
    let marker: string | undefined;
    do {
      const out = await this.#send(
        this.#iot,
        new ListAttachedPoliciesCommand({ target, marker, pageSize: 100 }),
        ctx,
      );
      names.push(...(out.policies ?? []).flatMap((p) => (p.policyName ? [p.policyName] : [])));
      marker = out.nextMarker;
    } while (marker);
    return names;
  }

  /** The policy document, or `null` when the policy does not exist. */
  async getPolicy(policyName: string, ctx: CallContext): Promise<string | null> {
    const out = await this.#orNull(this.#send(this.#iot, new GetPolicyCommand({ policyName }), ctx));
    return out ? (out.policyDocument ?? "") : null;
  }

  async createPolicy(policyName: string, policyDocument: string, ctx: CallContext): Promise<void> {
    await this.#send(this.#iot, new CreatePolicyCommand({ policyName, policyDocument }), ctx);
  }

  // ── secrets ─────────────────────────────────────────────────────────────────────────────────────

  /** AWSCURRENT (or the version `versionId`), or `null` when the secret or version does not exist. */
  async getSecretValue(
    secretId: string,
    ctx: CallContext,
    versionId?: string | undefined,
  ): Promise<SecretValue | null> {
    const out = await this.#orNull(
      this.#send(this.#secrets, new GetSecretValueCommand({ SecretId: secretId, VersionId: versionId }), ctx),
    );
    if (!out?.ARN) return null;
    return { arn: out.ARN, versionId: out.VersionId ?? null, secretString: out.SecretString ?? null };
  }

  /** Whether the secret exists and is not scheduled for deletion. */
  async secretIsLive(secretId: string, ctx: CallContext): Promise<boolean> {
    const out = await this.#orNull(
      this.#send(this.#secrets, new DescribeSecretCommand({ SecretId: secretId }), ctx),
    );
    return out !== null && out.DeletedDate === undefined;
  }

  async createSecret(
    input: { name: string; secretString: string; token: string; kmsKeyId: string | null },
    ctx: CallContext,
  ): Promise<string> {
    const out = await this.#send(
      this.#secrets,
      new CreateSecretCommand({
        Name: input.name,
        SecretString: input.secretString,
        ClientRequestToken: input.token,
        ...(input.kmsKeyId ? { KmsKeyId: input.kmsKeyId } : {}),
      }),
      ctx,
    );
    if (!out.ARN) throw new Error("CreateSecret answered without an ARN");
    return out.ARN;
  }

  async putSecretValue(
    input: { secretId: string; secretString: string; token: string },
    ctx: CallContext,
  ): Promise<string> {
    const out = await this.#send(
      this.#secrets,
      new PutSecretValueCommand({
        SecretId: input.secretId,
        SecretString: input.secretString,
        ClientRequestToken: input.token,
      }),
      ctx,
    );
    if (!out.ARN) throw new Error("PutSecretValue answered without an ARN");
    return out.ARN;
  }

  /** `recoveryWindowInDays` null = `ForceDeleteWithoutRecovery` (succeeds for a missing secret). */
  async deleteSecret(secretId: string, recoveryWindowInDays: number | null, ctx: CallContext): Promise<void> {
    await this.#send(
      this.#secrets,
      new DeleteSecretCommand(
        recoveryWindowInDays === null
          ? { SecretId: secretId, ForceDeleteWithoutRecovery: true }
          : { SecretId: secretId, RecoveryWindowInDays: recoveryWindowInDays },
      ),
      ctx,
    );
  }
}
