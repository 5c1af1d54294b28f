/**
 * The shared context every operation handler receives: the account's state, identity, the injected
 * clock and the certificate machinery. The emulator builds one per instance.
 */
import type { CertificateAuthority } from "./iot/certificate-authority.ts";
import type { KeyPool } from "./iot/key-pool.ts";
import type { State } from "./state.ts";

export interface EmulatorContext {
  /** Replaced wholesale by reset(); always read it through the context. */
  state: State;
  readonly region: string;
  readonly accountId: string;
  /** Epoch milliseconds from the injected clock. */
  now(): number;
  readonly detachPropagationMs: number;
  readonly ca: CertificateAuthority;
  readonly keyPool: KeyPool;
  /** `host:port` of this emulator, answered by DescribeEndpoint. */
  endpointAddress(): string;
}

export function thingArn(ctx: EmulatorContext, name: string): string {
  return `arn:aws:iot:${ctx.region}:${ctx.accountId}:thing/${name}`;
}

export function thingGroupArn(ctx: EmulatorContext, name: string): string {
  return `arn:aws:iot:${ctx.region}:${ctx.accountId}:thinggroup/${name}`;
}

export function certificateArn(ctx: EmulatorContext, id: string): string {
  return `arn:aws:iot:${ctx.region}:${ctx.accountId}:cert/${id}`;
}

export function policyArn(ctx: EmulatorContext, name: string): string {
  return `arn:aws:iot:${ctx.region}:${ctx.accountId}:policy/${name}`;
}

export function jobArn(ctx: EmulatorContext, id: string): string {
  return `arn:aws:iot:${ctx.region}:${ctx.accountId}:job/${id}`;
}

/** Epoch milliseconds → epoch seconds, the restJson1/awsJson timestamp wire format. */
export const seconds = (ms: number): number => ms / 1000;
