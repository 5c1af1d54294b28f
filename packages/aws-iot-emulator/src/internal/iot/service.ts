/** The IoT control plane (`iot` signing name, restJson1). */
import type { ServiceDefinition } from "../operation.ts";
import { RestJsonRouter } from "../protocol/rest-json.ts";
import { registerCertificates } from "./certificates.ts";
import { registerEndpoint } from "./endpoint.ts";
import { registerJobs } from "./jobs.ts";
import { registerPolicies } from "./policies.ts";
import { registerPrincipals } from "./principals.ts";
import { registerThingGroups } from "./thing-groups.ts";
import { registerThings } from "./things.ts";

export function iotService(): ServiceDefinition {
  const router = new RestJsonRouter();
  registerThings(router);
  registerThingGroups(router);
  registerCertificates(router);
  registerPolicies(router);
  registerPrincipals(router);
  registerJobs(router);
  registerEndpoint(router);
  return {
    name: "iot",
    protocol: "rest-json",
    throttling: { code: "ThrottlingException", status: 400 },
    internalError: { code: "InternalFailureException", status: 500 },
    resolve: (method, path) => router.match(method, path),
  };
}
