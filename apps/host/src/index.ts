/**
 * @granit/iot-host — the runnable Granit IoT host: configuration loading, the Fastify app with the
 * devices API, bearer auth, problem details, health, metrics and OpenAPI, and the seams through
 * which packages plug in (config sections, readiness gates, routes, background services,
 * migrations, bus subscriptions).
 */
import "./telemetry/meter-provider.ts";

export { type BearerAuthOptions, principalOf, useBearerAuth } from "./auth/bearer-auth.ts";
export { loadOrCreateOperatorToken, OPERATOR_TOKEN_FILE, type OperatorToken } from "./auth/operator-token.ts";
export { OPERATOR_SCOPES, type Scope, Scopes } from "./auth/scopes.ts";
export { type Principal, type TokenRegistration, TokenRegistry } from "./auth/token-registry.ts";
export { wireAwsBridge } from "./aws/aws-bridge.ts";
export {
  AWS_EMULATOR_SECTION,
  AWS_SIMULATION_SECTION,
  type AwsHostSettings,
  readAwsHostSettings,
  registerAwsHostSections,
} from "./aws/aws-settings.ts";
export { type AwsTarget, endpointsFromEnv, selectAwsTarget } from "./aws/aws-target.ts";
export {
  FLEET_ADMIN_PREFIX,
  type FleetProvisioningAdminRoutesOptions,
  FleetProvisioningScopes,
  fleetProvisioningAdminRoutes,
} from "./aws/fleet-provisioning-routes.ts";
export {
  AWS_SECTION_PATHS,
  type ConfigSectionParser,
  type ConfigSectionRegistration,
  ConfigSectionRegistry,
  defaultConfigSections,
  passThroughSection,
} from "./config/config-sections.ts";
export { ConfigurationError } from "./config/configuration-error.ts";
export { HOST_DEFAULTS, type HostConfig, type TokenConfig } from "./config/host-config.ts";
export { HelpRequested, type LoadConfigOptions, loadConfig, USAGE } from "./config/load-config.ts";
export {
  booleanSetting,
  integerSetting,
  oneOfSetting,
  optionalTextSetting,
  sectionSchema,
  textSetting,
  toOptionsErrors,
} from "./config/settings.ts";
export { DeviceService } from "./devices/device-service.ts";
export { type ReadinessCheck, ReadinessRegistry } from "./health/readiness.ts";
export {
  type BackgroundService,
  createHost,
  type Host,
  type HostMigration,
  type HostOverrides,
} from "./host.ts";
export { sendProblem } from "./http/error-handler.ts";
export {
  HttpProblem,
  PROBLEM_CONTENT_TYPE,
  type ProblemDetails,
  type ProblemFieldError,
  ProblemKind,
  problemDetailsSchema,
} from "./http/problem-details.ts";
export { createLogger, REDACT_PATHS, toIoTLogger } from "./telemetry/logger.ts";
export { meterProvider } from "./telemetry/meter-provider.ts";
