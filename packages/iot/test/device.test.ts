import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { inspect } from "node:util";
import {
  Device,
  DeviceCredential,
  type DeviceLifecycleEvent,
  DeviceStatus,
  DomainValidationError,
  GranitIoTError,
  InvalidStatusTransitionError,
  ManualClock,
} from "../src/index.ts";

const clock = new ManualClock("2026-03-01T10:00:00.000Z");
const change = () => ({ at: clock.advance(1000), by: "operator-1" });
const TENANT = "7c9e6679-7425-40de-944b-e07fc1f90ae7";

function provision(overrides: Partial<Parameters<typeof Device.provision>[0]> = {}): Device {
  return Device.provision(
    { tenantId: TENANT, serialNumber: "SN-001", model: "GW-200", firmware: "1.4.2", ...overrides },
    change(),
  );
}

function inStatus(status: DeviceStatus): Device {
  const device = provision();
  if (status === "Active" || status === "Suspended") device.activate(change());
  if (status === "Suspended") device.suspend("maintenance", change());
  if (status === "Decommissioned") device.decommission(change());
  device.pullEvents();
  return device;
}

describe("Device.provision", () => {
  it("creates a device in Provisioning at version 1 and raises DeviceProvisionedEvent", () => {
    const device = provision({ label: "Boiler room" });
    assert.equal(device.status, DeviceStatus.Provisioning);
    assert.equal(device.version, 1);
    assert.equal(device.audit.createdBy, "operator-1");
    const events = device.pullEvents() as DeviceLifecycleEvent[];
    assert.equal(events.length, 1);
    const [event] = events;
    assert.equal(event?.type, "DeviceProvisionedEvent");
    assert.equal(event?.deviceId, device.id);
    assert.equal(event?.serialNumber, "SN-001");
    assert.equal(event?.tenantId, TENANT);
    assert.equal(event?.occurredAt, device.audit.createdAt.toISOString());
    assert.equal(event?.deviceVersion, 1);
  });

  it("accepts host devices with a null tenant", () => {
    assert.equal(provision({ tenantId: null }).tenantId, null);
  });

  it("reports every invalid field at once", () => {
    assert.throws(
      () => provision({ serialNumber: "-bad", model: "", firmware: "latest", label: "x".repeat(300) }),
      (error: unknown) => {
        assert.ok(error instanceof DomainValidationError);
        assert.deepEqual(
          error.violations.map((v) => `${v.field}:${v.rule}`),
          ["serialNumber:pattern", "model:required", "firmware:semver", "label:maxLength"],
        );
        return true;
      },
    );
  });

  for (const serial of ["A", "SN-001", "Device_42", "a".repeat(94)]) {
    it(`accepts the serial number '${serial.length > 10 ? `${serial.slice(0, 5)}…(${serial.length})` : serial}'`, () => {
      assert.equal(provision({ serialNumber: serial }).serialNumber, serial);
    });
  }

  for (const [serial, rule] of [
    ["", "required"],
    ["a".repeat(95), "maxLength"],
    ["-leading", "pattern"],
    ["_leading", "pattern"],
    ["with space", "pattern"],
    ["colon:no", "pattern"],
    [42, "required"],
  ] as const) {
    it(`rejects the serial number ${JSON.stringify(serial).slice(0, 20)} with rule ${rule}`, () => {
      assert.throws(
        () => provision({ serialNumber: serial }),
        (e: unknown) => e instanceof DomainValidationError && e.violations[0]?.rule === rule,
      );
    });
  }

  for (const firmware of ["1", "1.5", "1.5.0", "v2.0.1", "1.5.0.12", "2.0.0-rc.1", "1.0.0+build.7"]) {
    it(`accepts the firmware version ${firmware}`, () => {
      assert.equal(provision({ firmware }).firmware, firmware);
    });
  }

  for (const firmware of ["", "latest", "1..2", "1.2.3.4.5", "1.2-"]) {
    it(`rejects the firmware version '${firmware}'`, () => {
      assert.throws(() => provision({ firmware }), DomainValidationError);
    });
  }

  it("rejects a model longer than 128 characters", () => {
    assert.throws(
      () => provision({ model: "m".repeat(129) }),
      (e: unknown) => e instanceof DomainValidationError && e.violations[0]?.rule === "maxLength",
    );
  });

  it("rejects a tenant id that is not a UUID", () => {
    assert.throws(() => provision({ tenantId: "acme" }), DomainValidationError);
  });
});

