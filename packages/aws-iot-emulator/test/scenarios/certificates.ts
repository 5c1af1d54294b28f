/** Device certificates and policies, as AWS documents them. */
import assert from "node:assert/strict";
import { createPublicKey, X509Certificate } from "node:crypto";
import {
  AttachPolicyCommand,
  AttachThingPrincipalCommand,
  CertificateStateException,
  CreateCertificateFromCsrCommand,
  CreateKeysAndCertificateCommand,
  CreatePolicyCommand,
  CreateThingCommand,
  DeleteCertificateCommand,
  DeleteConflictException,
  DeletePolicyCommand,
  DescribeCertificateCommand,
  DetachPolicyCommand,
  GetPolicyCommand,
  InvalidRequestException,
  ListAttachedPoliciesCommand,
  ListCertificatesCommand,
  MalformedPolicyException,
  ResourceAlreadyExistsException,
  ResourceNotFoundException,
  UpdateCertificateCommand,
} from "@aws-sdk/client-iot";
import { makeCsr } from "../support/csr.ts";
import { type Clients, rejectsWith } from "../support/harness.ts";

const POLICY = JSON.stringify({
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Action: "iot:Connect", Resource: "*" }],
});

/**
 * "Creates a 2048-bit RSA key pair and issues an X.509 certificate using the issued public key."
 * The certificate id is the last part of the certificate ARN (64 hex characters).
 * https://docs.aws.amazon.com/iot/latest/apireference/API_CreateKeysAndCertificate.html
 */
export async function createKeysAndCertificateIssuesAnRsa2048KeyAndItsCertificate({ iot }: Clients) {
  const created = await iot.send(new CreateKeysAndCertificateCommand({ setAsActive: true }));
  const certificate = new X509Certificate(created.certificatePem ?? "");
  assert.match(created.certificateId ?? "", /^[a-f0-9]{64}$/);
  assert.equal(created.certificateArn?.split("/").pop(), created.certificateId);
  assert.match(created.certificateArn ?? "", /^arn:aws:iot:[a-z0-9-]+:\d{12}:cert\/[a-f0-9]{64}$/);
  assert.match(created.keyPair?.PrivateKey ?? "", /^-----BEGIN RSA PRIVATE KEY-----/);
  const publicKey = createPublicKey(created.keyPair?.PublicKey ?? "");
  assert.equal(publicKey.asymmetricKeyDetails?.modulusLength, 2048);
  assert.ok(certificate.publicKey.equals(publicKey), "the certificate carries the returned public key");
  const described = await iot.send(new DescribeCertificateCommand({ certificateId: created.certificateId }));
  assert.equal(described.certificateDescription?.status, "ACTIVE");
  assert.equal(described.certificateDescription?.certificatePem, created.certificatePem);
  assert.ok(described.certificateDescription?.creationDate instanceof Date);
}

export async function createKeysAndCertificateIsInactiveUnlessSetAsActive({ iot }: Clients) {
  const created = await iot.send(new CreateKeysAndCertificateCommand({}));
  const described = await iot.send(new DescribeCertificateCommand({ certificateId: created.certificateId }));
  assert.equal(described.certificateDescription?.status, "INACTIVE");
}

/**
 * "Reusing the same certificate signing request (CSR) results in a distinct certificate."
 * https://docs.aws.amazon.com/iot/latest/apireference/API_CreateCertificateFromCsr.html
 */
export async function createCertificateFromCsrIssuesADistinctCertificateOnEveryCall({ iot }: Clients) {
  const csr = await makeCsr();
  const first = await iot.send(
    new CreateCertificateFromCsrCommand({ certificateSigningRequest: csr.pem, setAsActive: true }),
  );
  const second = await iot.send(new CreateCertificateFromCsrCommand({ certificateSigningRequest: csr.pem }));
  assert.notEqual(first.certificateId, second.certificateId);
  assert.match(new X509Certificate(first.certificatePem ?? "").subject, /CN=device-42/);
  const described = await iot.send(new DescribeCertificateCommand({ certificateId: first.certificateId }));
  assert.equal(described.certificateDescription?.status, "ACTIVE");
  assert.equal(described.certificateDescription?.certificatePem, first.certificatePem);
}

