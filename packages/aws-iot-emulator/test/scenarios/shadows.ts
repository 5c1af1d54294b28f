/**
 * Device shadows, as the AWS developer guide describes them:
 * https://docs.aws.amazon.com/iot/latest/developerguide/device-shadow-document.html
 */
import assert from "node:assert/strict";
import { CreateThingCommand, DeleteThingCommand } from "@aws-sdk/client-iot";
import {
  ConflictException,
  DeleteThingShadowCommand,
  GetThingShadowCommand,
  InvalidRequestException,
  ListNamedShadowsForThingCommand,
  RequestEntityTooLargeException,
  ResourceNotFoundException,
  UpdateThingShadowCommand,
} from "@aws-sdk/client-iot-data-plane";
import { type Clients, fromUtf8, rejectsWith, type TimeControl, utf8 } from "../support/harness.ts";

type Doc = Record<string, unknown>;

async function update(
  data: Clients["data"],
  thingName: string,
  doc: unknown,
  shadowName?: string,
): Promise<Doc> {
  const out = await data.send(new UpdateThingShadowCommand({ thingName, shadowName, payload: utf8(doc) }));
  return fromUtf8(out.payload);
}

async function get(data: Clients["data"], thingName: string, shadowName?: string): Promise<Doc> {
  return fromUtf8((await data.send(new GetThingShadowCommand({ thingName, shadowName }))).payload);
}

/** "Updates affect only the fields specified"; a null value deletes the key. */
export async function updateMergesAtEveryLevelAndNullDeletesAKey({ data }: Clients) {
  await update(data, "lamp", { state: { desired: { color: "red", light: { level: 3, mode: "warm" } } } });
  await update(data, "lamp", { state: { desired: { light: { level: 5, mode: null }, power: "on" } } });
  const shadow = await get(data, "lamp");
  assert.deepEqual((shadow.state as Doc).desired, { color: "red", light: { level: 5 }, power: "on" });
}

/** "To remove the desired section from a document ... set the desired section to null." */
export async function desiredNullRemovesTheSection({ data }: Clients) {
  await update(data, "lamp", { state: { desired: { color: "red" }, reported: { color: "blue" } } });
  await update(data, "lamp", { state: { desired: null } });
  const shadow = await get(data, "lamp");
  assert.deepEqual(shadow.state, { reported: { color: "blue" } }, "the desired section is gone");
  assert.equal((shadow.metadata as Doc).desired, undefined);
}

/** Every accepted update increments the version, reported-only updates included. */
export async function everyAcceptedUpdateIncrementsTheVersion({ data }: Clients) {
  const first = await update(data, "lamp", { state: { desired: { color: "red" } } });
  const second = await update(data, "lamp", { state: { reported: { color: "red" } } });
  const third = await update(data, "lamp", { state: { reported: { color: "red" } } });
  assert.deepEqual([first.version, second.version, third.version], [1, 2, 3]);
  assert.equal((await get(data, "lamp")).version, 3);
}

/** A stale `version` in the request is rejected with 409. */
export async function aStaleVersionIsConflict({ data }: Clients) {
  await update(data, "lamp", { state: { desired: { color: "red" } } });
  await update(data, "lamp", { state: { desired: { color: "blue" } }, version: 1 });
  const act = data.send(
    new UpdateThingShadowCommand({
      thingName: "lamp",
      payload: utf8({ state: { desired: { color: "green" } }, version: 1 }),
    }),
  );
  await rejectsWith(act, ConflictException, 409);
  assert.equal(((await get(data, "lamp")).state as Doc as { desired: Doc }).desired.color, "blue");
}

/** Delta: only differing leaf paths; fields only in reported are ignored; arrays compare as values. */
export async function deltaHoldsOnlyDifferingLeavesAndWholeArrays({ data }: Clients) {
  await update(data, "lamp", {
    state: {
      desired: { color: "red", light: { level: 5, mode: "warm" }, sequence: ["a", "b"], same: 1 },
      reported: { color: "red", light: { level: 3, mode: "warm" }, sequence: ["a"], same: 1, extra: true },
    },
  });
  const shadow = await get(data, "lamp");
  assert.deepEqual((shadow.state as Doc).delta, { light: { level: 5 }, sequence: ["a", "b"] });
  await update(data, "lamp", { state: { reported: { light: { level: 5 }, sequence: ["a", "b"] } } });
  assert.equal(((await get(data, "lamp")).state as Doc).delta, undefined, "no delta once in sync");
}

/**
 * Metadata holds a `{timestamp}` (epoch seconds) for every leaf of the document; an update's response
 * carries the metadata of the leaves it wrote, and only those.
 */
export async function metadataHasATimestampPerLeafAndUpdatesEchoOnlyTheWrittenLeaves({ data }: Clients) {
  await update(data, "lamp", { state: { desired: { color: "red", light: { level: 1 } } } });
  const written = await update(data, "lamp", { state: { desired: { light: { level: 2 } } } });
  const stamp = { timestamp: written.timestamp };
  assert.equal(typeof written.timestamp, "number");
  assert.deepEqual(written.metadata, { desired: { light: { level: stamp } } });
  const shadow = await get(data, "lamp");
  const meta = (shadow.metadata as { desired: { color: Doc; light: { level: Doc } } }).desired;
  assert.equal(typeof meta.color.timestamp, "number");
  assert.deepEqual(meta.light.level, stamp);
}

