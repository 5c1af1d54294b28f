/**
 * The two operations behind the fleet endpoints, free of any HTTP framework:
 *
 * - `verify` — the pre-provisioning hook's question "may this serial provision in this tenant?".
 *   Reads only (deny list, claim-certificate registry, devices by serial, `SerialPolicy`), no AWS
 *   call; an allowed request's nonce is then recorded (a replay is refused).
 * - `register` — records a device AWS provisioned: in **one transaction** the nonce, the Device
 *   (provisioned + activated, its events on the outbox) and its JITP binding (`Active`,
 *   `provisionedViaJitp`, claim-certificate expiry), so the provisioning saga finds the binding and
 *   does nothing. Idempotent: the same device again answers `alreadyProvisioned: true`.
 *
 * The tenant is always the caller's (the fleet key's); a body naming another one is refused.
 */
import {
  type Clock,
  Device,
  DeviceStatus,
  type DeviceStore,
  DuplicateKeyError,
  type Logger,
  silentLogger,
  systemClock,
  type TransactionScope,
  type UnitOfWork,
} from "@granit/iot";
import {
  AwsThingBinding,
  type AwsThingBindingStore,
  type ClaimCertificate,
  ClaimCertificateStatus,
  type ClaimCertificateStore,
  type FleetRequestNonce,
  type FleetRequestNonceStore,
  ThingName,
} from "@granit/iot-aws";
import { DENY_REASON_TEXT, DenyReason } from "./deny-reason.ts";
import {
  FleetAuthenticationError,
  FleetAuthFailure,
  FleetRegistrationConflictError,
  FleetRegistrationDeniedError,
  FleetTenantMismatchError,
  ThingNameMismatchError,
} from "./errors.ts";
import {
  parseRegisterRequest,
  parseVerifyRequest,
  type RegisterRequest,
  type RegisterResult,
  type VerifyRequest,
  type VerifyResult,
} from "./fleet-provisioning-contracts.ts";
import { FleetProvisioningMetrics } from "./fleet-provisioning-metrics.ts";
import type { FleetCaller } from "./fleet-request-authenticator.ts";
import { SerialDenyList } from "./serial-deny-list.ts";
import { allowAllSerialPolicy, type SerialPolicy } from "./serial-policy.ts";

export interface FleetProvisioningServiceDependencies {
  /** Runs `register` in one transaction (`Database` of `@granit/iot-postgres`). */
  readonly unitOfWork: UnitOfWork;
  readonly devices: DeviceStore;
  readonly bindings: AwsThingBindingStore;
  readonly claimCertificates: ClaimCertificateStore;
  readonly nonces: FleetRequestNonceStore;
  /** @default an empty list */
  readonly denyList?: SerialDenyList;
  /** @default allowAllSerialPolicy */
  readonly serialPolicy?: SerialPolicy;
  /** @default systemClock */
  readonly clock?: Clock;
  readonly metrics?: FleetProvisioningMetrics;
  readonly logger?: Logger;
  /**
   * How long `/verify` may reuse a claim certificate it read (per host). A deactivation on another
   * host takes effect within this bound; on the deactivating host at once (`forgetClaimCertificate`).
   * Unknown certificates are never cached. @default 10000
   */
  readonly claimCertificateCacheMs?: number;
}

/** What the transport learned while authenticating the request. */
export interface FleetRequestContext {
  /** Recorded with the outcome; a second use is refused as a replay. Absent: no replay check. */
  readonly nonce?: FleetRequestNonce;
}

/** Template parameter the hook always overrides: the thing name AWS will create. */
export const THING_NAME_PARAMETER = "ThingName";
/** Template parameter overridden with the claim certificate id, when the request carried one. */
export const CLAIM_CERTIFICATE_ID_PARAMETER = "ClaimCertificateId";

const MAX_REGISTER_ATTEMPTS = 3;

