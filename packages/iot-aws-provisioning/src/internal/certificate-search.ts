/**
 * Finding the certificate AWS made from a device's escrowed key, so a replay adopts it instead of
 * minting a second one. A certificate is recognised by its public key (SPKI), which only the key
 * escrowed for this binding can have.
 *
 * 1. The thing's principals (`ListThingPrincipals` → `DescribeCertificate`): a crash after
 *    AttachThingPrincipal.
 * 2. A bounded scan of the newest certificates (`ListCertificates`, descending), INACTIVE ones only,
 *    back to the recorded request time minus a clock-skew margin: a crash between
 *    CreateCertificateFromCsr (always INACTIVE) and AttachThingPrincipal.
 *
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_ListCertificates.html
 */
import { type AwsThingBinding, parseCertificateArn } from "@granit/iot-aws";
import type { CallContext, DescribedCertificate } from "./aws-api.ts";
import { certificateCommonName, certificateHasKey } from "./device-key.ts";
import type { ProvisioningRuntime } from "./runtime.ts";

/** Statuses a certificate made by the saga can be in (REVOKED / transfers are never adopted). */
const ADOPTABLE = new Set(["INACTIVE", "ACTIVE"]);
const PAGE_SIZE = 250;

function certificateIdOf(principal: string): string | null {
  try {
    return parseCertificateArn(principal).certificateId;
  } catch {
    return null; // not a certificate (e.g. a Cognito identity)
  }
}

/** The certificate made from `spki` for this binding, or `null` when there is none (within the bound). */
export async function findCertificateOfKey(
  runtime: ProvisioningRuntime,
  binding: AwsThingBinding,
  spki: Buffer,
  ctx: CallContext,
): Promise<DescribedCertificate | null> {
  const checked = new Set<string>();
  const principals = (await runtime.api.listThingPrincipals(binding.thingName.value, ctx)) ?? [];
  for (const principal of principals) {
    const id = certificateIdOf(principal);
    if (!id) continue;
    checked.add(id);
    const described = await runtime.api.describeCertificate(id, ctx);
    if (described && ADOPTABLE.has(described.status) && certificateHasKey(described.pem, spki))
      return described;
  }

  const requestedAt = binding.certificateRequestedAt ?? runtime.clock.now();
  const since = requestedAt.getTime() - runtime.options.adoptionScanMarginSeconds * 1000;
  const limit = runtime.options.adoptionScanMaxCertificates;
  let scanned = 0;
  let marker: string | undefined;
  do {
    const page = await runtime.api.listCertificatesPage(
      { marker, pageSize: Math.min(PAGE_SIZE, limit - scanned), descending: true },
      ctx,
    );
    for (const certificate of page.certificates) {
      scanned += 1;
      if (certificate.createdAt && certificate.createdAt.getTime() < since) return null;
      if (certificate.status !== "INACTIVE" || checked.has(certificate.id)) continue;
      checked.add(certificate.id);
      const described = await runtime.api.describeCertificate(certificate.id, ctx);
      if (described && ADOPTABLE.has(described.status) && certificateHasKey(described.pem, spki)) {
        return described;
      }
    }
    marker = page.nextMarker;
  } while (marker && scanned < limit);
  if (marker) {
    runtime.logger.warn(
      { deviceId: binding.deviceId, bindingId: binding.id, scanned, limit },
      "adoption scan stopped at IoT:Aws:Provisioning:AdoptionScanMaxCertificates without reaching the request time",
    );
  }
  return null;
}

/**
 * Teardown: every certificate of the bounded scan made for this binding — carrying the escrowed key
 * (when it is readable) or naming the thing in its subject, whatever its status but REVOKED. Wider
 * than adoption on purpose: a certificate is only ever *adopted* when it carries the key, but any
 * certificate requested for this thing must go when the device does (even one activated by hand).
 * Costs one DescribeCertificate per certificate created since the intent; it runs only for a
 * binding that recorded the intent but no certificate, which only a crash leaves.
 */
export async function findCertificatesToTearDown(
  runtime: ProvisioningRuntime,
  binding: AwsThingBinding,
  spki: Buffer | null,
  ctx: CallContext,
): Promise<DescribedCertificate[]> {
  const found: DescribedCertificate[] = [];
  const requestedAt = binding.certificateRequestedAt ?? runtime.clock.now();
  const since = requestedAt.getTime() - runtime.options.adoptionScanMarginSeconds * 1000;
  const limit = runtime.options.adoptionScanMaxCertificates;
  let scanned = 0;
  let marker: string | undefined;
  do {
    const page = await runtime.api.listCertificatesPage(
      { marker, pageSize: Math.min(PAGE_SIZE, limit - scanned), descending: true },
      ctx,
    );
    for (const certificate of page.certificates) {
      scanned += 1;
      if (certificate.createdAt && certificate.createdAt.getTime() < since) return found;
      if (certificate.status === "REVOKED") continue;
      const described = await runtime.api.describeCertificate(certificate.id, ctx);
      if (!described) continue;
      const ours =
        (spki !== null && certificateHasKey(described.pem, spki)) ||
        certificateCommonName(described.pem) === binding.thingName.value;
      if (ours) found.push(described);
    }
    marker = page.nextMarker;
  } while (marker && scanned < limit);
  return found;
}
