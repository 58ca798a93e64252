import type { Outcome, OutcomeKind } from "../model/index.js";

/** The Chinese vendors reset daily quotas at midnight Beijing time (UTC+8, no daylight saving). */
const BEIJING_OFFSET_MS = 8 * 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

/** Seconds from `nowMs` until the next midnight in Beijing: how long a daily-quota answer holds. */
export function secondsUntilDailyQuotaReset(nowMs: number): number {
  const beijing = nowMs + BEIJING_OFFSET_MS;
  const nextMidnight = Math.floor(beijing / DAY_MS) * DAY_MS + DAY_MS;
  return Math.ceil((nextMidnight - beijing) / 1000);
}

/**
 * What a vendor's code table maps an answer to: an outcome kind as it is, except that a quota is a
 * daily one (holds until Beijing midnight) or a rate limit (holds for Retry-After, else the vendor's
 * backoff).
 */
export type VendorRule = Exclude<OutcomeKind, "quota"> | "daily-quota" | "rate-limit";

export interface RuleContext {
  reason: string;
  /** Dates a daily quota's reset. */
  nowMs: number;
  retryAfterSeconds?: number;
  /** How long a rate limit holds when the vendor sent no Retry-After. */
  rateLimitBackoffSeconds: number;
  /** The vendor's message id, for a delivered answer. */
  vendorId?: string;
}

/** The shared outcome for a vendor's rule; a retry keeps the vendor's Retry-After when it sent one. */
export function outcomeOfRule(rule: VendorRule, context: RuleContext): Outcome {
  const { reason, nowMs, retryAfterSeconds, rateLimitBackoffSeconds, vendorId } = context;
  switch (rule) {
    case "delivered":
      return vendorId === undefined ? { kind: "delivered" } : { kind: "delivered", vendorId };
    case "daily-quota":
      return { kind: "quota", reason, retryAfterSeconds: secondsUntilDailyQuotaReset(nowMs) };
    case "rate-limit":
      return { kind: "quota", reason, retryAfterSeconds: retryAfterSeconds ?? rateLimitBackoffSeconds };
    case "retry":
      return retryAfterSeconds === undefined
        ? { kind: "retry", reason }
        : { kind: "retry", reason, retryAfterSeconds };
    default:
      return { kind: rule, reason };
  }
}
