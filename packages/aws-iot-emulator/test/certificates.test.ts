import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { test } from "node:test";
import { CreateCertificateFromCsrCommand, CreateKeysAndCertificateCommand } from "@aws-sdk/client-iot";
import * as s from "./scenarios/certificates.ts";
import { makeCsr } from "./scenarios/certificates.ts";
import { run, withEmulator } from "./support/harness.ts";

test(
  "CreateKeysAndCertificate issues an RSA-2048 key and a certificate whose id is the SHA-256 of its DER",
  run(s.createKeysAndCertificateIssuesRsa2048KeyAndSha256Id),
);
test(
  "CreateKeysAndCertificate leaves the certificate INACTIVE unless setAsActive",
  run(s.createKeysAndCertificateIsInactiveUnlessSetAsActive),
);
test(
  "CreateCertificateFromCsr issues a distinct certificate for the CSR's key on every call",
  run(s.createCertificateFromCsrIssuesADistinctCertificateForTheCsrKey),
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
  "UpdateCertificate moves between ACTIVE and INACTIVE, and REVOKED is final (CertificateStateException)",
  run(s.updateCertificateMovesBetweenActiveInactiveAndRevokedIsFinal),
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
  "ListCertificates pages with pageSize/marker in creation order",
  run(s.listCertificatesPagesByCreationDate),
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
test(
  "AttachPolicy twice is a no-op and ListAttachedPolicies lists it once",
  run(s.attachPolicyTwiceIsANoOpAndListAttachedPoliciesShowsIt),
);

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
