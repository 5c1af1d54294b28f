import assert from "node:assert/strict";
import { createHash, X509Certificate } from "node:crypto";
import { test } from "node:test";
import { CreateCertificateFromCsrCommand, CreateKeysAndCertificateCommand } from "@aws-sdk/client-iot";
import * as s from "./scenarios/certificates.ts";
import { makeCsr } from "./support/csr.ts";
import { run, withEmulator } from "./support/harness.ts";

test(
  "CreateKeysAndCertificate issues an RSA-2048 key pair and a certificate for its public key",
  run(s.createKeysAndCertificateIssuesAnRsa2048KeyAndItsCertificate),
);
test(
  "CreateKeysAndCertificate leaves the certificate INACTIVE unless setAsActive",
  run(s.createKeysAndCertificateIsInactiveUnlessSetAsActive),
);
test(
  "CreateCertificateFromCsr issues a distinct certificate on every call",
  run(s.createCertificateFromCsrIssuesADistinctCertificateOnEveryCall),
);
test(
  "CreateCertificateFromCsr certifies the CSR's public key",
  run(s.createCertificateFromCsrCertifiesTheCsrKey),
);
test(
  "CreateCertificateFromCsr rejects a tampered or unparseable CSR with InvalidRequestException",
  run(s.createCertificateFromCsrRejectsATamperedCsr),
);
test(
  "CreateCertificateFromCsr rejects RSA keys under 2048 bits",
  run(s.createCertificateFromCsrRejectsRsaKeysUnder2048Bits),
);
test(
  "DescribeCertificate of a missing certificate is ResourceNotFoundException",
  run(s.describeMissingCertificateIsNotFound),
);
test(
  "UpdateCertificate moves between ACTIVE and INACTIVE, and to REVOKED",
  run(s.updateCertificateMovesBetweenActiveAndInactiveAndToRevoked),
);
test(
  "a REVOKED certificate cannot be activated again (CertificateStateException)",
  run(s.aRevokedCertificateCannotBeReactivated),
);
test(
  "DeleteCertificate of an ACTIVE certificate is CertificateStateException",
  run(s.deleteActiveCertificateIsCertificateState),
);
test(
  "DeleteCertificate of a certificate attached to a thing is DeleteConflictException even with forceDelete",
  run(s.deleteCertificateAttachedToAThingIsDeleteConflict),
);
test(
  "DeleteCertificate with attached policies needs forceDelete",
  run(s.deleteCertificateWithPoliciesNeedsForceDelete),
);
test(
  "a force-deleted certificate no longer holds its policies",
  run(s.aForceDeletedCertificateNoLongerHoldsItsPolicies),
);
test("ListCertificates lists every certificate", run(s.listCertificatesListsEveryCertificate));
test(
  "ListCertificates pages with pageSize and nextMarker",
  run(s.listCertificatesPagesWithPageSizeAndMarker),
);
test(
  "ListCertificates orders by creation date, descending unless ascendingOrder",
  run(s.listCertificatesOrdersByCreationDate),
);
test(
  "CreatePolicy twice is ResourceAlreadyExistsException and GetPolicy returns the document",
  run(s.createPolicyTwiceIsAlreadyExistsAndGetPolicyReturnsTheDocument),
);
test(
  "CreatePolicy with a document that is not JSON is MalformedPolicyException",
  run(s.createPolicyWithInvalidJsonIsMalformedPolicy),
);
test(
  "DeletePolicy of an attached policy is DeleteConflictException",
  run(s.deleteAttachedPolicyIsDeleteConflict),
);
test("DetachPolicy removes the attachment", run(s.detachPolicyRemovesTheAttachment));
test(
  "AttachPolicy twice is a no-op and ListAttachedPolicies lists it once",
  run(s.attachPolicyTwiceIsANoOpAndListAttachedPoliciesShowsIt),
);

test("the certificate id is the hex SHA-256 of the certificate DER (what AWS shows as its fingerprint)", () =>
  withEmulator(async ({ clients: { iot } }) => {
    // Prepare
    const { pem } = await makeCsr();
    // Act
    const fromKeys = await iot.send(new CreateKeysAndCertificateCommand({}));
    const fromCsr = await iot.send(new CreateCertificateFromCsrCommand({ certificateSigningRequest: pem }));
    // Assess
    for (const issued of [fromKeys, fromCsr]) {
      const der = new X509Certificate(issued.certificatePem ?? "").raw;
      assert.equal(issued.certificateId, createHash("sha256").update(der).digest("hex"));
    }
  }));

test("issued certificates are signed by the emulator CA shown in the inventory", () =>
  withEmulator(async ({ emulator, clients: { iot } }) => {
    // Prepare
    const { pem } = await makeCsr();
    // Act
    const fromKeys = await iot.send(new CreateKeysAndCertificateCommand({}));
    const fromCsr = await iot.send(new CreateCertificateFromCsrCommand({ certificateSigningRequest: pem }));
    // Assess
    const ca = new X509Certificate(emulator.inventory().caCertificatePem);
    for (const issued of [fromKeys.certificatePem, fromCsr.certificatePem]) {
      const certificate = new X509Certificate(issued ?? "");
      assert.ok(certificate.verify(ca.publicKey), "signature verifies with the CA key");
      assert.ok(certificate.checkIssued(ca));
      assert.equal(certificate.ca, false);
      assert.equal(new Date(certificate.validTo).getUTCFullYear(), 2049);
    }
    assert.match(new X509Certificate(fromKeys.certificatePem ?? "").subject, /CN=AWS IoT Certificate/);
  }));
