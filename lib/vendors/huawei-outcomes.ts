import type { Outcome } from "../model/index.js";
import { outcomeOfRule, type VendorRule } from "./quota.js";

/** Success, with `msg` a JSON string listing the tokens that failed (vendors.md §3 "Response"). */
export const HUAWEI_PARTIAL_SUCCESS = "80100000";

/**
 * A per-token answer: the token was listed in the `illegal_tokens` of an 80100000 answer. The space
 * keeps it from ever colliding with a Huawei code.
 */
export const HUAWEI_ILLEGAL_TOKEN = "80100000 illegal_tokens";

/**
 * Push Kit answers, code by code (vendors.md §3 "Response and codes", from Huawei's push-sendapi
 * reference; the buckets are ours). A code Huawei adds later falls back on the HTTP status in `byStatus`.
 */
const BY_CODE = new Map<string, VendorRule>([
  ["80000000", "delivered"],
  // The listed tokens failed and are answered HUAWEI_ILLEGAL_TOKEN by the sender; the rest went out.
  [HUAWEI_PARTIAL_SUCCESS, "delivered"],
  [HUAWEI_ILLEGAL_TOKEN, "drop-token"],
  // Every token of the request is invalid. Tokens of another app get it too (vendors.md: "verify app ID
  // first"), but the access token was fetched for the same app id the send path names, so the device
  // tokens themselves are what is wrong.
  ["80300007", "drop-token"],
  // The access token was refused or has expired: the sender fetches a new one and resends once.
  ["80200001", "refresh-credential"],
  ["80200003", "refresh-credential"],
  // Huawei's OAuth service failed or refused the app id/secret behind the token; 1101 is the OAuth
  // endpoint's own `error` for a refused client or secret (sub_error 12304 "invalid client_secret").
  // Both are retried with the credential reloaded, so a rotated secret heals, and the worker
  // dead-letters the target once its attempts run out (vendors.md: "AUTH then BAD").
  ["80600003", "refresh-credential"],
  ["1101", "refresh-credential"],
  // Push Kit not enabled, or no approval for high-priority messages: fix the app's configuration.
  ["80300002", "bad-request"],
  ["80300011", "bad-request"],
  // Body over 4096 bytes, more than 1000 tokens, a bad receipt id.
  ["80300008", "bad-request"],
  ["80300010", "bad-request"],
  ["80300013", "bad-request"],
  // Parameter errors: token format, sync-message token count, structure, TTL, collapse_key, sensitive
  // content, failed third-party review.
  ["80100001", "bad-request"],
  ["80100002", "bad-request"],
  ["80100003", "bad-request"],
  ["80100004", "bad-request"],
  ["80100013", "bad-request"],
  ["80100016", "bad-request"],
  ["80100018", "bad-request"],
  // More than 100 concurrent topic tasks: passes as the running ones finish.
  ["80100017", "rate-limit"],
  ["81000001", "retry"],
]);

/**
 * How long a rate limit holds when Huawei sends no Retry-After: 80100017 clears as running topic tasks
 * finish, which takes longer than the next second.
 */
export const RATE_LIMIT_BACKOFF_SECONDS = 60;

/** One Huawei answer, as far as it could be read. */
export interface HuaweiAnswer {
  /** Absent when no HTTP answer came back (connection error, timeout). */
  httpStatus?: number;
  /**
   * Push Kit's `code`, HUAWEI_ILLEGAL_TOKEN for a token listed in an 80100000 answer, or the OAuth
   * endpoint's `error` when fetching the access token failed.
   */
  code?: string;
  /** Huawei's `msg` (or the OAuth `error_description`), or the network error. */
  message?: string;
  retryAfterSeconds?: number;
}

function byStatus(status: number | undefined): VendorRule {
  // HTTP 503 is Huawei's QPS flow control as well as an overload (vendors.md §3 buckets it QUOTA/RETRY
  // with backoff): retried with the worker's backoff, or after its Retry-After.
  if (status === undefined || status >= 500) return "retry";
  if (status === 401) return "refresh-credential";
  // UNCONFIRMED: Huawei documents no synchronous daily-quota answer (its per-device and marketing caps
  // come back in receipts, vendors.md §3), yet Tencent has an error for "Huawei daily push limit
  // exceeded" (tencent-chat.md §8, -203). Huawei never documents HTTP 429 (its QPS flow control is
  // 503), so a 429 is read as that daily limit, and the simulator answers its daily quota this way.
  if (status === 429) return "daily-quota";
  // A 2xx without a known code is no success Huawei documents; retrying it would repeat the same answer.
  return "bad-request";
}

/** Maps one Huawei answer into the shared outcome; `nowMs` dates a daily quota's reset. */
export function classifyHuawei(answer: HuaweiAnswer, nowMs: number): Outcome {
  const { httpStatus, code, message, retryAfterSeconds } = answer;
  const rule = (code !== undefined ? BY_CODE.get(code) : undefined) ?? byStatus(httpStatus);
  const head = code ?? (httpStatus !== undefined ? `HTTP ${httpStatus}` : "network");
  const reason = ["Huawei", head, message].filter((part) => part !== undefined && part !== "").join(" ");
  return outcomeOfRule(rule, {
    reason,
    nowMs,
    retryAfterSeconds,
    rateLimitBackoffSeconds: RATE_LIMIT_BACKOFF_SECONDS,
  });
}
