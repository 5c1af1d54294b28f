/**
 * DescribeEndpoint. AWS answers an account-specific host name (`xxxx-ats.iot.<region>.amazonaws.com`);
 * the emulator answers its own `host:port` for every endpoint type, so code that builds data-plane
 * clients from DescribeEndpoint reaches the emulator (use `http://`, the emulator speaks no TLS).
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_DescribeEndpoint.html
 */
import { invalidRequest } from "../errors.ts";
import { type OperationRequest, ok } from "../operation.ts";
import type { RestJsonRouter } from "../protocol/rest-json.ts";

const ENDPOINT_TYPES = new Set(["iot:Data", "iot:Data-ATS", "iot:CredentialProvider", "iot:Jobs"]);

function describeEndpoint({ ctx, query }: OperationRequest) {
  const type = query.get("endpointType") ?? "iot:Data";
  if (!ENDPOINT_TYPES.has(type)) throw invalidRequest(`Invalid endpointType ${type}`);
  return ok({ endpointAddress: ctx.endpointAddress() });
}

export function registerEndpoint(router: RestJsonRouter): void {
  router.add("GET", "/endpoint", "DescribeEndpoint", describeEndpoint);
}
