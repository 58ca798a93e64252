import type { Outcome } from "../model/index.js";
import { secondsUntilDailyQuotaReset } from "./quota.js";

/**
 * Where a Meizu code came from: the answer's top-level `code` (the whole request), or a key of its
 * `value` map, which lists the pushIds that failed with that code.
 */
export type MeizuCodeScope = "request" | "pushId";

/**
 * How long to stay away after Meizu's app rate limit (110010, per-pushId 518). The default quota is
 * 200 QPS per app (vendors.md §7 "Limits"), so a few seconds clear it.
 */
export const MEIZU_RATE_LIMIT_SECONDS = 10;
/** 520 collapses a device's sixth message within one minute (vendors.md §7, per-pushId codes). */
export const MEIZU_COLLAPSE_WINDOW_SECONDS = 60;

type Rule =
  | { kind: "delivered" | "drop-token" | "retry" | "bad-request" | "credential-problem" | "declined" }
  | { kind: "quota"; seconds: number | "until-midnight" }
  /** Meizu's catch-all 500 is also how it reports validation failures: resent once, then bad-request. */
  | { kind: "resend-once" };

const DELIVERED: Rule = { kind: "delivered" };
const DROP: Rule = { kind: "drop-token" };
const RETRY: Rule = { kind: "retry" };
const BAD: Rule = { kind: "bad-request" };
/** Our app id, secret or package is wrong at Meizu: park and alarm, never remove a device. */
const CREDENTIAL: Rule = { kind: "credential-problem" };
const DAILY_QUOTA: Rule = { kind: "quota", seconds: "until-midnight" };

/**
 * Every code Meizu documents for pushByPushId, with its meaning for answers that carry no message (the
 * `value` map never does). Sources: the PushAPI README ("Api returnCode定义", the `value` "map部分code定义",
 * https://github.com/MEIZUPUSH/PushAPI) and Meizu's official Java server SDK, whose enums name the codes
 * the README leaves out: request codes in `ErrorCode` (110010 APP_REQUEST_EXCEED_LIMIT, 110019
 * APP_REQUEST_PUSH_LIMIT, 110031 INVALID_APPLICATION_PACKAGENAME, 110033 INVALID_APPLICATION_SECRET;
 * src/main/java/com/meizu/push/sdk/server/constant/ErrorCode.java, and the SDK README's table, which adds
 * 110051 APP_PUSH_TIME_EXCEED_LIMIT "超过该应用的次数限制"), per-pushId codes in `PushResponseCode`
 * (110010 RSP_OFF_PUSHID "pushId失效(消息开关关闭)";
 * src/main/java/com/meizu/push/sdk/server/constant/PushResponseCode.java, https://github.com/MEIZUPUSH/JavaSdk).
 */
const TABLE: readonly [scope: MeizuCodeScope, code: string, rule: Rule, meaning: string][] = [
  ["request", "200", DELIVERED, "OK"],
  ["request", "1003", RETRY, "server busy"],
  ["request", "1001", RETRY, "system error"],
  ["request", "500", { kind: "resend-once" }, "other exception"],
  ["request", "1005", BAD, "parameter error"],
  // No token to refresh: the sign is computed per request, so a refused sign is a wrong appSecret.
  ["request", "1006", CREDENTIAL, "signature verification failed"],
  ["request", "110000", CREDENTIAL, "appId invalid"],
  ["request", "110001", CREDENTIAL, "appKey invalid"],
  ["request", "110004", BAD, "parameter must not be empty"],
  ["request", "110009", CREDENTIAL, "app blacklisted"],
  ["request", "110031", CREDENTIAL, "packageName invalid"],
  ["request", "110032", BAD, "invalid taskId"],
  ["request", "110033", CREDENTIAL, "appSecret invalid"],
  ["request", "110010", { kind: "quota", seconds: MEIZU_RATE_LIMIT_SECONDS }, "app request rate exceeded"],
  ["request", "110019", DAILY_QUOTA, "app daily push count exceeded"],
  // The SDK's APP_PUSH_TIME_EXCEED_LIMIT, next to the daily count (110019): the app's push count is used
  // up, which Meizu counts per day like every other quota it documents, so it holds until midnight.
  ["request", "110051", DAILY_QUOTA, "app push count limit exceeded"],
  // Pass-through only, restricted since 2023-06-16; chatpush sends notification messages, so seeing it
  // means a misconfigured request, not a quota that will clear.
  ["request", "110053", BAD, "pass-through limit exceeded"],
  // "pushId未订阅(包括推送开关关闭的设备)" in the SDK README's older wording; the SDK now reports a
  // switched-off device as 110010 of its own, so 110002 is a pushId Meizu no longer knows.
  ["pushId", "110002", DROP, "pushId not subscribed"],
  ["pushId", "110003", DROP, "pushId illegal"],
  ["pushId", "110005", DROP, "alias not subscribed"],
  // The user switched this app's messages off: the pushId is fine and may be switched on again.
  ["pushId", "110010", { kind: "declined" }, "message switch off"],
  // "没有权限，服务器主动拒绝": a permission our app lacks (e.g. an unapproved private message), not the
  // device's fault (meaning UNCONFIRMED beyond the README's words).
  ["pushId", "201", CREDENTIAL, "no permission, server refused"],
  ["pushId", "501", RETRY, "push failed (db_error)"],
  ["pushId", "513", RETRY, "push failed"],
  ["pushId", "519", RETRY, "push failed, service overloaded"],
  [
    "pushId",
    "520",
    { kind: "quota", seconds: MEIZU_COLLAPSE_WINDOW_SECONDS },
    "message collapsed: more than 5 to this device in 1 minute",
  ],
  // RSP_SPEED_LIMIT "推送超过配置的速率" (PushResponseCode.java).
  ["pushId", "518", { kind: "quota", seconds: MEIZU_RATE_LIMIT_SECONDS }, "push rate exceeded"],
  // Named only in vendors.md's reading of the 2025 README (a device's daily public-message limit under the
  // 2025-05-07 rules); neither the SDK nor the README text in hand names it: UNCONFIRMED.
  ["pushId", "110011", DAILY_QUOTA, "device daily public-message limit"],
];

