import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type ChangeContext,
  DomainValidationError,
  GranitIoTError,
  InvalidStatusTransitionError,
  ManualClock,
  uuidv7,
} from "@granit/iot";
import {
  AwsThingBinding,
  type AwsThingDecommissionedEvent,
  type AwsThingProvisionedEvent,
  BindingCheckpointConflictError,
  FAILURE_REASON_MAX_LENGTH,
  InvalidArnError,
  InvalidThingNameError,
  isAtLeast,
  PROVISIONING_CHAIN,
  PROVISIONING_STATUSES,
  ProvisioningStatus,
  ThingName,
} from "../src/index.ts";

const clock = new ManualClock("2026-03-01T10:00:00.000Z");
const change = (by = "saga"): ChangeContext => ({ at: clock.advance(1000), by });
const TENANT = "7c9e6679-7425-40de-944b-e07fc1f90ae7";
const OTHER_TENANT = "0b7c2b6e-0000-4000-8000-00000000000b";
const THING = ThingName.from(TENANT, "SN-001");
const THING_ARN = `arn:aws:iot:eu-west-1:123456789012:thing/${THING}`;
const CERT_ARN = `arn:aws:iot:eu-west-1:123456789012:cert/${"ab".repeat(32)}`;
const OTHER_CERT_ARN = `arn:aws:iot:eu-west-1:123456789012:cert/${"cd".repeat(32)}`;
const SECRET_ARN = `arn:aws:secretsmanager:eu-west-1:123456789012:secret:iot/devices/${THING}/key-AbC123`;

type Status = ProvisioningStatus;

function newBinding(): AwsThingBinding {
  return AwsThingBinding.create({ deviceId: uuidv7(), tenantId: TENANT, thingName: THING }, change());
}

/** The forward steps, each with the call a saga makes and the status it reaches. */
const STEPS = [
  {
    name: "recordThingCreated",
    to: "ThingCreated",
    run: (b: AwsThingBinding) => b.recordThingCreated(THING_ARN, change()),
  },
  {
    name: "recordKeyEscrowed",
    to: "KeyEscrowed",
    run: (b: AwsThingBinding) => b.recordKeyEscrowed(SECRET_ARN, change()),
  },
  {
    name: "recordCertificateIssued",
    to: "CertIssued",
    run: (b: AwsThingBinding) => b.recordCertificateIssued(CERT_ARN, change()),
  },
  {
    name: "recordSecretStored",
    to: "SecretStored",
    run: (b: AwsThingBinding) => b.recordSecretStored(change()),
  },
  { name: "markActive", to: "Active", run: (b: AwsThingBinding) => b.markActive(change()) },
] as const satisfies readonly { name: string; to: Status; run: (b: AwsThingBinding) => boolean }[];

/** A binding walked to `status` with its events drained. `Failed` fails at CertIssued. */
function bindingIn(status: Status): AwsThingBinding {
  const binding = newBinding();
  const target = status === "Failed" || status === "Decommissioned" ? "CertIssued" : status;
  for (const step of STEPS) {
    if (binding.provisioningStatus === target) break;
    if (step.to === "CertIssued") binding.recordCertificateRequested(change());
    step.run(binding);
  }
  if (status === "Failed") binding.markFailed("Certificate quota exceeded", change());
  if (status === "Decommissioned") binding.markDecommissioned(change());
  binding.pullEvents();
  return binding;
}

function snapshotOf(binding: AwsThingBinding) {
  return JSON.stringify(binding.toJSON());
}