/** "Creates an X.509 certificate using the specified certificate signing request": for the CSR's key. */
export async function createCertificateFromCsrCertifiesTheCsrKey({ iot }: Clients) {
  const csr = await makeCsr();
  const created = await iot.send(new CreateCertificateFromCsrCommand({ certificateSigningRequest: csr.pem }));
  const certificate = new X509Certificate(created.certificatePem ?? "");
  assert.ok(
    certificate.publicKey.equals(createPublicKey({ key: csr.spki, format: "der", type: "spki" })),
    "the certificate carries the CSR's public key",
  );
}

export async function createCertificateFromCsrRejectsATamperedCsr({ iot }: Clients) {
  const csr = await makeCsr();
  const der = Buffer.from(csr.pem.replace(/-----[^-]+-----|\s/g, ""), "base64");
  const cnAt = der.indexOf(Buffer.from("device-42"));
  der[cnAt] = "D".charCodeAt(0);
  const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString("base64")}\n-----END CERTIFICATE REQUEST-----\n`;
  await rejectsWith(
    iot.send(new CreateCertificateFromCsrCommand({ certificateSigningRequest: tampered })),
    InvalidRequestException,
    400,
  );
  await rejectsWith(
    iot.send(new CreateCertificateFromCsrCommand({ certificateSigningRequest: "not a csr" })),
    InvalidRequestException,
  );
}

export async function createCertificateFromCsrRejectsRsaKeysUnder2048Bits({ iot }: Clients) {
  const csr = await makeCsr({
    name: "RSASSA-PKCS1-v1_5",
    modulusLength: 1024,
    publicExponent: new Uint8Array([1, 0, 1]),
    hash: "SHA-256",
  });
  await rejectsWith(
    iot.send(new CreateCertificateFromCsrCommand({ certificateSigningRequest: csr.pem })),
    InvalidRequestException,
  );
}

export async function describeMissingCertificateIsNotFound({ iot }: Clients) {
  await rejectsWith(
    iot.send(new DescribeCertificateCommand({ certificateId: "a".repeat(64) })),
    ResourceNotFoundException,
    404,
  );
}

/** https://docs.aws.amazon.com/iot/latest/apireference/API_UpdateCertificate.html */
export async function updateCertificateMovesBetweenActiveAndInactiveAndToRevoked({ iot }: Clients) {
  const { certificateId } = await iot.send(new CreateKeysAndCertificateCommand({ setAsActive: true }));
  const status = async () =>
    (await iot.send(new DescribeCertificateCommand({ certificateId }))).certificateDescription?.status;
  await iot.send(new UpdateCertificateCommand({ certificateId, newStatus: "INACTIVE" }));
  assert.equal(await status(), "INACTIVE");
  await iot.send(new UpdateCertificateCommand({ certificateId, newStatus: "ACTIVE" }));
  assert.equal(await status(), "ACTIVE");
  await iot.send(new UpdateCertificateCommand({ certificateId, newStatus: "REVOKED" }));
  assert.equal(await status(), "REVOKED");
}

/** A REVOKED certificate cannot be activated again (CertificateStateException, 406). */
export async function aRevokedCertificateCannotBeReactivated({ iot }: Clients) {
  const { certificateId } = await iot.send(new CreateKeysAndCertificateCommand({ setAsActive: true }));
  await iot.send(new UpdateCertificateCommand({ certificateId, newStatus: "REVOKED" }));
  const act = iot.send(new UpdateCertificateCommand({ certificateId, newStatus: "ACTIVE" }));
  await rejectsWith(act, CertificateStateException, 406);
  const described = await iot.send(new DescribeCertificateCommand({ certificateId }));
  assert.equal(described.certificateDescription?.status, "REVOKED");
}

/** "A certificate cannot be deleted if ... its status is set to ACTIVE." */
export async function deleteActiveCertificateIsCertificateState({ iot }: Clients) {
  const { certificateId } = await iot.send(new CreateKeysAndCertificateCommand({ setAsActive: true }));
  const error = await rejectsWith(
    iot.send(new DeleteCertificateCommand({ certificateId })),
    CertificateStateException,
    406,
  );
  assert.match((error as unknown as Error).message, /must be deactivated/);
}

/** forceDelete does not lift the thing-attachment rule. */
export async function deleteCertificateAttachedToAThingIsDeleteConflict({ iot }: Clients) {
  await iot.send(new CreateThingCommand({ thingName: "t" }));
  const cert = await iot.send(new CreateKeysAndCertificateCommand({}));
  await iot.send(new AttachThingPrincipalCommand({ thingName: "t", principal: cert.certificateArn }));
  const act = iot.send(
    new DeleteCertificateCommand({ certificateId: cert.certificateId, forceDelete: true }),
  );
  await rejectsWith(act, DeleteConflictException, 409);
}

/** forceDelete lifts only the policy rule. */
export async function deleteCertificateWithPoliciesNeedsForceDelete({ iot }: Clients) {
  await iot.send(new CreatePolicyCommand({ policyName: "device", policyDocument: POLICY }));
  const cert = await iot.send(new CreateKeysAndCertificateCommand({}));
  await iot.send(new AttachPolicyCommand({ policyName: "device", target: cert.certificateArn }));
  await rejectsWith(
    iot.send(new DeleteCertificateCommand({ certificateId: cert.certificateId })),
    DeleteConflictException,
    409,
  );
  await iot.send(new DeleteCertificateCommand({ certificateId: cert.certificateId, forceDelete: true }));
  await rejectsWith(
    iot.send(new DescribeCertificateCommand({ certificateId: cert.certificateId })),
    ResourceNotFoundException,
  );
}

/**
 * Once a certificate is force-deleted its policy attachments are gone with it, so the policy — "can't
 * be deleted if it's attached to any certificate" (API_DeletePolicy) — can be deleted.
 */
export async function aForceDeletedCertificateNoLongerHoldsItsPolicies({ iot }: Clients) {
  await iot.send(new CreatePolicyCommand({ policyName: "device", policyDocument: POLICY }));
  const cert = await iot.send(new CreateKeysAndCertificateCommand({}));
  await iot.send(new AttachPolicyCommand({ policyName: "device", target: cert.certificateArn }));
  await iot.send(new DeleteCertificateCommand({ certificateId: cert.certificateId, forceDelete: true }));
  await iot.send(new DeletePolicyCommand({ policyName: "device" }));
  await rejectsWith(iot.send(new GetPolicyCommand({ policyName: "device" })), ResourceNotFoundException);
}

async function fiveCertificates(iot: Clients["iot"]): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < 5; i++)
    ids.push((await iot.send(new CreateKeysAndCertificateCommand({}))).certificateId ?? "");
  return ids;
}

/** https://docs.aws.amazon.com/iot/latest/apireference/API_ListCertificates.html */
export async function listCertificatesListsEveryCertificate({ iot }: Clients) {
  const ids = await fiveCertificates(iot);
  const listed = await iot.send(new ListCertificatesCommand({}));
  assert.deepEqual(listed.certificates?.map((c) => c.certificateId).sort(), [...ids].sort());
  assert.ok(listed.certificates?.every((c) => c.status === "INACTIVE" && c.certificateArn));
}

/** `pageSize` bounds each page; `nextMarker` leads to the next one until the list is exhausted. */
export async function listCertificatesPagesWithPageSizeAndMarker({ iot }: Clients) {
  const ids = await fiveCertificates(iot);
  const seen: string[] = [];
  let marker: string | undefined;
  let pages = 0;
  do {
    const page = await iot.send(new ListCertificatesCommand({ pageSize: 2, marker }));
    assert.ok((page.certificates?.length ?? 0) <= 2, "a page holds at most pageSize certificates");
    seen.push(...(page.certificates ?? []).map((c) => c.certificateId ?? ""));
    marker = page.nextMarker;
    pages++;
  } while (marker && pages < 10);
  assert.equal(pages, 3);
  assert.deepEqual(seen.sort(), [...ids].sort());
}

/** "ascendingOrder: ... If True, the results are returned in ascending order, based on the creation date." */
export async function listCertificatesOrdersByCreationDate({ iot }: Clients) {
  const ids = await fiveCertificates(iot);
  const ascending = await iot.send(new ListCertificatesCommand({ ascendingOrder: true }));
  assert.deepEqual(
    ascending.certificates?.map((c) => c.certificateId),
    ids,
  );
  const descending = await iot.send(new ListCertificatesCommand({}));
  assert.deepEqual(
    descending.certificates?.map((c) => c.certificateId),
    [...ids].reverse(),
    "newest first unless ascendingOrder",
  );
}

/** https://docs.aws.amazon.com/iot/latest/apireference/API_CreatePolicy.html */
export async function createPolicyTwiceIsAlreadyExistsAndGetPolicyReturnsTheDocument({ iot }: Clients) {
  const created = await iot.send(new CreatePolicyCommand({ policyName: "device", policyDocument: POLICY }));
  assert.equal(created.policyVersionId, "1");
  await rejectsWith(
    iot.send(new CreatePolicyCommand({ policyName: "device", policyDocument: POLICY })),
    ResourceAlreadyExistsException,
    409,
  );
  const policy = await iot.send(new GetPolicyCommand({ policyName: "device" }));
  assert.equal(policy.policyDocument, POLICY);
  assert.equal(policy.policyArn, created.policyArn);
  await rejectsWith(iot.send(new GetPolicyCommand({ policyName: "ghost" })), ResourceNotFoundException, 404);
}

export async function createPolicyWithInvalidJsonIsMalformedPolicy({ iot }: Clients) {
  await rejectsWith(
    iot.send(new CreatePolicyCommand({ policyName: "p", policyDocument: "{not json" })),
    MalformedPolicyException,
    400,
  );
}

/** https://docs.aws.amazon.com/iot/latest/apireference/API_DeletePolicy.html */
export async function deleteAttachedPolicyIsDeleteConflict({ iot }: Clients) {
  await iot.send(new CreatePolicyCommand({ policyName: "device", policyDocument: POLICY }));
  const cert = await iot.send(new CreateKeysAndCertificateCommand({}));
  await iot.send(new AttachPolicyCommand({ policyName: "device", target: cert.certificateArn }));
  await rejectsWith(
    iot.send(new DeletePolicyCommand({ policyName: "device" })),
    DeleteConflictException,
    409,
  );
  await iot.send(new DetachPolicyCommand({ policyName: "device", target: cert.certificateArn }));
  await iot.send(new DeletePolicyCommand({ policyName: "device" }));
}

/** DetachPolicy removes the attachment: ListAttachedPolicies is empty and the policy can be deleted. */
export async function detachPolicyRemovesTheAttachment({ iot }: Clients) {
  await iot.send(new CreatePolicyCommand({ policyName: "device", policyDocument: POLICY }));
  const cert = await iot.send(new CreateKeysAndCertificateCommand({}));
  await iot.send(new AttachPolicyCommand({ policyName: "device", target: cert.certificateArn }));
  await iot.send(new DetachPolicyCommand({ policyName: "device", target: cert.certificateArn }));
  const attached = await iot.send(new ListAttachedPoliciesCommand({ target: cert.certificateArn }));
  assert.deepEqual(attached.policies ?? [], []);
  await iot.send(new DeletePolicyCommand({ policyName: "device" }));
}

export async function attachPolicyTwiceIsANoOpAndListAttachedPoliciesShowsIt({ iot }: Clients) {
  await iot.send(new CreatePolicyCommand({ policyName: "device", policyDocument: POLICY }));
  const cert = await iot.send(new CreateKeysAndCertificateCommand({}));
  await iot.send(new AttachPolicyCommand({ policyName: "device", target: cert.certificateArn }));
  await iot.send(new AttachPolicyCommand({ policyName: "device", target: cert.certificateArn }));
  const attached = await iot.send(new ListAttachedPoliciesCommand({ target: cert.certificateArn }));
  assert.deepEqual(
    attached.policies?.map((p) => p.policyName),
    ["device"],
  );
  await rejectsWith(
    iot.send(new AttachPolicyCommand({ policyName: "ghost", target: cert.certificateArn })),
    ResourceNotFoundException,
    404,
  );
}
