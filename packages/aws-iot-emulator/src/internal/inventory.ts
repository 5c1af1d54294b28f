/**
 * A plain-data picture of everything the emulated account holds, for assertions in tests and for
 * end-of-run checks (AWS side vs your database). Times are ISO-8601 strings.
 */
import type { EmulatorContext } from "./context.ts";
import { policiesOf } from "./iot/policies.ts";
import { effectivePrincipals, thingsOfPrincipal } from "./iot/principals.ts";
import { refreshJob } from "./jobs/executions.ts";
import { computeDelta } from "./shadow/delta.ts";

export interface InventoryThing {
  name: string;
  arn: string;
  thingTypeName?: string;
  attributes: Record<string, string>;
  version: number;
  principals: string[];
  groups: string[];
}

export interface InventoryCertificate {
  id: string;
  arn: string;
  status: string;
  pem: string;
  things: string[];
  policies: string[];
  createdAt: string;
}

export interface InventoryPolicy {
  name: string;
  arn: string;
  document: string;
  targets: string[];
}

export interface InventorySecret {
  name: string;
  arn: string;
  deletedDate?: string;
  versions: {
    id: string;
    stages: string[];
    createdAt: string;
    secretString?: string;
    secretBinary?: string;
  }[];
}

export interface InventoryShadow {
  thingName: string;
  /** "" for the classic (unnamed) shadow. */
  shadowName: string;
  state: { desired?: unknown; reported?: unknown; delta?: unknown };
  metadata: { desired?: unknown; reported?: unknown };
  version: number;
}

export interface InventoryJob {
  jobId: string;
  arn: string;
  status: string;
  targets: string[];
  document: string;
  executions: {
    thingName: string;
    status: string;
    versionNumber: number;
    executionNumber: number;
    statusDetails: Record<string, string>;
  }[];
}

export interface Inventory {
  things: InventoryThing[];
  certificates: InventoryCertificate[];
  policies: InventoryPolicy[];
  secrets: InventorySecret[];
  shadows: InventoryShadow[];
  jobs: InventoryJob[];
  /** PEM of the emulator's CA, which signs every issued certificate. */
  caCertificatePem: string;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** A deep copy of `value` without its undefined members. */
function definedOnly<T extends Record<string, unknown>>(value: T): Partial<T> {
  return structuredClone(
    Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)),
  ) as Partial<T>;
}

export function buildInventory(ctx: EmulatorContext): Inventory {
  const { state } = ctx;
  const groupsOf = (thing: string) =>
    [...state.thingGroups.values()].filter((g) => g.things.includes(thing)).map((g) => g.name);
  return {
    things: [...state.things.values()].map((t) => {
      const thing: InventoryThing = {
        name: t.name,
        arn: t.arn,
        attributes: { ...t.attributes },
        version: t.version,
        principals: effectivePrincipals(ctx, t.name),
        groups: groupsOf(t.name),
      };
      if (t.typeName !== undefined) thing.thingTypeName = t.typeName;
      return thing;
    }),
    certificates: [...state.certificates.values()].map((c) => ({
      id: c.id,
      arn: c.arn,
      status: c.status,
      pem: c.pem,
      things: thingsOfPrincipal(ctx, c.arn),
      policies: policiesOf(ctx, c.arn),
      createdAt: iso(c.createdAt),
    })),
    policies: [...state.policies.values()].map((p) => ({
      name: p.name,
      arn: p.arn,
      document: p.document,
      targets: [...(state.policyTargets.get(p.name) ?? [])],
    })),
    secrets: [...state.secrets.values()].map((s) => {
      const secret: InventorySecret = {
        name: s.name,
        arn: s.arn,
        versions: [...s.versions.values()].map((v) => {
          const version: InventorySecret["versions"][number] = {
            id: v.id,
            stages: [...v.stages],
            createdAt: iso(v.createdAt),
          };
          if (v.secretString !== undefined) version.secretString = v.secretString;
          if (v.secretBinary !== undefined) version.secretBinary = v.secretBinary;
          return version;
        }),
      };
      if (s.deletedDate !== undefined) secret.deletedDate = iso(s.deletedDate);
      return secret;
    }),
    shadows: [...state.shadows.values()]
      .filter((s) => s.deletedAt === undefined)
      .map((s) => {
        const delta = computeDelta(s.desired, s.reported);
        return {
          thingName: s.thingName,
          shadowName: s.shadowName,
          state: definedOnly({ desired: s.desired, reported: s.reported, delta }),
          metadata: definedOnly({ desired: s.metadataDesired, reported: s.metadataReported }),
          version: s.version,
        };
      }),
    jobs: [...state.jobs.values()].map((j) => {
      refreshJob(ctx, j);
      return {
        jobId: j.jobId,
        arn: j.arn,
        status: j.status,
        targets: [...j.targets],
        document: j.document,
        executions: [...j.executions.values()].map((e) => ({
          thingName: e.thingName,
          status: e.status,
          versionNumber: e.versionNumber,
          executionNumber: e.executionNumber,
          statusDetails: { ...e.statusDetails },
        })),
      };
    }),
    caCertificatePem: ctx.ca.certificatePem,
  };
}
