/**
 * @granit/bundle-iot-aws — the seed's `Granit.Bundle.IoT.Aws`: `addGranitBundleIoTAws(host, { aws })`
 * wires the six AWS bridge packages into a host in one call (credentials, one call policy, SDK
 * clients, `iotaws_*` stores and migrations, provisioning, shadow, jobs, fleet provisioning, their
 * background services and the fleet endpoints), and `registerIoTAwsConfigSections` plugs every
 * `IoT:Aws:*` section's parser into the host's configuration.
 */
export {
  addGranitBundleIoTAws,
  type GranitBundleIoTAwsOptions,
  type GranitIoTAwsBundle,
  type IoTAwsClients,
} from "./add-granit-bundle-iot-aws.ts";
export {
  type AwsAccountConnection,
  type AwsClientsConnection,
  type AwsConnection,
  type AwsEndpoints,
  bringsOwnClients,
} from "./aws-connection.ts";
export type { DevicePolicyHandle } from "./device-policy-handle.ts";
export { AwsAccountUnknownError, GranitBundleIoTAwsError } from "./errors.ts";
export type { IoTAwsBackgroundService, IoTAwsBundleHost } from "./iot-aws-bundle-host.ts";
export {
  type ConfigSectionRegistrar,
  IOT_AWS_SECTIONS,
  type IoTAwsOptions,
  type IoTAwsSectionPath,
  readIoTAwsOptions,
  registerIoTAwsConfigSections,
} from "./iot-aws-options.ts";
