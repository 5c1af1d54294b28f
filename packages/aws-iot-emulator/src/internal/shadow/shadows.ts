/**
 * Device shadows over the IoT Data plane (classic shadow, or a named one with `?name=`):
 * GetThingShadow, UpdateThingShadow, DeleteThingShadow, ListNamedShadowsForThing. Payloads are raw
 * JSON bytes (a Uint8Array in the SDK). A shadow does not need a registry thing.
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_iotdata_UpdateThingShadow.html
 */
import type { EmulatorContext } from "../context.ts";
import { AwsError, resourceNotFound } from "../errors.ts";
import { THING_NAME } from "../iot/things.ts";
import type { OperationRequest, OperationResult } from "../operation.ts";
import { checkName, queryNumber } from "../protocol/input.ts";
import { pageSize, paginate } from "../protocol/paging.ts";
import type { RestJsonRouter } from "../protocol/rest-json.ts";
import type { ShadowRecord } from "../state.ts";
import { computeDelta, type JsonObject } from "./delta.ts";
import { checkSize, mergeSection, metadataOfPatch, parseUpdateRequest } from "./document.ts";

const SHADOW_NAME = /^[$a-zA-Z0-9:_-]+$/;
/** "Deleting a shadow does not reset its version number to 0" if it is re-created within 48 hours. */
const VERSION_MEMORY_MS = 48 * 3600_000;

function key(thingName: string, shadowName: string): string {
  return `${thingName}\u0000${shadowName}`;
}

function names(request: OperationRequest): { thingName: string; shadowName: string } {
  const thingName = request.params.thingName ?? "";
  checkName(thingName, "thingName", 128, THING_NAME);
  const shadowName = request.query.get("name") ?? "";
  if (shadowName !== "") checkName(shadowName, "shadowName", 64, SHADOW_NAME);
  return { thingName, shadowName };
}

function liveShadow(ctx: EmulatorContext, thingName: string, shadowName: string): ShadowRecord {
  const shadow = ctx.state.shadows.get(key(thingName, shadowName));
  if (!shadow || shadow.deletedAt !== undefined) {
    throw resourceNotFound(
      `No shadow exists with name: '${shadowName === "" ? thingName : `${thingName}~${shadowName}`}'`,
    );
  }
  return shadow;
}

const json = (value: unknown): OperationResult => ({ raw: Buffer.from(JSON.stringify(value)) });

function getThingShadow(request: OperationRequest) {
  const { thingName, shadowName } = names(request);
  const s = liveShadow(request.ctx, thingName, shadowName);
  const delta = computeDelta(s.desired, s.reported);
  const state: JsonObject = {};
  const metadata: JsonObject = {};
  if (s.desired) state.desired = s.desired;
  if (s.reported) state.reported = s.reported;
  if (delta) state.delta = delta;
  if (s.metadataDesired) metadata.desired = s.metadataDesired;
  if (s.metadataReported) metadata.reported = s.metadataReported;
  return json({ state, metadata, version: s.version, timestamp: Math.floor(request.ctx.now() / 1000) });
}

/**
 * Merges the request into the shadow. A `version` that is not the current one is a ConflictException
 * (409); every accepted update increments the version, reported-only ones included.
 */
function updateThingShadow(request: OperationRequest) {
  const { ctx } = request;
  const { thingName, shadowName } = names(request);
  const update = parseUpdateRequest(request.body);
  const now = ctx.now();
  const existing = ctx.state.shadows.get(key(thingName, shadowName));
  const live = existing && existing.deletedAt === undefined ? existing : undefined;
  const remembered =
    existing?.deletedAt !== undefined && now - existing.deletedAt < VERSION_MEMORY_MS ? existing.version : 0;
  const currentVersion = live ? live.version : remembered;
  if (update.version !== undefined && update.version !== currentVersion) {
    throw new AwsError("ConflictException", 409, "Version conflict");
  }
  const timestamp = Math.floor(now / 1000);
  const next = {
    desired: structuredClone(live?.desired),
    reported: structuredClone(live?.reported),
    metadataDesired: structuredClone(live?.metadataDesired),
    metadataReported: structuredClone(live?.metadataReported),
  };
  for (const section of ["desired", "reported"] as const) {
    const patch = update[section];
    const metaKey = section === "desired" ? "metadataDesired" : "metadataReported";
    if (patch === null) {
      next[section] = undefined;
      next[metaKey] = undefined;
    } else if (patch !== undefined) {
      const target = next[section] ?? {};
      const meta = next[metaKey] ?? {};
      const keep = mergeSection(target, meta, patch, timestamp);
      next[section] = keep ? target : undefined;
      next[metaKey] = keep ? meta : undefined;
    }
  }
  checkSize(next.desired, next.reported);
  const record: ShadowRecord = { thingName, shadowName, version: currentVersion + 1, updatedAt: now };
  if (next.desired) record.desired = next.desired;
  if (next.reported) record.reported = next.reported;
  if (next.metadataDesired) record.metadataDesired = next.metadataDesired;
  if (next.metadataReported) record.metadataReported = next.metadataReported;
  ctx.state.shadows.set(key(thingName, shadowName), record);

  const state: JsonObject = {};
  const metadata: JsonObject = {};
  for (const section of ["desired", "reported"] as const) {
    const patch = update[section];
    if (patch === undefined) continue;
    state[section] = patch;
    if (patch !== null) metadata[section] = metadataOfPatch(patch, timestamp);
  }
  const response: JsonObject = { state, metadata, version: record.version, timestamp };
  if (update.clientToken !== undefined) response.clientToken = update.clientToken;
  return json(response);
}

function deleteThingShadow(request: OperationRequest) {
  const { thingName, shadowName } = names(request);
  const s = liveShadow(request.ctx, thingName, shadowName);
  const now = request.ctx.now();
  request.ctx.state.shadows.set(key(thingName, shadowName), {
    thingName,
    shadowName,
    version: s.version,
    updatedAt: now,
    deletedAt: now,
  });
  return json({ version: s.version, timestamp: Math.floor(now / 1000) });
}

/** @see https://docs.aws.amazon.com/iot/latest/apireference/API_iotdata_ListNamedShadowsForThing.html */
function listNamedShadowsForThing(request: OperationRequest) {
  const { ctx, query } = request;
  const thingName = request.params.thingName ?? "";
  checkName(thingName, "thingName", 128, THING_NAME);
  const all: string[] = [];
  for (const s of ctx.state.shadows.values()) {
    if (s.thingName === thingName && s.shadowName !== "" && s.deletedAt === undefined) all.push(s.shadowName);
  }
  const page = paginate(all, query.get("nextToken"), pageSize(queryNumber(query, "pageSize"), 25, 100));
  return {
    body: { results: page.items, nextToken: page.nextToken, timestamp: Math.floor(ctx.now() / 1000) },
  };
}

export function registerShadows(router: RestJsonRouter): void {
  router
    .add("GET", "/things/{thingName}/shadow", "GetThingShadow", getThingShadow)
    .add("POST", "/things/{thingName}/shadow", "UpdateThingShadow", updateThingShadow)
    .add("DELETE", "/things/{thingName}/shadow", "DeleteThingShadow", deleteThingShadow)
    .add(
      "GET",
      "/api/things/shadow/ListNamedShadowsForThing/{thingName}",
      "ListNamedShadowsForThing",
      listNamedShadowsForThing,
    );
}
