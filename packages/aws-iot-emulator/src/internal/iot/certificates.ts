/**
 * Device certificates: CreateKeysAndCertificate, CreateCertificateFromCsr, DescribeCertificate,
 * UpdateCertificate, DeleteCertificate, ListCertificates. The certificateId is the hex SHA-256 of the
 * certificate's DER encoding, as in AWS.
 */
import { randomUUID } from "node:crypto";
import { certificateArn, type EmulatorContext, seconds } from "../context.ts";
import { certificateState, deleteConflict, invalidRequest, resourceNotFound } from "../errors.ts";
import { type OperationRequest, ok } from "../operation.ts";
import { queryBoolean, queryNumber, requiredString } from "../protocol/input.ts";
import { pageSize } from "../protocol/paging.ts";
import type { RestJsonRouter } from "../protocol/rest-json.ts";
import { type CertificateRecord, CertificateStatus } from "../state.ts";
import type { IssuedCertificate } from "./certificate-authority.ts";
import { AWS_IOT_CERTIFICATE_SUBJECT } from "./certificate-authority.ts";
import { verifyCsr } from "./csr.ts";
import { detachAllPolicies, policiesOf } from "./policies.ts";
import { thingsOfPrincipal } from "./principals.ts";

const CERTIFICATE_ID = /^(0x)?[a-fA-F0-9]{64}$/;

function requireCertificate(ctx: EmulatorContext, id: string): CertificateRecord {
  if (!CERTIFICATE_ID.test(id))
    throw invalidRequest(`Invalid certificateId ${id}: must be 64 hex characters`);
  const certificate = ctx.state.certificates.get(id.toLowerCase().replace(/^0x/, ""));
  if (!certificate) throw resourceNotFound(`The certificate given in the request does not exist: ${id}`);
  return certificate;
}

function store(ctx: EmulatorContext, issued: IssuedCertificate, active: boolean): CertificateRecord {
  const now = ctx.now();
  const record: CertificateRecord = {
    id: issued.id,
    arn: certificateArn(ctx, issued.id),
    pem: issued.pem,
    status: active ? CertificateStatus.ACTIVE : CertificateStatus.INACTIVE,
    seq: ++ctx.state.certificateSeq,
    createdAt: now,
    modifiedAt: now,
    notBefore: issued.notBefore,
    notAfter: issued.notAfter,
    generationId: randomUUID(),
    customerVersion: 1,
  };
  ctx.state.certificates.set(record.id, record);
  return record;
}

/**
 * "Creates a 2048-bit RSA key pair and issues an X.509 certificate using the issued public key ...
 * This is the only time IoT issues the private key for this certificate."
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_CreateKeysAndCertificate.html
 */
async function createKeysAndCertificate({ ctx, query }: OperationRequest) {
  const active = queryBoolean(query, "setAsActive") ?? false;
  const key = await ctx.keyPool.take();
  const issued = ctx.ca.issue(AWS_IOT_CERTIFICATE_SUBJECT, key.spki, ctx.now());
  const record = store(ctx, issued, active);
  return ok({
    certificateArn: record.arn,
    certificateId: record.id,
    certificatePem: record.pem,
    keyPair: { PublicKey: key.publicKeyPem, PrivateKey: key.privateKeyPem },
  });
}

/**
 * "Reusing the same certificate signing request (CSR) results in a distinct certificate." The CSR's
 * signature and key are checked; a bad CSR is an InvalidRequestException.
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_CreateCertificateFromCsr.html
 */
async function createCertificateFromCsr({ ctx, query, input }: OperationRequest) {
  const active = queryBoolean(query, "setAsActive") ?? false;
  const pem = requiredString(input, "certificateSigningRequest");
  const csr = await verifyCsr(pem);
  if (typeof csr === "string") throw invalidRequest(csr);
  const issued = ctx.ca.issue(csr.subject, csr.spki, ctx.now());
  const record = store(ctx, issued, active);
  return ok({ certificateArn: record.arn, certificateId: record.id, certificatePem: record.pem });
}

function describeCertificate({ ctx, params }: OperationRequest) {
  const c = requireCertificate(ctx, params.certificateId ?? "");
  return ok({
    certificateDescription: {
      certificateArn: c.arn,
      certificateId: c.id,
      status: c.status,
      certificatePem: c.pem,
      ownedBy: ctx.accountId,
      creationDate: seconds(c.createdAt),
      lastModifiedDate: seconds(c.modifiedAt),
      customerVersion: c.customerVersion,
      transferData: {},
      generationId: c.generationId,
      validity: { notBefore: seconds(c.notBefore), notAfter: seconds(c.notAfter) },
      certificateMode: "DEFAULT",
    },
  });
}

