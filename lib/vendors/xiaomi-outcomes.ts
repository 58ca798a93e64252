import type { Outcome } from "../model/index.js";
import { outcomeOfRule, type VendorRule } from "./quota.js";

/** A per-token answer: the regId was listed in `data.bad_regids` of an otherwise successful send. */
export const BAD_REGID = "bad_regids";

/**
 * Mi Push answers, code by code. The meanings are Xiaomi's (服务端错误码参考,
 * https://dev.mi.com/xiaomihyperos/documentation/detail?pId=1560); the buckets are ours. A code Xiaomi
 * adds later falls back on `byStatus`. Only `data.bad_regids` names a dead regId: every request-level
 * code is about the request or the app, so none of them removes a device.
 */
const BY_CODE = new Map<number | typeof BAD_REGID, VendorRule>([
  [0, "delivered"],
  // 20301 "发送消息失败" (send failed; libraries quote its reason "No valid targets!"): what Xiaomi
  // answers a request none of whose regIds it serves, which is what an app sending to the wrong region's host
  // gets (pId=1698: devices of Russia / Europe / India "will not be able to receive messages from
  // non-local server rooms"). Read as dead tokens it would wipe out a region's devices at once, so it
  // is a credential problem: parked, alarmed, no device removed. (That a wrong region answers exactly
  // 20301 is UNCONFIRMED; no Xiaomi document names the answer.)
  [20301, "credential-problem"],
  // 65003 "未找到device，通常是设备不在线导致" (device not found, usually because it is offline): not a
  // dead regId, so retried within the attempt cap.
  [65003, "retry"],
  // data.bad_regids is UNCONFIRMED in Xiaomi's docs (they point to receipts, callback.type 16, for
  // invalid targets: pId=1566, pId=1558) but read by several libraries: only those regIds die.
  [BAD_REGID, "drop-token"],
  // Our credential or its configuration is wrong, which no retry fixes and no device removal helps:
  // 21301 认证失败 (a wrong AppSecret: it is static, vendors.md §4 "Auth", so never refresh-credential),
  // 21302 token认证失败, 22000 非法应用, 22006 / 22007 app id / key invalid, 22022 package name invalid,
  // 27001 "channel相关信息不匹配" (the channel is not the app's, or not approved), 10031 the app is
  // blacklisted, 10036 the app's operation is forbidden.
  [21301, "credential-problem"],
  [21302, "credential-problem"],
  [22000, "credential-problem"],
  [22006, "credential-problem"],
  [22007, "credential-problem"],
  [22022, "credential-problem"],
  [27001, "credential-problem"],
  [10031, "credential-problem"],
  [10036, "credential-problem"],
  // 21303 被限制的请求, 21305 缺少必要的参数: the request itself.
  [21303, "bad-request"],
  [21305, "bad-request"],
  [65009, "bad-request"],
  // Parameter and content errors (26005, 26006: content review).
  [10016, "bad-request"],
  [10017, "bad-request"],
  [22102, "bad-request"],
  [26005, "bad-request"],
  [26006, "bad-request"],
  [10029, "bad-request"],
  [10030, "bad-request"],
  [10038, "bad-request"],
  [10039, "bad-request"],
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
