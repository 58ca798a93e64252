import type { Outcome, OutcomeKind } from "../model/index.js";
import { outcomeOfRule, type VendorRule } from "./quota.js";

/** vivo's `result` codes (vendors.md §6 "Codes"). */
const BY_RESULT = new Map<number, VendorRule>([
  [0, "delivered"],
  // /message/send's one target is invalid; invalidUser.status says why (INVALID_USER below).
  [10302, "drop-token"],
  // The authToken expired or was revoked: the sender fetches a new one and resends once.
  [10000, "refresh-credential"],
  [10094, "bad-request"],
  [10096, "bad-request"],
  [10097, "bad-request"],
  [10252, "bad-request"],
  [10070, "daily-quota"],
  // The all-push (/message/all) limit is one per day.
  [10254, "daily-quota"],
  // Both UNCONFIRMED in vendors.md (10072 "request too fast", 10054 "frequency/limit related").
  [10072, "rate-limit"],
  [10054, "rate-limit"],
]);

/** 102xx: parameter errors (10200 params, 10250+ batch), vendors.md §6. */
function isParameterError(result: number): boolean {
  return result >= 10200 && result < 10300;
}

/** `invalidUser.status` (single send, with 10302) and `invalidUsers[].status` (pushToList). */
const INVALID_USER = new Map<number, { kind: OutcomeKind; meaning: string }>([
  [1, { kind: "drop-token", meaning: "regId does not exist" }],
  [2, { kind: "drop-token", meaning: "app uninstalled or notifications off" }],
  [3, { kind: "drop-token", meaning: "offline for 90 days" }],
  // pushMode 1 reaches only the console's test devices: the device is fine, the credential's mode is not.
  [4, { kind: "bad-request", meaning: "not a test device (pushMode 1)" }],
]);

/** vivo sends no Retry-After with its rate-limit codes; a minute keeps us clear of the per-second limit. */
export const VIVO_RATE_LIMIT_BACKOFF_SECONDS = 60;

/** What vivo answered about one target, as far as it could be read. */
export interface VivoAnswer {
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

function ruleOf({ httpStatus, result }: VivoAnswer): VendorRule {
  if (result !== undefined) {
    const known = BY_RESULT.get(result);
    if (known !== undefined) return known;
    if (isParameterError(result)) return "bad-request";
    // A code vendors.md does not list: parked with its reason rather than retried blindly.
    return httpStatus !== undefined && httpStatus >= 500 ? "retry" : "bad-request";
  }
  if (httpStatus === undefined || httpStatus >= 500) return "retry";
  if (httpStatus === 429) return "rate-limit";
  // A 2xx without vivo's JSON (a proxy in the way): resending is safe, the requestId makes it idempotent.
  if (httpStatus < 300) return "retry";
  return "bad-request";
}

/**
 * Maps one vivo answer (for one target) into the shared outcome. vivo answers HTTP 200 with its own
 * `result` code; a per-target `invalidUserStatus` decides over the request's code.
 */
export function classifyVivo(answer: VivoAnswer, nowMs: number): Outcome {
  const { httpStatus, result, desc, invalidUserStatus, taskId, retryAfterSeconds } = answer;
  if (invalidUserStatus !== undefined) {
    const invalid = INVALID_USER.get(invalidUserStatus);
    const meaning = invalid?.meaning ?? "unknown status";
    return {
      kind: invalid?.kind ?? "bad-request",
      reason: `vivo 10302 invalidUser status ${invalidUserStatus}: ${meaning}`,
    };
  }
  const code = result ?? httpStatus ?? "network";
  const reason = ["vivo", code, desc].filter((part) => part !== undefined && part !== "").join(" ");
  return outcomeOfRule(ruleOf(answer), {
    reason,
    nowMs,
    retryAfterSeconds,
    rateLimitBackoffSeconds: VIVO_RATE_LIMIT_BACKOFF_SECONDS,
    vendorId: taskId,
  });
}
