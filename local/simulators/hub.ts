import { openSync, writeSync } from "node:fs";
import type { Vendor } from "../../lib/model/index.js";

/** What a simulator received, as `GET /_local/deliveries` shows it. */
export interface SimulatedDelivery {
  vendor: Vendor;
  token: string;
  /** ISO time the request arrived. */
  at: string;
  /** HTTP status the simulator answered with. */
  status: number;
  request: { headers: Record<string, string>; body: unknown };
  /** Vendor-specific extras, e.g. APNs "sandbox" | "production". */
  environment?: string;
  /**
   * The real vendor URL the request was addressed to (e.g. OPPO's international host for an overseas
   * regId): the sender's `x-chatpush-vendor-url` header (lib/vendors/endpoint.ts), or what the
   * simulator knows of its own host (FCM's Host header, APNs' environment).
   */
  endpoint?: string;
  /**
   * The armed fault this target's request was answered with (`POST /_local/faults`), when it was a
   * refusal. Several vendors refuse inside an HTTP 200 (a code in the body: Xiaomi, vivo, Meizu …),
   * so `status` alone does not say whether the phone got it; a slow success has no `fault`.
   */
  fault?: { status: number; reason?: string };
}

/** `POST /_local/faults`: fail the next `count` requests of `vendor` (for `token`, when given). */
export interface FaultRule {
  vendor: Vendor;
  token?: string;
  /** HTTP status to answer with; 200 with `delayMs` makes a slow success. */
  status: number;
  reason?: string;
  /** Seconds, sent as the Retry-After header. */
  retryAfter?: number;
  /** Wait this long before answering. */
  delayMs?: number;
  /**
   * Fire on this share of the matching requests (0 < rate ≤ 1), at random, instead of on every one:
   * the fault suite's "20% of vendor requests fail". `count` still bounds how often it fires.
   */
  rate?: number;
  count: number;
}

/**
 * Deliveries the hub keeps for `GET /_local/deliveries`: the newest this many. A long-running
 * `npm start` (the soak: 100 callbacks/s for minutes) would otherwise grow without end; listeners
 * still see every delivery.
 */
export const DEFAULT_KEPT_DELIVERIES = 20_000;

/** Shared by every simulator: the delivery log and the fault book. */
export class SimulatorHub {
  private readonly deliveries: SimulatedDelivery[] = [];
  private readonly faults: FaultRule[] = [];
  private readonly listeners = new Set<(d: SimulatedDelivery) => void>();
  private recorded = 0;
  /** Rolls for rate faults; a suite that wants a repeatable run seeds it (`seedFaults`). */
  private random: () => number = Math.random;

  private readonly logFd: number | undefined;

  /**
   * With `logPath`, every delivery is also appended to that file (one JSON line, written
   * synchronously before the simulator answers): the crash and fault suites count what the vendors
   * accepted across a runtime killed mid-burst, which the in-memory list cannot survive.
   */
  constructor(
    private readonly keep = DEFAULT_KEPT_DELIVERIES,
    logPath?: string,
  ) {
    this.logFd = logPath === undefined ? undefined : openSync(logPath, "a");
  }

  /**
   * `rule` is the fault this target's request took (`takeFault`), if any: a refusal marks the
   * delivery with it. The simulator hands it over itself: a mark kept per token would go to whichever
   * request for that token is recorded next, and requests for one phone overtake each other (a slow
   * answer, two streams whose handlers interleave), which marked an accepted message refused.
   */
  record(delivery: SimulatedDelivery, rule?: FaultRule): void {
    const fault = refusalOf(rule);
    if (fault !== undefined && delivery.fault === undefined) delivery.fault = fault;
    if (this.logFd !== undefined) writeSync(this.logFd, `${JSON.stringify(delivery)}\n`);
    this.recorded += 1;
    this.deliveries.push(delivery);
    // Trim in chunks, so trimming costs nothing per delivery on average.
    if (this.deliveries.length > this.keep * 1.25)
      this.deliveries.splice(0, this.deliveries.length - this.keep);
    for (const listener of this.listeners) listener(delivery);
  }

  /** Every delivery recorded since the start (or the last clear), kept or not. */
  total(): number {
    return this.recorded;
  }

  /** Oldest first. */
  list(): SimulatedDelivery[] {
    return [...this.deliveries];
  }

  clear(): void {
    this.deliveries.length = 0;
    this.recorded = 0;
  }

  onDelivery(listener: (d: SimulatedDelivery) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  addFault(rule: FaultRule): void {
    if (rule.count > 0) this.faults.push({ ...rule });
  }

  /** Makes rate faults repeatable: the same seed, the same requests fail (mulberry32). */
  seedFaults(seed: number): void {
    let state = seed >>> 0;
    this.random = () => {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
    };
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  /**
   * The first armed fault matching this request that fires (a rule with a `rate` fires on that share
   * of requests), consuming one of its `count`.
   */
  takeFault(vendor: Vendor, token: string): FaultRule | undefined {
    const index = this.faults.findIndex(
      (f) =>
        f.vendor === vendor &&
        (f.token === undefined || f.token === token) &&
        (f.rate === undefined || this.random() < f.rate),
    );
    if (index < 0) return undefined;
    const rule = this.faults[index]!;
    rule.count -= 1;
    if (rule.count <= 0) this.faults.splice(index, 1);
    return { ...rule };
  }
}

/** The refusal a taken fault stands for; none for no fault or a slow success. */
export function refusalOf(rule: FaultRule | undefined): SimulatedDelivery["fault"] {
  if (rule === undefined || (rule.status === 200 && rule.reason === undefined)) return undefined;
  return { status: rule.status, ...(rule.reason !== undefined ? { reason: rule.reason } : {}) };
}

/**
 * Records one delivery per target of a request, all with the same answer and request, each marked
 * with the fault its target took (`rules`, in target order); a request that names no target is still
 * recorded once, under the empty token.
 */
export function recordPerTarget(
  hub: SimulatorHub,
  targets: readonly string[],
  delivery: Omit<SimulatedDelivery, "token">,
  rules: readonly (FaultRule | undefined)[] = [],
): void {
  const { vendor, ...rest } = delivery;
  if (targets.length === 0) hub.record({ vendor, token: "", ...rest });
  for (const [index, token] of targets.entries()) hub.record({ vendor, token, ...rest }, rules[index]);
}
