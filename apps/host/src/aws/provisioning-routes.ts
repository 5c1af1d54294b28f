/**
 * Operator routes of the AWS provisioning bridge under `/api/iot/aws`, behind bearer auth:
 *
 * | route | scope | answers |
 * |---|---|---|
 * | `GET /api/iot/aws/bindings/{deviceId}` | `IoT.Devices.Read` | the binding: status, failure reason, ARNs — never a secret value |
 * | `POST /api/iot/aws/bindings/{deviceId}/retry` | `IoT.Devices.Manage` | resumes a `Failed` binding from its last checkpoint; 409 when it is not Failed |
 * | `POST /api/iot/aws/reconcile` `{ repair? }` | `IoT.Devices.Manage` | the drift report per tenant, after the repairs asked for |
 * | `GET /api/iot/aws/policy` | `IoT.Devices.Read` | the device policy the bridge expects: `{ policyName, document }` |
 * | `POST /api/iot/aws/policy/ensure` | `IoT.Devices.Manage`, host operator | creates it when absent: `{ policyName, created, matches }` |
 *
 * The tenant is always the token's: another tenant's binding answers 404. Reconcile compares the
 * AWS account with the bindings of the token's tenant; a host-operator token (no tenant) reconciles
 * every tenant, because the AWS inventory is account-wide and only the host operator owns it. For
 * the same reason only the host operator may create the (account-wide) device policy. The policy
 * routes exist when `devicePolicy` is given.
 *
 * `provisioning` is an `AwsProvisioning` of `@granit/iot-aws-provisioning` (typed structurally here:
 * the bundle wires it).
 */
import { ALL_TENANTS, type TenantFilter } from "@granit/iot";
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { principalOf, useBearerAuth } from "../auth/bearer-auth.ts";
import { Scopes } from "../auth/scopes.ts";
import type { TokenRegistry } from "../auth/token-registry.ts";
import { HttpProblem, problemDetailsSchema } from "../http/problem-details.ts";

const DRIFT_KINDS = [
  "thingsWithoutBinding",
  "bindingsMissingThing",
  "bindingsMissingCertificate",
  "bindingsMissingSecret",
  "orphanCertificates",
  "unattachedCertificates",
] as const;

const bindingResponse = z
  .object({
    deviceId: z.string(),
    bindingId: z.string(),
    tenantId: z.string().nullable(),
    thingName: z.string(),
    status: z
      .string()
      .describe("Pending, ThingCreated, KeyEscrowed, CertIssued, SecretStored, Active, Failed"),
    failureReason: z.string().nullable().describe("Why the binding is Failed and what to do; null otherwise"),
    failedFromStatus: z.string().nullable().describe("The checkpoint a retry resumes from"),
    thingArn: z.string().nullable(),
    certificateArn: z.string().nullable(),
    certificateSecretArn: z
      .string()
      .nullable()
      .describe("ARN of the Secrets Manager secret holding the device key (its value is never shown)"),
    certificateRequestedAt: z.string().nullable(),
    provisionedViaJitp: z.boolean(),
    createdAt: z.string(),
    modifiedAt: z.string().nullable(),
    version: z.number().int(),
  })
  .meta({ id: "AwsThingBinding" });

const driftCounts = z.object(Object.fromEntries(DRIFT_KINDS.map((k) => [k, z.number().int()])));

const reconcileResponse = z
  .object({
    startedAt: z.string(),
    finishedAt: z.string(),
    scanned: z.object({
      bindings: z.number().int(),
      things: z.number().int(),
      certificates: z.number().int(),
    }),
    tenants: z.array(
      z.object({
        tenantId: z.string().nullable(),
        counts: driftCounts,
        items: z.array(
          z.object({
            kind: z.enum(DRIFT_KINDS),
            tenantId: z.string().nullable(),
            thingName: z.string().nullable(),
            deviceId: z.string().nullable(),
            bindingId: z.string().nullable(),
            certificateArn: z.string().nullable(),
            detail: z.string(),
            repaired: z.boolean().nullable(),
            repairError: z.string().optional(),
          }),
        ),
      }),
    ),
    totals: driftCounts,
    repaired: driftCounts,
  })
  .meta({ id: "AwsReconcileReport" });

const reconcileBody = z
  .strictObject({
    repair: z
      .strictObject(Object.fromEntries(DRIFT_KINDS.map((k) => [k, z.boolean().optional()])))
      .optional()
      .describe("Drift kinds to repair (opt-in); absent = report only"),
  })
  .optional();

const deviceParams = z.object({ deviceId: z.uuid().describe("Device id (UUID)") });

export type AwsThingBindingResponse = z.infer<typeof bindingResponse>;
export type AwsReconcileResponse = z.infer<typeof reconcileResponse>;

