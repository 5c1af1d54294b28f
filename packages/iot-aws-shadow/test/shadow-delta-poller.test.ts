/**
 * AWS → Granit: the delta poller against the emulator (real `IoTDataPlaneClient`) and a real database,
 * on fake time (`ManualScheduler`).
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { type AwsThingBinding, desiredStateFingerprint } from "@granit/iot-aws";
import { databaseTargets } from "@granit/iot-postgres/testing";
import {
  activeBinding,
  components,
  hookedDataClient,
  openWorld,
  publishedDeltas,
  readShadow,
  resetWorld,
  TENANT_A,
  TENANT_B,
  updateShadow,
  type World,
} from "./support/world.ts";

const INTERVAL_MS = 30_000;

/** Lets I/O (database, HTTP) progress until `done()` holds; never waits on wall-clock time for a verdict. */
async function until(done: () => boolean, what: string): Promise<void> {
  for (let turn = 0; turn < 20_000; turn++) {
    if (done()) return;
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  assert.fail(`gave up waiting for ${what}`);
}

for (const target of databaseTargets()) {
  describe(`shadow delta poller (emulator, ${target.name})`, { skip: target.skip }, () => {
    let world: World;
    before(async () => {
      world = await openWorld(target);
    });
    beforeEach(() => resetWorld(world));
    after(() => world?.dispose());

    const tracked = async (...bindings: AwsThingBinding[]) => {
      for (const b of bindings) {
        await world.syncState.track(
          { bindingId: b.id, deviceId: b.deviceId, tenantId: b.tenantId, thingName: b.thingName.value },
          world.clock.now(),
        );
      }
    };

    it("publishes one event for a desired state over several polls; a new desired value publishes again; a reported one ends it", async () => {
      const { poller, deltas, testMetrics } = components(world);
      const binding = await activeBinding(world);
      const thing = binding.thingName.value;
      await tracked(binding);
      await updateShadow(world, thing, { reported: { firmware: "1.4.0", status: "Active" } });
      const nextInterval = () => world.scheduler.advance(INTERVAL_MS);
      const sweep = () => poller.sweepOnce(deltas.observe);

      // desired {firmware: "1.5.0"} through the data plane → exactly one event over several polls
      await world.scheduler.advance(1000);
      const desiredAt = Math.floor(world.clock.now().getTime() / 1000);
      await updateShadow(world, thing, { desired: { firmware: "1.5.0" } });
      for (let poll = 0; poll < 4; poll++) {
        assert.equal((await sweep()).polled, 1);
        await nextInterval();
      }
      const [first, ...others] = await publishedDeltas(world);
      assert.deepEqual(others, []);
      const shadowVersion = (await readShadow(world, thing)).version;
      assert.deepEqual(
        {
          type: first?.type,
          deviceId: first?.deviceId,
          thingName: first?.thingName,
          tenantId: first?.tenantId,
          delta: first?.delta,
          shadowVersion: first?.shadowVersion,
          desiredTimestamps: first?.desiredTimestamps,
          fingerprint: first?.fingerprint,
        },
        {
          type: "DeviceDesiredStateChangedEvent",
          deviceId: binding.deviceId,
          thingName: thing,
          tenantId: TENANT_A,
          delta: { firmware: "1.5.0" },
          shadowVersion,
          desiredTimestamps: { firmware: desiredAt },
          fingerprint: desiredStateFingerprint({ firmware: "1.5.0" }, { firmware: desiredAt }),
        },
      );

      // a reported-only update bumps the version: nothing new
      await updateShadow(world, thing, { reported: { battery: 80 } });
      assert.ok((await readShadow(world, thing)).version > shadowVersion);
      await sweep();
      await nextInterval();
      assert.equal((await publishedDeltas(world)).length, 1);

      // setting desired again, to an earlier value, publishes again
      await updateShadow(world, thing, { desired: { firmware: "1.4.1" } });
      await sweep();
      await nextInterval();
      await sweep();
      const afterRollback = await publishedDeltas(world);
      assert.equal(afterRollback.length, 2);
      assert.deepEqual(afterRollback[1]?.delta, { firmware: "1.4.1" });

      // the device reports the desired value → the delta is gone → nothing published, fingerprint cleared
      await updateShadow(world, thing, { reported: { firmware: "1.4.1" } });
      await nextInterval();
      await sweep();
      assert.equal((await publishedDeltas(world)).length, 2);
      assert.equal((await world.syncState.find(binding.id))?.lastDeltaFingerprint, null);

      // and the same desired value as the very first event, set again later, is a new desired state
      await updateShadow(world, thing, { desired: { firmware: "1.5.0" } });
      await nextInterval();
      await sweep();
      assert.deepEqual((await publishedDeltas(world)).at(-1)?.delta, { firmware: "1.5.0" });
      assert.equal((await publishedDeltas(world)).length, 3);
      assert.equal(
        await testMetrics.sum("granit.iot.aws.shadow.deltas.published", { tenant_id: TENANT_A }),
        3,
      );
      assert.ok((await testMetrics.sum("granit.iot.aws.shadow.polls", { outcome: "delta" })) >= 6);
      assert.ok((await testMetrics.sum("granit.iot.aws.shadow.polls", { outcome: "in_sync" })) >= 1);
    });

    it("carries nested objects, arrays and the desired timestamp of every delta leaf", async () => {
      const { poller, deltas } = components(world);
      const binding = await activeBinding(world, null);
      const thing = binding.thingName.value;
      await tracked(binding);
      await updateShadow(world, thing, { reported: { config: { interval: 10, mode: "eco" }, tags: ["a"] } });
      const t1 = Math.floor(world.clock.now().getTime() / 1000);
      await updateShadow(world, thing, { desired: { config: { interval: 10, mode: "eco" } } });
      await world.scheduler.advance(2000);
      const t2 = t1 + 2;
      await updateShadow(world, thing, {
        desired: { config: { interval: 30, limits: { max: 5 } }, tags: ["a", "b"], label: null },
      });

      await poller.sweepOnce(deltas.observe);
      const [event] = await publishedDeltas(world);
      assert.deepEqual(event?.delta, { config: { interval: 30, limits: { max: 5 } }, tags: ["a", "b"] });
      assert.deepEqual(event?.desiredTimestamps, {
        "config.interval": t2,
        "config.limits.max": t2,
        tags: t2,
      });
      assert.equal(event?.tenantId, null);
    });

    it("logs and counts a failing binding — no shadow, throttled, malformed — and finishes the sweep", async () => {
      const [missing, throttled, malformed, healthy] = [
        await activeBinding(world),
        await activeBinding(world, TENANT_B),
        await activeBinding(world),
        await activeBinding(world),
      ];
      for (const b of [throttled, malformed, healthy]) {
        await updateShadow(world, b.thingName.value, { desired: { firmware: "2.0.0" } });
      }
      await tracked(missing, throttled, malformed, healthy);
      let faultsOn = true;
      const client = hookedDataClient(world.data, {
        before(operation, input) {
          if (faultsOn && operation === "GetThingShadow" && input.thingName === throttled.thingName.value) {
            world.emulator?.setFaults([
              { service: "iotdata", operation: "GetThingShadow", kind: "throttle", count: 1 },
            ]);
          }
        },
        after(operation, input, output) {
          if (faultsOn && operation === "GetThingShadow" && input.thingName === malformed.thingName.value) {
            (output as { payload: Uint8Array }).payload = new TextEncoder().encode('{"state": {"desired": ');
          }
        },
      });
      const { poller, deltas, testMetrics } = components(world, { pollConcurrency: 1 }, client);

      const result = await poller.sweepOnce(deltas.observe);
      assert.deepEqual({ polled: result.polled, failed: result.failed }, { polled: 4, failed: 3 });
      assert.deepEqual(
        (await publishedDeltas(world)).map((e) => e.thingName),
        [healthy.thingName.value],
      );
      const row = async (b: AwsThingBinding) => {
        const entry = await world.syncState.find(b.id);
        return { failures: entry?.consecutiveFailures, error: entry?.lastError?.split(":")[0] };
      };
      assert.deepEqual(await row(missing), { failures: 1, error: "ResourceNotFoundException" });
      assert.deepEqual(await row(throttled), { failures: 1, error: "AwsCallRetriesExhaustedError" });
      assert.deepEqual(await row(malformed), { failures: 1, error: "MalformedShadowDocumentError" });
      assert.deepEqual(await row(healthy), { failures: 0, error: undefined });
      assert.equal(await testMetrics.sum("granit.iot.aws.shadow.polls", { outcome: "not_found" }), 1);
      assert.equal(
        await testMetrics.sum("granit.iot.aws.shadow.polls", { outcome: "throttled", tenant_id: TENANT_B }),
        1,
      );
      assert.equal(await testMetrics.sum("granit.iot.aws.shadow.polls", { outcome: "malformed" }), 1);
      assert.equal(await testMetrics.sum("granit.iot.aws.shadow.sweep.bindings"), 1, "one sweep recorded");

      faultsOn = false;
      await updateShadow(world, missing.thingName.value, { reported: { status: "Active" } });
      await world.scheduler.advance(INTERVAL_MS);
      assert.deepEqual(await poller.sweepOnce(deltas.observe).then((r) => r.failed), 0);
      for (const b of [missing, throttled, malformed])
        assert.deepEqual(await row(b), { failures: 0, error: undefined });
      assert.equal((await publishedDeltas(world)).length, 3, "the recovered ones publish their delta now");
    });

    it("reads no binding twice when a sweep is slower than the interval, and spreads it over the next ones", async () => {
      const bindings: AwsThingBinding[] = [];
      for (let i = 0; i < 30; i++) bindings.push(await activeBinding(world));
      await tracked(...bindings);
      const reads = new Map<string, number[]>();
      const client = hookedDataClient(world.data, {
        before(operation, input) {
          if (operation !== "GetThingShadow") return;
          const times = reads.get(String(input.thingName)) ?? [];
          times.push(world.scheduler.now());
          reads.set(String(input.thingName), times);
        },
      });
      // 5 s interval, 2 reads/s: one pass over 30 bindings needs 15 s, three intervals.
      const { poller, deltas } = components(
        world,
        { pollIntervalSeconds: 5, maxGetShadowPerSecond: 2, pollBatchSize: 5, pollConcurrency: 2 },
        client,
      );
      const runPass = async () => {
        let done = false;
        const pass = poller.sweepOnce(deltas.observe).finally(() => {
          done = true;
        });
        // Fake time moves only when every read waits for the rate cap (a timer), never while I/O runs.
        while (!done) {
          if (world.scheduler.pendingTimers > 0) await world.scheduler.runNext();
          else await new Promise((resolve) => setTimeout(resolve, 1));
        }
        return pass;
      };

      const first = await runPass();
      assert.equal(first.polled, 30);
      assert.ok(first.durationMs >= 14_000, `the pass took ${first.durationMs} ms of fake time`);
      assert.deepEqual(
        [...reads.values()].map((t) => t.length),
        Array(30).fill(1),
        "every binding read exactly once in the long pass",
      );
      const second = await runPass();
      assert.ok(
        second.polled > 0 && second.polled < 30,
        `the next pass took the rows due again (${second.polled})`,
      );
      for (const [thing, times] of reads) {
        for (let i = 1; i < times.length; i++) {
          const gap = (times[i] as number) - (times[i - 1] as number);
          assert.ok(gap >= 5000, `${thing} read again after ${gap} ms, less than one interval`);
        }
      }
    });

    it("runs a pass at start and then as bindings come due; stop gives claimed-but-unread bindings back", async () => {
      const { poller, deltas } = components(world, { pollIntervalSeconds: 10 });
      const bindings = [await activeBinding(world), await activeBinding(world)];
      for (const b of bindings) await updateShadow(world, b.thingName.value, { desired: { led: "on" } });
      await world.syncState.track(
        {
          bindingId: bindings[0]?.id as string,
          deviceId: bindings[0]?.deviceId as string,
          tenantId: TENANT_A,
          thingName: bindings[0]?.thingName.value as string,
        },
        world.clock.now(),
      ); // the other is picked up by the reconciliation at start
      let observed = 0;
      await poller.start(async (observation) => {
        observed += 1;
        return deltas.observe(observation);
      });
      await until(() => observed === 2 && world.scheduler.pendingTimers > 0, "the first pass");
      assert.equal((await publishedDeltas(world)).length, 2);
      assert.equal(world.scheduler.nextTimerAt(), world.clock.now().getTime() + 10_000, "sleeps until due");

      await world.scheduler.advance(10_000);
      await until(() => observed === 4 && world.scheduler.pendingTimers > 0, "the second pass");
      assert.equal((await publishedDeltas(world)).length, 2, "same desired state: nothing new");
      await poller.stop();
      assert.equal(world.scheduler.pendingTimers, 0, "no timer left behind");

      // A poller stopped mid-pass releases what it claimed but did not read.
      const held: (() => void)[] = [];
      const slow = components(
        world,
        { pollConcurrency: 1, pollIntervalSeconds: 10 },
        hookedDataClient(world.data, {
          before: (operation) =>
            operation === "GetThingShadow" ? new Promise<void>((resolve) => held.push(resolve)) : undefined,
        }),
      );
      await world.scheduler.advance(10_000);
      await slow.poller.start(slow.deltas.observe);
      await until(() => held.length === 1, "the first read of the pass");
      const stopping = slow.poller.stop();
      for (const release of held) release();
      await stopping;
      const due = await world.syncState.claimDue({
        now: world.clock.now(),
        limit: 10,
        nextPollAt: world.clock.now(),
      });
      assert.ok(due.entries.length >= 1, "the unread binding is due again at once");
    });
  });
}