export class FleetProvisioningService {
  readonly #uow: UnitOfWork;
  readonly #devices: DeviceStore;
  readonly #bindings: AwsThingBindingStore;
  readonly #claimCertificates: ClaimCertificateStore;
  readonly #nonces: FleetRequestNonceStore;
  readonly #denyList: SerialDenyList;
  readonly #policy: SerialPolicy;
  readonly #clock: Clock;
  readonly #metrics: FleetProvisioningMetrics;
  readonly #logger: Logger;
  readonly #claimCacheMs: number;
  readonly #claimCache = new Map<string, { readonly claim: ClaimCertificate; readonly loadedAtMs: number }>();

  constructor(dependencies: FleetProvisioningServiceDependencies) {
    this.#uow = dependencies.unitOfWork;
    this.#devices = dependencies.devices;
    this.#bindings = dependencies.bindings;
    this.#claimCertificates = dependencies.claimCertificates;
    this.#nonces = dependencies.nonces;
    this.#denyList = dependencies.denyList ?? new SerialDenyList();
    this.#policy = dependencies.serialPolicy ?? allowAllSerialPolicy;
    this.#clock = dependencies.clock ?? systemClock;
    this.#metrics = dependencies.metrics ?? new FleetProvisioningMetrics();
    this.#logger = (dependencies.logger ?? silentLogger).child({ component: "fleet-provisioning" });
    this.#claimCacheMs = dependencies.claimCertificateCacheMs ?? 10_000;
  }

  /** Drops a cached claim certificate (after a status change on this host). */
  forgetClaimCertificate(certificateId: string): void {
    for (const key of this.#claimCache.keys()) {
      if (key.endsWith(`:${certificateId}`)) this.#claimCache.delete(key);
    }
  }

