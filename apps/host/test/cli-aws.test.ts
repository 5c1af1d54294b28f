/**
 * `granit-iot shadow ...`, `commands ...` and `claim-certs ...` against a real host with the real
 * routes (`src/aws/*-routes.ts`) and the AWS bridges wired the way the bundle does — shadow and
 * jobs over the emulator behind the real SDK, the claim-certificate registry on the database — run
 * as a child process: human output, `--json`, refusals (exit 1), scopes (exit 4), bad input (exit 2).
 */
import "../src/telemetry/meter-provider.ts";

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { CreateThingCommand, IoTClient } from "@aws-sdk/client-iot";
import {
  GetThingShadowCommand,
  IoTDataPlaneClient,
  UpdateThingShadowCommand,
} from "@aws-sdk/client-iot-data-plane";
import { IoTJobsDataPlaneClient } from "@aws-sdk/client-iot-jobs-data-plane";
import { type Emulator, startEmulator } from "@granit/aws-iot-emulator";
import { AwsCallPolicy, AwsThingBinding, ThingName } from "@granit/iot-aws";
import { ClaimCertificateRegistry, FleetKeyAdmin, FleetKeyCipher } from "@granit/iot-aws-fleet-provisioning";
import { type AwsJobs, defaultAwsJobsOptions, registerAwsJobs } from "@granit/iot-aws-jobs";
import { SimulatedJobsDevice } from "@granit/iot-aws-jobs/testing";
import {
  IOTAWS_MIGRATIONS,
  PostgresAwsThingBindingStore,
  PostgresJobTrackingStore,
  PostgresShadowSyncStateStore,
  postgresFleetProvisioningStores,
} from "@granit/iot-aws-postgres";
import { registerAwsShadow } from "@granit/iot-aws-shadow";
import { databaseTargets } from "@granit/iot-postgres/testing";
import { registerCommandRoutes } from "../src/aws/commands-routes.ts";
import {
  FLEET_ADMIN_PREFIX,
  FleetProvisioningScopes,
  fleetProvisioningAdminRoutes,
} from "../src/aws/fleet-provisioning-routes.ts";
import { registerShadowRoutes } from "../src/aws/shadow-routes.ts";
import { type CliResult, granitIot, removeTempDirs } from "./cli-fixtures/run-cli.ts";
import { startTestHost, TENANT_A, type TestHost, TOKENS } from "./support/test-host.ts";

const FLEET_ADMIN = "cli-fleet-admin-token-0001";
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;

after(removeTempDirs);

