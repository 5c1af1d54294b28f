/**
 * IoT registry things: CreateThing, DescribeThing, UpdateThing, DeleteThing, ListThings.
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_CreateThing.html
 */
import { randomUUID } from "node:crypto";
import { type EmulatorContext, thingArn } from "../context.ts";
import { invalidRequest, resourceAlreadyExists, resourceNotFound, versionConflict } from "../errors.ts";
import { type OperationRequest, ok } from "../operation.ts";
import {
  checkName,
  optionalBoolean,
  optionalNumber,
  optionalObject,
  optionalString,
  queryBoolean,
  queryNumber,
  stringMap,
} from "../protocol/input.ts";
import { pageSize, paginate } from "../protocol/paging.ts";
import type { RestJsonRouter } from "../protocol/rest-json.ts";
import type { ThingRecord } from "../state.ts";
import { effectivePrincipals } from "./principals.ts";

export const THING_NAME = /^[a-zA-Z0-9:_-]+$/;

/** Without a thing type a thing holds at most 3 attributes (50 with a type). */
const MAX_ATTRIBUTES_UNTYPED = 3;
const MAX_ATTRIBUTES_TYPED = 50;

function checkThingName(name: string): void {
  checkName(name, "thingName", 128, THING_NAME);
}

export function requireThing(ctx: EmulatorContext, name: string): ThingRecord {
  const thing = ctx.state.things.get(name);
  if (!thing) throw resourceNotFound(`Thing ${name} cannot be found.`);
  return thing;
}

function checkAttributes(attributes: Record<string, string>, typed: boolean): void {
  const max = typed ? MAX_ATTRIBUTES_TYPED : MAX_ATTRIBUTES_UNTYPED;
  if (Object.keys(attributes).length > max) {
    throw invalidRequest(
      `A thing ${typed ? "with" : "without"} a thing type can have at most ${max} attributes`,
    );
  }
}

