/**
 * `granit-iot claim-certs ...`: the registry of fleet-provisioning claim certificates, over
 * `/api/iot/aws/claim-certificates` (tokens need the `IoT.Aws.FleetProvisioning.Read` / `.Manage`
 * scopes).
 */
import { choiceArgument, integerArgument } from "./arguments.ts";
import { UsageError } from "./cli-errors.ts";
import { type CommandContext, type CommandSpec, flag, stringOption } from "./command.ts";
import { requiredOption } from "./devices.ts";
import { statusStyle } from "./output.ts";

export const CLAIM_CERTIFICATES_PATH = "/api/iot/aws/claim-certificates";
const STATUSES = ["Active", "Inactive"] as const;
const CERTIFICATE_ID = /^[0-9a-fA-F]{64}$/;

interface ClaimCertificate {
  readonly certificateId: string;
  readonly tenantId: string | null;
  readonly templateName: string;
  readonly notAfter: string;
  readonly status: string;
  readonly description: string | null;
  readonly createdAt: string;
  readonly createdBy: string | null;
  readonly modifiedAt: string | null;
  readonly modifiedBy: string | null;
  readonly version: number;
}

interface ClaimCertificatePage {
  readonly items: readonly ClaimCertificate[];
  readonly nextCursor: string | null;
}

function certificateIdArgument(value: string): string {
  if (!CERTIFICATE_ID.test(value)) {
    throw new UsageError(
      `certificateId must be an AWS IoT certificate id, 64 hex characters (got '${value}')`,
    );
  }
  return value.toLowerCase();
}

function certificateBlock(context: CommandContext, certificate: ClaimCertificate): void {
  context.out.keyValues([
    ["certificateId", certificate.certificateId],
    ["templateName", certificate.templateName],
    ["notAfter", certificate.notAfter],
    ["status", context.out.status(certificate.status)],
    ["description", certificate.description],
    ["tenantId", certificate.tenantId ?? "(host)"],
    ["createdAt", certificate.createdAt],
    ["createdBy", certificate.createdBy],
    ["modifiedAt", certificate.modifiedAt],
    ["modifiedBy", certificate.modifiedBy],
    ["version", certificate.version],
  ]);
}

const add: CommandSpec = {
  path: ["claim-certs", "add"],
  summary: "Register a fleet-provisioning claim certificate (Active)",
  args: "<certificateId>",
  positionals: { min: 1, max: 1 },
  options: {
    template: {
      type: "string",
      value: "<name>",
      description: "The fleet-provisioning template it is for (required)",
    },
    "not-after": {
      type: "string",
      value: "<date>",
      description: "Its X.509 expiry, ISO-8601 (aws iot describe-certificate: validity.notAfter) (required)",
    },
    description: { type: "string", value: "<text>", description: "Free text (which batch, which factory)" },
  },
  details: "Calls POST /api/iot/aws/claim-certificates. The registry makes no AWS call.",
  examples: [
    "granit-iot claim-certs add 3f0c…64 hex… --template granit-fleet --not-after 2027-06-30T00:00:00Z --description 'batch 12'",
  ],
  async run(context) {
    const certificateId = certificateIdArgument(context.positionals[0] as string);
    const templateName = requiredOption(context, "template");
    const notAfter = requiredOption(context, "not-after");
    if (Number.isNaN(Date.parse(notAfter))) {
      throw new UsageError(
        `--not-after must be an ISO-8601 date such as 2027-06-30T00:00:00Z (got '${notAfter}')`,
      );
    }
    const description = stringOption(context, "description");
    const certificate = await context.api().post<ClaimCertificate>(CLAIM_CERTIFICATES_PATH, {
      body: { certificateId, templateName, notAfter, ...(description !== undefined ? { description } : {}) },
    });
    context.out.result(certificate, () =>
      context.out.line(
        `Registered claim certificate ${certificate.certificateId} for template ${certificate.templateName}, valid until ${certificate.notAfter}.`,
      ),
    );
    return undefined;
  },
};

const list: CommandSpec = {
  path: ["claim-certs", "list"],
  summary: "List the registered claim certificates",
  positionals: { min: 0, max: 0 },
  options: {
    status: { type: "string", value: "<status>", description: "Only Active or Inactive ones" },
    limit: { type: "string", value: "<n>", description: "Per page, 1-1000 (default 50; 1000 with --all)" },
    all: { type: "boolean", description: "Follow nextCursor until the last page" },
  },
  details: "Calls GET /api/iot/aws/claim-certificates.",
  examples: ["granit-iot claim-certs list --status Active"],
  async run(context) {
    const status = stringOption(context, "status");
    if (status !== undefined) choiceArgument(status, "--status", STATUSES);
    const all = flag(context, "all");
    const limit = integerArgument(
      stringOption(context, "limit"),
      "--limit",
      { min: 1, max: 1000 },
      all ? 1000 : 50,
    );
    const items: ClaimCertificate[] = [];
    let cursor: string | undefined;
    let page: ClaimCertificatePage;
    do {
      page = await context
        .api()
        .get<ClaimCertificatePage>(CLAIM_CERTIFICATES_PATH, { query: { status, limit, cursor } });
      items.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (all && cursor !== undefined);
    const nextCursor = all ? null : page.nextCursor;
    context.out.result({ items, nextCursor }, () => {
      context.out.table(
        items,
        [
          { header: "CERTIFICATE", value: (c) => c.certificateId },
          { header: "TEMPLATE", value: (c) => c.templateName },
          { header: "STATUS", value: (c) => c.status, style: statusStyle },
          { header: "NOT AFTER", value: (c) => c.notAfter },
          { header: "DESCRIPTION", value: (c) => c.description },
        ],
        "No claim certificates.",
      );
      if (nextCursor) context.out.note("More claim certificates: add --all to list every page.");
    });
    return undefined;
  },
};

const show: CommandSpec = {
  path: ["claim-certs", "show"],
  summary: "Show one claim certificate",
  args: "<certificateId>",
  positionals: { min: 1, max: 1 },
  details: "Calls GET /api/iot/aws/claim-certificates/{certificateId}.",
  examples: ["granit-iot claim-certs show 3f0c…64 hex…"],
  async run(context) {
    const id = certificateIdArgument(context.positionals[0] as string);
    const certificate = await context.api().get<ClaimCertificate>(`${CLAIM_CERTIFICATES_PATH}/${id}`);
    context.out.result(certificate, () => certificateBlock(context, certificate));
    return undefined;
  },
};

function setStatus(operation: "deactivate" | "activate", summary: string): CommandSpec {
  return {
    path: ["claim-certs", operation],
    summary,
    args: "<certificateId>",
    positionals: { min: 1, max: 1 },
    details: `Calls POST /api/iot/aws/claim-certificates/{certificateId}/${operation} (idempotent).`,
    examples: [`granit-iot claim-certs ${operation} 3f0c…64 hex…`],
    async run(context) {
      const id = certificateIdArgument(context.positionals[0] as string);
      const certificate = await context
        .api()
        .post<ClaimCertificate>(`${CLAIM_CERTIFICATES_PATH}/${id}/${operation}`);
      context.out.result(certificate, () =>
        context.out.line(
          `Claim certificate ${certificate.certificateId} is ${context.out.status(certificate.status)}.`,
        ),
      );
      return undefined;
    },
  };
}

export const CLAIM_CERTIFICATE_COMMANDS: readonly CommandSpec[] = [
  add,
  list,
  show,
  setStatus("deactivate", "Deactivate a claim certificate (/verify refuses it)"),
  setStatus("activate", "Activate a deactivated claim certificate again"),
];
