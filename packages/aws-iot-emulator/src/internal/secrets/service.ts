/**
 * Secrets Manager (`secretsmanager` signing name, awsJson1_1): every call is `POST /` with
 * `X-Amz-Target: secretsmanager.<Operation>`.
 */
import type { Operation, ServiceDefinition } from "../operation.ts";
import { SECRETS_OPERATIONS } from "./secrets.ts";

const READ_ONLY = new Set(["DescribeSecret", "ListSecrets"]);

export function secretsService(): ServiceDefinition {
  const operations = new Map<string, Operation>(
    Object.entries(SECRETS_OPERATIONS).map(([name, handler]) => [
      `secretsmanager.${name}`,
      { name, handler, readOnly: READ_ONLY.has(name) },
    ]),
  );
  return {
    name: "secretsmanager",
    protocol: "aws-json",
    throttling: { code: "ThrottlingException", status: 400 },
    internalError: { code: "InternalServiceError", status: 500 },
    resolve: (method, _path, target) => {
      const operation = method === "POST" && target ? operations.get(target) : undefined;
      return operation ? { operation, params: {} } : undefined;
    },
  };
}