describe("AwsThingBinding.create", () => {
  it("starts in Pending at version 1 without raising anything", () => {
    const binding = newBinding();
    assert.equal(binding.provisioningStatus, ProvisioningStatus.Pending);
    assert.equal(binding.version, 1);
    assert.equal(binding.loadedVersion, 0);
    assert.equal(binding.thingName.value, THING.value);
    assert.equal(binding.tenantId, TENANT);
    assert.equal(binding.provisionedViaJitp, false);
    assert.equal(binding.audit.createdBy, "saga");
    assert.deepEqual(binding.pullEvents(), []);
  });

  it("accepts a thing name given as text", () => {
    const binding = AwsThingBinding.create(
      { deviceId: uuidv7(), tenantId: TENANT, thingName: THING.value },
      change(),
    );
    assert.ok(binding.thingName.equals(THING));
  });

  it("binds a host device to the all-zero tenant name", () => {
    const thingName = ThingName.from(null, "SN-HOST");
    const binding = AwsThingBinding.create({ deviceId: uuidv7(), tenantId: null, thingName }, change());
    assert.equal(binding.tenantId, null);
    assert.ok(binding.thingName.value.startsWith(`t${"0".repeat(32)}-`));
  });

  it("refuses a device id that is not a UUID", () => {
    assert.throws(
      () => AwsThingBinding.create({ deviceId: "device-1", tenantId: TENANT, thingName: THING }, change()),
      (error: unknown) => error instanceof DomainValidationError && error.violations[0]?.field === "deviceId",
    );
  });

  it("refuses a thing name that encodes another tenant", () => {
    assert.throws(
      () =>
        AwsThingBinding.create({ deviceId: uuidv7(), tenantId: OTHER_TENANT, thingName: THING }, change()),
      (error: unknown) => error instanceof DomainValidationError && error.violations[0]?.rule === "tenant",
    );
  });

  it("refuses a malformed thing name", () => {
    assert.throws(
      () => AwsThingBinding.create({ deviceId: uuidv7(), tenantId: TENANT, thingName: "SN-001" }, change()),
      InvalidThingNameError,
    );
  });
});

