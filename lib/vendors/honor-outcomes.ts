import type { Outcome } from "../model/index.js";
import { outcomeOfRule, type VendorRule } from "./quota.js";

/** The lists in a successful answer's `data` that name tokens Honor will not deliver to. */
export type HonorTokenList = "failTokens" | "expireTokens";

/**
 * Honor's answer to an app that used up its daily quota. Honor's error-code reference renders
 * client-side and could not be read (vendors.md §8), so this code is UNCONFIRMED: it is the local
 * simulator's, in the 803xxxxx "sending refused" range of Huawei's table that Honor's API derives from.
 */
export const HONOR_DAILY_QUOTA_CODE = 80300009;

/**
 * How long to stay away after a rate-limit answer without Retry-After: Honor's limit is 3000 QPS per
 * app (vendors.md §8 "Limits"), so a few seconds lets the window pass without a hot loop.
 */
export const HONOR_RATE_LIMIT_BACKOFF_SECONDS = 5;

/**
 * Honor's answers, code by code (vendors.md §8 "Response"). Honor's own table is UNCONFIRMED; vendors.md
 * names its codes "80200003-like" and "801000xx-like" after Huawei's, so the rows marked (Huawei) take
 * the meaning Huawei documents for the same code (vendors.md §3 "Response and codes").
 */
const BY_CODE = new Map<number | HonorTokenList, VendorRule>([
  // Libraries check `code == 200`; whether Honor sends 200 or Huawei's 80000000 is UNCONFIRMED.
  [200, "delivered"],
  [80000000, "delivered"],
  // (Huawei) Some tokens failed: the others were accepted; the failed ones are named per token.
  [80100000, "delivered"],
  // A token named in `data.failTokens` or `data.expireTokens` is dead; the rest of the request went out.
  ["failTokens", "drop-token"],
  ["expireTokens", "drop-token"],
  // (Huawei) Every token of the request is invalid, or belongs to another app: vendors.md buckets it
  // DROP, and a token this credential's app cannot reach is as dead to it as an expired one.
  [80300007, "drop-token"],
  // (Huawei) OAuth authentication error / access token expired: fetch a new token, resend once.
  [80200001, "refresh-credential"],
  [80200003, "refresh-credential"],
  // (Huawei) Parameter errors: format, unsupported parameters, TTL, and the like.
  [80100001, "bad-request"],
  [80100002, "bad-request"],
  [80100003, "bad-request"],
  [80100004, "bad-request"],
  [80100013, "bad-request"],
  [80100016, "bad-request"],
  [80100018, "bad-request"],
  // (Huawei) No permission to send, body too large, too many tokens, no right to this importance.
  [80300002, "bad-request"],
  [80300008, "bad-request"],
  [80300010, "bad-request"],
  [80300011, "bad-request"],
  [HONOR_DAILY_QUOTA_CODE, "daily-quota"],
  // (Huawei) Internal system error.
  [81000001, "retry"],
]);

/**
 * A code the table does not know falls back on the HTTP status. HTTP 503 is retried: vendors.md lists
 * it both as flow control and as a server error, and a retry with its Retry-After serves both.
 */
function byStatus(status: number): VendorRule {
  if (status === 0 || status >= 500) return "retry";
  if (status === 401) return "refresh-credential";
  if (status === 429) return "rate-limit";
  // Includes a 2xx carrying a code nobody documented: parked with the code rather than called delivered.
  return "bad-request";
}

/** One Honor answer, or what stood for it (the token endpoint's refusal, a network error). */
export interface HonorAnswer {
  /** HTTP status; 0 when no answer came back (connection error, timeout). */
  httpStatus: number;
  /** Honor's `code` from the body, or the list of a successful answer that named the token. */
  code?: number | HonorTokenList;
  message?: string;
  /** The Retry-After header, in seconds. */
  retryAfterSeconds?: number;
}

/** Maps one Honor answer into the shared outcome; `nowMs` dates a daily-quota answer's reset. */
export function classifyHonor(answer: HonorAnswer, nowMs: number): Outcome {
  const { httpStatus, code, message, retryAfterSeconds } = answer;
  const rule = (code !== undefined ? BY_CODE.get(code) : undefined) ?? byStatus(httpStatus);
  const reason = ["Honor", code ?? (httpStatus === 0 ? "network" : httpStatus), message]
    .filter((part) => part !== undefined && part !== "")
    .join(" ");
  return outcomeOfRule(rule, {
    reason,
    nowMs,
    retryAfterSeconds,
    rateLimitBackoffSeconds: HONOR_RATE_LIMIT_BACKOFF_SECONDS,
  });
}
