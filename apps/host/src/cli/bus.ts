/**
 * `granit-iot bus dead-letters` and `granit-iot bus retry`: the durable bus's deliveries that
 * exhausted their attempts (with the last error), and their requeue once the cause is fixed, over
 * `/api/iot/bus/dead-letters`. Host-operator token only.
 */
import { integerArgument } from "./arguments.ts";
import { type CommandSpec, stringOption } from "./command.ts";

export const DEAD_LETTERS_PATH = "/api/iot/bus/dead-letters";

interface DeadLetterView {
  readonly id: number;
  readonly handler: string;
  readonly eventType: string;
  readonly eventId: string;
  readonly tenantId: string | null;
  readonly attempts: number;
  readonly lastError: string | null;
  readonly deadAt: string | null;
}

const list: CommandSpec = {
  path: ["bus", "dead-letters"],
  summary: "List the bus deliveries that exhausted their attempts, with their last error",
  positionals: { min: 0, max: 0 },
  options: {
    handler: { type: "string", value: "<name>", description: "Only this handler's dead letters" },
    limit: { type: "string", value: "<n>", description: "At most this many, 1-1000 (default 100)" },
  },
  details: "Calls GET /api/iot/bus/dead-letters (host-operator token). Newest first.",
  examples: [
    "granit-iot bus dead-letters",
    "granit-iot bus dead-letters --handler granit.iot.aws.provisioning.saga",
  ],
  async run(context) {
    const limit = integerArgument(stringOption(context, "limit"), "--limit", { min: 1, max: 1000 }, 100);
    const handler = stringOption(context, "handler");
    const page = await context
      .api()
      .get<{ items: DeadLetterView[] }>(DEAD_LETTERS_PATH, { query: { handler, limit: String(limit) } });
    context.out.result(page, () =>
      context.out.table(
        page.items,
        [
          { header: "ID", value: (l) => l.id, align: "right" },
          { header: "HANDLER", value: (l) => l.handler },
          { header: "EVENT", value: (l) => l.eventType },
          { header: "ATTEMPTS", value: (l) => l.attempts, align: "right" },
          { header: "DEAD AT", value: (l) => l.deadAt },
          { header: "LAST ERROR", value: (l) => l.lastError },
        ],
        "No dead letters.",
      ),
    );
    return undefined;
  },
};

const retry: CommandSpec = {
  path: ["bus", "retry"],
  summary: "Requeue a dead letter with a fresh attempt budget (after fixing its cause)",
  args: "<id>",
  positionals: { min: 1, max: 1 },
  details: "Calls POST /api/iot/bus/dead-letters/{id}/retry (host-operator token). Handlers are idempotent.",
  examples: ["granit-iot bus retry 42"],
  async run(context) {
    const id = integerArgument(context.positionals[0], "<id>", { min: 1, max: Number.MAX_SAFE_INTEGER }, 0);
    const result = await context
      .api()
      .post<{ id: number; requeued: boolean }>(`${DEAD_LETTERS_PATH}/${id}/retry`);
    context.out.result(result, () => context.out.line(`Dead letter ${id} requeued.`));
    return undefined;
  },
};

export const BUS_COMMANDS: readonly CommandSpec[] = [list, retry];
