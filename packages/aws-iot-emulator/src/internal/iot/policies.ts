/**
 * IoT policies and their attachment to targets (certificate ARNs, thing group ARNs, Cognito ids):
 * CreatePolicy, GetPolicy, DeletePolicy, AttachPolicy, DetachPolicy, ListAttachedPolicies.
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_AttachPolicy.html
 */
import { randomUUID } from "node:crypto";
import { type EmulatorContext, policyArn, seconds } from "../context.ts";
import { AwsError, deleteConflict, resourceAlreadyExists, resourceNotFound } from "../errors.ts";
import { type OperationRequest, ok } from "../operation.ts";
import { checkName, queryNumber, requiredString } from "../protocol/input.ts";
import { pageSize, paginate } from "../protocol/paging.ts";
import type { RestJsonRouter } from "../protocol/rest-json.ts";
import type { PolicyRecord } from "../state.ts";

const POLICY_NAME = /^[\w+=,.@-]+$/;
/** "Maximum number of policies that can be attached to a certificate or identity": 10. */
const MAX_POLICIES_PER_TARGET = 10;

function requirePolicy(ctx: EmulatorContext, name: string): PolicyRecord {
  checkName(name, "policyName", 128, POLICY_NAME);
  const policy = ctx.state.policies.get(name);
  if (!policy) throw resourceNotFound(`Policy not found: ${name}`);
  return policy;
}

/** Names of the policies attached to `target`. */
export function policiesOf(ctx: EmulatorContext, target: string): string[] {
  const out: string[] = [];
  for (const [name, targets] of ctx.state.policyTargets) if (targets.has(target)) out.push(name);
  return out;
}

export function detachAllPolicies(ctx: EmulatorContext, target: string): void {
  for (const targets of ctx.state.policyTargets.values()) targets.delete(target);
}

function checkTarget(ctx: EmulatorContext, target: string): void {
  const cert = /^arn:aws[a-z-]*:iot:[^:]*:[^:]*:cert\/(.+)$/.exec(target);
  if (cert && !ctx.state.certificates.has(cert[1] ?? "")) {
    throw resourceNotFound(`The certificate ${target} does not exist`);
  }
  const group = /^arn:aws[a-z-]*:iot:[^:]*:[^:]*:thinggroup\/(.+)$/.exec(target);
  if (group && !ctx.state.thingGroups.has(group[1] ?? "")) {
    throw resourceNotFound(`The thing group ${target} does not exist`);
  }
}

function createPolicy({ ctx, params, input }: OperationRequest) {
  const name = params.policyName ?? "";
  checkName(name, "policyName", 128, POLICY_NAME);
  const document = requiredString(input, "policyDocument");
  try {
    const parsed: unknown = JSON.parse(document);
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
      throw new Error("not an object");
  } catch {
    throw new AwsError("MalformedPolicyException", 400, "Policy document is not valid JSON");
  }
  const arn = policyArn(ctx, name);
  if (ctx.state.policies.has(name))
    throw resourceAlreadyExists(`Policy cannot be created - name already exists (name=${name})`, name, arn);
  const now = ctx.now();
  ctx.state.policies.set(name, {
    name,
    arn,
    document,
    createdAt: now,
    modifiedAt: now,
    generationId: randomUUID(),
  });
  return ok({ policyName: name, policyArn: arn, policyDocument: document, policyVersionId: "1" });
}

function getPolicy({ ctx, params }: OperationRequest) {
  const p = requirePolicy(ctx, params.policyName ?? "");
  return ok({
    policyName: p.name,
    policyArn: p.arn,
    policyDocument: p.document,
    defaultVersionId: "1",
    creationDate: seconds(p.createdAt),
    lastModifiedDate: seconds(p.modifiedAt),
    generationId: p.generationId,
  });
}

/** @see https://docs.aws.amazon.com/iot/latest/apireference/API_DeletePolicy.html */
function deletePolicy({ ctx, params }: OperationRequest) {
  const p = requirePolicy(ctx, params.policyName ?? "");
  if ((ctx.state.policyTargets.get(p.name)?.size ?? 0) > 0) {
    throw deleteConflict(
      `The policy cannot be deleted as the policy is attached to one or more principals (name=${p.name})`,
    );
  }
  ctx.state.policies.delete(p.name);
  ctx.state.policyTargets.delete(p.name);
  return ok();
}

/** Re-attaching an attached policy succeeds without change. */
function attachPolicy({ ctx, params, input }: OperationRequest) {
  const p = requirePolicy(ctx, params.policyName ?? "");
  const target = requiredString(input, "target");
  checkTarget(ctx, target);
  let targets = ctx.state.policyTargets.get(p.name);
  if (targets?.has(target)) return ok();
  if (policiesOf(ctx, target).length >= MAX_POLICIES_PER_TARGET) {
    throw new AwsError(
      "LimitExceededException",
      410,
      `A target can have at most ${MAX_POLICIES_PER_TARGET} policies attached`,
    );
  }
  if (!targets) {
    targets = new Set();
    ctx.state.policyTargets.set(p.name, targets);
  }
  targets.add(target);
  return ok();
}

function detachPolicy({ ctx, params, input }: OperationRequest) {
  const p = requirePolicy(ctx, params.policyName ?? "");
  const target = requiredString(input, "target");
  ctx.state.policyTargets.get(p.name)?.delete(target);
  return ok();
}

function listAttachedPolicies({ ctx, params, query }: OperationRequest) {
  const target = params.target ?? "";
  checkTarget(ctx, target);
  const page = paginate(
    policiesOf(ctx, target),
    query.get("marker"),
    pageSize(queryNumber(query, "pageSize"), 25, 250),
  );
  return ok({
    policies: page.items.map((name) => ({ policyName: name, policyArn: policyArn(ctx, name) })),
    nextMarker: page.nextToken,
  });
}

export function registerPolicies(router: RestJsonRouter): void {
  router
    .add("POST", "/policies/{policyName}", "CreatePolicy", createPolicy)
    .add("GET", "/policies/{policyName}", "GetPolicy", getPolicy)
    .add("DELETE", "/policies/{policyName}", "DeletePolicy", deletePolicy)
    .add("PUT", "/target-policies/{policyName}", "AttachPolicy", attachPolicy)
    .add("POST", "/target-policies/{policyName}", "DetachPolicy", detachPolicy)
    .add("POST", "/attached-policies/{target}", "ListAttachedPolicies", listAttachedPolicies, {
      readOnly: true,
    });
}
