/**
 * RFC 9457 problem details of the fleet endpoints, with the same `type` URNs as the host's API so a
 * client branches the same way on both. Extension members carry the machine-readable verdict:
 * `allowProvisioning` + `reason` on denials, `reason` on conflicts, `errors` on a 400.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9457
 */
import type { FastifyReply } from "fastify";

export const PROBLEM_CONTENT_TYPE = "application/problem+json; charset=utf-8";

export const FleetProblem = {
  validation: { status: 400, type: "urn:granit:iot:problem:validation", title: "The request is not valid." },
  unauthorized: {
    status: 401,
    type: "urn:granit:iot:problem:unauthorized",
    title: "Authentication is required.",
  },
  forbidden: {
    status: 403,
    type: "urn:granit:iot:problem:forbidden",
    title: "The fleet key may not do this.",
  },
  denied: {
    status: 403,
    type: "urn:granit:iot:problem:provisioning-denied",
    title: "Fleet provisioning is denied for this serial number.",
  },
  conflict: {
    status: 409,
    type: "urn:granit:iot:problem:registration-conflict",
    title: "The registration conflicts with a recorded device.",
  },
  concurrencyConflict: {
    status: 409,
    type: "urn:granit:iot:problem:concurrency-conflict",
    title: "The resource was changed by someone else.",
  },
  payloadTooLarge: {
    status: 413,
    type: "urn:granit:iot:problem:payload-too-large",
    title: "The body is too large.",
  },
  unsupportedMediaType: {
    status: 415,
    type: "urn:granit:iot:problem:unsupported-media-type",
    title: "The body must be application/json.",
  },
  thingNameMismatch: {
    status: 422,
    type: "urn:granit:iot:problem:thing-name-mismatch",
    title: "The thing name does not name this tenant's device.",
  },
  internal: { status: 500, type: "urn:granit:iot:problem:internal", title: "An unexpected error occurred." },
} as const satisfies Record<string, { status: number; type: string; title: string }>;

export type FleetProblemKind = keyof typeof FleetProblem;

export function sendFleetProblem(
  reply: FastifyReply,
  kind: FleetProblemKind,
  detail: string,
  instance: string,
  extra: Readonly<Record<string, unknown>> = {},
  headers: Readonly<Record<string, string>> = {},
) {
  const { status, type, title } = FleetProblem[kind];
  return reply
    .code(status)
    .headers(headers)
    .header("content-type", PROBLEM_CONTENT_TYPE)
    .send(JSON.stringify({ type, title, status, detail, instance, ...extra }));
}