/** Metadata holds an epoch-seconds timestamp per leaf, updated only for the leaves written. */
export async function metadataStampsEachLeafWithItsUpdateTime({ data }: Clients, time: TimeControl) {
  const t1 = await update(data, "lamp", { state: { desired: { color: "red", light: { level: 1 } } } });
  time.advance(10_000);
  const t2 = await update(data, "lamp", { state: { desired: { light: { level: 2 } } } });
  assert.equal((t2.timestamp as number) - (t1.timestamp as number), 10);
  const shadow = await get(data, "lamp");
  const meta = (shadow.metadata as { desired: { color: Doc; light: { level: Doc } } }).desired;
  assert.deepEqual(meta.color, { timestamp: t1.timestamp });
  assert.deepEqual(meta.light.level, { timestamp: t2.timestamp });
  assert.deepEqual(t2.metadata, { desired: { light: { level: { timestamp: t2.timestamp } } } });
}

/** 8 KB applies to the merged desired + reported state, not to one request. */
export async function theMergedStateOver8KbIsRequestEntityTooLarge({ data }: Clients) {
  const chunk = "x".repeat(3000);
  await update(data, "lamp", { state: { desired: { a: chunk } } });
  await update(data, "lamp", { state: { reported: { b: chunk } } });
  const act = data.send(
    new UpdateThingShadowCommand({ thingName: "lamp", payload: utf8({ state: { desired: { c: chunk } } }) }),
  );
  await rejectsWith(act, RequestEntityTooLargeException, 413);
  assert.equal((await get(data, "lamp")).version, 2, "the rejected update changed nothing");
}

/** "JSON contains too many levels of nesting; maximum is 6": desired may hold 6 nested objects, not 7. */
export async function nestingDeeperThanSixLevelsIsInvalidRequest({ data }: Clients) {
  const nest = (levels: number): unknown => (levels === 0 ? 1 : { n: nest(levels - 1) });
  await update(data, "lamp", { state: { desired: nest(6) } });
  const act = data.send(
    new UpdateThingShadowCommand({ thingName: "lamp", payload: utf8({ state: { desired: nest(7) } }) }),
  );
  const error = await rejectsWith(act, InvalidRequestException, 400);
  assert.match((error as unknown as Error).message, /maximum is 6/);
}

export async function aPayloadThatIsNotAStateDocumentIsInvalidRequest({ data }: Clients) {
  const notJson = data.send(
    new UpdateThingShadowCommand({ thingName: "lamp", payload: new TextEncoder().encode("{oops") }),
  );
  await rejectsWith(notJson, InvalidRequestException, 400);
  const noState = data.send(
    new UpdateThingShadowCommand({ thingName: "lamp", payload: utf8({ desired: { a: 1 } }) }),
  );
  await rejectsWith(noState, InvalidRequestException, 400);
}

/** "Arrays can't have null values" (device-shadow-document). */
export async function nullInsideAnArrayIsInvalidRequest({ data }: Clients) {
  const nullInArray = data.send(
    new UpdateThingShadowCommand({
      thingName: "lamp",
      payload: utf8({ state: { desired: { a: [null, 1] } } }),
    }),
  );
  await rejectsWith(nullInArray, InvalidRequestException, 400);
}

export async function theClientTokenIsEchoed({ data }: Clients) {
  const out = await update(data, "lamp", { state: { reported: { on: true } }, clientToken: "req-1" });
  assert.equal(out.clientToken, "req-1", "the response echoes the clientToken");
}

/** GetThingShadow of a shadow that does not exist (or was deleted) is 404. */
export async function getOfAMissingOrDeletedShadowIsNotFound({ data }: Clients) {
  await rejectsWith(
    data.send(new GetThingShadowCommand({ thingName: "lamp" })),
    ResourceNotFoundException,
    404,
  );
  await update(data, "lamp", { state: { desired: { a: 1 } } });
  await data.send(new DeleteThingShadowCommand({ thingName: "lamp" }));
  await rejectsWith(
    data.send(new GetThingShadowCommand({ thingName: "lamp" })),
    ResourceNotFoundException,
    404,
  );
}

/** DeleteThingShadow of a shadow that is already deleted is 404 (API_DeleteThingShadow, Errors). */
export async function deleteOfADeletedShadowIsNotFound({ data }: Clients) {
  await update(data, "lamp", { state: { desired: { a: 1 } } });
  await data.send(new DeleteThingShadowCommand({ thingName: "lamp" }));
  await rejectsWith(
    data.send(new DeleteThingShadowCommand({ thingName: "lamp" })),
    ResourceNotFoundException,
    404,
  );
}

