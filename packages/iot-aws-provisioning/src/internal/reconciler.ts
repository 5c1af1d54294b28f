/**
 * Reconcile: the AWS inventory (things, certificates, attachments, secrets) against the live
 * bindings, reported per tenant, with an opt-in repair per drift kind (see `reconcile-report.ts`).
 * Every AWS call goes through the call policy, so a large inventory is paced by the account's
 * quotas (ListThingPrincipals and ListAttachedPolicies at 10/s bound it to a few bindings a second).
 * Repairs run under the device's `BindingLock` and re-check the binding first, so they never race a
 * saga or a decommission.
 */
import { ALL_TENANTS, type TenantFilter, type TenantId } from "@granit/iot";
import {
  type AwsThingBinding,
  isAtLeast,
  PROVISIONING_STATUSES,
  type ProvisioningCheckpoint,
  ProvisioningStatus,
  parseCertificateArn,
  ThingName,
} from "@granit/iot-aws";
import {
  DRIFT_KINDS,
  type DriftItem,
  type DriftKind,
  emptyDriftCounts,
  type ReconcileOptions,
  type ReconcileReport,
  type TenantDriftReport,
} from "../reconcile-report.ts";
import type { CallContext, ListedCertificate } from "./aws-api.ts";
import { certificateCommonName } from "./device-key.ts";
import { redact } from "./redact.ts";
import { bindingFields, change, type ProvisioningRuntime, SAGA_ACTOR } from "./runtime.ts";
import { removeCertificate, teardown } from "./teardown.ts";

type Finding = Omit<DriftItem, "repaired" | "repairError"> & { readonly repair: () => Promise<void> };

const PAGE = 1000;

function inTenant(filter: TenantFilter, tenantId: TenantId | null): boolean {
  return filter === ALL_TENANTS || filter === tenantId;
}

/** The checkpoint a binding stands at (a Failed binding: the one it failed from). */
function checkpointOf(binding: AwsThingBinding): ProvisioningCheckpoint | null {
  if (binding.provisioningStatus === ProvisioningStatus.Failed) return binding.failedFromStatus;
  if (binding.provisioningStatus === ProvisioningStatus.Decommissioned) return null;
  return binding.provisioningStatus as ProvisioningCheckpoint;
}

function atLeast(binding: AwsThingBinding, checkpoint: ProvisioningCheckpoint): boolean {
  const at = checkpointOf(binding);
  return at !== null && isAtLeast(at, checkpoint);
}

export class Reconciler {
  readonly #rt: ProvisioningRuntime;

  constructor(runtime: ProvisioningRuntime) {
    this.#rt = runtime;
  }