describe("the provisioning saga walk", () => {
  it("walks Pending → ThingCreated → KeyEscrowed → CertIssued → SecretStored → Active and raises AwsThingProvisionedEvent once", () => {
    const binding = newBinding();
    const visited: Status[] = [binding.provisioningStatus];
    assert.equal(binding.recordThingCreated(THING_ARN, change()), true);
    visited.push(binding.provisioningStatus);
    assert.equal(binding.recordKeyEscrowed(SECRET_ARN, change()), true);
    visited.push(binding.provisioningStatus);
    const requestedAt = clock.now();
    assert.equal(binding.recordCertificateRequested(change()), true);
    assert.ok(binding.certificateRequestedAt && binding.certificateRequestedAt > requestedAt);
    assert.equal(binding.recordCertificateIssued(CERT_ARN, change()), true);
    visited.push(binding.provisioningStatus);
    assert.equal(binding.recordSecretStored(change()), true);
    visited.push(binding.provisioningStatus);
    assert.deepEqual(binding.pendingEvents, []);
    assert.equal(binding.markActive(change("operator")), true);
    visited.push(binding.provisioningStatus);

    assert.deepEqual(visited, [...PROVISIONING_CHAIN]);
    assert.equal(binding.thingArn, THING_ARN);
    assert.equal(binding.certificateSecretArn, SECRET_ARN);
    assert.equal(binding.certificateArn, CERT_ARN);
    assert.equal(binding.version, 7);
    assert.equal(binding.audit.modifiedBy, "operator");
    const events = binding.pullEvents() as AwsThingProvisionedEvent[];
    assert.equal(events.length, 1);
    assert.deepEqual(
      { ...events[0], eventId: "x" },
      {
        type: "AwsThingProvisionedEvent",
        eventId: "x",
        occurredAt: binding.audit.modifiedAt?.toISOString(),
        tenantId: TENANT,
        deviceId: binding.deviceId,
        thingName: THING.value,
        thingArn: THING_ARN,
        provisionedViaJitp: false,
      },
    );
  });

  for (const [index, step] of STEPS.entries()) {
    const replayStatuses = PROVISIONING_CHAIN.slice(PROVISIONING_CHAIN.indexOf(step.to));
    for (const status of replayStatuses) {
      it(`replays ${step.name} in ${status} as a no-op (no change, no event)`, () => {
        const binding = bindingIn(status);
        const before = snapshotOf(binding);
        assert.equal(step.run(binding), false);
        assert.equal(snapshotOf(binding), before);
        assert.deepEqual(binding.pullEvents(), []);
      });
    }

    const predecessor = index === 0 ? "Pending" : STEPS[index - 1]?.to;
    const tooEarly = PROVISIONING_CHAIN.slice(0, PROVISIONING_CHAIN.indexOf(step.to)).filter(
      (s) => s !== predecessor,
    );
    for (const status of tooEarly) {
      it(`refuses ${step.name} from ${status}: it would skip ${predecessor}`, () => {
        const binding = bindingIn(status);
        const before = snapshotOf(binding);
        assert.throws(
          () => step.run(binding),
          (error: unknown) =>
            error instanceof InvalidStatusTransitionError &&
            error.currentStatus === status &&
            error.expectedStatuses.join() === predecessor &&
            error.message.includes(`'${status}'`),
        );
        assert.equal(snapshotOf(binding), before);
      });
    }

    for (const status of ["Failed", "Decommissioned"] as const) {
      it(`refuses ${step.name} on a ${status} binding`, () => {
        const binding = bindingIn(status);
        const before = snapshotOf(binding);
        assert.throws(
          () => step.run(binding),
          (error: unknown) => error instanceof InvalidStatusTransitionError && error.currentStatus === status,
        );
        assert.equal(snapshotOf(binding), before);
      });
    }
  }

  it("refuses a replay that carries a different thing ARN than the recorded one", () => {
    const binding = bindingIn("KeyEscrowed");
    const otherThing = `arn:aws:iot:eu-west-1:999999999999:thing/${THING}`;
    assert.throws(
      () => binding.recordThingCreated(otherThing, change()),
      (error: unknown) => error instanceof BindingCheckpointConflictError && error.field === "thingArn",
    );
  });

  it("refuses a replay that carries a different escrow secret", () => {
    const binding = bindingIn("CertIssued");
    assert.throws(
      () => binding.recordKeyEscrowed(`${SECRET_ARN.slice(0, -6)}ZZZ999`, change()),
      (error: unknown) =>
        error instanceof BindingCheckpointConflictError && error.field === "certificateSecretArn",
    );
  });

  it("refuses a second, different certificate: two certificates for one device need reconciling", () => {
    const binding = bindingIn("Active");
    assert.throws(
      () => binding.recordCertificateIssued(OTHER_CERT_ARN, change()),
      (error: unknown) =>
        error instanceof BindingCheckpointConflictError &&
        error.recorded === CERT_ARN &&
        error.attempted === OTHER_CERT_ARN,
    );
    assert.equal(binding.certificateArn, CERT_ARN);
  });

  it("refuses a thing ARN that names another thing", () => {
    const binding = newBinding();
    assert.throws(
      () => binding.recordThingCreated("arn:aws:iot:eu-west-1:123456789012:thing/other-thing", change()),
      (error: unknown) => error instanceof InvalidArnError && error.rule === "thingName",
    );
    assert.equal(binding.provisioningStatus, "Pending");
  });

  it("refuses malformed ARNs at every step that records one", () => {
    assert.throws(() => newBinding().recordThingCreated("not-an-arn", change()), InvalidArnError);
    assert.throws(() => bindingIn("ThingCreated").recordKeyEscrowed(THING_ARN, change()), InvalidArnError);
    assert.throws(
      () => bindingIn("KeyEscrowed").recordCertificateIssued(SECRET_ARN, change()),
      InvalidArnError,
    );
  });
});