/** The delete response "confirms the version and timestamp of the shadow document that you deleted". */
export async function deleteAnswersTheVersionOfTheDeletedDocument({ data }: Clients) {
  await update(data, "lamp", { state: { desired: { a: 1 } } });
  await update(data, "lamp", { state: { desired: { a: 2 } } });
  const deleted = fromUtf8((await data.send(new DeleteThingShadowCommand({ thingName: "lamp" }))).payload);
  assert.equal(deleted.version, 2, "the deleted document was version 2");
  assert.equal(typeof deleted.timestamp, "number");
}

/** "Deleting a shadow does not reset its version number to 0": a re-created shadow keeps counting. */
export async function aRecreatedShadowContinuesTheVersion({ data }: Clients) {
  await update(data, "lamp", { state: { desired: { a: 1 } } });
  await update(data, "lamp", { state: { desired: { a: 2 } } });
  await data.send(new DeleteThingShadowCommand({ thingName: "lamp" }));
  const recreated = await update(data, "lamp", { state: { desired: { a: 3 } } });
  assert.ok((recreated.version as number) > 2, `version ${recreated.version} continues after 2`);
}

/**
 * "If you create a device shadow document that has the same name as one that was deleted within the
 * past 48 hours, the version number of the new device shadow document will follow that of the deleted
 * one": the deleted document was version 2, the re-created one is version 3.
 */
export async function aShadowRecreatedWithin48HoursFollowsTheDeletedVersion({ data }: Clients) {
  await update(data, "lamp", { state: { desired: { a: 1 } } });
  await update(data, "lamp", { state: { desired: { a: 2 } } });
  await data.send(new DeleteThingShadowCommand({ thingName: "lamp" }));
  const recreated = await update(data, "lamp", { state: { desired: { a: 3 } } });
  assert.equal(recreated.version, 3, "the re-created shadow follows the deleted version 2");
}

/** After 48 hours a re-created shadow starts over. */
export async function aShadowRecreatedAfter48HoursStartsOver({ data }: Clients, time: TimeControl) {
  await update(data, "lamp", { state: { desired: { a: 1 } } });
  await update(data, "lamp", { state: { desired: { a: 2 } } });
  await data.send(new DeleteThingShadowCommand({ thingName: "lamp" }));
  time.advance(49 * 3600_000);
  const fresh = await update(data, "lamp", { state: { desired: { a: 4 } } });
  assert.equal(fresh.version, 1);
}

/**
 * Shadows live apart from the registry: "Deleting a thing object does not delete the corresponding
 * device's shadow" (device-shadow-data-flow).
 */
export async function aShadowOutlivesItsRegistryThing({ iot, data }: Clients) {
  await iot.send(new CreateThingCommand({ thingName: "gone" }));
  await update(data, "gone", { state: { reported: { on: true } } });
  await iot.send(new DeleteThingCommand({ thingName: "gone" }));
  const shadow = await get(data, "gone");
  assert.deepEqual(shadow.state, { reported: { on: true } });
}

/**
 * What the shadow sync of the bridge does on the classic shadow: push `reported`, read it back with
 * its version; an app sets `desired` and the delta shows the difference until the device reports it.
 */
export async function theBridgeShadowSyncRoundTrip({ data }: Clients) {
  const pushed = await update(data, "lamp", {
    state: { reported: { status: "Active", updatedAt: "2025-01-01T12:00:00.000Z" } },
  });
  const first = await get(data, "lamp");
  assert.deepEqual((first.state as Doc).reported, {
    status: "Active",
    updatedAt: "2025-01-01T12:00:00.000Z",
  });
  assert.equal(first.version, pushed.version);
  assert.equal((first.state as Doc).delta, undefined);
  await update(data, "lamp", { state: { desired: { firmware: "2.0", status: "Active" } } });
  const pending = await get(data, "lamp");
  assert.deepEqual((pending.state as Doc).delta, { firmware: "2.0" });
  assert.equal(pending.version, (pushed.version as number) + 1);
  await update(data, "lamp", { state: { reported: { firmware: "2.0" } } });
  const synced = await get(data, "lamp");
  assert.equal((synced.state as Doc).delta, undefined);
  assert.equal(synced.version, (pushed.version as number) + 2);
}

/** Named shadows (`?name=`) are separate documents, listed by ListNamedShadowsForThing. */
export async function namedShadowsAreSeparateAndListed({ data }: Clients) {
  await update(data, "lamp", { state: { desired: { classic: true } } });
  await update(data, "lamp", { state: { desired: { firmware: "1.2" } } }, "ota");
  await update(data, "lamp", { state: { reported: { rssi: -60 } } }, "radio");
  const ota = await get(data, "lamp", "ota");
  assert.deepEqual((ota.state as Doc).desired, { firmware: "1.2" });
  assert.equal(ota.version, 1);
  const listed = await data.send(new ListNamedShadowsForThingCommand({ thingName: "lamp" }));
  assert.deepEqual(listed.results?.sort(), ["ota", "radio"]);
  await rejectsWith(
    data.send(new GetThingShadowCommand({ thingName: "lamp", shadowName: "nope" })),
    ResourceNotFoundException,
  );
}
