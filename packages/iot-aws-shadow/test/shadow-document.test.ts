import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  desiredTimestampsOf,
  MalformedShadowDocumentError,
  parseShadowDeltaMessage,
  parseShadowDocument,
} from "../src/index.ts";

const bytes = (value: unknown) =>
  new TextEncoder().encode(typeof value === "string" ? value : JSON.stringify(value));
const EMPTY = {
  state: { desired: {}, reported: {}, delta: {} },
  metadata: { desired: {}, reported: {} },
  version: 0,
  timestamp: null,
};

describe("parseShadowDocument", () => {
  it("reads a full GetThingShadow payload, keeping nested objects, arrays and nulls as JSON", () => {
    const doc = parseShadowDocument(
      bytes({
        state: {
          desired: { color: "RED", config: { interval: 30, tags: ["a", "b"] }, note: null },
          reported: { color: "GREEN", config: { interval: 10 } },
          delta: { color: "RED", config: { interval: 30, tags: ["a", "b"] } },
        },
        metadata: {
          desired: { color: { timestamp: 1700000001 }, config: { interval: { timestamp: 1700000002 } } },
          reported: { color: { timestamp: 1700000000 } },
        },
        version: 17,
        timestamp: 1700000100,
        clientToken: "ignored",
      }),
    );
    assert.deepEqual(doc.state.delta, { color: "RED", config: { interval: 30, tags: ["a", "b"] } });
    assert.deepEqual(
      doc.state.desired.config,
      { interval: 30, tags: ["a", "b"] },
      "not flattened to a string",
    );
    assert.equal(doc.state.desired.note, null);
    assert.equal(doc.version, 17);
    assert.equal(doc.timestamp, 1700000100);
    assert.deepEqual(doc.metadata.reported, { color: { timestamp: 1700000000 } });
  });

  it("defaults every missing part: no state, no reported, no desired, no delta, no metadata", () => {
    assert.deepEqual(parseShadowDocument(bytes({ version: 3 })), { ...EMPTY, version: 3 });
    const reportedOnly = parseShadowDocument(bytes({ state: { reported: { on: true } }, version: 1 }));
    assert.deepEqual(reportedOnly.state, { desired: {}, reported: { on: true }, delta: {} });
    assert.deepEqual(reportedOnly.metadata, { desired: {}, reported: {} });
  });

  it("treats sections that are not objects as empty, and a bad version as 0", () => {
    const doc = parseShadowDocument(
      bytes({
        state: { desired: "x", reported: [1, 2], delta: null },
        metadata: 5,
        version: "7",
        timestamp: "t",
      }),
    );
    assert.deepEqual(doc, EMPTY);
    assert.equal(parseShadowDocument(bytes({ version: -1 })).version, 0);
    assert.equal(parseShadowDocument(bytes({ version: 1.5 })).version, 0);
  });

  it("reads nothing, empty bytes, text and already-parsed objects alike", () => {
    assert.deepEqual(parseShadowDocument(undefined), EMPTY);
    assert.deepEqual(parseShadowDocument(new Uint8Array()), EMPTY);
    assert.deepEqual(parseShadowDocument("  "), EMPTY);
    assert.equal(parseShadowDocument('{"version": 2}').version, 2);
    assert.equal(parseShadowDocument({ version: 4, state: { desired: { a: 1 } } }).state.desired.a, 1);
  });

  it("refuses bytes that are not a JSON object with a named error that does not quote the content", () => {
    const secretish = '{"state": {"desired": {"wifiPassword": "hunter2"';
    for (const [payload, reason] of [
      [bytes(secretish), "json"],
      [new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), "json"],
      [bytes([1, 2, 3]), "shape"],
      [bytes("42"), "shape"],
      [bytes("null"), "shape"],
    ] as const) {
      assert.throws(
        () => parseShadowDocument(payload),
        (error: unknown) => {
          assert.ok(error instanceof MalformedShadowDocumentError);
          assert.equal(error.name, "MalformedShadowDocumentError");
          assert.equal(error.reason, reason);
          assert.doesNotMatch(error.message, /hunter2/);
          return true;
        },
      );
    }
  });
});

describe("parseShadowDeltaMessage ($aws/things/{thing}/shadow/update/delta)", () => {
  it("reads the delta from state and the desired metadata from metadata", () => {
    const message = parseShadowDeltaMessage(
      bytes({
        version: 9,
        timestamp: 1700000200,
        state: { firmware: "1.5.0", config: { interval: 30 } },
        metadata: { firmware: { timestamp: 1700000150 }, config: { interval: { timestamp: 1700000160 } } },
        clientToken: "app-1",
      }),
    );
    assert.deepEqual(message.delta, { firmware: "1.5.0", config: { interval: 30 } });
    assert.equal(message.version, 9);
    assert.deepEqual(desiredTimestampsOf(message.delta, message.desiredMetadata), {
      firmware: 1700000150,
      "config.interval": 1700000160,
    });
  });
});

describe("desiredTimestampsOf", () => {
  it("keys every delta leaf by its dotted path", () => {
    assert.deepEqual(
      desiredTimestampsOf(
        { a: 1, b: { c: { d: true } } },
        { a: { timestamp: 10 }, b: { c: { d: { timestamp: 11 } }, other: { timestamp: 99 } } },
      ),
      { a: 10, "b.c.d": 11 },
    );
  });

  it("takes an array's timestamp as the latest of AWS's per-element metadata", () => {
    assert.deepEqual(
      desiredTimestampsOf(
        { colors: ["red", "blue"], points: [{ x: 1 }, { x: 2 }] },
        {
          colors: [{ timestamp: 20 }, { timestamp: 25 }],
          points: [{ x: { timestamp: 30 } }, { x: { timestamp: 31 } }],
        },
      ),
      { colors: 25, points: 31 },
    );
    assert.deepEqual(desiredTimestampsOf({ tags: ["a"] }, { tags: { timestamp: 40 } }), { tags: 40 });
  });

  it("leaves out leaves without metadata and copes with a state key named timestamp", () => {
    assert.deepEqual(desiredTimestampsOf({ a: 1, b: 2 }, { a: { timestamp: 5 } }), { a: 5 });
    assert.deepEqual(
      desiredTimestampsOf(
        { cfg: { timestamp: 3, x: 1 } },
        { cfg: { timestamp: { timestamp: 6 }, x: { timestamp: 7 } } },
      ),
      { "cfg.timestamp": 6, "cfg.x": 7 },
    );
    assert.deepEqual(desiredTimestampsOf({ empty: {} }, { empty: { timestamp: 8 } }), { empty: 8 });
    assert.deepEqual(desiredTimestampsOf({}, {}), {});
  });
});