describe("recordCertificateRequested (the intent before CreateCertificateFromCsr)", () => {
  for (const status of ["ThingCreated", "KeyEscrowed"] as const) {
    it(`is recorded once in ${status} and replays as a no-op`, () => {
      const binding = bindingIn(status);
      assert.equal(binding.recordCertificateRequested(change()), true);
      const at = binding.certificateRequestedAt;
      assert.ok(at);
      assert.equal(binding.recordCertificateRequested(change()), false);
      assert.equal(binding.certificateRequestedAt, at);
      assert.equal(binding.provisioningStatus, status);
    });
  }

  it("stays recorded through the escrow step", () => {
    const binding = bindingIn("ThingCreated");
    binding.recordCertificateRequested(change());
    const at = binding.certificateRequestedAt;
    binding.recordKeyEscrowed(SECRET_ARN, change());
    assert.equal(binding.recordCertificateRequested(change()), false);
    assert.equal(binding.certificateRequestedAt, at);
  });

  for (const status of ["CertIssued", "SecretStored", "Active"] as const) {
    it(`is a no-op once the certificate was issued (${status})`, () => {
      const binding = bindingIn(status);
      const before = snapshotOf(binding);
      assert.equal(binding.recordCertificateRequested(change()), false);
      assert.equal(snapshotOf(binding), before);
    });
  }

  for (const status of ["Pending", "Failed", "Decommissioned"] as const) {
    it(`is refused in ${status}: no thing, or no saga running`, () => {
      assert.throws(
        () => bindingIn(status).recordCertificateRequested(change()),
        (error: unknown) =>
          error instanceof InvalidStatusTransitionError &&
          error.expectedStatuses.join() === "ThingCreated,KeyEscrowed",
      );
    });
  }
});

describe("Failed and retry", () => {
  for (const status of PROVISIONING_CHAIN) {
    it(`fails from ${status}, keeps it as the checkpoint and resumes there on retry`, () => {
      const binding = bindingIn(status);
      assert.equal(binding.markFailed("AccessDeniedException: not authorized", change()), true);
      assert.equal(binding.provisioningStatus, "Failed");
      assert.equal(binding.failedFromStatus, status);
      assert.equal(binding.failureReason, "AccessDeniedException: not authorized");
      assert.equal(binding.retry(change("operator")), true);
      assert.equal(binding.provisioningStatus, status);
      assert.equal(binding.failedFromStatus, null);
      assert.equal(binding.failureReason, null);
      assert.equal(binding.audit.modifiedBy, "operator");
      assert.deepEqual(binding.pullEvents(), [], "neither failing nor retrying raises an event");
    });
  }

  it("continues the saga from the checkpoint after a retry", () => {
    const binding = bindingIn("Failed");
    binding.retry(change());
    assert.equal(binding.provisioningStatus, "CertIssued");
    assert.equal(binding.recordSecretStored(change()), true);
    assert.equal(binding.markActive(change()), true);
    assert.equal(binding.pullEvents().length, 1);
  });

  it("does not raise a second AwsThingProvisionedEvent when an Active binding fails and is retried", () => {
    const binding = bindingIn("Active");
    binding.markFailed("Thing vanished from AWS", change());
    binding.retry(change());
    assert.equal(binding.provisioningStatus, "Active");
    assert.equal(binding.markActive(change()), false);
    assert.deepEqual(binding.pullEvents(), []);
  });

  it("replaces the reason of an already failed binding but keeps its checkpoint", () => {
    const binding = bindingIn("Failed");
    assert.equal(binding.markFailed("Certificate quota exceeded", change()), false, "same reason: no change");
    assert.equal(binding.markFailed("ThrottlingException", change()), true);
    assert.equal(binding.failureReason, "ThrottlingException");
    assert.equal(binding.failedFromStatus, "CertIssued");
  });

  it("needs a non-blank reason", () => {
    for (const reason of ["", "   "]) {
      assert.throws(() => bindingIn("Pending").markFailed(reason, change()), DomainValidationError);
    }
  });

  it("truncates a reason longer than the column", () => {
    const binding = bindingIn("Pending");
    binding.markFailed("x".repeat(5000), change());
    assert.equal(binding.failureReason?.length, FAILURE_REASON_MAX_LENGTH);
  });

  it("refuses to fail a decommissioned binding", () => {
    assert.throws(
      () => bindingIn("Decommissioned").markFailed("late error", change()),
      (error: unknown) =>
        error instanceof InvalidStatusTransitionError && error.currentStatus === "Decommissioned",
    );
  });

  for (const status of PROVISIONING_STATUSES.filter((s) => s !== "Failed")) {
    it(`refuses retry in ${status}: only a Failed binding can be retried`, () => {
      assert.throws(
        () => bindingIn(status).retry(change()),
        (error: unknown) =>
          error instanceof InvalidStatusTransitionError && error.expectedStatuses.join() === "Failed",
      );
    });
  }
});

