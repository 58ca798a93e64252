import { setTimeout as sleep } from "node:timers/promises";
import type { Vendor } from "../../lib/model/index.js";
import type { FaultRule, SimulatorHub } from "./hub.js";

/** The hub's faults for each target of one request. */
export interface TakenFaults {
  /** One per target, in order; undefined where no fault was armed for it. */
  rules: (FaultRule | undefined)[];
  /** The slowest of their delays: how long the whole answer is held back. */
  delayMs: number;
}

/** Takes one fault per target, as a vendor meets each target of a multicast in turn. */
export function takeFaults(hub: SimulatorHub, vendor: Vendor, targets: readonly string[]): TakenFaults {
  const rules = targets.map((token) => hub.takeFault(vendor, token));
  return { rules, delayMs: Math.max(0, ...rules.map((rule) => rule?.delayMs ?? 0)) };
}

/** `takeFaults`, after waiting out the slowest delay. */
export async function takeFaultsAndWait(
  hub: SimulatorHub,
  vendor: Vendor,
  targets: readonly string[],
): Promise<(FaultRule | undefined)[]> {
  const { rules, delayMs } = takeFaults(hub, vendor, targets);
  if (delayMs > 0) await sleep(delayMs);
  return rules;
}

/** The fault armed for a single-target request, after waiting out its delay. */
export async function takeFaultAndWait(
  hub: SimulatorHub,
  vendor: Vendor,
  token: string,
): Promise<FaultRule | undefined> {
  const [rule] = await takeFaultsAndWait(hub, vendor, [token]);
  return rule;
}

/** The Retry-After header for a fault's `retryAfter` seconds; no header when it names none. */
export function retryAfterHeader(seconds: number | undefined): Record<string, string> {
  return seconds === undefined ? {} : { "retry-after": String(seconds) };
}