const RULES = new Map(TABLE.map(([scope, code, rule, meaning]) => [`${scope} ${code}`, { rule, meaning }]));

function ruleOf(scope: MeizuCodeScope, code: string | undefined) {
  return code === undefined ? undefined : RULES.get(`${scope} ${code}`);
}

/** Whether the sender should resend a request Meizu answered with this top-level code, once. */
export function meizuResendsOnce(code: string): boolean {
  return ruleOf("request", code)?.rule.kind === "resend-once";
}

export interface MeizuAnswer {
  scope: MeizuCodeScope;
  /** Meizu's code (a string on the wire); undefined when no Meizu answer could be read. */
  code?: string;
  /** Meizu's `message`, or the network error when no HTTP answer came back. */
  message?: string;
  /** Undefined when no HTTP answer came back (connection error, timeout). */
  httpStatus?: number;
  retryAfterSeconds?: number;
  /** True for the answer to a request already resent once. */
  resent?: boolean;
  nowMs: number;
}

/**
 * Maps one Meizu answer (the request's code, or one pushId's code from `value`) into the shared
 * outcome. A code the table does not know falls back on the HTTP status class.
 */
export function classifyMeizu(answer: MeizuAnswer): Outcome {
  const { scope, code, message, httpStatus, retryAfterSeconds, resent, nowMs } = answer;
  const known = ruleOf(scope, code);
  const rule = known?.rule ?? fallback(code, httpStatus);
  const head = code ?? (httpStatus === undefined ? "network" : `HTTP ${httpStatus}`);
  const detail = message !== undefined && message !== "" ? message : known?.meaning;
  const reason = ["Meizu", head, detail].filter((part) => part !== undefined && part !== "").join(" ");
  switch (rule.kind) {
    case "delivered":
      return { kind: "delivered" };
    case "resend-once":
      return resent === true
        ? { kind: "bad-request", reason }
        : withDelay("retry", reason, retryAfterSeconds);
    case "retry":
      return withDelay("retry", reason, retryAfterSeconds);
    case "quota": {
      const seconds =
        rule.seconds === "until-midnight"
          ? secondsUntilDailyQuotaReset(nowMs)
          : (retryAfterSeconds ?? rule.seconds);
      return { kind: "quota", reason, retryAfterSeconds: seconds };
    }
    default:
      return { kind: rule.kind, reason };
  }
}

function withDelay(kind: "retry", reason: string, retryAfterSeconds: number | undefined): Outcome {
  return retryAfterSeconds === undefined ? { kind, reason } : { kind, reason, retryAfterSeconds };
}

/**
 * A code Meizu added later is a refusal we cannot act on: parked with its code for a human. Without a
 * code, the HTTP status decides: no answer, a gateway's 5xx or an unreadable 200 may succeed next time.
 */
function fallback(code: string | undefined, httpStatus: number | undefined): Rule {
  if (httpStatus === 429) return { kind: "quota", seconds: MEIZU_RATE_LIMIT_SECONDS };
  if (httpStatus === undefined || httpStatus >= 500) return RETRY;
  if (code === undefined && httpStatus >= 200 && httpStatus < 300) return RETRY;
  return BAD;
}
