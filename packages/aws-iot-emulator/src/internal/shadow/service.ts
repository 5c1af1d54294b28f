/** The IoT Data plane (`iotdata` signing name, restJson1): device shadows. */
import type { ServiceDefinition } from "../operation.ts";
import { RestJsonRouter } from "../protocol/rest-json.ts";
import { registerShadows } from "./shadows.ts";

export function iotDataService(): ServiceDefinition {
  const router = new RestJsonRouter();
  registerShadows(router);
  return {
    name: "iotdata",
    protocol: "rest-json",
    throttling: { code: "ThrottlingException", status: 429 },
    internalError: { code: "InternalFailureException", status: 500 },
    resolve: (method, path) => router.match(method, path),
  };
}
