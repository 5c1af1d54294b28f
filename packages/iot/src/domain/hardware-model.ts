import { requireText } from "./field-rules.ts";

/** The hardware model of a device: non-empty, at most 128 characters. */
export type HardwareModel = string & { readonly __brand: "HardwareModel" };

export const HARDWARE_MODEL_MAX_LENGTH = 128;

export function parseHardwareModel(value: unknown, field = "model"): HardwareModel {
  return requireText(value, field, HARDWARE_MODEL_MAX_LENGTH) as HardwareModel;
}
