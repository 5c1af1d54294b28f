/**
 * `granit-iot bindings ...` and `granit-iot reconcile`: the AWS side of a device (its
 * `AwsThingBinding`: thing, certificate, secret ARN, provisioning status), the operator retry of a
 * Failed provisioning, and the comparison of the AWS inventory with the bindings, over
 * `/api/iot/aws/bindings/{deviceId}` and `/api/iot/aws/reconcile`.
 */
import { uuidArgument } from "./arguments.ts";
import { UsageError } from "./cli-errors.ts";
import { type CommandContext, type CommandSpec, stringOption } from "./command.ts";

export const BINDINGS_PATH = "/api/iot/aws/bindings";
export const RECONCILE_PATH = "/api/iot/aws/reconcile";

/**
 * The drift kinds the reconciler reports and may repair (`DRIFT_KINDS` of
 * `@granit/iot-aws-provisioning`; copied because the host never imports a bridge package).
 */
export const DRIFT_KINDS = [
  "thingsWithoutBinding",
  "bindingsMissingThing",
  "bindingsMissingCertificate",
  "bindingsMissingSecret",
  "orphanCertificates",
  "unattachedCertificates",
] as const;
type DriftKind = (typeof DRIFT_KINDS)[number];

/** A binding as the host shows it (never a secret value). */
interface BindingView {
  readonly deviceId: string;
  readonly bindingId: string;
  readonly tenantId: string | null;
  readonly thingName: string;
  readonly status: string;
  readonly failureReason: string | null;
  readonly failedFromStatus: string | null;
  readonly thingArn: string | null;
  readonly certificateArn: string | null;
  readonly certificateSecretArn: string | null;
  readonly certificateRequestedAt: string | null;
  readonly provisionedViaJitp: boolean;
  readonly createdAt: string;
  readonly modifiedAt: string | null;
  readonly version: number;
}

interface DriftItem {
  readonly kind: DriftKind;
  readonly tenantId: string | null;
  readonly thingName: string | null;
  readonly deviceId: string | null;
  readonly bindingId: string | null;
  readonly certificateArn: string | null;
  readonly detail: string;
  readonly repaired: boolean | null;
  readonly repairError?: string;
}

interface ReconcileReport {
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly scanned: { readonly bindings: number; readonly things: number; readonly certificates: number };
  readonly tenants: readonly { readonly tenantId: string | null; readonly items: readonly DriftItem[] }[];
  readonly totals: Readonly<Record<string, number>>;
  readonly repaired: Readonly<Record<string, number>>;
}

function bindingBlock(context: CommandContext, binding: BindingView): void {
  context.out.keyValues([
    ["deviceId", binding.deviceId],
    ["status", context.out.status(binding.status)],
    ["failureReason", binding.failureReason],
    ["failedFromStatus", binding.failedFromStatus],
    ["thingName", binding.thingName],
    ["thingArn", binding.thingArn],
    ["certificateArn", binding.certificateArn],
    ["certificateSecretArn", binding.certificateSecretArn],
    ["certificateRequestedAt", binding.certificateRequestedAt],
    ["provisionedViaJitp", binding.provisionedViaJitp],
    ["bindingId", binding.bindingId],
    ["tenantId", binding.tenantId ?? "(host)"],
    ["createdAt", binding.createdAt],
    ["modifiedAt", binding.modifiedAt],
    ["version", binding.version],
  ]);
}

const show: CommandSpec = {
  path: ["bindings", "show"],
  summary: "Show a device's AWS binding: provisioning status, thing, certificate",
  args: "<deviceId>",
  positionals: { min: 1, max: 1 },
  details: "Calls GET /api/iot/aws/bindings/{deviceId}. ARNs only: never a key or a secret value.",
  examples: ["granit-iot bindings show 0194a5e0-1234-7abc-8def-0123456789ab"],
  async run(context) {
    const id = uuidArgument(context.positionals[0] as string, "deviceId");
    const binding = await context.api().get<BindingView>(`${BINDINGS_PATH}/${id}`);
    context.out.result(binding, () => bindingBlock(context, binding));
    return undefined;
  },
};

const retry: CommandSpec = {
  path: ["bindings", "retry"],
  summary: "Retry the Failed AWS provisioning of a device",
  args: "<deviceId>",
  positionals: { min: 1, max: 1 },
  details:
    "Calls POST /api/iot/aws/bindings/{deviceId}/retry: the binding goes back to the checkpoint it\n" +
    "failed from and the provisioning saga resumes in the background (follow it with 'bindings show').",
  examples: ["granit-iot bindings retry 0194a5e0-1234-7abc-8def-0123456789ab"],
  async run(context) {
    const id = uuidArgument(context.positionals[0] as string, "deviceId");
    const binding = await context.api().post<BindingView>(`${BINDINGS_PATH}/${id}/retry`);
    context.out.result(binding, () =>
      context.out.line(
        `Provisioning of device ${binding.deviceId} resumes from ${context.out.status(binding.status)} (thing ${binding.thingName}).`,
      ),
    );
    return undefined;
  },
};