describe("markDecommissioned", () => {
  for (const status of PROVISIONING_STATUSES.filter((s) => s !== "Decommissioned")) {
    it(`decommissions from ${status} and raises AwsThingDecommissionedEvent exactly once`, () => {
      const binding = bindingIn(status);
      assert.equal(binding.markDecommissioned(change()), true);
      assert.equal(binding.markDecommissioned(change()), false);
      assert.equal(binding.provisioningStatus, "Decommissioned");
      const events = binding.pullEvents() as AwsThingDecommissionedEvent[];
      assert.equal(events.length, 1);
      assert.equal(events[0]?.type, "AwsThingDecommissionedEvent");
      assert.equal(events[0]?.previousStatus, status);
      assert.equal(events[0]?.deviceId, binding.deviceId);
      assert.equal(events[0]?.thingName, THING.value);
      assert.equal(events[0]?.thingArn, status === "Pending" ? null : THING_ARN);
    });
  }

  it("is terminal: nothing moves a decommissioned binding", () => {
    const binding = bindingIn("Decommissioned");
    const before = snapshotOf(binding);
    assert.throws(() => binding.retry(change()), InvalidStatusTransitionError);
    assert.throws(() => binding.markFailed("x", change()), InvalidStatusTransitionError);
    assert.throws(() => binding.recordShadowReported(3, change()), InvalidStatusTransitionError);
    assert.throws(
      () => binding.recordClaimCertificate({ expiresAt: new Date("2027-01-01T00:00:00Z") }, change()),
      InvalidStatusTransitionError,
    );
    assert.equal(snapshotOf(binding), before);
  });
});

describe("AwsThingBinding.createForJitp", () => {
  const jitp = (overrides: Partial<Parameters<typeof AwsThingBinding.createForJitp>[0]> = {}) =>
    AwsThingBinding.createForJitp(
      {
        deviceId: uuidv7(),
        tenantId: TENANT,
        thingName: THING,
        thingArn: THING_ARN,
        certificateArn: CERT_ARN,
        certificateSecretArn: SECRET_ARN,
        ...overrides,
      },
      change("fleet-provisioning"),
    );

  it("lands directly in Active with provisionedViaJitp and raises AwsThingProvisionedEvent once", () => {
    const binding = jitp({
      claimCertificateId: "ef".repeat(32),
      claimCertificateExpiresAt: new Date("2027-06-01T00:00:00Z"),
    });
    assert.equal(binding.provisioningStatus, "Active");
    assert.equal(binding.provisionedViaJitp, true);
    assert.equal(binding.certificateArn, CERT_ARN);
    assert.equal(binding.claimCertificateId, "ef".repeat(32));
    assert.equal(binding.claimCertificateExpiresAt?.toISOString(), "2027-06-01T00:00:00.000Z");
    assert.equal(binding.markActive(change()), false, "the saga's own activation is a no-op");
    const events = binding.pullEvents() as AwsThingProvisionedEvent[];
    assert.equal(events.length, 1);
    assert.equal(events[0]?.provisionedViaJitp, true);
    assert.equal(events[0]?.thingArn, THING_ARN);
  });

  for (const field of ["thingArn", "certificateArn", "certificateSecretArn"] as const) {
    const refused = ["", " ", "arn:aws:iot:eu-west-1:123456789012:policy/x"];
    for (const value of field === "certificateSecretArn" ? refused : [...refused, null]) {
      it(`requires a valid ${field} (refuses ${JSON.stringify(value)})`, () => {
        assert.throws(() => jitp({ [field]: value as unknown as string }), InvalidArnError);
      });
    }
  }

  for (const absent of [undefined, null]) {
    it(`stores no secret ARN when none is given (${absent}): the device's key never left the device`, () => {
      const binding = jitp({ certificateSecretArn: absent });
      assert.equal(binding.provisioningStatus, "Active");
      assert.equal(binding.certificateSecretArn, null);
      assert.equal(binding.certificateArn, CERT_ARN);
      assert.equal(binding.pullEvents().length, 1);
    });
  }

  it("accepts ARNs of the China and GovCloud partitions", () => {
    const name = ThingName.from(TENANT, "CN-1");
    const binding = jitp({
      thingName: name,
      thingArn: `arn:aws-cn:iot:cn-north-1:123456789012:thing/${name}`,
      certificateArn: `arn:aws-us-gov:iot:us-gov-west-1:123456789012:cert/${"ab".repeat(32)}`,
      certificateSecretArn: "arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:claim-placeholder",
    });
    assert.equal(binding.provisioningStatus, "Active");
  });
});