for (const target of databaseTargets()) {
  describe(`granit-iot AWS commands on real routes (${target.name})`, { skip: target.skip }, () => {
    let emulator: Emulator;
    let iot: IoTClient;
    let data: IoTDataPlaneClient;
    let jobsData: IoTJobsDataPlaneClient;
    let t: TestHost;
    let jobs: AwsJobs;
    let bindings: PostgresAwsThingBindingStore;

    before(async () => {
      emulator = await startEmulator({ port: 0, clock: () => t?.clock.now() ?? new Date() });
      iot = new IoTClient({ ...emulator.clientConfig(), maxAttempts: 1 });
      data = new IoTDataPlaneClient({ ...emulator.clientConfig(), maxAttempts: 1 });
      jobsData = new IoTJobsDataPlaneClient({ ...emulator.clientConfig(), maxAttempts: 1 });
      t = await startTestHost(target, {
        beforeStart(host) {
          host.addMigration(IOTAWS_MIGRATIONS);
          bindings = new PostgresAwsThingBindingStore(host.database, host.bus);
          const callPolicy = new AwsCallPolicy({ maxAttempts: 1 });
          const shadow = registerAwsShadow({
            bus: host.bus,
            bindings,
            devices: host.deviceStore,
            syncState: new PostgresShadowSyncStateStore(host.database),
            unitOfWork: host.database,
            dataClient: data,
            callPolicy,
            clock: host.clock,
            logger: host.logger,
          });
          registerShadowRoutes(host.app, { tokens: host.tokens, shadows: shadow.shadows });
          jobs = registerAwsJobs({
            bus: host.bus,
            bindingStore: bindings,
            trackingStore: new PostgresJobTrackingStore(host.database, host.bus),
            iot,
            callPolicy,
            credentials: { name: "aws-credentials", isReady: () => true },
            options: defaultAwsJobsOptions(),
            clock: host.clock,
            logger: host.logger,
          });
          registerCommandRoutes(host.app, { tokens: host.tokens, commands: jobs.commands });
          const stores = postgresFleetProvisioningStores(host.database, host.bus);
          host.tokens.add({
            name: "fleet-admin@tenant-a",
            tenantId: TENANT_A,
            scopes: [FleetProvisioningScopes.Read, FleetProvisioningScopes.Manage],
            token: FLEET_ADMIN,
          });
          void host.app.register(fleetProvisioningAdminRoutes, {
            prefix: FLEET_ADMIN_PREFIX,
            tokens: host.tokens,
            claimCertificates: new ClaimCertificateRegistry({
              store: stores.claimCertificates,
              clock: host.clock,
            }),
            fleetKeys: new FleetKeyAdmin({
              credentials: stores.fleetCredentials,
              cipher: new FleetKeyCipher(Buffer.alloc(32, 7).toString("base64")),
              clock: host.clock,
            }),
          });
        },
      });
    });
    after(async () => {
      await t?.dispose();
      iot?.destroy();
      data?.destroy();
      jobsData?.destroy();
      await emulator?.stop();
    });

    const cli = (args: readonly string[], token: string = TOKENS.tenantA): Promise<CliResult> =>
      granitIot([...args, "--url", t.host.url, "--token", token]);

    /** A device of tenant A created through the API, its thing in AWS and its Active binding. */
    async function awsDevice() {
      const device = await t.createDevice(TOKENS.tenantA);
      const thingName = ThingName.from(TENANT_A, device.serialNumber as string);
      const thing = await iot.send(new CreateThingCommand({ thingName: thingName.value }));
      await bindings.add(
        AwsThingBinding.createForJitp(
          {
            deviceId: device.id,
            tenantId: TENANT_A,
            thingName,
            thingArn: thing.thingArn ?? "",
            certificateArn: `arn:aws:iot:us-east-1:000000000000:cert/${"ab".repeat(32)}`,
          },
          { at: t.clock.now(), by: "test" },
        ),
      );
      return { id: device.id, thingName: thingName.value };
    }
    const shadowOf = async (thingName: string) =>
      JSON.parse(
        new TextDecoder().decode((await data.send(new GetThingShadowCommand({ thingName }))).payload),
      );

    describe("shadow", () => {
      it("prints the shadow's sections as a key/value block, and the API's document with --json", async () => {
        const device = await awsDevice();
        await data.send(
          new UpdateThingShadowCommand({
            thingName: device.thingName,
            payload: new TextEncoder().encode(
              JSON.stringify({ state: { reported: { fan: 1 }, desired: { fan: 3 } } }),
            ),
          }),
        );

        const human = await cli(["shadow", "get", device.id]);
        const json = await cli(["shadow", "get", device.id, "--json"]);

        assert.equal(human.code, 0, human.stderr);
        assert.match(human.stdout, new RegExp(`^thingName: {2}${device.thingName}$`, "m"));
        assert.match(human.stdout, /^reported: {3}\{"fan":1\}$/m);
        assert.match(human.stdout, /^desired: {4}\{"fan":3\}$/m);
        assert.match(human.stdout, /^delta: {6}\{"fan":3\}$/m);
        const api = await t.call("GET", `/api/iot/devices/${device.id}/shadow`, { token: TOKENS.tenantA });
        assert.deepEqual(json.json(), api.body);
      });

      it("merges a JSON argument and --set values into the desired state", async () => {
        const device = await awsDevice();

        const result = await cli([
          "shadow",
          "set-desired",
          device.id,
          '{"fan":{"speed":3},"mode":"auto"}',
          "--set",
          "mode=eco",
          "--set",
          "fan.boost=true",
        ]);

        assert.equal(result.code, 0, result.stderr);
        assert.match(
          result.stdout,
          new RegExp(`^Desired state of device ${device.id} merged \\(shadow version \\d+\\)\\.$`, "m"),
        );
        assert.deepEqual((await shadowOf(device.thingName)).state.desired, {
          fan: { speed: 3, boost: true },
          mode: "eco",
        });
      });

      it("exits 1 with the host's field error for a desired state AWS would refuse", async () => {
        const device = await awsDevice();

        const result = await cli([
          "shadow",
          "set-desired",
          device.id,
          '{"a":{"b":{"c":{"d":{"e":{"f":{"g":1}}}}}}}',
        ]);

        assert.equal(result.code, 1);
        assert.match(
          result.stderr,
          /^error: The request is not valid\. \(HTTP 400, PUT \/api\/iot\/devices\/.*\/shadow\/desired\)\n/,
        );
        assert.match(result.stderr, /^ {2}desired(\.\S+)?: .*nest.* \(\w+\)$/m);
      });

      it("exits 1 with 'not found' for a device without an AWS thing", async () => {
        const device = await t.createDevice(TOKENS.tenantA);

        const result = await cli(["shadow", "get", device.id]);

        assert.equal(result.code, 1);
        assert.match(result.stderr, /^error: The resource was not found\. \(HTTP 404, GET /);
      });

      it("refuses an invalid JSON argument, or no desired state at all, with exit 2", async () => {
        const device = "0194a5e0-1234-7abc-8def-0123456789ab";

        const invalid = await cli(["shadow", "set-desired", device, "{fan:3}"]);
        const array = await cli(["shadow", "set-desired", device, "[1,2]"]);
        const nothing = await cli(["shadow", "set-desired", device]);

        assert.deepEqual([invalid.code, array.code, nothing.code], [2, 2, 2]);
        assert.match(invalid.stderr, /^error: the desired state is not valid JSON: /);
        assert.match(array.stderr, /^error: the desired state must be a JSON object \(got an array\)/);
        assert.match(
          nothing.stderr,
          /^error: give the desired state as a JSON argument or with --set key=value/,
        );
      });
    });

    describe("commands", () => {
      it("sends a command, shows it Dispatched, then Succeeded once the device ran it", async () => {
        const device = await awsDevice();

        const sent = await cli([
          "commands",
          "send",
          device.id,
          "firmware.update",
          "--param",
          "version=2.0.0",
          "--param",
          "force=true",
        ]);
        const commandId = sent.stdout.match(UUID)?.[0] as string;
        const robot = await new SimulatedJobsDevice({
          client: jobsData,
          thingName: device.thingName,
        }).runNext();
        t.clock.advance(300_000);
        await jobs.poller.pollOnce();
        const one = await cli(["commands", "status", device.id, commandId]);
        const list = await cli(["commands", "status", device.id]);

        assert.equal(sent.code, 0, sent.stderr);
        assert.equal(
          sent.stdout,
          `Command ${commandId} (firmware.update) sent to device ${device.id}: Dispatched.\n`,
        );
        assert.deepEqual(robot?.job.parameters, { version: "2.0.0", force: true });
        assert.equal(one.code, 0);
        assert.match(one.stdout, /^status: +Succeeded$/m);
        assert.match(one.stdout, /^parameters: +\{"force":true,"version":"2\.0\.0"\}$/m);
        assert.equal(list.code, 0);
        assert.match(list.stdout, /^COMMAND +OPERATION +STATUS +EXECUTION +CREATED +REASON$/m);
        assert.match(list.stdout, new RegExp(`^${commandId} +firmware\\.update +Succeeded +SUCCEEDED `, "m"));
      });

      it("returns the first command for a repeated idempotency key and refuses the key with other parameters", async () => {
        const device = await awsDevice();
        const args = [
          "commands",
          "send",
          device.id,
          "reboot",
          "--params",
          '{"delay":5}',
          "--idempotency-key",
          "rb-1",
        ];

        const first = await cli([...args, "--json"]);
        const again = await cli(args);
        const other = await cli([
          "commands",
          "send",
          device.id,
          "reboot",
          "--param",
          "delay=9",
          "--idempotency-key",
          "rb-1",
        ]);

        assert.equal(first.code, 0);
        assert.equal(first.json().reused, false);
        assert.equal(again.code, 0);
        assert.equal(
          again.stdout,
          `Command ${first.json().commandId} (reboot) sent to device ${device.id}: Dispatched (already sent with this idempotency key: nothing new was sent).\n`,
        );
        assert.equal(other.code, 1);
        assert.match(other.stderr, /^error: The resource already exists\. \(HTTP 409, POST /);
      });

      it("requests a cancellation and shows the command Canceled after the next poll", async () => {
        const device = await awsDevice();
        const sent = (await cli(["commands", "send", device.id, "reboot", "--json"])).json();

        const cancel = await cli(["commands", "cancel", device.id, sent.commandId]);
        await jobs.poller.pollOnce();
        const read = await cli(["commands", "status", device.id, sent.commandId, "--json"]);
        const twice = await cli(["commands", "cancel", device.id, sent.commandId]);

        assert.equal(cancel.code, 0, cancel.stderr);
        assert.equal(
          cancel.stdout,
          `Cancellation of command ${sent.commandId} (reboot) requested; status Dispatched.\n`,
        );
        assert.equal(read.json().status, "Canceled");
        assert.equal(twice.code, 1);
        assert.match(twice.stderr, /HTTP 409/);
      });

      it("prints 'No commands.' for a device without commands, 404 (exit 1) for an unknown one", async () => {
        const device = await awsDevice();

        const none = await cli(["commands", "status", device.id]);
        const unknown = await cli(["commands", "send", "0194a5e0-0000-7000-8000-00000000beef", "reboot"]);

        assert.equal(none.code, 0);
        assert.equal(none.stdout, "No commands.\n");
        assert.equal(unknown.code, 1);
        assert.match(unknown.stderr, /^error: The resource was not found\. \(HTTP 404, POST /);
      });

      it("exits 4 when a read-only token sends a command, and 2 for malformed parameters", async () => {
        const device = await awsDevice();

        const reader = await cli(["commands", "send", device.id, "reboot"], TOKENS.tenantAReader);
        const params = await cli(["commands", "send", device.id, "reboot", "--params", "delay=5"]);
        const commandId = await cli(["commands", "status", device.id, "latest"]);

        assert.equal(reader.code, 4);
        assert.match(reader.stderr, /HTTP 403/);
        assert.equal(params.code, 2);
        assert.match(params.stderr, /^error: --params is not valid JSON/);
        assert.equal(commandId.code, 2);
        assert.match(commandId.stderr, /^error: commandId must be a UUID \(got 'latest'\)/);
      });
    });

    describe("claim-certs", () => {
      const certificate = "ab".repeat(32);

      it("adds, lists, shows, deactivates and activates a claim certificate", async () => {
        const added = await cli(
          [
            "claim-certs",
            "add",
            certificate.toUpperCase(),
            "--template",
            "granit-fleet",
            "--not-after",
            "2027-06-30T00:00:00Z",
            "--description",
            "batch 12",
          ],
          FLEET_ADMIN,
        );
        const listed = await cli(["claim-certs", "list"], FLEET_ADMIN);
        const deactivated = await cli(["claim-certs", "deactivate", certificate], FLEET_ADMIN);
        const inactive = await cli(["claim-certs", "list", "--status", "Inactive", "--json"], FLEET_ADMIN);
        const activated = await cli(["claim-certs", "activate", certificate], FLEET_ADMIN);
        const shown = await cli(["claim-certs", "show", certificate], FLEET_ADMIN);

        assert.equal(added.code, 0, added.stderr);
        assert.equal(
          added.stdout,
          `Registered claim certificate ${certificate} for template granit-fleet, valid until 2027-06-30T00:00:00.000Z.\n`,
        );
        assert.deepEqual(listed.stdout.split("\n").slice(0, 2), [
          `CERTIFICATE${" ".repeat(55)}TEMPLATE      STATUS  NOT AFTER                 DESCRIPTION`,
          `${certificate}  granit-fleet  Active  2027-06-30T00:00:00.000Z  batch 12`,
        ]);
        assert.equal(deactivated.stdout, `Claim certificate ${certificate} is Inactive.\n`);
        assert.deepEqual(
          inactive.json().items.map((c: { certificateId: string }) => c.certificateId),
          [certificate],
        );
        assert.equal(activated.stdout, `Claim certificate ${certificate} is Active.\n`);
        assert.match(shown.stdout, /^status: +Active$/m);
        assert.match(shown.stdout, /^createdBy: +fleet-admin@tenant-a$/m);
        assert.match(shown.stdout, /^version: +3$/m);
      });

      it("exits 1 for a certificate registered twice and 4 for a token without the fleet scopes", async () => {
        const args = [
          "claim-certs",
          "add",
          certificate,
          "--template",
          "t1",
          "--not-after",
          "2027-01-01T00:00:00Z",
        ];

        const twice = await cli(args, FLEET_ADMIN);
        const devicesToken = await cli(["claim-certs", "list"], TOKENS.tenantA);

        assert.equal(twice.code, 1);
        assert.match(
          twice.stderr,
          /^error: The resource already exists\. \(HTTP 409, POST \/api\/iot\/aws\/claim-certificates\)\n/,
        );
        assert.equal(devicesToken.code, 4);
        assert.match(devicesToken.stderr, /lacks the scope IoT\.Aws\.FleetProvisioning\.Read/);
      });

      it("refuses a malformed certificate id or expiry with exit 2", async () => {
        const id = await cli(
          ["claim-certs", "add", "abc", "--template", "t", "--not-after", "2027-01-01"],
          FLEET_ADMIN,
        );
        const date = await cli(
          ["claim-certs", "add", "cd".repeat(32), "--template", "t", "--not-after", "next year"],
          FLEET_ADMIN,
        );

        assert.equal(id.code, 2);
        assert.match(
          id.stderr,
          /^error: certificateId must be an AWS IoT certificate id, 64 hex characters \(got 'abc'\)/,
        );
        assert.equal(date.code, 2);
        assert.match(date.stderr, /^error: --not-after must be an ISO-8601 date/);
      });
    });
  });
}