  async reconcile(options: ReconcileOptions = {}): Promise<ReconcileReport> {
    const rt = this.#rt;
    const startedAt = rt.clock.now();
    const tenant = options.tenant === undefined ? ALL_TENANTS : options.tenant;
    const ctx: CallContext = { tenantId: null, signal: options.signal };
    const graceStart = startedAt.getTime() - rt.options.reconcileGraceSeconds * 1000;

    const bindings = await this.#liveBindings(tenant);
    const byThing = new Map(bindings.map((b) => [b.thingName.value, b]));
    const things = await this.#ourThings(tenant, ctx);
    const certificates = await this.#certificates(ctx);
    const recorded = new Set(bindings.flatMap((b) => (b.certificateArn ? [b.certificateArn] : [])));
    const findings: Finding[] = [];

    for (const binding of bindings) {
      findings.push(...(await this.#checkBinding(binding, things, certificates, ctx, options)));
    }
    for (const [thingName] of things) {
      if (byThing.has(thingName)) continue;
      const young = await this.#thingIsYoung(thingName, certificates, graceStart, ctx);
      if (young) continue;
      const name = ThingName.parse(thingName);
      findings.push({
        kind: "thingsWithoutBinding",
        tenantId: name.tenantId,
        thingName,
        deviceId: null,
        bindingId: null,
        certificateArn: null,
        detail: `thing '${thingName}' exists in AWS but no live binding holds it`,
        repair: () => this.#repairThingWithoutBinding(thingName, ctx),
      });
    }
    for (const certificate of certificates.values()) {
      if (recorded.has(certificate.arn) || certificate.status === "REVOKED") continue;
      if (certificate.createdAt && certificate.createdAt.getTime() > graceStart) continue;
      const described = await rt.api.describeCertificate(certificate.id, ctx);
      const commonName = described ? certificateCommonName(described.pem) : null;
      const name = ThingName.tryParse(commonName);
      if (!name || !inTenant(tenant, name.tenantId)) continue; // not made by the bridge (or not this tenant's)
      const owner = byThing.get(name.value);
      if (owner && !owner.certificateArn && owner.certificateRequestedAt) continue; // a saga will adopt it
      findings.push({
        kind: "orphanCertificates",
        tenantId: name.tenantId,
        thingName: name.value,
        deviceId: owner?.deviceId ?? null,
        bindingId: owner?.id ?? null,
        certificateArn: certificate.arn,
        detail: `certificate made for thing '${name.value}' (${certificate.status}) is recorded by no binding`,
        repair: () => this.#repairOrphanCertificate(name.value, certificate.arn, ctx),
      });
    }

    const items: DriftItem[] = [];
    const repaired = emptyDriftCounts();
    for (const finding of findings) {
      const { repair, ...item } = finding;
      if (!options.repair?.[finding.kind]) {
        items.push({ ...item, repaired: null });
        continue;
      }
      try {
        await repair();
        repaired[finding.kind] += 1;
        items.push({ ...item, repaired: true });
        rt.logger.info({ ...item }, `reconcile repaired ${finding.kind}`);
      } catch (error) {
        const repairError = redact(`${(error as Error).name}: ${(error as Error).message}`).slice(0, 500);
        items.push({ ...item, repaired: false, repairError });
        rt.logger.warn({ ...item, repairError }, `reconcile could not repair ${finding.kind}`);
      }
    }
    const report = this.#report(startedAt, items, repaired, {
      bindings: bindings.length,
      things: things.size,
      certificates: certificates.size,
    });
    rt.logger.info(
      { totals: report.totals, repaired: report.repaired, scanned: report.scanned },
      "reconcile finished",
    );
    return report;
  }

  async #liveBindings(tenant: TenantFilter): Promise<AwsThingBinding[]> {
    const statuses = PROVISIONING_STATUSES.filter((s) => s !== ProvisioningStatus.Decommissioned);
    const out: AwsThingBinding[] = [];
    let cursor: string | null = null;
    do {
      const page = await this.#rt.bindings.pageByStatus({ statuses, limit: PAGE, cursor, tenant });
      out.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    return out;
  }

