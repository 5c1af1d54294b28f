/**
 * `/metrics` after a provisioning run on a host with the whole AWS bridge wired (`wireAwsBridge`:
 * the bundle and every route module) over the emulator: a device is provisioned to Active, activated
 * (shadow push), given a desired firmware (delta poll → job), its simulated device completes the job
 * (status poll), and a fleet-provisioning `/verify` is signed and allowed. The scrape then holds the
 * instruments of every meter — one per package — each tagged with the tenant.
 */
import "../src/telemetry/meter-provider.ts";

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { IoTJobsDataPlaneClient } from "@aws-sdk/client-iot-jobs-data-plane";
import { fleetAuthorizationHeader } from "@granit/iot-aws-fleet-provisioning";
import { SimulatedJobsDevice } from "@granit/iot-aws-jobs/testing";
import type { ShadowDeltaPoller } from "@granit/iot-aws-shadow";
import { databaseTargets } from "@granit/iot-postgres/testing";
import { type AwsTestHost, startAwsTestHost } from "./support/aws-test-host.ts";
import { TENANT_A, TOKENS } from "./support/test-host.ts";

/**
 * Prometheus names: dots become underscores; every meter is the `otel_scope_name` of its series.
 */
const METERS = {
  "granit.iot.aws.provisioning": ["granit_iot_aws_thing_created", "granit_iot_aws_binding_activated"],
  "granit.iot.aws.shadow": ["granit_iot_aws_shadow_pushes", "granit_iot_aws_shadow_deltas_published"],
  "granit.iot.aws.jobs": ["granit_iot_aws_jobs_dispatched", "granit_iot_aws_jobs_completed"],
  "granit.iot.aws.fleet_provisioning": ["granit_iot_aws_fleet_provisioning_verify_allowed"],
  "granit.iot.aws": ["granit_iot_aws_calls", "granit_iot_aws_request_duration"],
  "granit.iot.bus": ["granit_iot_bus_delivered"],
  "granit.iot.devices": ["granit_iot_devices_provisioned", "granit_iot_devices_transitions"],
} as const;

for (const target of databaseTargets()) {
  describe(`/metrics of a host with the AWS bridge (${target.name})`, { skip: target.skip }, () => {
    let aws: AwsTestHost;
    let jobsData: IoTJobsDataPlaneClient;

    before(async () => {
      aws = await startAwsTestHost(target);
      jobsData = new IoTJobsDataPlaneClient({ ...aws.emulator.clientConfig(), maxAttempts: 1 });
    });
    after(async () => {
      jobsData?.destroy();
      await aws?.dispose();
    });

    it("holds every package's meter, each instrument tagged tenant_id, after a device went through the whole loop", async () => {
      // Prepare: a device provisioned by the saga, activated, given a desired firmware.
      const { t, bundle } = aws;
      const device = await t.createDevice(TOKENS.tenantA);
      await t.host.bus.drain();
      const binding = await t.call("GET", `/api/iot/aws/bindings/${device.id}`, { token: TOKENS.tenantA });
      assert.equal(binding.body.status, "Active");
      await t.call("POST", `/api/iot/devices/${device.id}/activate`, { token: TOKENS.tenantA });
      await t.host.bus.drain();
      const desired = await t.call("PUT", `/api/iot/devices/${device.id}/shadow/desired`, {
        token: TOKENS.tenantA,
        json: { firmware: "2.0.0" },
      });
      assert.equal(desired.status, 200);

      // Act: the delta poll dispatches a job, the device runs it, the status poll completes it.
      t.clock.advance(60_000);
      await (bundle.shadow.deltaSource as ShadowDeltaPoller).sweepOnce(bundle.shadow.deltaHandler.observe);
      await t.host.bus.drain();
      const run = await new SimulatedJobsDevice({
        client: jobsData,
        thingName: binding.body.thingName,
      }).runNext();
      assert.equal(run?.job.operation, "shadow.applyDesiredState");
      t.clock.advance(300_000);
      await bundle.jobs.poller.pollOnce();
      await t.host.bus.drain();
      const commands = await t.call("GET", `/api/iot/devices/${device.id}/commands`, {
        token: TOKENS.tenantA,
      });
      assert.equal(commands.body.items[0]?.status, "Succeeded");
      // …and a signed /verify of fleet provisioning by claim.
      const key = await bundle.fleet?.fleetKeys.create({ tenantId: TENANT_A, actor: "test" });
      assert.ok(key);
      const body = JSON.stringify({ serialNumber: "FLEET-0001" });
      const verify = await t.call("POST", "/api/iot/fleet-provisioning/verify", {
        body,
        headers: {
          "content-type": "application/json",
          authorization: fleetAuthorizationHeader({
            keyId: key.keyId,
            secret: key.secret,
            method: "POST",
            path: "/api/iot/fleet-provisioning/verify",
            body,
            timestamp: t.clock.now().toISOString(),
          }),
        },
      });
      assert.equal(verify.status, 200, verify.text);
      const scrape = await t.call("GET", "/metrics");

      // Assess
      assert.equal(scrape.status, 200);
      const series = scrape.text.split("\n").filter((line) => line && !line.startsWith("#"));
      for (const [meter, instruments] of Object.entries(METERS)) {
        for (const instrument of instruments) {
          const found = series.filter(
            (line) =>
              line.startsWith(instrument) &&
              /^[a-z_]+\{/.test(line) &&
              line.includes(`otel_scope_name="${meter}"`),
          );
          assert.ok(found.length > 0, `${instrument} of meter ${meter} is missing from /metrics`);
          assert.ok(
            found.some((line) => line.includes(`tenant_id="${TENANT_A}"`)),
            `${instrument} has no series tagged tenant_id="${TENANT_A}":\n${found.join("\n")}`,
          );
        }
      }
      const untagged = series.filter(
        (line) => /otel_scope_name="granit\.iot\.aws[a-z._]*"/.test(line) && !line.includes("tenant_id="),
      );
      assert.deepEqual(
        untagged.filter((line) => !/_bucket\{|duration/.test(line)),
        [],
        "every counter of the AWS meters carries tenant_id",
      );
      const operations = series.filter(
        (line) =>
          line.startsWith("granit_iot_aws_jobs_dispatched") &&
          line.includes('operation="shadow.applyDesiredState"'),
      );
      assert.ok(operations.length > 0, "job counters carry the operation");
    });
  });
}
