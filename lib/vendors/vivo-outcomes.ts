import type { Outcome } from "../model/index.js";
import { outcomeOfRule, type VendorRule } from "./quota.js";

/**
 * vivo's `result` codes for sends: vendors.md §6 "Codes" (vivo's server API doc 362) and the official
 * Java server SDK's `com.vivo.push.sdk.common.ExceptionStatusEnum`, which names vivo's parameter codes
 * (10050 alias and regId empty, 10054 notifyType, 10055–10058 title/content empty or too long, 10059
 * timeToLive, 10060–10069 skipType/skipContent/networkType/clientCustomMap, 10150–10154 list targets,
 * 10302 regId invalid, 10352–10353 requestId, 11000 classification). Every code not listed here is a
 * refusal of the request: parked with its code (ruleOf).
 */
const BY_RESULT = new Map<number, VendorRule>([
  [0, "delivered"],
  // /message/send's one target is invalid; invalidUser.status says why (INVALID_USER below). Without a
  // status nothing says the regId is dead, so the job is parked with the answer instead.
  [10302, "bad-request"],
  // The authToken expired or was revoked: the sender fetches a new one and resends once.
  [10000, "refresh-credential"],
  // "appId与authToken不匹配" (doc 362 v2.9.2): our credential's appId is not the app that authorized.
  [10094, "credential-problem"],
  // Category invalid / not matching the classification. chatpush only sends vivo's documented pairs
  // (doc 359, checked by the builder), so vivo refusing one means the app is not approved for that
  // class in vivo's console: a configuration problem (UNCONFIRMED: vivo names no "not approved" code).
  [10096, "credential-problem"],
  [10097, "credential-problem"],
  // "出现10252:批量发送消息体超出限制。当天不要调用/message/saveListPayload" (doc 362 推送超量说明):
  // the day's list messages are used up, like 10070's daily total.
  [10252, "daily-quota"],
  [10070, "daily-quota"],
  // The all-push (/message/all) limit is one per day.
  [10254, "daily-quota"],
  // "request too fast": vendors.md's reading of the auth limit (10 calls/s), UNCONFIRMED. (vendors.md's
  // other guess, 10054, is the SDK's NOTIFY_TYPE_INVALID: a parameter error.)
  [10072, "rate-limit"],
]);

/**
 * `invalidUser.status` (single send, with 10302) and `invalidUsers[].status` (pushToList): "1.userId
 * 不存在；2.卸载或者关闭了通知；3.90天不在线；4.非测试用户" (doc 362, as quoted in modood/pushapi
 * vivopush/message.go). Only 1 and 3 say the regId itself is gone or expired; 2 is also what a user who
 * switched our notifications off gets, and vivo does not say which, so that device is kept (declined).
 */
type InvalidUserKind = "drop-token" | "declined" | "credential-problem";

const INVALID_USER = new Map<number, { kind: InvalidUserKind; meaning: string }>([
  [1, { kind: "drop-token", meaning: "regId does not exist" }],
  [2, { kind: "declined", meaning: "app uninstalled or notifications switched off" }],
  [3, { kind: "drop-token", meaning: "offline for 90 days" }],
  // pushMode 1 reaches only the console's test devices: the device is fine, the credential's mode is not.
  [4, { kind: "credential-problem", meaning: "not a test device (pushMode 1)" }],
]);

/** vivo sends no Retry-After with its rate-limit codes; a minute keeps us clear of the per-second limit. */
export const VIVO_RATE_LIMIT_BACKOFF_SECONDS = 60;

/** What vivo answered about one target, as far as it could be read. */
export interface VivoAnswer {
  /** "auth": /message/auth refused or failed, so nothing was sent. Absent: the answer to a send. */
  stage?: "auth";
  /** HTTP status; absent when no answer came back (connection error, timeout). */
  httpStatus?: number;
  /** vivo's `result`; absent when the body was not vivo's JSON. */
  result?: number;
  /** vivo's `desc`, else the HTTP reason phrase or the network error. */
  desc?: string;
  /** This target's `invalidUser(s).status`, when vivo listed it. */
  invalidUserStatus?: number;
  taskId?: string;
  retryAfterSeconds?: number;
}

/** What an answer without vivo's `result` means: the HTTP layer decides. */
function transportRule(httpStatus: number | undefined): VendorRule | undefined {
  if (httpStatus === undefined || httpStatus >= 500) return "retry";
  if (httpStatus === 429) return "rate-limit";
  // A 2xx without vivo's JSON (a proxy in the way): resending is safe, the requestId makes it idempotent.
  if (httpStatus < 300) return "retry";
  return undefined;
}

function ruleOf({ stage, httpStatus, result }: VivoAnswer): VendorRule {
  if (stage === "auth") {
    // /message/auth refuses a wrong appId, appKey or sign (or a clock 10 minutes off) with its own code:
    // our credential, never the devices. Only its rate limit and transport failures clear by themselves.
    if (result !== undefined)
      return BY_RESULT.get(result) === "rate-limit" ? "rate-limit" : "credential-problem";
    return transportRule(httpStatus) ?? "credential-problem";
  }
  if (result !== undefined) {
    const known = BY_RESULT.get(result);
    if (known !== undefined) return known;
    // A parameter code, or one nobody lists: parked with its reason rather than retried blindly.
    return httpStatus !== undefined && httpStatus >= 500 ? "retry" : "bad-request";
  }
  return transportRule(httpStatus) ?? "bad-request";
}

/**
 * Maps one vivo answer (for one target) into the shared outcome. vivo answers HTTP 200 with its own
 * `result` code; a per-target `invalidUserStatus` decides over the request's code.
 */
export function classifyVivo(answer: VivoAnswer, nowMs: number): Outcome {
  const { stage, httpStatus, result, desc, invalidUserStatus, taskId, retryAfterSeconds } = answer;
  if (invalidUserStatus !== undefined) {
    const invalid = INVALID_USER.get(invalidUserStatus);
    const meaning = invalid?.meaning ?? "unknown status";
    return {
      kind: invalid?.kind ?? "bad-request",
      reason: `vivo 10302 invalidUser status ${invalidUserStatus}: ${meaning}`,
    };
  }
  const code = result ?? httpStatus ?? "network";
  const reason = ["vivo", stage, code, desc].filter((part) => part !== undefined && part !== "").join(" ");
  return outcomeOfRule(ruleOf(answer), {
    reason,
    nowMs,
    retryAfterSeconds,
    rateLimitBackoffSeconds: VIVO_RATE_LIMIT_BACKOFF_SECONDS,
    vendorId: taskId,
  });
}
