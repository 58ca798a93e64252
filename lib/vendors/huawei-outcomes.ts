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
 * Push Kit answers, code by code, as Huawei documents them: the send API's response codes
 * (https://developer.huawei.com/consumer/en/doc/HMSCore-References/https-send-api-0000001050986197,
 * vendors.md §3) and the common-error page with each code's causes
 * (https://developer.huawei.com/consumer/cn/doc/development/HMSCore-Guides/commonerror-0000001059816656).
 * A code Huawei adds later falls back on the HTTP status in `byStatus`.
 *
 * Only `illegal_tokens` name dead devices. Every answer that says our app id, project, secret or
 * entitlement is wrong is a credential problem: the job is parked and alarmed, no device is removed.
 */
const BY_CODE = new Map<string, VendorRule>([
  ["80000000", "delivered"],
  // The listed tokens failed and are answered HUAWEI_ILLEGAL_TOKEN by the sender; the rest went out.
  [HUAWEI_PARTIAL_SUCCESS, "delivered"],
  [HUAWEI_ILLEGAL_TOKEN, "drop-token"],
  // "All the tokens are invalid." Huawei's causes: tokens of another app, a client whose package name
  // or app id differ from AppGallery Connect's, an access token of another app (commonerror page;
  // Huawei's FAQ https://blog.csdn.net/HUAWEI_HMSCore/article/details/125866284 names "the token
  // belongs to app B" too). A whole batch failing at once is the signature of a wrong app id or
  // project, never proof that the devices are gone: one such answer must not wipe the device table.
  ["80300007", "credential-problem"],
  // The access token was refused or has expired: the sender fetches a new one and resends once; a
  // refusal of the fresh token is a credential problem (classifyHuawei's `refreshed`). 80200001 is
  // also "the access token of app A used for app B" (the FAQ above).
  ["80200001", "refresh-credential"],
  ["80200003", "refresh-credential"],
  // UNCONFIRMED meaning (vendors.md §3: "OAuth server error / wrong credentials", "AUTH then BAD"):
  // refreshed once, then a credential problem like the two above.
  ["80600003", "refresh-credential"],
  // The OAuth endpoint's own `error` for a refused client or secret
  // (`{"error":1101,"error_description":"invalid client_secret","sub_error":12304}`): no access token
  // can be had until the secret is fixed.
  ["1101", "credential-problem"],
  // "No permission to send message to these tokens": Push Kit not enabled for the app, the tokens'
  // app or project differ from the access token's, or no overseas Push entitlement (commonerror page).
  ["80300002", "credential-problem"],
  // No permission for the priority or category sent (vendors.md §3): an approval the credential
  // claims (e.g. `voipCategory`) that the app does not have.
  ["80300011", "credential-problem"],
  // Body over 4096 bytes, more than 1000 tokens, a bad receipt id.
  ["80300008", "bad-request"],
  ["80300010", "bad-request"],
  ["80300013", "bad-request"],
  // Parameter errors: token format, sync-message token count, structure, TTL, collapse_key, sensitive
  // content (80100016), failed third-party review.
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

/**
 * HTTP 503 is Push Kit's flow control ("流量控制": spread the sending out, commonerror page; the same
 * in https://developer.huawei.com/consumer/en/doc/harmonyos-references/push-scenariozed-api-response):
 * the QPS window passes within seconds. An undocumented 429 is held as long.
 */
export const FLOW_CONTROL_BACKOFF_SECONDS = 5;

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
  /** "oauth": the answer is the OAuth endpoint's, fetching the access token; absent = messages:send. */
  stage?: "oauth";
}

/**
 * A code the table does not know, by its HTTP status (Huawei's HTTP table: 400 parameter error, 401
 * authentication failed, 404 service not found, 500 internal error, 502 connection error, 503 flow
 * control; push-scenariozed-api-response above).
 */
function byStatus(status: number | undefined, stage: HuaweiAnswer["stage"]): VendorRule {
  if (status === undefined) return "retry";
  if (status === 503) return "rate-limit";
  if (status >= 500) return "retry";
  // The OAuth endpoint refusing our client id or secret, whatever its error number.
  if (stage === "oauth") return "credential-problem";
  if (status === 401) return "refresh-credential";
  // "Check the request URL": the only variable part of ours is the app id.
  if (status === 404) return "credential-problem";
  // Huawei lists no HTTP 429 and no synchronous daily quota (per-device and marketing caps come back
  // in receipts, vendors.md §3), so a 429 from a front end means what HTTP says: too many requests
  // now. It is held for its Retry-After, never until Beijing midnight.
  if (status === 429) return "rate-limit";
  // A 2xx without a known code is no success Huawei documents; retrying it would repeat the same answer.
  return "bad-request";
}

/**
 * Maps one Huawei answer into the shared outcome; `nowMs` dates a daily quota's reset. `refreshed`:
 * the answer came to a request resent with a freshly fetched access token, so a refusal of the token
 * now says the credential itself is wrong (an app id that does not match the client, a revoked
 * secret) and is parked as a credential problem instead of being retried for ever.
 */
export function classifyHuawei(answer: HuaweiAnswer, nowMs: number, refreshed = false): Outcome {
  const { httpStatus, code, message, retryAfterSeconds, stage } = answer;
  const known = code !== undefined ? BY_CODE.get(code) : undefined;
  let rule = known ?? byStatus(httpStatus, stage);
  if (refreshed && rule === "refresh-credential") rule = "credential-problem";
  const head = code ?? (httpStatus !== undefined ? `HTTP ${httpStatus}` : "network");
  const reason = [
    "Huawei",
    stage === "oauth" ? "OAuth" : undefined,
    head,
    message,
    refreshed && rule === "credential-problem" && known !== "credential-problem"
      ? "(refused again with a new access token)"
      : undefined,
  ]
    .filter((part) => part !== undefined && part !== "")
    .join(" ");
  return outcomeOfRule(rule, {
    reason,
    nowMs,
    retryAfterSeconds,
    rateLimitBackoffSeconds:
      known === undefined && (httpStatus === 503 || httpStatus === 429)
        ? FLOW_CONTROL_BACKOFF_SECONDS
        : RATE_LIMIT_BACKOFF_SECONDS,
  });
}
