import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DomainValidationError } from "@granit/iot";
import { ClaimCertificateStatus, newClaimCertificate, parseCertificateId } from "@granit/iot-aws";

const TENANT = "0194a5e0-aaaa-7aaa-8aaa-aaaaaaaaaaaa";
const change = { at: new Date("2026-03-01T08:00:00Z"), by: "ops" };

describe("newClaimCertificate", () => {
  it("registers an Active claim certificate with a lower-case id and its expiry", () => {
    const certificate = newClaimCertificate(
      {
        certificateId: "AB".repeat(32),
        tenantId: TENANT,
        templateName: "granit-fleet_v2",
        notAfter: "2027-01-01T00:00:00Z",
        description: "batch 2026-03",
      },
      change,
    );
    assert.equal(certificate.certificateId, "ab".repeat(32));
    assert.equal(certificate.status, ClaimCertificateStatus.Active);
    assert.equal(certificate.notAfter.toISOString(), "2027-01-01T00:00:00.000Z");
    assert.equal(certificate.audit.createdBy, "ops");
    assert.equal(certificate.version, 1);
  });

  it("names every offending field at once", () => {
    assert.throws(
      () =>
        newClaimCertificate(
          {
            certificateId: "not-a-certificate",
            tenantId: TENANT,
            templateName: "has spaces",
            notAfter: "tomorrow",
            description: "x".repeat(513),
          },
          change,
        ),
      (error: unknown) => {
        assert.ok(error instanceof DomainValidationError);
        assert.deepEqual(
          error.violations.map((v) => `${v.field}:${v.rule}`),
          ["certificateId:certificateId", "templateName:pattern", "notAfter:date", "description:maxLength"],
        );
        return true;
      },
    );
  });

  it("refuses a template name longer than AWS allows (36)", () => {
    assert.throws(
      () =>
        newClaimCertificate(
          {
            certificateId: "a".repeat(64),
            tenantId: null,
            templateName: "t".repeat(37),
            notAfter: new Date(),
          },
          change,
        ),
      DomainValidationError,
    );
  });

  it("parses certificate ids case-insensitively and refuses anything but 64 hex characters", () => {
    assert.equal(parseCertificateId("F".repeat(64)), "f".repeat(64));
    for (const bad of ["", "g".repeat(64), "a".repeat(63), 42, null]) {
      assert.throws(() => parseCertificateId(bad), DomainValidationError);
    }
  });
});
