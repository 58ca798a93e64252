import type { Outcome } from "../model/index.js";
import { outcomeOfRule, type VendorRule } from "./quota.js";

/**
 * The lists in a successful answer's `data` that name tokens Honor did not deliver to
 * (`{"code":200,"data":{"sendResult":…,"failTokens":[…],"expireTokens":[…]}}`, vendors.md §8; the
 * response struct of zandala88/honor-push client.go), and "notAccepted": a token neither list names in
 * an answer whose `sendResult` is false.
 */
export type HonorTokenList = "failTokens" | "expireTokens" | "notAccepted";

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
 * Honor's answers, code by code (vendors.md §8 "Response"). Honor's own code table is still
 * UNCONFIRMED: developer.honor.com/cn/docs/11002/reference/downlink-message names a "downlink message
 * response code" page that renders client-side and is in no readable copy (the guide's copies,
 * https://my.oschina.net/u/5873522/blog/10140231, link it without its content). vendors.md names Honor's
 * codes "80200003-like" and "801000xx-like" after Huawei's, so the rows marked (Huawei) take the meaning
 * Huawei documents for the same code (vendors.md §3; huawei-outcomes.ts).
 *
 * Only `expireTokens` name dead devices. `failTokens` were not delivered for a reason Honor does not
 * give (vendors.md §8 bucketed them DROP, from one library): retried, and dead-lettered once the
 * attempts run out, never removed. A configuration answer is a credential problem: no device removed.
 */
const BY_CODE = new Map<number | HonorTokenList, VendorRule>([
  // Libraries check `code == 200`; whether Honor sends 200 or Huawei's 80000000 is UNCONFIRMED.
  [200, "delivered"],
  [80000000, "delivered"],
  // (Huawei) Some tokens failed: the others were accepted; the failed ones are named per token.
  [80100000, "delivered"],
  ["expireTokens", "drop-token"],
  ["failTokens", "retry"],
  ["notAccepted", "retry"],
  // (Huawei) Every token of the request is invalid: tokens of another app or a wrong app id, never
  // proof that the devices are gone (huawei-outcomes.ts, 80300007).
  [80300007, "credential-problem"],
  // (Huawei) No permission to send (push not enabled, another app's tokens), no right to this
  // classification.
  [80300002, "credential-problem"],
  [80300011, "credential-problem"],
  // (Huawei) OAuth authentication error / access token expired: fetch a new token, resend once; a
  // refusal of the fresh one is a credential problem (classifyHonor's `refreshed`).
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
  // (Huawei) Body too large, too many tokens.
  [80300008, "bad-request"],
  [80300010, "bad-request"],
  [HONOR_DAILY_QUOTA_CODE, "daily-quota"],
  // (Huawei) Internal system error.
  [81000001, "retry"],
]);

/**
 * A code the table does not know falls back on the HTTP status. HTTP 503 is retried: vendors.md lists
 * it both as flow control and as a server error, and a retry with its Retry-After serves both.
 */
function byStatus(status: number, stage: HonorAnswer["stage"]): VendorRule {
  if (status === 0 || status >= 500) return "retry";
  // The token endpoint refusing our client id or secret (`invalid_client`, `unauthorized_client`).
  if (stage === "auth") return "credential-problem";
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
  /** "auth": the token endpoint's answer, fetching the access token; absent = sendMessage. */
  stage?: "auth";
}

/**
 * Maps one Honor answer into the shared outcome; `nowMs` dates a daily-quota answer's reset.
 * `refreshed`: the answer came to a request resent with a freshly fetched access token, so a refusal
 * of the token says the credential itself is wrong, and is parked instead of retried for ever.
 */
export function classifyHonor(answer: HonorAnswer, nowMs: number, refreshed = false): Outcome {
  const { httpStatus, code, message, retryAfterSeconds, stage } = answer;
  const known = code !== undefined ? BY_CODE.get(code) : undefined;
  let rule = known ?? byStatus(httpStatus, stage);
  const escalated = refreshed && rule === "refresh-credential";
  if (escalated) rule = "credential-problem";
  const reason = [
    "Honor",
    code ?? (httpStatus === 0 ? "network" : httpStatus),
    message,
    escalated ? "(refused again with a new access token)" : undefined,
  ]
    .filter((part) => part !== undefined && part !== "")
    .join(" ");
  return outcomeOfRule(rule, {
    reason,
    nowMs,
    retryAfterSeconds,
    rateLimitBackoffSeconds: HONOR_RATE_LIMIT_BACKOFF_SECONDS,
  });
}
