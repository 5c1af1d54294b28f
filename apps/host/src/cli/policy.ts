/**
 * `granit-iot policy ...`: the AWS IoT device policy the bridge attaches to every device
 * certificate — print the document the bridge expects, or create it in AWS when it is missing
 * (an existing policy is never changed), over `/api/iot/aws/policy`.
 */
import type { CommandSpec } from "./command.ts";

export const POLICY_PATH = "/api/iot/aws/policy";

interface PolicyView {
  readonly policyName: string;
  readonly document: unknown;
  readonly [key: string]: unknown;
}

interface EnsurePolicyResult {
  readonly policyName: string;
  /** True when the policy did not exist and was created now. */
  readonly created: boolean;
  /** False when the existing policy's default version differs from the expected document. */
  readonly matches: boolean;
}

const print: CommandSpec = {
  path: ["policy", "print"],
  summary: "Print the device policy document the bridge expects",
  positionals: { min: 0, max: 0 },
  details:
    "Calls GET /api/iot/aws/policy. Human output: the policy name on stderr, the document as JSON on\n" +
    "stdout (ready for aws iot create-policy --policy-document file://...).",
  examples: ["granit-iot policy print > device-policy.json"],
  async run(context) {
    const policy = await context.api().get<PolicyView>(POLICY_PATH);
    context.out.result(policy, () => {
      context.out.note(`Device policy ${policy.policyName}:`);
      const document = typeof policy.document === "string" ? JSON.parse(policy.document) : policy.document;
      context.out.line(JSON.stringify(document, null, 2));
    });
    return undefined;
  },
};

const ensure: CommandSpec = {
  path: ["policy", "ensure"],
  summary: "Create the device policy in AWS if it does not exist",
  positionals: { min: 0, max: 0 },
  details:
    "Calls POST /api/iot/aws/policy/ensure (GetPolicy, then CreatePolicy when missing). An existing\n" +
    "policy is never changed: the answer says whether it matches the expected document.",
  examples: ["granit-iot policy ensure"],
  async run(context) {
    const result = await context.api().post<EnsurePolicyResult>(`${POLICY_PATH}/ensure`);
    context.out.result(result, () => {
      if (result.created) context.out.line(`Created the device policy ${result.policyName}.`);
      else if (result.matches) context.out.line(`The device policy ${result.policyName} exists and matches.`);
      else {
        context.out.line(
          `The device policy ${result.policyName} exists but differs from the expected document (left untouched; compare with 'policy print').`,
        );
      }
    });
    return undefined;
  },
};

export const POLICY_COMMANDS: readonly CommandSpec[] = [print, ensure];
