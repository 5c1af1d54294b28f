/**
 * The host's management API of fleet provisioning by claim, under `/api/iot/aws`, behind the
 * host's bearer tokens (the tenant is always the token's):
 *
 * | route | scope | answers |
 * |---|---|---|
 * | `POST /claim-certificates` `{certificateId, templateName, notAfter, description?}` | Manage | 201 + `Location` |
 * | `GET /claim-certificates?status=&limit=&cursor=` | Read | `{items, nextCursor}` |
 * | `GET /claim-certificates/{certificateId}` | Read | the certificate (404 for another tenant's) |
 * | `POST /claim-certificates/{certificateId}/deactivate` \| `/activate` | Manage | the certificate (idempotent) |
 * | `POST /fleet-keys` `{description?}` | Manage | 201 `{keyId, secret, …}` — the **only** time the secret is shown |
 * | `GET /fleet-keys?limit=&cursor=` | Read | `{items, nextCursor}` — never a secret |
 * | `POST /fleet-keys/{keyId}/revoke` | Manage | the key, `Revoked` (idempotent) |
 *
 * Mounted by the host (or the bundle) with the services of `createFleetProvisioning`:
 * `host.app.register(fleetProvisioningAdminRoutes, { prefix: FLEET_ADMIN_PREFIX, tokens: host.tokens,
 * claimCertificates: fleet.claimCertificates, fleetKeys: fleet.fleetKeys })`.
 */
import type { ClaimCertificate } from "@granit/iot-aws";
import type {
  ClaimCertificateRegistry,
  FleetKeyAdmin,
  FleetKeyView,
  IssuedFleetKey,
} from "@granit/iot-aws-fleet-provisioning";
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { principalOf, useBearerAuth } from "../auth/bearer-auth.ts";
import type { TokenRegistry } from "../auth/token-registry.ts";
import { problemDetailsSchema } from "../http/problem-details.ts";

/** Where the management routes live. */
export const FLEET_ADMIN_PREFIX = "/api/iot/aws";

/** The scopes of the management API (configure them on operator tokens: `Auth:Tokens:<n>:Scopes`). */
export const FleetProvisioningScopes = {
  Read: "IoT.Aws.FleetProvisioning.Read",
  Manage: "IoT.Aws.FleetProvisioning.Manage",
} as const;

export interface FleetProvisioningAdminRoutesOptions {
  readonly tokens: TokenRegistry;
  readonly claimCertificates: ClaimCertificateRegistry;
  readonly fleetKeys: FleetKeyAdmin;
}

const READ = { scopes: [FleetProvisioningScopes.Read] };
const MANAGE = { scopes: [FleetProvisioningScopes.Manage] };
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

const claimCertificateResponse = z
  .object({
    certificateId: z.string(),
    tenantId: z.string().nullable(),
    templateName: z.string(),
    notAfter: z.string(),
    status: z.enum(["Active", "Inactive"]),
    description: z.string().nullable(),
    createdAt: z.string(),
    createdBy: z.string().nullable(),
    modifiedAt: z.string().nullable(),
    modifiedBy: z.string().nullable(),
    version: z.number().int(),
  })
  .meta({ id: "ClaimCertificate" });

const fleetKeyResponse = z
  .object({
    keyId: z.string(),
    tenantId: z.string().nullable(),
    description: z.string().nullable(),
    status: z.enum(["Active", "Revoked"]),
    createdAt: z.string(),
    createdBy: z.string().nullable(),
    revokedAt: z.string().nullable(),
    revokedBy: z.string().nullable(),
  })
  .meta({ id: "FleetKey" });

const issuedFleetKeyResponse = fleetKeyResponse
  .extend({
    secret: z
      .string()
      .describe("The HMAC secret: shown once, store it in the Lambda's Secrets Manager secret"),
  })
  .meta({ id: "IssuedFleetKey" });

const certificateParams = z.object({
  certificateId: z.string().max(128).describe("AWS IoT certificate id (64 hex characters)"),
});
const keyParams = z.object({ keyId: z.string().max(64) });
const pageQuery = {
  limit: z.coerce.number().int().min(1).max(1000).default(50),
  cursor: z.string().max(512).optional().describe("nextCursor of the previous page"),
};

function toClaimCertificateResponse(c: ClaimCertificate): z.infer<typeof claimCertificateResponse> {
  return {
    certificateId: c.certificateId,
    tenantId: c.tenantId,
    templateName: c.templateName,
    notAfter: c.notAfter.toISOString(),
    status: c.status,
    description: c.description,
    createdAt: c.audit.createdAt.toISOString(),
    createdBy: c.audit.createdBy,
    modifiedAt: c.audit.modifiedAt?.toISOString() ?? null,
    modifiedBy: c.audit.modifiedBy,
    version: c.version,
  };
}

function toFleetKeyResponse(k: FleetKeyView): z.infer<typeof fleetKeyResponse> {
  return {
    keyId: k.keyId,
    tenantId: k.tenantId,
    description: k.description,
    status: k.status,
    createdAt: k.createdAt.toISOString(),
    createdBy: k.createdBy,
    revokedAt: k.revokedAt?.toISOString() ?? null,
    revokedBy: k.revokedBy,
  };
}

