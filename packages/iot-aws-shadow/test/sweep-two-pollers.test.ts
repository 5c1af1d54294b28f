/**
 * The shared sweep at fleet size: 10,000 Active bindings, two pollers on two database handles (two
 * hosts), every shadow read going to the emulator through the real SDK client. A hook at the client's
 * `send` seam only counts the reads per thing; nothing is faked.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { UpdateThingShadowCommand } from "@aws-sdk/client-iot-data-plane";
import { ThingName } from "@granit/iot-aws";
import { TestMetrics } from "@granit/iot-aws/testing";
import { PostgresShadowSyncStateStore } from "@granit/iot-aws-postgres";
import { databaseTargets } from "@granit/iot-postgres/testing";
import {
  DesiredStateDeltaHandler,
  defaultAwsShadowOptions,
  ShadowDeltaPoller,
  ShadowMetrics,
  ThingShadowClient,
} from "../src/index.ts";
import { hookedDataClient, openWorld, TENANT_A, type World } from "./support/world.ts";

const BINDINGS = 10_000;
const INTERVAL_MS = 30_000;

for (const target of databaseTargets()) {
  describe(`one sweep shared by two hosts (${target.name})`, { skip: target.skip }, () => {
    let world: World;
    before(async () => {
      world = await openWorld(target);
    });
    after(() => world?.dispose());

    it(`reads each of ${BINDINGS.toLocaleString("en")} Active bindings exactly once per interval with two pollers`, async () => {
      // Prepare: the bindings in one statement, and a shadow for each thing in the emulator.
      await world.tdb.database.execute(
        `INSERT INTO iotaws_thing_bindings (id, device_id, tenant_id, thing_name, thing_arn, provisioning_status, created_at, version)
         SELECT gen_random_uuid(), gen_random_uuid(), $2::uuid, $3 || lpad(i::text, 6, '0'),
                'arn:aws:iot:us-east-1:000000000000:thing/' || $3 || lpad(i::text, 6, '0'), 'Active', now(), 1
         FROM generate_series(1, $1::int) AS i`,
        [BINDINGS, TENANT_A, `${ThingName.tenantPrefix(TENANT_A)}-FLEET-`],
      );
      const things = (
        await world.tdb.database.execute<{ thing_name: string }>(
          "SELECT thing_name FROM iotaws_thing_bindings",
        )
      ).map((r) => r.thing_name);
      const payload = new TextEncoder().encode(JSON.stringify({ state: { reported: { status: "Active" } } }));
      for (let i = 0; i < things.length; i += 64) {
        await Promise.all(
          things
            .slice(i, i + 64)
            .map((thingName) => world.data.send(new UpdateThingShadowCommand({ thingName, payload }))),
        );
      }
      const reads = new Map<string, number>();
      const host = (syncState: PostgresShadowSyncStateStore) => {
        const metrics = new ShadowMetrics(new TestMetrics("granit.iot.aws.shadow").meter);
        const options = { ...defaultAwsShadowOptions(), pollConcurrency: 32 };
        const shadows = new ThingShadowClient(
          hookedDataClient(world.data, {
            before(operation, input) {
              if (operation === "GetThingShadow") {
                reads.set(String(input.thingName), (reads.get(String(input.thingName)) ?? 0) + 1);
              }
            },
          }),
          world.policy,
          { perThingRequestsPerSecond: 20, scheduler: world.scheduler },
        );
        return {
          poller: new ShadowDeltaPoller({
            syncState,
            shadows,
            options,
            clock: world.clock,
            scheduler: world.scheduler,
            metrics,
          }),
          deltas: new DesiredStateDeltaHandler({
            bus: world.bus,
            syncState,
            unitOfWork: world.tdb.database,
            clock: world.clock,
            metrics,
          }),
        };
      };
      const first = host(world.syncState);
      const second = host(new PostgresShadowSyncStateStore(await world.tdb.openAnother()));
      assert.equal(await world.syncState.trackActiveBindings(world.clock.now()), BINDINGS);
      const sweepBoth = () =>
        Promise.all([
          first.poller.sweepOnce(first.deltas.observe),
          second.poller.sweepOnce(second.deltas.observe),
        ]);
      const readCounts = () => {
        const histogram = new Map<number, number>();
        for (const count of reads.values()) histogram.set(count, (histogram.get(count) ?? 0) + 1);
        return Object.fromEntries([...histogram].sort(([a], [b]) => a - b));
      };

      // Act + assess: interval 1.
      const [a, b] = await sweepBoth();
      assert.equal(a.polled + b.polled, BINDINGS);
      assert.ok(a.polled > 0 && b.polled > 0, `both hosts took part (${a.polled} + ${b.polled})`);
      assert.deepEqual(readCounts(), { 1: BINDINGS }, "every thing read exactly once");

      // Just before the interval ends nothing is due; at its end every binding is, once.
      await world.scheduler.advance(INTERVAL_MS - 1000);
      const early = await sweepBoth();
      assert.equal(early[0].polled + early[1].polled, 0);
      await world.scheduler.advance(1000);
      const [c, d] = await sweepBoth();
      assert.equal(c.polled + d.polled, BINDINGS);
      assert.deepEqual(readCounts(), { 2: BINDINGS }, "every thing read exactly twice after two intervals");
    });
  });
}
