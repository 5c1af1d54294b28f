/**
 * Conformance support: the scenarios of test/scenarios/*.ts as a list, a clock that moto does not
 * have, and the moto starter of `@granit/aws-iot-emulator/testing`.
 */
import * as certificates from "../scenarios/certificates.ts";
import * as jobs from "../scenarios/jobs.ts";
import * as principals from "../scenarios/principals.ts";
import * as secrets from "../scenarios/secrets.ts";
import * as shadows from "../scenarios/shadows.ts";
import * as things from "../scenarios/things.ts";
import type { Clients, TimeControl } from "./harness.ts";

export { findMotoServer, MOTO_NOT_FOUND, type MotoServer, startMotoServer } from "../../src/testing.ts";

export type Scenario = (clients: Clients, time: TimeControl) => Promise<void>;

/** The scenario modules, by area. Every export of these modules is a scenario. */
export const SCENARIO_MODULES = { things, certificates, principals, shadows, secrets, jobs } as const;

export type Area = keyof typeof SCENARIO_MODULES;

export interface NamedScenario {
  /** `area.functionName`, e.g. `things.deleteMissingThingSucceeds`. */
  readonly key: string;
  readonly area: Area;
  readonly name: string;
  /** The function name as a sentence: `delete missing thing succeeds`. */
  readonly title: string;
  readonly run: Scenario;
}

/** `deleteThingStillAttachedAnswersHttp400` → `delete thing still attached answers http 400`. */
export function sentence(camel: string): string {
  return camel
    .replace(/([a-z])([A-Z0-9])/g, "$1 $2")
    .replace(/([0-9])([A-Za-z])/g, "$1 $2")
    .toLowerCase();
}

/** Every exported scenario, by area, alphabetically within an area (module namespace order). */
export function allScenarios(): NamedScenario[] {
  const out: NamedScenario[] = [];
  for (const [area, module] of Object.entries(SCENARIO_MODULES) as [Area, Record<string, unknown>][]) {
    for (const [name, value] of Object.entries(module)) {
      if (typeof value !== "function") throw new Error(`${area}.${name} is exported but not a scenario`);
      out.push({ key: `${area}.${name}`, area, name, title: sentence(name), run: value as Scenario });
    }
  }
  return out;
}

/** A scenario moved the clock of a backend that runs on wall-clock time. */
export class ClockUnavailableError extends Error {
  override readonly name = "ClockUnavailableError";
}

/** The TimeControl given to moto: it runs on wall-clock time, so a scenario that needs the clock fails loudly. */
export const wallClockOnly: TimeControl = {
  advance(ms: number) {
    throw new ClockUnavailableError(
      `the scenario advanced the clock by ${ms} ms, but moto runs on wall-clock time: list it in NEEDS_CLOCK`,
    );
  },
};