  async #ourThings(tenant: TenantFilter, ctx: CallContext): Promise<Map<string, string>> {
    const things = new Map<string, string>();
    let nextToken: string | undefined;
    do {
      const page = await this.#rt.api.listThingsPage(nextToken, ctx);
      for (const thing of page.things) {
        const name = ThingName.tryParse(thing.name);
        if (name && inTenant(tenant, name.tenantId)) things.set(thing.name, thing.arn);
      }
      nextToken = page.nextToken;
    } while (nextToken);
    return things;
  }

  async #certificates(ctx: CallContext): Promise<Map<string, ListedCertificate>> {
    const certificates = new Map<string, ListedCertificate>();
    let marker: string | undefined;
    do {
      const page = await this.#rt.api.listCertificatesPage({ marker, pageSize: 250, descending: false }, ctx);
      for (const certificate of page.certificates) certificates.set(certificate.arn, certificate);
      marker = page.nextMarker;
    } while (marker);
    return certificates;
  }

  /** A thing whose newest certificate is within the grace period (e.g. fleet provisioning in flight). */
  async #thingIsYoung(
    thingName: string,
    certificates: Map<string, ListedCertificate>,
    graceStart: number,
    ctx: CallContext,
  ): Promise<boolean> {
    const principals = (await this.#rt.api.listThingPrincipals(thingName, ctx)) ?? [];
    return principals.some((p) => {
      const created = certificates.get(p)?.createdAt;
      return created !== undefined && created !== null && created.getTime() > graceStart;
    });
  }

  async #checkBinding(
    binding: AwsThingBinding,
    things: Map<string, string>,
    certificates: Map<string, ListedCertificate>,
    ctx: CallContext,
    options: ReconcileOptions,
  ): Promise<Finding[]> {
    const rt = this.#rt;
    const out: Finding[] = [];
    const base = {
      tenantId: binding.tenantId,
      thingName: binding.thingName.value,
      deviceId: binding.deviceId,
      bindingId: binding.id,
      certificateArn: binding.certificateArn,
    };
    const thingExists = things.has(binding.thingName.value);
    // A Failed binding is already in front of an operator: its lost key or certificate is not news.
    const failed = binding.provisioningStatus === ProvisioningStatus.Failed;
    if (atLeast(binding, ProvisioningStatus.ThingCreated) && !thingExists) {
      out.push({
        ...base,
        kind: "bindingsMissingThing",
        detail: `thing '${binding.thingName.value}' of a ${binding.provisioningStatus} binding does not exist in AWS`,
        repair: () => this.#repairMissingThing(binding.deviceId, ctx),
      });
    }
    if (
      !failed &&
      !binding.provisionedViaJitp &&
      binding.certificateSecretArn &&
      atLeast(binding, ProvisioningStatus.KeyEscrowed) &&
      !(await rt.api.secretIsLive(binding.certificateSecretArn, ctx))
    ) {
      out.push({
        ...base,
        kind: "bindingsMissingSecret",
        detail: `secret '${binding.certificateSecretArn}' is gone or scheduled for deletion: the device's private key is lost`,
        repair: () =>
          this.#markFailed(
            binding.deviceId,
            `The device secret '${binding.certificateSecretArn}' of thing '${binding.thingName.value}' was deleted outside the bridge: the private key is lost. Decommission the device and provision it again.`,
            options,
          ),
      });
    }
    const certificateArn = binding.certificateArn;
    if (!certificateArn || !atLeast(binding, ProvisioningStatus.CertIssued)) return out;
    const certificate = certificates.get(certificateArn);
    const active = binding.provisioningStatus === ProvisioningStatus.Active;
    if (!failed && (!certificate || (active && certificate.status !== "ACTIVE"))) {
      const what = certificate ? `is ${certificate.status}, not ACTIVE` : "does not exist";
      out.push({
        ...base,
        kind: "bindingsMissingCertificate",
        detail: `certificate '${certificateArn}' ${what}`,
        repair: () =>
          this.#markFailed(
            binding.deviceId,
            `Certificate '${certificateArn}' of thing '${binding.thingName.value}' ${what} (changed outside the bridge). Decommission the device and provision it again.`,
            options,
          ),
      });
      return out;
    }
    if (!thingExists || !certificate) return out;
    const principals = (await rt.api.listThingPrincipals(binding.thingName.value, ctx)) ?? [];
    const attached = principals.includes(certificateArn);
    const policyMissing =
      active &&
      !(await rt.api.listAttachedPolicies(certificateArn, ctx)).includes(rt.options.devicePolicyName);
    if (!attached || policyMissing) {
      const what = [
        attached ? null : `not attached to thing '${binding.thingName.value}'`,
        policyMissing ? `without policy '${rt.options.devicePolicyName}'` : null,
      ]
        .filter(Boolean)
        .join(" and ");
      out.push({
        ...base,
        kind: "unattachedCertificates",
        detail: `certificate '${certificateArn}' is ${what}`,
        repair: () => this.#repairAttachments(binding.deviceId, ctx),
      });
    }
    return out;
  }

  /** Runs `work` under the device's lock with the binding as stored now (skipped when it is gone). */
  async #withBinding(deviceId: string, work: (binding: AwsThingBinding) => Promise<void>): Promise<void> {
    const rt = this.#rt;
    const result = await rt.lock.tryRun(deviceId, async () => {
      const binding = await rt.bindings.findByDevice(deviceId, ALL_TENANTS);
      if (binding) await work(binding);
    });
    if (!result.acquired)
      throw new Error(
        `device '${deviceId}' is busy (a saga or decommission holds it); run reconcile again later`,
      );
  }

  #repairThingWithoutBinding(thingName: string, ctx: CallContext): Promise<void> {
    return this.#rt.lock
      .tryRun(`thing:${thingName}`, async () => {
        if (await this.#rt.bindings.findByThingName(thingName)) return; // bound meanwhile
        await teardown(this.#rt, { thingName, deviceId: null, binding: null }, ctx);
      })
      .then((result) => {
        if (!result.acquired) throw new Error(`thing '${thingName}' is being repaired by another run`);
      });
  }

  #repairMissingThing(deviceId: string, ctx: CallContext): Promise<void> {
    return this.#withBinding(deviceId, async (binding) => {
      const name = binding.thingName.value;
      if ((await this.#rt.api.describeThing(name, ctx)) === null) await this.#rt.api.createThing(name, ctx);
      if (binding.certificateArn) await this.#rt.api.attachThingPrincipal(name, binding.certificateArn, ctx);
      this.#rt.logger.info({ ...bindingFields(binding) }, "reconcile re-created the thing of a binding");
    });
  }

  #repairAttachments(deviceId: string, ctx: CallContext): Promise<void> {
    return this.#withBinding(deviceId, async (binding) => {
      const certificateArn = binding.certificateArn;
      if (!certificateArn) return;
      await this.#rt.api.attachThingPrincipal(binding.thingName.value, certificateArn, ctx);
      if (binding.provisioningStatus === ProvisioningStatus.Active) {
        await this.#rt.api.attachPolicy(this.#rt.options.devicePolicyName, certificateArn, ctx);
      }
    });
  }

  #repairOrphanCertificate(thingName: string, certificateArn: string, ctx: CallContext): Promise<void> {
    const owner = async () => (await this.#rt.bindings.findByThingName(thingName))?.deviceId ?? null;
    return owner().then(async (deviceId) => {
      const remove = async () => {
        parseCertificateArn(certificateArn);
        await removeCertificate(this.#rt, thingName, certificateArn, ctx);
      };
      if (!deviceId) {
        await remove();
        return;
      }
      await this.#withBinding(deviceId, async (binding) => {
        if (binding.certificateArn === certificateArn) return; // recorded meanwhile
        if (!binding.certificateArn && binding.certificateRequestedAt) return; // a saga will adopt it
        await remove();
      });
    });
  }

  #markFailed(deviceId: string, reason: string, options: ReconcileOptions): Promise<void> {
    return this.#withBinding(deviceId, async (binding) => {
      if (binding.provisioningStatus === ProvisioningStatus.Failed && binding.failureReason === reason)
        return;
      const from = binding.provisioningStatus;
      binding.markFailed(reason, change(this.#rt, options.actor === undefined ? SAGA_ACTOR : options.actor));
      await this.#rt.bindings.update(binding);
      this.#rt.metrics.provisioningFailed(binding.tenantId, "reconcile");
      this.#rt.logger.error(
        { ...bindingFields(binding), from, to: binding.provisioningStatus, failureReason: reason },
        `binding ${from} → Failed (reconcile)`,
      );
    });
  }

  #report(
    startedAt: Date,
    items: DriftItem[],
    repaired: Record<DriftKind, number>,
    scanned: ReconcileReport["scanned"],
  ): ReconcileReport {
    const totals = emptyDriftCounts();
    const byTenant = new Map<
      string,
      { tenantId: TenantId | null; items: DriftItem[]; counts: Record<DriftKind, number> }
    >();
    for (const item of items) {
      totals[item.kind] += 1;
      const key = item.tenantId ?? "host";
      let group = byTenant.get(key);
      if (!group) {
        group = { tenantId: item.tenantId, items: [], counts: emptyDriftCounts() };
        byTenant.set(key, group);
      }
      group.items.push(item);
      group.counts[item.kind] += 1;
    }
    const tenants: TenantDriftReport[] = [...byTenant.values()].sort((a, b) =>
      String(a.tenantId).localeCompare(String(b.tenantId)),
    );
    for (const kind of DRIFT_KINDS) totals[kind] ??= 0;
    return {
      startedAt: startedAt.toISOString(),
      finishedAt: this.#rt.clock.now().toISOString(),
      scanned,
      tenants,
      totals,
      repaired,
    };
  }
}
