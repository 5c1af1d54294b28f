/**
 * Reads the SigV4 credential scope of a request to learn which AWS service the SDK meant to call.
 * The emulator routes on it (`iot`, `iotdata`, `iot-jobs-data`, `secretsmanager`) because the IoT
 * control plane and the two data planes share paths (e.g. `GET /things/{thingName}/jobs`).
 * Signatures are not verified: any credentials are accepted.
 */
export interface CredentialScope {
  readonly accessKeyId: string;
  readonly region: string;
  readonly service: string;
}

/** Parses `AWS4-HMAC-SHA256 Credential=AKID/20250101/us-east-1/iot/aws4_request, ...`. */
export function parseCredentialScope(authorization: string | undefined): CredentialScope | undefined {
  if (!authorization) return undefined;
  const start = authorization.indexOf("Credential=");
  if (start < 0) return undefined;
  let end = authorization.indexOf(",", start);
  if (end < 0) end = authorization.length;
  const parts = authorization
    .slice(start + 11, end)
    .trim()
    .split("/");
  if (parts.length < 5) return undefined;
  return { accessKeyId: parts[0] ?? "", region: parts[2] ?? "", service: parts[3] ?? "" };
}
