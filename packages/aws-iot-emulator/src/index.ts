/**
 * `@granit/aws-iot-emulator`: a local, wire-compatible AWS IoT Core control plane, IoT Data plane
 * (device shadows), IoT Jobs data plane and Secrets Manager, for development and tests with the
 * unmodified AWS SDK for JavaScript v3 clients.
 *
 * @example
 * const emulator = await startEmulator({ port: 0 });
 * const iot = new IoTClient(emulator.clientConfig());
 */
export type { CallLogEntry } from "./internal/call-log.ts";
export { type Emulator, type EmulatorOptions, startEmulator } from "./internal/emulator.ts";
export type { FaultRule } from "./internal/faults.ts";
export type {
  Inventory,
  InventoryCertificate,
  InventoryJob,
  InventoryPolicy,
  InventorySecret,
  InventoryShadow,
  InventoryThing,
} from "./internal/inventory.ts";
export { AWS_DEFAULT_QUOTAS } from "./internal/quotas.ts";
