/**
 * REST routes of the devices API under `/api/iot/devices`, behind bearer auth. Reads need
 * `IoT.Devices.Read`, writes `IoT.Devices.Manage`; the tenant is always the token's. Writes
 * accept an optional `If-Match: "<version>"` (409 when stale) and every device response carries
 * `ETag: "<version>"`.
 */
import type { DeviceLifecycleOperation } from "@granit/iot";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { principalOf } from "../auth/bearer-auth.ts";
import { Scopes } from "../auth/scopes.ts";
import { HttpProblem, problemDetailsSchema } from "../http/problem-details.ts";
import { assertDeviceCursor } from "./device-cursor.ts";
import {
  createDeviceBody,
  deviceIdParams,
  devicePageResponse,
  deviceResponse,
  listDevicesQuery,
  suspendDeviceBody,
  timelineQuery,
  timelineResponse,
  toDeviceResponse,
  toTimelineItem,
  updateDeviceBody,
} from "./device-schemas.ts";
import type { DeviceService } from "./device-service.ts";

const READ = { scopes: [Scopes.DevicesRead] };
const MANAGE = { scopes: [Scopes.DevicesManage] };
const security = [{ bearerAuth: [] }];
const errors = {
  400: problemDetailsSchema,
  401: problemDetailsSchema,
  403: problemDetailsSchema,
  404: problemDetailsSchema,
};
const writeErrors = {
  ...errors,
  409: problemDetailsSchema,
  413: problemDetailsSchema,
  415: problemDetailsSchema,
};
const ifMatchHeaders = z.looseObject({
  "if-match": z.string().optional().describe('"<version>" from the ETag; 409 when the device changed since'),
});

const ENTITY_TAG = /^(?:W\/)?"(\d{1,9})"$/;

/** The version an `If-Match` header asks for (`undefined` for none or `*`). */
export function parseIfMatch(request: FastifyRequest): number | undefined {
  const header = request.headers["if-match"];
  if (header === undefined || header.trim() === "*") return undefined;
  const match = ENTITY_TAG.exec(header.trim());
  if (!match?.[1]) {
    throw new HttpProblem("validation", 'If-Match must be the ETag of the device, e.g. "3".', {
      errors: [{ field: "If-Match", rule: "format", message: 'must be a quoted version such as "3"' }],
    });
  }
  return Number(match[1]);
}

function withETag(reply: FastifyReply, version: number): FastifyReply {
  return reply.header("etag", `"${version}"`);
}

export function registerDeviceRoutes(scope: FastifyInstance, service: DeviceService): void {
  const routes = scope.withTypeProvider<ZodTypeProvider>();
  const tags = ["devices"];

  routes.post(
    "",
    {
      config: MANAGE,
      schema: {
        tags,
        security,
        summary: "Create a device (status Provisioning)",
        body: createDeviceBody,
        response: { 201: deviceResponse, ...writeErrors },
      },
    },
    async (request, reply) => {
      const device = await service.create(principalOf(request), request.body);
      return withETag(reply, device.version)
        .code(201)
        .header("location", `${routes.prefix}/${device.id}`)
        .send(toDeviceResponse(device));
    },
  );

  routes.get(
    "",
    {
      config: READ,
      schema: {
        tags,
        security,
        summary: "List devices of the caller's tenant (keyset paging, optional status filter)",
        querystring: listDevicesQuery,
        response: { 200: devicePageResponse, ...errors },
      },
    },
    async (request) => {
      assertDeviceCursor(request.query.cursor);
      const page = await service.list(principalOf(request), request.query);
      return { items: page.items.map(toDeviceResponse), nextCursor: page.nextCursor };
    },
  );

  routes.get(
    "/:id",
    {
      config: READ,
      schema: {
        tags,
        security,
        summary: "Get a device",
        params: deviceIdParams,
        response: { 200: deviceResponse, ...errors },
      },
    },
    async (request, reply) => {
      const device = await service.get(principalOf(request), request.params.id);
      return withETag(reply, device.version).send(toDeviceResponse(device));
    },
  );

  routes.patch(
    "/:id",
    {
      config: MANAGE,
      schema: {
        tags,
        security,
        summary: "Update the label and/or firmware of a device",
        params: deviceIdParams,
        headers: ifMatchHeaders,
        body: updateDeviceBody,
        response: { 200: deviceResponse, ...writeErrors },
      },
    },
    async (request, reply) => {
      const device = await service.update(
        principalOf(request),
        request.params.id,
        request.body,
        parseIfMatch(request),
      );
      return withETag(reply, device.version).send(toDeviceResponse(device));
    },
  );

  const lifecycle = (operation: Exclude<DeviceLifecycleOperation, "suspend">, summary: string) =>
    routes.post(
      `/:id/${operation}`,
      {
        config: MANAGE,
        schema: {
          tags,
          security,
          summary,
          params: deviceIdParams,
          headers: ifMatchHeaders,
          response: { 200: deviceResponse, ...writeErrors },
        },
      },
      async (request, reply) => {
        const device = await service.transition(principalOf(request), request.params.id, operation, {
          expectedVersion: parseIfMatch(request),
        });
        return withETag(reply, device.version).send(toDeviceResponse(device));
      },
    );
  lifecycle("activate", "Provisioning → Active");
  lifecycle("reactivate", "Suspended → Active");
  lifecycle("decommission", "Provisioning, Active or Suspended → Decommissioned (terminal)");

  routes.post(
    "/:id/suspend",
    {
      config: MANAGE,
      schema: {
        tags,
        security,
        summary: "Active → Suspended, with a reason",
        params: deviceIdParams,
        headers: ifMatchHeaders,
        body: suspendDeviceBody,
        response: { 200: deviceResponse, ...writeErrors },
      },
    },
    async (request, reply) => {
      const device = await service.transition(principalOf(request), request.params.id, "suspend", {
        reason: request.body.reason,
        expectedVersion: parseIfMatch(request),
      });
      return withETag(reply, device.version).send(toDeviceResponse(device));
    },
  );

  routes.post(
    "/:id/heartbeat",
    {
      config: MANAGE,
      schema: {
        tags,
        security,
        summary: "Record a heartbeat now (one UPDATE; no event, no version change)",
        params: deviceIdParams,
        response: { 204: z.undefined().describe("Recorded"), ...errors },
      },
    },
    async (request, reply) => {
      await service.heartbeat(principalOf(request), request.params.id);
      return reply.code(204).send();
    },
  );

  routes.get(
    "/:id/timeline",
    {
      config: READ,
      schema: {
        tags,
        security,
        summary: "The device's lifecycle timeline, newest first",
        params: deviceIdParams,
        querystring: timelineQuery,
        response: { 200: timelineResponse, ...errors },
      },
    },
    async (request) => {
      const entries = await service.timeline(principalOf(request), request.params.id, request.query.limit);
      return { items: entries.map(toTimelineItem) };
    },
  );
}