/** The management routes as a Fastify plugin; register it with `prefix: FLEET_ADMIN_PREFIX`. */
export async function fleetProvisioningAdminRoutes(
  app: FastifyInstance,
  options: FleetProvisioningAdminRoutesOptions,
): Promise<void> {
  useBearerAuth(app, { tokens: options.tokens });
  const routes = app.withTypeProvider<ZodTypeProvider>();
  const { claimCertificates, fleetKeys } = options;
  const certificateTags = ["fleet provisioning: claim certificates"];
  const keyTags = ["fleet provisioning: fleet keys"];

  routes.post(
    "/claim-certificates",
    {
      config: MANAGE,
      schema: {
        tags: certificateTags,
        security,
        summary: "Register a claim certificate of the caller's tenant (Active)",
        body: z
          .strictObject({
            certificateId: z.string().max(128).describe("AWS IoT certificate id (64 hex characters)"),
            templateName: z.string().max(64).describe("The fleet-provisioning template it is meant for"),
            notAfter: z
              .string()
              .max(64)
              .describe("Its X.509 expiry, ISO-8601 (describe-certificate validity.notAfter)"),
            description: z.string().max(512).nullable().optional(),
          })
          .meta({ id: "RegisterClaimCertificateRequest" }),
        response: { 201: claimCertificateResponse, ...writeErrors },
      },
    },
    async (request, reply) => {
      const certificate = await claimCertificates.register(principalOf(request), request.body);
      return reply
        .code(201)
        .header("location", `${routes.prefix}/claim-certificates/${certificate.certificateId}`)
        .send(toClaimCertificateResponse(certificate));
    },
  );

  routes.get(
    "/claim-certificates",
    {
      config: READ,
      schema: {
        tags: certificateTags,
        security,
        summary: "List the caller's tenant's claim certificates (keyset paging)",
        querystring: z.strictObject({ status: z.enum(["Active", "Inactive"]).optional(), ...pageQuery }),
        response: {
          200: z.object({ items: z.array(claimCertificateResponse), nextCursor: z.string().nullable() }),
          ...errors,
        },
      },
    },
    async (request) => {
      const page = await claimCertificates.list(principalOf(request).tenantId, request.query);
      return { items: page.items.map(toClaimCertificateResponse), nextCursor: page.nextCursor };
    },
  );

  routes.get(
    "/claim-certificates/:certificateId",
    {
      config: READ,
      schema: {
        tags: certificateTags,
        security,
        summary: "Get a claim certificate",
        params: certificateParams,
        response: { 200: claimCertificateResponse, ...errors },
      },
    },
    async (request) =>
      toClaimCertificateResponse(
        await claimCertificates.get(principalOf(request).tenantId, request.params.certificateId),
      ),
  );

  for (const [operation, summary] of [
    ["deactivate", "Active → Inactive: /verify refuses it from now on (inactive_claim_certificate)"],
    ["activate", "Inactive → Active (undo a deactivation)"],
  ] as const) {
    routes.post(
      `/claim-certificates/:certificateId/${operation}`,
      {
        config: MANAGE,
        schema: {
          tags: certificateTags,
          security,
          summary,
          params: certificateParams,
          response: { 200: claimCertificateResponse, ...writeErrors },
        },
      },
      async (request) =>
        toClaimCertificateResponse(
          await claimCertificates[operation](principalOf(request), request.params.certificateId),
        ),
    );
  }

  routes.post(
    "/fleet-keys",
    {
      config: MANAGE,
      schema: {
        tags: keyTags,
        security,
        summary: "Issue a fleet key for the caller's tenant (the secret is returned once)",
        body: z
          .strictObject({ description: z.string().max(256).nullable().optional() })
          .nullish()
          .meta({ id: "CreateFleetKeyRequest" }),
        response: { 201: issuedFleetKeyResponse, ...writeErrors },
      },
    },
    async (request, reply) => {
      const issued: IssuedFleetKey = await fleetKeys.create(principalOf(request), request.body ?? {});
      return reply
        .code(201)
        .header("cache-control", "no-store")
        .send({ ...toFleetKeyResponse(issued), secret: issued.secret });
    },
  );

  routes.get(
    "/fleet-keys",
    {
      config: READ,
      schema: {
        tags: keyTags,
        security,
        summary: "List the caller's tenant's fleet keys (never their secrets)",
        querystring: z.strictObject(pageQuery),
        response: {
          200: z.object({ items: z.array(fleetKeyResponse), nextCursor: z.string().nullable() }),
          ...errors,
        },
      },
    },
    async (request) => {
      const page = await fleetKeys.list(principalOf(request).tenantId, request.query);
      return { items: page.items.map(toFleetKeyResponse), nextCursor: page.nextCursor };
    },
  );

  routes.post(
    "/fleet-keys/:keyId/revoke",
    {
      config: MANAGE,
      schema: {
        tags: keyTags,
        security,
        summary:
          "Revoke a fleet key: its signatures are refused (within CredentialCacheSeconds on other hosts)",
        params: keyParams,
        response: { 200: fleetKeyResponse, ...writeErrors },
      },
    },
    async (request) => toFleetKeyResponse(await fleetKeys.revoke(principalOf(request), request.params.keyId)),
  );
}