function repairArgument(value: string | undefined): Partial<Record<DriftKind, boolean>> | undefined {
  if (value === undefined) return undefined;
  const kinds =
    value === "all"
      ? [...DRIFT_KINDS]
      : value
          .split(",")
          .map((k) => k.trim())
          .filter(Boolean);
  if (kinds.length === 0)
    throw new UsageError(`--repair takes all or drift kinds: ${DRIFT_KINDS.join(", ")}`);
  const repair: Partial<Record<DriftKind, boolean>> = {};
  for (const kind of kinds) {
    if (!(DRIFT_KINDS as readonly string[]).includes(kind)) {
      throw new UsageError(
        `--repair: unknown drift kind '${kind}' (expected all or ${DRIFT_KINDS.join(", ")})`,
      );
    }
    repair[kind as DriftKind] = true;
  }
  return repair;
}

const reconcile: CommandSpec = {
  path: ["reconcile"],
  summary: "Compare the AWS inventory with the bindings; --repair fixes the drift",
  positionals: { min: 0, max: 0 },
  options: {
    repair: {
      type: "string",
      value: "<kinds>",
      description: "Repair these drift kinds (comma-separated), or all; default: report only",
    },
  },
  details: `Calls POST /api/iot/aws/reconcile and prints the drift found, per kind and item:
  thingsWithoutBinding        a thing named like ours that no binding holds (repair: tear it down)
  bindingsMissingThing        a binding whose thing is gone (repair: create it, re-attach)
  bindingsMissingCertificate  a binding whose certificate is gone or not ACTIVE (repair: mark Failed)
  bindingsMissingSecret       a binding whose key secret is gone (repair: mark Failed)
  orphanCertificates          a bridge certificate no binding records (repair: delete it)
  unattachedCertificates      a recorded certificate not attached / without policy (repair: attach)
Exit code 0 whether drift was found or not; read totals (--json) to decide.`,
  examples: [
    "granit-iot reconcile",
    "granit-iot reconcile --repair orphanCertificates,unattachedCertificates",
  ],
  async run(context) {
    const repair = repairArgument(stringOption(context, "repair"));
    const report = await context
      .api()
      .post<ReconcileReport>(RECONCILE_PATH, { body: repair === undefined ? {} : { repair } });
    context.out.result(report, () => printReport(context, report, repair !== undefined));
    return undefined;
  },
};

function printReport(context: CommandContext, report: ReconcileReport, repairing: boolean): void {
  const { out } = context;
  const { scanned } = report;
  out.line(
    `Scanned ${scanned.bindings} bindings, ${scanned.things} things, ${scanned.certificates} certificates ` +
      `(${report.startedAt} → ${report.finishedAt}).`,
  );
  const kinds = DRIFT_KINDS.map((kind) => ({
    kind,
    found: report.totals[kind] ?? 0,
    repaired: report.repaired[kind] ?? 0,
  }));
  out.table(
    kinds,
    [
      { header: "DRIFT", value: (k) => k.kind },
      { header: "FOUND", value: (k) => k.found, align: "right" },
      ...(repairing
        ? [{ header: "REPAIRED", value: (k: (typeof kinds)[number]) => k.repaired, align: "right" as const }]
        : []),
    ],
    "",
  );
  const items = report.tenants.flatMap((tenant) => tenant.items);
  if (items.length === 0) {
    out.line("No drift.");
    return;
  }
  out.line();
  out.table(
    items,
    [
      { header: "KIND", value: (i) => i.kind },
      { header: "TENANT", value: (i) => i.tenantId ?? "(host)" },
      { header: "THING", value: (i) => i.thingName },
      { header: "DEVICE", value: (i) => i.deviceId },
      {
        header: "REPAIR",
        value: (i) =>
          i.repaired === null ? "-" : i.repaired ? "repaired" : `failed: ${i.repairError ?? "?"}`,
        style: (text) => (text === "repaired" ? "green" : text.startsWith("failed") ? "red" : undefined),
      },
      { header: "DETAIL", value: (i) => i.detail },
    ],
    "",
  );
}

export const BINDING_COMMANDS: readonly CommandSpec[] = [show, retry];
export const RECONCILE_COMMANDS: readonly CommandSpec[] = [reconcile];
