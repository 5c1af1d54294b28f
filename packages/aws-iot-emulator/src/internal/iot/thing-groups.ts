/**
 * Static thing groups, enough to target jobs at groups: CreateThingGroup, DescribeThingGroup,
 * DeleteThingGroup, AddThingToThingGroup, RemoveThingFromThingGroup, ListThingsInThingGroup.
 * A thing added to a group that a CONTINUOUS job targets gets an execution of that job.
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_CreateJob.html (targetSelection)
 */
import { randomUUID } from "node:crypto";
import { type EmulatorContext, seconds, thingGroupArn } from "../context.ts";
import { invalidRequest, resourceAlreadyExists, resourceNotFound, versionConflict } from "../errors.ts";
import { queueExecution } from "../jobs/executions.ts";
import { type OperationRequest, ok } from "../operation.ts";
import { checkName, optionalObject, optionalString, queryNumber, stringMap } from "../protocol/input.ts";
import { pageSize, paginate } from "../protocol/paging.ts";
import type { RestJsonRouter } from "../protocol/rest-json.ts";
import { JobStatus, type ThingGroupRecord } from "../state.ts";
import { requireThing, THING_NAME } from "./things.ts";

function requireGroup(ctx: EmulatorContext, name: string): ThingGroupRecord {
  const group = ctx.state.thingGroups.get(name);
  if (!group) throw resourceNotFound(`Thing group ${name} cannot be found.`);
  return group;
}

function groupFromInput(ctx: EmulatorContext, input: Record<string, unknown>): ThingGroupRecord {
  const name = optionalString(input, "thingGroupName");
  if (name !== undefined) return requireGroup(ctx, name);
  const arn = optionalString(input, "thingGroupArn") ?? "";
  return requireGroup(ctx, arn.slice(arn.lastIndexOf("/") + 1));
}

function thingFromInput(ctx: EmulatorContext, input: Record<string, unknown>) {
  const name = optionalString(input, "thingName");
  if (name !== undefined) return requireThing(ctx, name);
  const arn = optionalString(input, "thingArn") ?? "";
  if (arn === "") throw invalidRequest("thingName or thingArn is required");
  return requireThing(ctx, arn.slice(arn.lastIndexOf("/") + 1));
}

function createThingGroup({ ctx, params, input }: OperationRequest) {
  const name = params.thingGroupName ?? "";
  checkName(name, "thingGroupName", 128, THING_NAME);
  const properties = optionalObject(input, "thingGroupProperties") ?? {};
  const description = optionalString(properties, "thingGroupDescription");
  const attributes = stringMap(optionalObject(properties, "attributePayload")?.attributes, "attributes");
  const existing = ctx.state.thingGroups.get(name);
  if (existing) {
    if (existing.description !== description) {
      throw resourceAlreadyExists(
        `Thing group ${name} already exists with different properties`,
        existing.id,
        existing.arn,
      );
    }
    return ok({ thingGroupName: name, thingGroupArn: existing.arn, thingGroupId: existing.id });
  }
  const group: ThingGroupRecord = {
    name,
    arn: thingGroupArn(ctx, name),
    id: randomUUID(),
    attributes,
    version: 1,
    createdAt: ctx.now(),
    things: [],
  };
  if (description !== undefined) group.description = description;
  ctx.state.thingGroups.set(name, group);
  return ok({ thingGroupName: name, thingGroupArn: group.arn, thingGroupId: group.id });
}

function describeThingGroup({ ctx, params }: OperationRequest) {
  const g = requireGroup(ctx, params.thingGroupName ?? "");
  return ok({
    thingGroupName: g.name,
    thingGroupId: g.id,
    thingGroupArn: g.arn,
    version: g.version,
    thingGroupProperties: {
      thingGroupDescription: g.description,
      attributePayload: { attributes: g.attributes },
    },
    thingGroupMetadata: { rootToParentThingGroups: [], creationDate: seconds(g.createdAt) },
  });
}

function deleteThingGroup({ ctx, params, query }: OperationRequest) {
  const g = ctx.state.thingGroups.get(params.thingGroupName ?? "");
  if (!g) return ok();
  const expected = queryNumber(query, "expectedVersion");
  if (expected !== undefined && expected !== g.version)
    throw versionConflict(`Thing group ${g.name} version mismatch`);
  ctx.state.thingGroups.delete(g.name);
  return ok();
}

function addThingToThingGroup({ ctx, input }: OperationRequest) {
  const group = groupFromInput(ctx, input);
  const thing = thingFromInput(ctx, input);
  if (group.things.includes(thing.name)) return ok();
  group.things.push(thing.name);
  for (const job of ctx.state.jobs.values()) {
    if (
      job.targetSelection === "CONTINUOUS" &&
      job.status === JobStatus.IN_PROGRESS &&
      job.targets.includes(group.arn)
    ) {
      queueExecution(ctx, job, thing.name);
    }
  }
  return ok();
}

function removeThingFromThingGroup({ ctx, input }: OperationRequest) {
  const group = groupFromInput(ctx, input);
  const thing = thingFromInput(ctx, input);
  group.things = group.things.filter((t) => t !== thing.name);
  return ok();
}

function listThingsInThingGroup({ ctx, params, query }: OperationRequest) {
  const g = requireGroup(ctx, params.thingGroupName ?? "");
  const page = paginate(
    g.things,
    query.get("nextToken"),
    pageSize(queryNumber(query, "maxResults"), 25, 250),
  );
  return ok({ things: page.items, nextToken: page.nextToken });
}

export function registerThingGroups(router: RestJsonRouter): void {
  router
    .add("POST", "/thing-groups/{thingGroupName}", "CreateThingGroup", createThingGroup)
    .add("GET", "/thing-groups/{thingGroupName}", "DescribeThingGroup", describeThingGroup)
    .add("DELETE", "/thing-groups/{thingGroupName}", "DeleteThingGroup", deleteThingGroup)
    .add("PUT", "/thing-groups/addThingToThingGroup", "AddThingToThingGroup", addThingToThingGroup)
    .add(
      "PUT",
      "/thing-groups/removeThingFromThingGroup",
      "RemoveThingFromThingGroup",
      removeThingFromThingGroup,
    )
    .add("GET", "/thing-groups/{thingGroupName}/things", "ListThingsInThingGroup", listThingsInThingGroup);
}
