/**
 * The fleet-provisioning **pre-provisioning hook** Lambda: AWS IoT calls it on every RegisterThing
 * with the template's parameters; it asks `/verify` and answers `{ allowProvisioning,
 * parameterOverrides }`. It **denies by default**: a missing serial, a timeout (the budget is at most
 * 3 s of AWS's 5 s), a network error, a non-200 answer, or an answer it cannot read all give
 * `{ allowProvisioning: false }`.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/pre-provisioning-hook.html
 */
import type { FleetApiClient } from "./fleet-api-client.ts";
import { MAX_HOOK_TIMEOUT_MS } from "./lambda-config.ts";
import { consoleLambdaLog, type LambdaLog } from "./lambda-log.ts";

/** The hook's input, as AWS IoT documents it. */
export interface PreProvisioningHookEvent {
  readonly claimCertificateId?: string;
  readonly certificateId?: string;
  readonly certificatePem?: string;
  /** `arn:aws:iot:<region>:<account>:provisioningtemplate/<name>` */
  readonly templateArn?: string;
  readonly clientId?: string;
  readonly parameters?: Readonly<Record<string, string>>;
}

/** The hook's answer, as AWS IoT expects it. */
export interface PreProvisioningHookResult {
  readonly allowProvisioning: boolean;
  readonly parameterOverrides?: Readonly<Record<string, string>>;
}

export interface PreProvisioningHookOptions {
  readonly client: FleetApiClient;
  /** The template parameter holding the serial number. @default "SerialNumber" */
  readonly serialParameter?: string;
  /** Budget of one invocation (secret load included), capped at 3000. @default 2500 */
  readonly timeoutMs?: number;
  readonly log?: LambdaLog;
}

const DENY: PreProvisioningHookResult = Object.freeze({ allowProvisioning: false });

/** Builds the hook handler. */
export function createPreProvisioningHook(
  options: PreProvisioningHookOptions,
): (event: PreProvisioningHookEvent) => Promise<PreProvisioningHookResult> {
  const serialParameter = options.serialParameter ?? "SerialNumber";
  const timeoutMs = Math.min(Math.max(options.timeoutMs ?? 2500, 1), MAX_HOOK_TIMEOUT_MS);
  const log = options.log ?? consoleLambdaLog;
  return async (event) => {
    const started = Date.now();
    const denied = (reason: string, extra: Record<string, unknown> = {}) => {
      log({ level: "warn", message: "provisioning denied", reason, ms: Date.now() - started, ...extra });
      return DENY;
    };
    try {
      const parameters = isStringRecord(event?.parameters) ? event.parameters : {};
      const serialNumber = parameters[serialParameter];
      if (typeof serialNumber !== "string" || serialNumber.length === 0) {
        return denied("missing_serial", { parameter: serialParameter });
      }
      const templateName = templateNameOf(event.templateArn);
      const response = await options.client.post(
        "/verify",
        {
          serialNumber,
          ...(event.claimCertificateId ? { claimCertificateId: event.claimCertificateId } : {}),
          ...(templateName ? { templateName } : {}),
          parameters,
        },
        AbortSignal.timeout(timeoutMs),
      );
      const body = response.body as {
        allowProvisioning?: unknown;
        parameterOverrides?: unknown;
        reason?: unknown;
      };
      if (response.status !== 200 || body?.allowProvisioning !== true) {
        return denied(typeof body?.reason === "string" ? body.reason : `http_${response.status}`, {
          status: response.status,
          serialNumber,
        });
      }
      const overrides = body.parameterOverrides ?? {};
      if (!isStringRecord(overrides)) return denied("unreadable_answer", { serialNumber });
      log({ level: "info", message: "provisioning allowed", serialNumber, ms: Date.now() - started });
      return { allowProvisioning: true, parameterOverrides: overrides };
    } catch (error) {
      const name = (error as { name?: unknown })?.name;
      return denied(name === "TimeoutError" || name === "AbortError" ? "timeout" : "error", {
        error: String((error as Error)?.message ?? error).slice(0, 200),
      });
    }
  };
}

/** `arn:…:provisioningtemplate/<name>` → `<name>`; anything else → null. */
export function templateNameOf(templateArn: unknown): string | null {
  if (typeof templateArn !== "string") return null;
  const match = /:provisioningtemplate\/([0-9A-Za-z_-]{1,36})$/.exec(templateArn);
  return match?.[1] ?? null;
}

function isStringRecord(value: unknown): value is Record<string, string> {
  return (
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    Object.values(value).every((v) => typeof v === "string")
  );
}