  /**
   * Decides whether `body.serialNumber` may provision in the caller's tenant. Throws
   * `DomainValidationError` (malformed body), `FleetTenantMismatchError`, or
   * `FleetAuthenticationError` (`replayed`) — never for a denial, which is a verdict.
   */
  async verify(caller: FleetCaller, body: unknown, context: FleetRequestContext = {}): Promise<VerifyResult> {
    const started = performance.now();
    const request = parseVerifyRequest(body);
    checkTenant(caller, request.tenantId);
    const verdict = await this.#evaluate(caller, request);
    if (!verdict.allowProvisioning) {
      this.#metrics.verifyDenied(caller.tenantId, verdict.reason, performance.now() - started);
      this.#logger.info(
        {
          tenantId: caller.tenantId,
          keyId: caller.keyId,
          serialNumber: request.serialNumber,
          reason: verdict.reason,
        },
        "fleet provisioning denied",
      );
      return verdict;
    }
    if (context.nonce && !(await this.#nonces.remember(context.nonce))) throw replayed(caller);
    this.#metrics.verifyAllowed(caller.tenantId, performance.now() - started);
    return verdict;
  }

  /**
   * Records the device AWS provisioned, with its JITP binding, in one transaction; idempotent.
   * Throws `DomainValidationError` (400), `FleetTenantMismatchError` / `FleetRegistrationDeniedError`
   * (403), `FleetRegistrationConflictError` (409), `ThingNameMismatchError` (422),
   * `FleetAuthenticationError` (`replayed`). Nothing is written when it throws.
   */
  async register(
    caller: FleetCaller,
    body: unknown,
    context: FleetRequestContext = {},
  ): Promise<RegisterResult> {
    const request = parseRegisterRequest(body);
    checkTenant(caller, request.tenantId);
    checkThingName(caller, request);
    if (this.#denyList.has(request.serialNumber)) {
      throw new FleetRegistrationDeniedError(DenyReason.SerialDenied, DENY_REASON_TEXT.serial_denied);
    }
    const claim = request.claimCertificateId
      ? await this.#claimCertificates.find(request.claimCertificateId, caller.tenantId)
      : null;
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await this.#uow.run((scope) =>
          this.#register(caller, request, claim?.notAfter ?? null, context, scope),
        );
        if (result.alreadyProvisioned) this.#metrics.alreadyProvisioned(caller.tenantId);
        else this.#metrics.registered(caller.tenantId);
        this.#logger.info(
          {
            tenantId: caller.tenantId,
            keyId: caller.keyId,
            deviceId: result.deviceId,
            thingName: result.thingName,
            alreadyProvisioned: result.alreadyProvisioned,
          },
          "fleet-provisioned device registered",
        );
        return result;
      } catch (error) {
        // Two registrations of one device at once: the loser retries and finds the winner's rows.
        const racing =
          error instanceof DuplicateKeyError && (error.key === "serialNumber" || error.key === "deviceId");
        if (!racing || attempt >= MAX_REGISTER_ATTEMPTS) {
          if (error instanceof DuplicateKeyError && error.key === "thingName") {
            throw new FleetRegistrationConflictError(
              "thing_name_taken",
              `Thing '${request.thingName}' is already bound to another device; reconcile the AWS thing before registering it.`,
              { cause: error },
            );
          }
          throw error;
        }
      }
    }
  }

  async #register(
    caller: FleetCaller,
    request: RegisterRequest,
    claimExpiresAt: Date | null,
    context: FleetRequestContext,
    scope: TransactionScope,
  ): Promise<RegisterResult> {
    if (context.nonce && !(await this.#nonces.remember(context.nonce, scope))) throw replayed(caller);
    const change = { at: this.#clock.now(), by: caller.actor };
    const sameSerial = await this.#devices.findAllBySerialNumber(request.serialNumber, scope);
    if (sameSerial.some((d) => d.tenantId !== caller.tenantId)) {
      throw new FleetRegistrationConflictError("other_tenant", DENY_REASON_TEXT.other_tenant);
    }
    let device = sameSerial.find((d) => d.tenantId === caller.tenantId) ?? null;
    if (device) {
      if (device.status === DeviceStatus.Decommissioned) {
        throw new FleetRegistrationConflictError(
          "device_decommissioned",
          DENY_REASON_TEXT.device_decommissioned,
        );
      }
      const existing = await this.#bindings.findByDevice(device.id, caller.tenantId, scope);
      if (existing) {
        if (existing.provisionedViaJitp && existing.thingName.equals(request.thingName)) {
          return {
            deviceId: device.id,
            bindingId: existing.id,
            thingName: existing.thingName.value,
            alreadyProvisioned: true,
          };
        }
        throw new FleetRegistrationConflictError(
          "binding_exists",
          `Device '${device.id}' is already bound to thing '${existing.thingName}' (${existing.provisionedViaJitp ? "fleet-provisioned" : "provisioned by the saga"}); reconcile before registering '${request.thingName}'.`,
        );
      }
      if (device.status === DeviceStatus.Provisioning) {
        device.activate(change);
        await this.#devices.update(device, scope);
      }
    } else {
      device = Device.provision(
        {
          tenantId: caller.tenantId,
          serialNumber: request.serialNumber,
          model: request.model,
          firmware: request.firmwareVersion,
          label: request.label,
        },
        change,
      );
      device.activate(change);
      await this.#devices.add(device, scope);
    }
    const binding = AwsThingBinding.createForJitp(
      {
        deviceId: device.id,
        tenantId: caller.tenantId,
        thingName: request.thingName,
        thingArn: request.thingArn.arn,
        certificateArn: request.certificateArn,
        certificateSecretArn: request.certificateSecretArn,
        claimCertificateId: request.claimCertificateId,
        claimCertificateExpiresAt: claimExpiresAt,
      },
      change,
    );
    await this.#bindings.add(binding, scope);
    return {
      deviceId: device.id,
      bindingId: binding.id,
      thingName: binding.thingName.value,
      alreadyProvisioned: false,
    };
  }

  async #claimCertificate(caller: FleetCaller, certificateId: string): Promise<ClaimCertificate | null> {
    const key = `${caller.tenantId ?? "host"}:${certificateId}`;
    const now = this.#clock.now().getTime();
    const cached = this.#claimCache.get(key);
    if (cached && now - cached.loadedAtMs < this.#claimCacheMs && now >= cached.loadedAtMs)
      return cached.claim;
    const claim = await this.#claimCertificates.find(certificateId, caller.tenantId);
    if (claim && this.#claimCacheMs > 0) {
      if (this.#claimCache.size >= 10_000) this.#claimCache.clear();
      this.#claimCache.set(key, { claim, loadedAtMs: now });
    } else {
      this.#claimCache.delete(key);
    }
    return claim;
  }

  async #evaluate(caller: FleetCaller, request: VerifyRequest): Promise<VerifyResult> {
    const serial = request.serialNumber;
    if (this.#denyList.has(serial)) return deny(DenyReason.SerialDenied);
    // The two reads are independent: one round trip of latency instead of two.
    const [claim, sameSerial] = await Promise.all([
      request.claimCertificateId
        ? this.#claimCertificate(caller, request.claimCertificateId)
        : Promise.resolve(null),
      this.#devices.findAllBySerialNumber(serial),
    ]);
    if (request.claimCertificateId) {
      if (!claim) return deny(DenyReason.UnknownClaimCertificate);
      if (request.templateName && claim.templateName !== request.templateName) {
        return deny(
          DenyReason.UnknownClaimCertificate,
          `The claim certificate is registered for template '${claim.templateName}', not '${request.templateName}'.`,
        );
      }
      if (claim.status !== ClaimCertificateStatus.Active) return deny(DenyReason.InactiveClaimCertificate);
      if (claim.notAfter.getTime() <= this.#clock.now().getTime()) {
        return deny(
          DenyReason.InactiveClaimCertificate,
          `The claim certificate expired on ${claim.notAfter.toISOString()}.`,
        );
      }
    }
    if (sameSerial.some((d) => d.tenantId !== caller.tenantId)) return deny(DenyReason.OtherTenant);
    if (sameSerial.some((d) => d.status === DeviceStatus.Decommissioned)) {
      return deny(DenyReason.DeviceDecommissioned);
    }
    const policy = await this.#policy.evaluate(serial, caller.tenantId, {
      claimCertificateId: request.claimCertificateId,
      templateName: request.templateName,
      parameters: request.parameters,
    });
    if (!policy.allow) return deny(DenyReason.PolicyDenied, policy.reason);
    return {
      allowProvisioning: true,
      parameterOverrides: {
        ...policy.parameterOverrides,
        ...(request.claimCertificateId
          ? { [CLAIM_CERTIFICATE_ID_PARAMETER]: request.claimCertificateId }
          : {}),
        [THING_NAME_PARAMETER]: ThingName.from(caller.tenantId, serial).value,
      },
    };
  }
}

function deny(reason: DenyReason, detail?: string): VerifyResult {
  return { allowProvisioning: false, reason, detail: detail ?? DENY_REASON_TEXT[reason] };
}

function replayed(caller: FleetCaller): FleetAuthenticationError {
  return new FleetAuthenticationError(FleetAuthFailure.Replayed, "The request signature is not accepted.", {
    keyId: caller.keyId,
    tenantId: caller.tenantId,
  });
}

function checkTenant(caller: FleetCaller, named: string | null | undefined): void {
  if (named !== undefined && named !== caller.tenantId) throw new FleetTenantMismatchError();
}

function checkThingName(caller: FleetCaller, request: RegisterRequest): void {
  if (request.thingName.tenantId !== caller.tenantId) {
    throw new ThingNameMismatchError(
      "thingName",
      "tenant",
      `Thing name '${request.thingName}' encodes tenant '${request.thingName.tenantId ?? "host"}', not the fleet key's '${caller.tenantId ?? "host"}'.`,
    );
  }
  if (request.thingName.serialNumber !== request.serialNumber) {
    throw new ThingNameMismatchError(
      "thingName",
      "serialNumber",
      `Thing name '${request.thingName}' encodes serial '${request.thingName.serialNumber}', not '${request.serialNumber}'.`,
    );
  }
  if (request.thingArn.thingName !== request.thingName.value) {
    throw new ThingNameMismatchError(
      "thingArn",
      "thingArn",
      `The thing ARN names thing '${request.thingArn.thingName}', not '${request.thingName}'.`,
    );
  }
}
