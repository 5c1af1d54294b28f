/**
 * @granit/iot — the cloud-agnostic Device core (Ring 1): the Device aggregate, its value objects
 * and lifecycle events, and the ports (store, message bus, command dispatcher, clock, tenancy)
 * that persistence and cloud bridges implement. Imports no AWS SDK and no database driver.
 */
export type { AuditInfo, ChangeContext } from "./audit.ts";
export { createdAudit, deletedAudit, modifiedAudit } from "./audit.ts";
export type { Clock } from "./clock.ts";
export { ManualClock, systemClock } from "./clock.ts";
export { Device, type DeviceSnapshot, LABEL_MAX_LENGTH, type ProvisionDeviceInput } from "./domain/device.ts";
export { DeviceCredential } from "./domain/device-credential.ts";
export {
  DEVICE_STATUSES,
  DEVICE_TRANSITIONS,
  type DeviceLifecycleOperation,
  DeviceStatus,
  isDeviceStatus,
} from "./domain/device-status.ts";
export { type DeviceTags, MAX_TAGS, parseDeviceTags } from "./domain/device-tags.ts";
export { type FirmwareVersion, parseFirmwareVersion } from "./domain/firmware-version.ts";
export { type HardwareModel, parseHardwareModel } from "./domain/hardware-model.ts";
export {
  type DeviceSerialNumber,
  parseSerialNumber,
  SERIAL_NUMBER_MAX_LENGTH,
} from "./domain/serial-number.ts";
export {
  ConcurrencyConflictError,
  DomainValidationError,
  DuplicateKeyError,
  EntityNotFoundError,
  type FieldViolation,
  GranitIoTError,
  InvalidStatusTransitionError,
  OptionsValidationError,
} from "./errors.ts";
export {
  DEVICE_EVENT_TYPES,
  type DeviceActivatedEvent,
  type DeviceDecommissionedEvent,
  type DeviceLifecycleEvent,
  type DeviceProvisionedEvent,
  type DeviceReactivatedEvent,
  type DeviceSuspendedEvent,
} from "./events/device-events.ts";
export { AggregateRoot, type DomainEvent } from "./events/domain-event.ts";
export { isUuid, uuidv7 } from "./ids.ts";
export type {
  DeviceCommand,
  DeviceCommandDispatcher,
  DeviceCommandTarget,
  DispatchResult,
} from "./ports/device-command-dispatcher.ts";
export type { DeviceStore, ListDevicesQuery, Page } from "./ports/device-store.ts";
export { type Logger, silentLogger } from "./ports/logger.ts";
export type { DeliveryContext, EventHandler, MessageBus, SubscribeOptions } from "./ports/message-bus.ts";
export type { ReadinessGate } from "./ports/readiness.ts";
export type { TransactionScope, UnitOfWork } from "./ports/unit-of-work.ts";
export {
  ALL_TENANTS,
  parseTenantId,
  type TenantContext,
  type TenantFilter,
  type TenantId,
  tenantTag,
} from "./tenancy.ts";
export { type TimelineEntry, timelineMessage } from "./timeline.ts";
