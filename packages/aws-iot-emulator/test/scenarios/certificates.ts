/** Device certificates and policies, as AWS documents them. */
import "reflect-metadata";
import assert from "node:assert/strict";
import { createHash, createPublicKey, webcrypto, X509Certificate } from "node:crypto";
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
import * as x509 from "@peculiar/x509";
import { type Clients, rejectsWith } from "../support/harness.ts";

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const POLICY = JSON.stringify({
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Action: "iot:Connect", Resource: "*" }],
});

/** A PEM CSR for a fresh key: EC P-256 by default. */
export async function makeCsr(
  algorithm: RsaHashedKeyGenParams | EcKeyGenParams = { name: "ECDSA", namedCurve: "P-256" },
) {
  const signing = algorithm.name === "ECDSA" ? { ...algorithm, hash: "SHA-256" } : algorithm;
  const keys = (await webcrypto.subtle.generateKey(signing, true, ["sign", "verify"])) as CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: "CN=device-42",
    keys,
    signingAlgorithm: signing,
  });
  return {
    pem: csr.toString("pem"),
    spki: Buffer.from(await webcrypto.subtle.exportKey("spki", keys.publicKey)),
  };
}

type RsaHashedKeyGenParams = {
  name: string;
  modulusLength: number;
  publicExponent: Uint8Array;
  hash: string;
};
type EcKeyGenParams = { name: string; namedCurve: string };
type CryptoKeyPair = webcrypto.CryptoKeyPair;

/** https://docs.aws.amazon.com/iot/latest/apireference/API_CreateKeysAndCertificate.html */
export async function createKeysAndCertificateIssuesRsa2048KeyAndSha256Id({ iot }: Clients) {
  const created = await iot.send(new CreateKeysAndCertificateCommand({ setAsActive: true }));
  const certificate = new X509Certificate(created.certificatePem ?? "");
  assert.equal(created.certificateId, createHash("sha256").update(certificate.raw).digest("hex"));
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

/** "Reusing the same certificate signing request (CSR) results in a distinct certificate." */
export async function createCertificateFromCsrIssuesADistinctCertificateForTheCsrKey({ iot }: Clients) {
  const csr = await makeCsr();
  const first = await iot.send(
    new CreateCertificateFromCsrCommand({ certificateSigningRequest: csr.pem, setAsActive: true }),
  );
  const second = await iot.send(new CreateCertificateFromCsrCommand({ certificateSigningRequest: csr.pem }));
  assert.notEqual(first.certificateId, second.certificateId);
  const certificate = new X509Certificate(first.certificatePem ?? "");
  assert.ok(certificate.publicKey.equals(createPublicKey({ key: csr.spki, format: "der", type: "spki" })));
  assert.match(certificate.subject, /CN=device-42/);
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
export async function updateCertificateMovesBetweenActiveInactiveAndRevokedIsFinal({ iot }: Clients) {
  const { certificateId } = await iot.send(new CreateKeysAndCertificateCommand({ setAsActive: true }));
  await iot.send(new UpdateCertificateCommand({ certificateId, newStatus: "INACTIVE" }));
  await iot.send(new UpdateCertificateCommand({ certificateId, newStatus: "ACTIVE" }));
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
  await iot.send(new DeletePolicyCommand({ policyName: "device" }));
}

/** https://docs.aws.amazon.com/iot/latest/apireference/API_ListCertificates.html */
export async function listCertificatesPagesByCreationDate({ iot }: Clients) {
  const ids: string[] = [];
  for (let i = 0; i < 5; i++)
    ids.push((await iot.send(new CreateKeysAndCertificateCommand({}))).certificateId ?? "");
  const seen: string[] = [];
  let marker: string | undefined;
  do {
    const page = await iot.send(new ListCertificatesCommand({ pageSize: 2, marker, ascendingOrder: true }));
    assert.ok((page.certificates?.length ?? 0) <= 2);
    seen.push(...(page.certificates ?? []).map((c) => c.certificateId ?? ""));
    marker = page.nextMarker;
  } while (marker);
  assert.deepEqual(seen, ids);
  const descending = await iot.send(new ListCertificatesCommand({}));
  assert.deepEqual(
    descending.certificates?.map((c) => c.certificateId),
    [...ids].reverse(),
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