function sameAttributes(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

function createThing({ ctx, params, input }: OperationRequest) {
  const name = params.thingName ?? "";
  checkThingName(name);
  const typeName = optionalString(input, "thingTypeName");
  const billingGroupName = optionalString(input, "billingGroupName");
  const payload = optionalObject(input, "attributePayload") ?? {};
  const attributes = stringMap(payload.attributes, "attributes");
  checkAttributes(attributes, typeName !== undefined);
  const existing = ctx.state.things.get(name);
  if (existing) {
    // "If this call is made multiple times using the same thing name and configuration, the call will
    // succeed. If ... different configuration a ResourceAlreadyExistsException is thrown."
    const same =
      existing.typeName === typeName &&
      existing.billingGroupName === billingGroupName &&
      sameAttributes(existing.attributes, attributes);
    if (!same)
      throw resourceAlreadyExists(
        `Thing ${name} already exists in account with different attributes`,
        existing.id,
        existing.arn,
      );
    return ok({ thingName: existing.name, thingArn: existing.arn, thingId: existing.id });
  }
  const thing: ThingRecord = {
    name,
    arn: thingArn(ctx, name),
    id: randomUUID(),
    attributes,
    version: 1,
    createdAt: ctx.now(),
  };
  if (typeName !== undefined) thing.typeName = typeName;
  if (billingGroupName !== undefined) thing.billingGroupName = billingGroupName;
  ctx.state.things.set(name, thing);
  return ok({ thingName: name, thingArn: thing.arn, thingId: thing.id });
}

function describeThing({ ctx, params }: OperationRequest) {
  const thing = requireThing(ctx, params.thingName ?? "");
  return ok({
    defaultClientId: thing.name,
    thingName: thing.name,
    thingId: thing.id,
    thingArn: thing.arn,
    thingTypeName: thing.typeName,
    attributes: thing.attributes,
    version: thing.version,
    billingGroupName: thing.billingGroupName,
  });
}

/** @see https://docs.aws.amazon.com/iot/latest/apireference/API_UpdateThing.html */
function updateThing({ ctx, params, input }: OperationRequest) {
  const thing = requireThing(ctx, params.thingName ?? "");
  const expectedVersion = optionalNumber(input, "expectedVersion");
  if (expectedVersion !== undefined && expectedVersion !== thing.version) {
    throw versionConflict(
      `The version for thing ${thing.name} does not match the expected version (expected ${expectedVersion}, actual ${thing.version}).`,
    );
  }
  const typeName = optionalString(input, "thingTypeName");
  const removeThingType = optionalBoolean(input, "removeThingType") ?? false;
  if (removeThingType && typeName !== undefined) {
    throw invalidRequest("Cannot specify both thingTypeName and removeThingType");
  }
  const payload = optionalObject(input, "attributePayload");
  let attributes = thing.attributes;
  if (payload) {
    const given = stringMap(payload.attributes, "attributes");
    const merge = payload.merge === true;
    attributes = merge ? { ...thing.attributes, ...given } : given;
    // "To remove an attribute, call UpdateThing with an empty attribute value."
    for (const [k, v] of Object.entries(attributes)) if (v === "") delete attributes[k];
  }
  const nextType = removeThingType ? undefined : (typeName ?? thing.typeName);
  checkAttributes(attributes, nextType !== undefined);
  thing.attributes = attributes;
  if (nextType === undefined) delete thing.typeName;
  else thing.typeName = nextType;
  thing.version++;
  return ok();
}

/**
 * "Returns successfully with no error if the deletion is successful or you specify a thing that
 * doesn't exist." A thing still attached to a principal (including a detach that has not propagated
 * yet) cannot be deleted.
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_DeleteThing.html
 */
function deleteThing({ ctx, params, query }: OperationRequest) {
  const name = params.thingName ?? "";
  checkThingName(name);
  const thing = ctx.state.things.get(name);
  if (!thing) return ok();
  const expectedVersion = queryNumber(query, "expectedVersion");
  if (expectedVersion !== undefined && expectedVersion !== thing.version) {
    throw versionConflict(
      `The version for thing ${name} does not match the expected version (expected ${expectedVersion}, actual ${thing.version}).`,
    );
  }
  if (effectivePrincipals(ctx, name).length > 0) {
    throw invalidRequest(`Cannot delete. Thing ${name} is still attached to one or more principals`);
  }
  ctx.state.things.delete(name);
  ctx.state.thingPrincipals.delete(name);
  for (const group of ctx.state.thingGroups.values()) group.things = group.things.filter((t) => t !== name);
  return ok();
}

function listThings({ ctx, query }: OperationRequest) {
  const attributeName = query.get("attributeName");
  const attributeValue = query.get("attributeValue");
  const typeName = query.get("thingTypeName");
  const prefix = queryBoolean(query, "usePrefixAttributeValue") ?? false;
  const matches = [...ctx.state.things.values()].filter((t) => {
    if (typeName !== undefined && t.typeName !== typeName) return false;
    if (attributeName !== undefined) {
      const value = t.attributes[attributeName];
      if (value === undefined) return false;
      if (
        attributeValue !== undefined &&
        (prefix ? !value.startsWith(attributeValue) : value !== attributeValue)
      ) {
        return false;
      }
    }
    return true;
  });
  const page = paginate(matches, query.get("nextToken"), pageSize(queryNumber(query, "maxResults"), 50, 250));
  return ok({
    things: page.items.map((t) => ({
      thingName: t.name,
      thingTypeName: t.typeName,
      thingArn: t.arn,
      attributes: t.attributes,
      version: t.version,
    })),
    nextToken: page.nextToken,
  });
}

export function registerThings(router: RestJsonRouter): void {
  router
    .add("POST", "/things/{thingName}", "CreateThing", createThing)
    .add("GET", "/things/{thingName}", "DescribeThing", describeThing)
    .add("PATCH", "/things/{thingName}", "UpdateThing", updateThing)
    .add("DELETE", "/things/{thingName}", "DeleteThing", deleteThing)
    .add("GET", "/things", "ListThings", listThings);
}
