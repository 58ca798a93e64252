import type { Outcome } from "../model/index.js";
import { outcomeOfRule, type VendorRule } from "./quota.js";

/**
 * OPPO's codes, envelope and per item alike (vendors.md §5 "Response codes", from OPPO's "调用地址，公共参数和
 * 返回码" page, https://open.oppomobile.com/new/developmentDoc/info?id=11238). The envelope codes run from
 * -2 to 100; the business codes (10000–20000) come per registration_id inside a unicast_batch answer.
 */
const BY_CODE = new Map<number, VendorRule>([
  [0, "delivered"],
  // Service in Flow Control / Service Currently Unavailable: OPPO asks to try again later.
  [-2, "retry"],
  [-1, "retry"],
  // Invalid / Missing AuthToken: the sender fetches a new auth_token and resends once; a second refusal
  // goes back as refresh-credential.
  [11, "refresh-credential"],
  [29, "refresh-credential"],
  [12, "bad-request"],
  // App Call Limited ("包含调用频率超限") and App Call Frequency Limit: OPPO's QPS cap by user base.
  [13, "rate-limit"],
  [55, "rate-limit"],
  // Invalid App Key, Invalid Signature (a wrong master secret): the credential in the secret is wrong,
  // which no retry fixes and no device removal helps. It is also how a host refuses an app it does not
  // serve (an app not enabled for OPPO's overseas push, UNCONFIRMED).
  [14, "credential-problem"],
  [16, "credential-problem"],
  // Missing App Key / Signature / Timestamp: our request lacks a field.
  [15, "bad-request"],
  [17, "bad-request"],
  [18, "bad-request"],
  // Invalid Timestamp: more than 10 minutes from OPPO's clock. Every auth request signs a fresh timestamp,
  // so only clock skew gets here, and it heals (vendors.md: "resync and retry"); the worker's attempt cap
  // bounds a skew that does not.
  [19, "retry"],
  [20, "bad-request"],
  [21, "bad-request"],
  [22, "bad-request"],
  [23, "bad-request"],
  [24, "bad-request"],
  [25, "bad-request"],
  // IP Black List, Access Denied, App Disabled, Api Permission Denied: the app's standing at OPPO, a
  // configuration problem to alarm on, never a dead token.
  [26, "credential-problem"],
  [27, "credential-problem"],
  [28, "credential-problem"],
  [30, "credential-problem"],
  [31, "bad-request"],
  [32, "bad-request"],
  // The number of messages (or uploaded pictures) exceeds the daily limit: the public channel's cap,
  // reset at midnight Beijing time.
  [33, "daily-quota"],
  [34, "daily-quota"],
  [40, "bad-request"],
  [41, "bad-request"],
  [51, "bad-request"],
  // private_msg_template_id is null (vendors.md: from OPPO's knowledge base, UNCONFIRMED): the
  // credential lacks the template its channel needs.
  [54, "credential-problem"],
  [59, "bad-request"],
  // "Category error/Private classify channel notify_level invalid", "分类错误（包含强提醒所有异常）"
  // (id=11238): the classification the credential asks for was refused, e.g. notify_level 16 without
  // OPPO's strong-reminder approval. Every batch fails alike until the configuration changes.
  [67, "credential-problem"],
  // Invalid Registration_id: the token is malformed or not this app's.
  [10000, "drop-token"],
]);

/**
 * How long to stay away after a rate-limit answer without Retry-After. OPPO caps QPS per second
 * (vendors.md §5 "Limits"), so a minute is ample and still far from a hot loop.
 */
export const RATE_LIMIT_BACKOFF_SECONDS = 60;

/** What OPPO answered for one registration_id, as far as it could be read. */
export interface OppoAnswer {
  /** OPPO's `code` (the envelope's, or an item's `errorCode`); absent when the body was not OPPO's JSON. */
  code?: number;
  /** OPPO's `message` / `errorMessage`, or the network error's text. */
  message?: string;
  /** HTTP status; absent when no HTTP answer came back (connection error, timeout). */
  httpStatus?: number;
  /** From a Retry-After header. */
  retryAfterSeconds?: number;
}

/** Without a code OPPO documents, the HTTP status class decides. */
function byStatus(httpStatus: number | undefined, code: number | undefined): VendorRule {
  if (httpStatus === undefined || httpStatus >= 500) return "retry";
  if (httpStatus === 429) return "rate-limit";
  // A 200 whose body was no OPPO answer at all (a proxy's page): nothing says the request was wrong.
  if (code === undefined && httpStatus === 200) return "retry";
  return "bad-request";
}

/**
 * Maps one OPPO answer into the shared outcome. `nowMs` dates a daily-quota answer, which holds until
 * the next midnight in Beijing.
 */
export function classifyOppo(answer: OppoAnswer, nowMs: number): Outcome {
  const { code, message, httpStatus, retryAfterSeconds } = answer;
  const rule = (code !== undefined ? BY_CODE.get(code) : undefined) ?? byStatus(httpStatus, code);
  const head =
    code !== undefined
      ? `OPPO ${code}`
      : httpStatus !== undefined
        ? `OPPO HTTP ${httpStatus}`
        : "OPPO network";
  const reason = message ? `${head} ${message}` : head;
  return outcomeOfRule(rule, {
    reason,
    nowMs,
    retryAfterSeconds,
    rateLimitBackoffSeconds: RATE_LIMIT_BACKOFF_SECONDS,
  });
}