describe("shadow and claim-certificate bookkeeping", () => {
  it("records the device version pushed to the shadow and skips older or equal ones", () => {
    const binding = bindingIn("Active");
    assert.equal(binding.recordShadowReported(4, change()), true);
    const at = binding.lastShadowReportedAt;
    assert.equal(binding.recordShadowReported(3, change()), false);
    assert.equal(binding.recordShadowReported(4, change()), false);
    assert.equal(binding.shadowReportedDeviceVersion, 4);
    assert.equal(binding.lastShadowReportedAt, at);
    assert.equal(binding.recordShadowReported(5, change()), true);
    assert.equal(binding.shadowReportedDeviceVersion, 5);
  });

  for (const status of PROVISIONING_STATUSES.filter((s) => s !== "Active")) {
    it(`refuses a shadow push record while ${status}`, () => {
      assert.throws(() => bindingIn(status).recordShadowReported(2, change()), InvalidStatusTransitionError);
    });
  }

  it("refuses a device version that is not a positive integer", () => {
    assert.throws(() => bindingIn("Active").recordShadowReported(0, change()), DomainValidationError);
    assert.throws(() => bindingIn("Active").recordShadowReported(1.5, change()), DomainValidationError);
  });

  it("records a claim certificate's expiry and is a no-op when nothing changes", () => {
    const binding = bindingIn("Active");
    const expiresAt = new Date("2027-01-01T00:00:00Z");
    assert.equal(
      binding.recordClaimCertificate({ certificateId: "ef".repeat(32), expiresAt }, change()),
      true,
    );
    assert.equal(binding.recordClaimCertificate({ expiresAt: new Date(expiresAt) }, change()), false);
    assert.throws(
      () => binding.recordClaimCertificate({ certificateId: "nothex", expiresAt }, change()),
      DomainValidationError,
    );
  });
});

describe("persistence helpers", () => {
  it("rehydrates from its snapshot without raising events, at its loaded version", () => {
    const binding = bindingIn("Active");
    binding.recordShadowReported(2, change());
    const copy = AwsThingBinding.rehydrate(binding.toSnapshot());
    assert.equal(snapshotOf(copy), snapshotOf(binding));
    assert.equal(copy.loadedVersion, binding.version);
    assert.deepEqual(copy.pullEvents(), []);
  });

  it("soft-deletes once and refuses later changes", () => {
    const binding = bindingIn("Decommissioned");
    const version = binding.version;
    binding.markDeleted(change());
    binding.markDeleted(change());
    assert.equal(binding.version, version + 1);
    assert.ok(binding.isDeleted);
    const live = bindingIn("Active");
    live.markDeleted(change());
    assert.throws(() => live.markFailed("x", change()), GranitIoTError);
  });
});

describe("status helpers", () => {
  it("never treats Failed or Decommissioned as at least any checkpoint", () => {
    for (const checkpoint of PROVISIONING_CHAIN) {
      assert.equal(isAtLeast("Failed", checkpoint), false);
      assert.equal(isAtLeast("Decommissioned", checkpoint), false);
    }
    assert.equal(isAtLeast("Active", "Pending"), true);
    assert.equal(isAtLeast("KeyEscrowed", "CertIssued"), false);
  });
});