/**
 * ACTIVE ↔ INACTIVE, and either to REVOKED; a REVOKED certificate cannot change again. The transfer
 * and registration statuses cannot be set through UpdateCertificate.
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_UpdateCertificate.html
 */
const SETTABLE: ReadonlySet<string> = new Set([
  CertificateStatus.ACTIVE,
  CertificateStatus.INACTIVE,
  CertificateStatus.REVOKED,
]);

function updateCertificate({ ctx, params, query }: OperationRequest) {
  const c = requireCertificate(ctx, params.certificateId ?? "");
  const next = query.get("newStatus") ?? "";
  if (!Object.hasOwn(CertificateStatus, next)) throw invalidRequest(`Invalid newStatus ${next}`);
  if (!SETTABLE.has(next))
    throw certificateState(`Cannot set a certificate to ${next} with UpdateCertificate`);
  if (c.status === next) return ok();
  if (c.status === CertificateStatus.REVOKED) {
    throw certificateState(`Certificate ${c.id} is REVOKED and cannot be set to ${next}.`);
  }
  if (c.status !== CertificateStatus.ACTIVE && c.status !== CertificateStatus.INACTIVE) {
    throw certificateState(`Certificate ${c.id} in status ${c.status} cannot be set to ${next}.`);
  }
  c.status = next as CertificateRecord["status"];
  c.modifiedAt = ctx.now();
  c.customerVersion++;
  return ok();
}

/**
 * "A certificate cannot be deleted if it has a policy or IoT thing attached to it or if its status is
 * set to ACTIVE." `forceDelete` only lifts the policy rule ("Forces the deletion of a certificate if it
 * is inactive and is not attached to an IoT thing").
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_DeleteCertificate.html
 */
function deleteCertificate({ ctx, params, query }: OperationRequest) {
  const c = requireCertificate(ctx, params.certificateId ?? "");
  const force = queryBoolean(query, "forceDelete") ?? false;
  if (c.status === CertificateStatus.ACTIVE) {
    throw certificateState(`Certificate must be deactivated (not ACTIVE) before deletion. Id: ${c.id}`);
  }
  if (thingsOfPrincipal(ctx, c.arn).length > 0) {
    throw deleteConflict(`Things must be detached before deletion (arn: ${c.arn})`);
  }
  if (policiesOf(ctx, c.arn).length > 0) {
    if (!force) throw deleteConflict(`Certificate policies must be detached before deletion (arn: ${c.arn})`);
    detachAllPolicies(ctx, c.arn);
  }
  ctx.state.certificates.delete(c.id);
  return ok();
}

function listCertificates({ ctx, query }: OperationRequest) {
  const ascending = queryBoolean(query, "isAscendingOrder") ?? false;
  const size = pageSize(queryNumber(query, "pageSize"), 25, 250);
  const marker = query.get("marker");
  let after: number | undefined;
  if (marker !== undefined && marker !== "") {
    after = Number(Buffer.from(marker, "base64url").toString("utf8"));
    if (!Number.isInteger(after)) throw invalidRequest("Invalid marker");
  }
  const all = [...ctx.state.certificates.values()].sort((a, b) =>
    ascending ? a.createdAt - b.createdAt || a.seq - b.seq : b.createdAt - a.createdAt || b.seq - a.seq,
  );
  let start = 0;
  if (after !== undefined) {
    const index = all.findIndex((c) => c.seq === after);
    start = index >= 0 ? index + 1 : all.length;
  }
  const items = all.slice(start, start + size);
  const last = items[items.length - 1];
  const more = start + size < all.length;
  return ok({
    certificates: items.map((c) => ({
      certificateArn: c.arn,
      certificateId: c.id,
      status: c.status,
      certificateMode: "DEFAULT",
      creationDate: seconds(c.createdAt),
    })),
    nextMarker: more && last ? Buffer.from(String(last.seq)).toString("base64url") : undefined,
  });
}

export function registerCertificates(router: RestJsonRouter): void {
  router
    .add("POST", "/keys-and-certificate", "CreateKeysAndCertificate", createKeysAndCertificate)
    .add("POST", "/certificates", "CreateCertificateFromCsr", createCertificateFromCsr)
    .add("GET", "/certificates/{certificateId}", "DescribeCertificate", describeCertificate)
    .add("PUT", "/certificates/{certificateId}", "UpdateCertificate", updateCertificate)
    .add("DELETE", "/certificates/{certificateId}", "DeleteCertificate", deleteCertificate)
    .add("GET", "/certificates", "ListCertificates", listCertificates);
}