describe("Device lifecycle", () => {
  const legal: [DeviceStatus, (d: Device) => void, DeviceStatus, DeviceLifecycleEvent["type"]][] = [
    ["Provisioning", (d) => d.activate(change()), "Active", "DeviceActivatedEvent"],
    ["Active", (d) => d.suspend("tampering suspected", change()), "Suspended", "DeviceSuspendedEvent"],
    ["Suspended", (d) => d.reactivate(change()), "Active", "DeviceReactivatedEvent"],
    ["Provisioning", (d) => d.decommission(change()), "Decommissioned", "DeviceDecommissionedEvent"],
    ["Active", (d) => d.decommission(change()), "Decommissioned", "DeviceDecommissionedEvent"],
    ["Suspended", (d) => d.decommission(change()), "Decommissioned", "DeviceDecommissionedEvent"],
  ];
  for (const [from, act, to, eventType] of legal) {
    it(`moves ${from} → ${to}, bumps the version and raises ${eventType}`, () => {
      const device = inStatus(from);
      const before = device.version;
      act(device);
      assert.equal(device.status, to);
      assert.equal(device.version, before + 1);
      const events = device.pullEvents() as DeviceLifecycleEvent[];
      assert.deepEqual(
        events.map((e) => e.type),
        [eventType],
      );
      assert.equal(events[0]?.deviceVersion, device.version);
      assert.equal(events[0]?.tenantId, TENANT);
    });
  }

  const operations: Record<string, (d: Device) => void> = {
    activate: (d) => d.activate(change()),
    suspend: (d) => d.suspend("reason", change()),
    reactivate: (d) => d.reactivate(change()),
    decommission: (d) => d.decommission(change()),
  };
  const allowedFrom: Record<string, DeviceStatus[]> = {
    activate: ["Provisioning"],
    suspend: ["Active"],
    reactivate: ["Suspended"],
    decommission: ["Provisioning", "Active", "Suspended"],
  };
  for (const [operation, act] of Object.entries(operations)) {
    for (const status of Object.values(DeviceStatus)) {
      if (allowedFrom[operation]?.includes(status)) continue;
      it(`refuses to ${operation} a ${status} device, naming current and expected status, and changes nothing`, () => {
        const device = inStatus(status);
        const version = device.version;
        assert.throws(
          () => act(device),
          (error: unknown) => {
            assert.ok(error instanceof InvalidStatusTransitionError);
            assert.equal(error.currentStatus, status);
            assert.match(error.message, new RegExp(`in '${status}' status`));
            for (const expected of allowedFrom[operation] ?? [])
              assert.match(error.message, new RegExp(`'${expected}'`));
            return true;
          },
        );
        assert.equal(device.status, status);
        assert.equal(device.version, version);
        assert.equal(device.pullEvents().length, 0);
      });
    }
  }

  it("records the suspension reason and clears it on reactivation", () => {
    const device = inStatus("Active");
    device.suspend("battery swap", change());
    assert.equal(device.suspensionReason, "battery swap");
    device.reactivate(change());
    assert.equal(device.suspensionReason, null);
  });

  it("refuses a blank suspension reason without changing the status", () => {
    const device = inStatus("Active");
    assert.throws(() => device.suspend("  ", change()), DomainValidationError);
    assert.equal(device.status, "Active");
  });

  it("refuses label and firmware changes once decommissioned", () => {
    const device = inStatus("Decommissioned");
    assert.throws(() => device.updateLabel("x", change()), InvalidStatusTransitionError);
    assert.throws(() => device.updateFirmware("2.0.0", change()), InvalidStatusTransitionError);
  });

  it("updates firmware and label with audit but without a lifecycle event", () => {
    const device = inStatus("Active");
    const at = clock.now();
    device.updateFirmware("1.5.0", { at, by: "alice" });
    device.updateLabel("Roof", { at, by: "alice" });
    assert.equal(device.firmware, "1.5.0");
    assert.equal(device.label, "Roof");
    assert.equal(device.audit.modifiedBy, "alice");
    assert.equal(device.pullEvents().length, 0);
  });

  it("refuses every change once soft-deleted", () => {
    const device = inStatus("Decommissioned");
    device.markDeleted(change());
    assert.ok(device.isDeleted);
    assert.equal(device.audit.deletedBy, "operator-1");
    const fresh = inStatus("Active");
    fresh.markDeleted(change());
    assert.throws(() => fresh.suspend("x", change()), GranitIoTError);
  });
});

describe("DeviceCredential", () => {
  it("never shows its secret in JSON or util.inspect", () => {
    const device = provision({ credential: DeviceCredential.create("api-key", "s3cr3t-value") });
    const json = JSON.stringify(device);
    assert.doesNotMatch(json, /s3cr3t-value/);
    assert.match(json, /"credentialType":"api-key"/);
    assert.doesNotMatch(inspect(device.credential), /s3cr3t-value/);
    assert.equal(device.credential?.revealProtectedSecret(), "s3cr3t-value");
  });

  it("requires a type of at most 64 characters and a secret of at most 2048", () => {
    assert.throws(() => DeviceCredential.create("", "x"), DomainValidationError);
    assert.throws(() => DeviceCredential.create("t".repeat(65), "x"), DomainValidationError);
    assert.throws(() => DeviceCredential.create("api-key", "x".repeat(2049)), DomainValidationError);
  });
});
