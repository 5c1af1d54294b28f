/**
 * Thing ↔ principal (certificate) attachments: AttachThingPrincipal, DetachThingPrincipal,
 * ListThingPrincipals, ListPrincipalThings.
 *
 * DetachThingPrincipal is asynchronous in AWS: "It might take several seconds for the detachment to
 * propagate." The emulator records the detach and keeps the attachment visible (listed, blocking
 * DeleteThing and DeleteCertificate) until `detachPropagationMs` has passed on the injected clock.
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_DetachThingPrincipal.html
 */
import type { EmulatorContext } from "../context.ts";
import { invalidRequest, resourceNotFound } from "../errors.ts";
import { type OperationRequest, ok } from "../operation.ts";
import { queryNumber } from "../protocol/input.ts";
import { pageSize, paginate } from "../protocol/paging.ts";
import type { RestJsonRouter } from "../protocol/rest-json.ts";
import { requireThing } from "./things.ts";

/** Principals attached to a thing right now (pending detaches still count); drops propagated detaches. */
export function effectivePrincipals(ctx: EmulatorContext, thingName: string): string[] {
  const attachments = ctx.state.thingPrincipals.get(thingName);
  if (!attachments) return [];
  const now = ctx.now();
  const out: string[] = [];
  for (const [principal, attachment] of attachments) {
    if (attachment.detachAt !== undefined && attachment.detachAt <= now) attachments.delete(principal);
    else out.push(principal);
  }
  return out;
}

/** Things a principal is attached to right now (pending detaches still count). */
export function thingsOfPrincipal(ctx: EmulatorContext, principal: string): string[] {
  const out: string[] = [];
  for (const thingName of ctx.state.thingPrincipals.keys()) {
    if (effectivePrincipals(ctx, thingName).includes(principal)) out.push(thingName);
  }
  return out;
}

function principalHeader(request: OperationRequest): string {
  const value = request.headers["x-amzn-principal"];
  const principal = Array.isArray(value) ? value[0] : value;
  if (!principal) throw invalidRequest("principal is required");
  return principal;
}

/** A certificate principal must exist; other principal kinds (Cognito ids) are accepted as given. */
function checkPrincipal(ctx: EmulatorContext, principal: string): void {
  const match = /^arn:aws[a-z-]*:iot:[^:]*:[^:]*:cert\/(.+)$/.exec(principal);
  if (match && !ctx.state.certificates.has(match[1] ?? "")) {
    throw resourceNotFound(`The certificate ${principal} does not exist`);
  }
}

/**
 * Attaching the same principal again succeeds (and cancels a pending detach).
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_AttachThingPrincipal.html
 */
function attachThingPrincipal(request: OperationRequest) {
  const { ctx, params, query } = request;
  const thing = requireThing(ctx, params.thingName ?? "");
  const principal = principalHeader(request);
  checkPrincipal(ctx, principal);
  const typeParam = query.get("thingPrincipalType") ?? "NON_EXCLUSIVE_THING";
  if (typeParam !== "EXCLUSIVE_THING" && typeParam !== "NON_EXCLUSIVE_THING") {
    throw invalidRequest(`Invalid thingPrincipalType ${typeParam}`);
  }
  const others = thingsOfPrincipal(ctx, principal).filter((t) => t !== thing.name);
  if (typeParam === "EXCLUSIVE_THING" && others.length > 0) {
    throw invalidRequest(
      `Principal ${principal} is already attached to other things and cannot be exclusive`,
    );
  }
  const exclusiveElsewhere = others.some(
    (t) => ctx.state.thingPrincipals.get(t)?.get(principal)?.type === "EXCLUSIVE_THING",
  );
  if (exclusiveElsewhere)
    throw invalidRequest(`Principal ${principal} is exclusively attached to another thing`);
  let attachments = ctx.state.thingPrincipals.get(thing.name);
  if (!attachments) {
    attachments = new Map();
    ctx.state.thingPrincipals.set(thing.name, attachments);
  }
  attachments.set(principal, { principal, type: typeParam });
  return ok();
}

function detachThingPrincipal(request: OperationRequest) {
  const { ctx, params } = request;
  const thing = requireThing(ctx, params.thingName ?? "");
  const principal = principalHeader(request);
  const attachment = ctx.state.thingPrincipals.get(thing.name)?.get(principal);
  if (attachment && attachment.detachAt === undefined) {
    attachment.detachAt = ctx.now() + ctx.detachPropagationMs;
  }
  return ok();
}

function listThingPrincipals({ ctx, params, query }: OperationRequest) {
  const thing = requireThing(ctx, params.thingName ?? "");
  const page = paginate(
    effectivePrincipals(ctx, thing.name),
    query.get("nextToken"),
    pageSize(queryNumber(query, "maxResults"), 25, 250),
  );
  return ok({ principals: page.items, nextToken: page.nextToken });
}

function listPrincipalThings(request: OperationRequest) {
  const { ctx, query } = request;
  const principal = principalHeader(request);
  checkPrincipal(ctx, principal);
  const page = paginate(
    thingsOfPrincipal(ctx, principal),
    query.get("nextToken"),
    pageSize(queryNumber(query, "maxResults"), 25, 250),
  );
  return ok({ things: page.items, nextToken: page.nextToken });
}

export function registerPrincipals(router: RestJsonRouter): void {
  router
    .add("PUT", "/things/{thingName}/principals", "AttachThingPrincipal", attachThingPrincipal)
    .add("DELETE", "/things/{thingName}/principals", "DetachThingPrincipal", detachThingPrincipal)
    .add("GET", "/things/{thingName}/principals", "ListThingPrincipals", listThingPrincipals)
    .add("GET", "/principals/things", "ListPrincipalThings", listPrincipalThings);
}
