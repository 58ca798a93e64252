import type { Outcome } from "../model/index.js";
import { outcomeOfRule, type VendorRule } from "./quota.js";

/** A per-token answer: the regId was listed in `data.bad_regids` of an otherwise successful send. */
export const BAD_REGID = "bad_regids";

/**
 * Mi Push answers, code by code (vendors.md §4 "Response", from Xiaomi's error-code page pId=1560;
 * the buckets are ours). A code Xiaomi adds later falls back on `byStatus`.
 */
const BY_CODE = new Map<number | typeof BAD_REGID, VendorRule>([
  [0, "delivered"],
  // "Send failed": libraries read it as "no valid target in the request" (its reason is "No valid
  // targets!"), UNCONFIRMED, so the whole chunk's tokens are dropped as vendors.md §4 advises.
  [20301, "drop-token"],
  [65003, "drop-token"],
  // data.bad_regids is UNCONFIRMED in Xiaomi's docs but read by several libraries: only those regIds die.
  [BAD_REGID, "drop-token"],
  // The AppSecret is static (vendors.md §4 "Auth"): there is no token to refresh, so a refused secret
  // is a configuration error, never refresh-credential.
  [21301, "bad-request"],
  [21302, "bad-request"],
  [21303, "bad-request"],
  [21305, "bad-request"],
  [22022, "bad-request"],
  // The private (IM) channel id is wrong or not approved for this app.
  [27001, "bad-request"],
  [65009, "bad-request"],
  // Parameter and content errors (26005, 26006: content review).
  [10016, "bad-request"],
  [10017, "bad-request"],
  [22000, "bad-request"],
  [22006, "bad-request"],
  [22007, "bad-request"],
  [22102, "bad-request"],
  [26005, "bad-request"],
  [26006, "bad-request"],
  [10029, "bad-request"],
  [10030, "bad-request"],
  [10036, "bad-request"],
  [10038, "bad-request"],
  [10039, "bad-request"],
  [10031, "bad-request"],
  [10002, "retry"],
  [10003, "retry"],
  [10037, "retry"],
  [65029, "retry"],
  // Unknown/internal: retried, and the worker's attempt cap keeps it "limited".
  [-1, "retry"],
  [1, "retry"],
  // QPS (10027) and broadcast (26004) frequency limits pass within seconds.
  [10027, "rate-limit"],
  [26004, "rate-limit"],
  [10034, "daily-quota"],
  // limits-and-costs.md (pId=1656) names 200001 as the over-quota answer for public messages, where
  // vendors.md §4 has 10034: both are read as the daily quota.
  [200001, "daily-quota"],
]);

/**
 * How long a QPS limit holds when Xiaomi sends no Retry-After: its limits are per second (vendors.md §4
 * "Limits"), but an app that hit one is bursting, so the retry waits out more than the next second.
 */
export const RATE_LIMIT_BACKOFF_SECONDS = 10;

/** One Xiaomi answer, as far as it could be read. */
export interface XiaomiAnswer {
  /** Absent when no HTTP answer came back (connection error, timeout). */
  httpStatus?: number;
  /** Xiaomi's `code`, or BAD_REGID for a token listed in `data.bad_regids`. */
  code?: number | typeof BAD_REGID;
  /** Xiaomi's `reason` (English) or `description`, or the network error. */
  message?: string;
  retryAfterSeconds?: number;
}

/**
 * For a code the table does not know, or no code at all. Xiaomi answers business errors with HTTP
 * 200, so a new code there is most likely a new way to refuse the request: parked with its reason.
 * A 2xx without a readable code may or may not have been sent; a resend only replaces the shown
 * notification (same notify_id), where a loss would go unnoticed.
 */
function byStatus(status: number | undefined, hasCode: boolean): VendorRule {
  if (status === undefined || status >= 500) return "retry";
  if (status >= 200 && status < 300) return hasCode ? "bad-request" : "retry";
  if (status === 429) return "rate-limit";
  return "bad-request";
}

/** Maps one Xiaomi answer into the shared outcome; `nowMs` dates a daily quota's reset. */
export function classifyXiaomi(answer: XiaomiAnswer, nowMs: number): Outcome {
  const { httpStatus, code, message, retryAfterSeconds } = answer;
  const rule =
    (code !== undefined ? BY_CODE.get(code) : undefined) ?? byStatus(httpStatus, code !== undefined);
  const head =
    code !== undefined ? String(code) : httpStatus !== undefined ? `HTTP ${httpStatus}` : "network";
  const reason = ["Xiaomi", head, message].filter((part) => part !== undefined && part !== "").join(" ");
  return outcomeOfRule(rule, {
    reason,
    nowMs,
    retryAfterSeconds,
    rateLimitBackoffSeconds: RATE_LIMIT_BACKOFF_SECONDS,
  });
}