/** `T` with every array and property readonly (what the package returns; the routes only read it). */
type DeepReadonly<T> = T extends readonly (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

const policyResponse = z
  .object({ policyName: z.string(), document: z.unknown().describe("The IoT policy document (JSON)") })
  .meta({ id: "AwsDevicePolicy" });
const ensurePolicyResponse = z
  .object({
    policyName: z.string(),
    created: z.boolean().describe("True when the policy did not exist and was created now"),
    matches: z
      .boolean()
      .describe("False when an existing policy differs from the expected document (left untouched)"),
  })
  .meta({ id: "AwsDevicePolicyEnsured" });

/** The device policy (`devicePolicyDocument` / `ensureDevicePolicy` of `@granit/iot-aws-provisioning`). */
export interface DevicePolicyRouteDependency {
  readonly policyName: string;
  document(): unknown;
  ensure(): Promise<{ readonly policyName: string; readonly created: boolean; readonly matches: boolean }>;
}

/** What the routes need: `AwsProvisioning` of `@granit/iot-aws-provisioning`, and the host's tokens. */
export interface ProvisioningRoutesDependencies {
  readonly tokens: TokenRegistry;
  /** Serves `GET /policy` and `POST /policy/ensure` when given. */
  readonly devicePolicy?: DevicePolicyRouteDependency | undefined;
  readonly provisioning: {
    describeBinding(
      deviceId: string,
      tenant: TenantFilter,
    ): Promise<DeepReadonly<AwsThingBindingResponse> | null>;
    retryProvisioning(
      deviceId: string,
      request: { readonly tenant: TenantFilter; readonly actor: string | null },
    ): Promise<DeepReadonly<AwsThingBindingResponse>>;
    reconcile(options: {
      readonly repair?: Partial<Record<(typeof DRIFT_KINDS)[number], boolean>> | undefined;
      readonly tenant?: TenantFilter | undefined;
      readonly actor?: string | null | undefined;
    }): Promise<DeepReadonly<AwsReconcileResponse>>;
  };
}

const READ = { scopes: [Scopes.DevicesRead] };
const MANAGE = { scopes: [Scopes.DevicesManage] };
const security = [{ bearerAuth: [] }];
const tags = ["aws"];
const errors = {
  400: problemDetailsSchema,
  401: problemDetailsSchema,
  403: problemDetailsSchema,
  404: problemDetailsSchema,
};

/** Registers the routes (in their own bearer-authenticated scope under `/api/iot/aws`). */
export async function registerProvisioningRoutes(
  app: FastifyInstance,
  deps: ProvisioningRoutesDependencies,
): Promise<void> {
  await app.register(
    async (api) => {
      useBearerAuth(api, { tokens: deps.tokens });
      const routes = api.withTypeProvider<ZodTypeProvider>();

      routes.get(
        "/bindings/:deviceId",
        {
          config: READ,
          schema: {
            tags,
            security,
            summary: "Get the AWS binding of a device (status, failure reason, ARNs)",
            params: deviceParams,
            response: { 200: bindingResponse, ...errors },
          },
        },
        async (request) => {
          const principal = principalOf(request);
          const view = await deps.provisioning.describeBinding(request.params.deviceId, principal.tenantId);
          if (!view) {
            throw new HttpProblem(
              "notFound",
              `Device '${request.params.deviceId}' has no AWS binding (unknown device, not provisioned yet, or decommissioned).`,
            );
          }
          return view as AwsThingBindingResponse;
        },
      );

      routes.post(
        "/bindings/:deviceId/retry",
        {
          config: MANAGE,
          schema: {
            tags,
            security,
            summary: "Resume a Failed binding from its last checkpoint (after fixing the cause)",
            params: deviceParams,
            response: { 202: bindingResponse, ...errors, 409: problemDetailsSchema },
          },
        },
        async (request, reply) => {
          const principal = principalOf(request);
          const view = await deps.provisioning.retryProvisioning(request.params.deviceId, {
            tenant: principal.tenantId,
            actor: principal.actor,
          });
          return reply.code(202).send(view as AwsThingBindingResponse);
        },
      );

      routes.post(
        "/reconcile",
        {
          config: MANAGE,
          schema: {
            tags,
            security,
            summary: "Compare the AWS inventory with the bindings; repair the drift kinds asked for",
            body: reconcileBody,
            response: { 200: reconcileResponse, ...errors, 415: problemDetailsSchema },
          },
        },
        async (request) => {
          const principal = principalOf(request);
          const report = await deps.provisioning.reconcile({
            repair: request.body?.repair,
            tenant: principal.tenantId === null ? ALL_TENANTS : principal.tenantId,
            actor: principal.actor,
          });
          return report as AwsReconcileResponse;
        },
      );

      const devicePolicy = deps.devicePolicy;
      if (!devicePolicy) return;
      routes.get(
        "/policy",
        {
          config: READ,
          schema: {
            tags,
            security,
            summary: "The IoT policy document the bridge attaches to every device certificate",
            response: { 200: policyResponse, 401: problemDetailsSchema, 403: problemDetailsSchema },
          },
        },
        async () => ({ policyName: devicePolicy.policyName, document: devicePolicy.document() }),
      );
      routes.post(
        "/policy/ensure",
        {
          config: MANAGE,
          schema: {
            tags,
            security,
            summary: "Create the device policy in AWS when it does not exist (never changes an existing one)",
            response: { 200: ensurePolicyResponse, 401: problemDetailsSchema, 403: problemDetailsSchema },
          },
        },
        async (request) => {
          if (principalOf(request).tenantId !== null) {
            throw new HttpProblem(
              "forbidden",
              "The device policy is account-wide: only a host-operator token (no tenant) may create it.",
            );
          }
          return devicePolicy.ensure();
        },
      );
    },
    { prefix: "/api/iot/aws" },
  );
}
