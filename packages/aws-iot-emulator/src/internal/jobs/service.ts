/** The IoT Jobs data plane (`iot-jobs-data` signing name, restJson1). */
import type { ServiceDefinition } from "../operation.ts";
import { RestJsonRouter } from "../protocol/rest-json.ts";
import { registerJobsDataPlane } from "./data-plane.ts";

export function jobsDataService(): ServiceDefinition {
  const router = new RestJsonRouter();
  registerJobsDataPlane(router);
  return {
    name: "iot-jobs-data",
    protocol: "rest-json",
    throttling: { code: "ThrottlingException", status: 429 },
    internalError: { code: "InternalServerException", status: 500 },
    resolve: (method, path) => router.match(method, path),
  };
}
