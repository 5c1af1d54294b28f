/**
 * The admin API under `/_emulator/` on the same port (no SigV4 needed), for tests and tools in other
 * processes: reset, inventory, call log, fault rules, quotas, health.
 */
import type { ServerResponse } from "node:http";
import type { CallLog } from "./call-log.ts";
import type { FaultRule } from "./faults.ts";
import type { Inventory } from "./inventory.ts";
import type { QuotaSetting } from "./quotas.ts";
import { writeJson } from "./server.ts";

export interface AdminTarget {
  readonly region: string;
  readonly accountId: string;
  readonly url: string;
  reset(): void;
  inventory(): Inventory;
  readonly callLog: CallLog;
  faults(): FaultRule[];
  setFaults(rules: FaultRule[]): void;
  quotas(): Readonly<Record<string, number>>;
  setQuotas(setting: QuotaSetting): void;
}

const JSON_CONTENT = "application/json";

export function createAdminHandler(target: AdminTarget) {
  return (method: string, path: string, body: Buffer, res: ServerResponse): void => {
    const reply = (status: number, value: unknown) => writeJson(res, status, JSON_CONTENT, value);
    let input: unknown;
    try {
      input = body.length > 0 ? JSON.parse(body.toString("utf8")) : undefined;
    } catch {
      reply(400, { message: "The request body is not valid JSON" });
      return;
    }
    try {
      switch (`${method} ${path}`) {
        case "GET /_emulator/health":
          reply(200, { status: "ok", url: target.url, region: target.region, accountId: target.accountId });
          return;
        case "POST /_emulator/reset":
          target.reset();
          reply(200, { reset: true });
          return;
        case "GET /_emulator/inventory":
          reply(200, target.inventory());
          return;
        case "GET /_emulator/calls":
          reply(200, { calls: target.callLog.entries(), counts: target.callLog.counts() });
          return;
        case "GET /_emulator/faults":
          reply(200, { faults: target.faults() });
          return;
        case "PUT /_emulator/faults": {
          const rules = Array.isArray(input) ? input : (input as { faults?: unknown } | undefined)?.faults;
          if (!Array.isArray(rules))
            throw new TypeError("Expected an array of fault rules (or {faults: [...]})");
          target.setFaults(rules as FaultRule[]);
          reply(200, { faults: target.faults() });
          return;
        }
        case "GET /_emulator/quotas":
          reply(200, { quotas: target.quotas() });
          return;
        case "PUT /_emulator/quotas": {
          const wrapped = input && typeof input === "object" && !Array.isArray(input) && "quotas" in input;
          const setting = wrapped ? (input as { quotas: unknown }).quotas : input;
          target.setQuotas(setting as QuotaSetting);
          reply(200, { quotas: target.quotas() });
          return;
        }
        default:
          reply(404, { message: `No admin route ${method} ${path}` });
      }
    } catch (error) {
      reply(400, { message: error instanceof Error ? error.message : String(error) });
    }
  };
}
