import type { Outcome, OutcomeKind } from "../model/index.js";

/** INVALID_ARGUMENT is a dead token or a bad request depending on which field FCM refused. */
type CodeRule = OutcomeKind | "token-or-request";

/**
 * FCM HTTP v1 answers and firebase-admin's error codes in one table (vendors.md §2 "Errors" and
 * "firebase-admin mapping"; https://firebase.google.com/docs/reference/fcm/rest/v1/ErrorCode).
 */
const BY_CODE = new Map<string, CodeRule>([
  // FCM's own `errorCode`, from the FcmError entry of an error's `details`.
  ["UNREGISTERED", "drop-token"],
  ["INVALID_ARGUMENT", "token-or-request"],
  // The token belongs to another Firebase project: it can never be reached with this credential.
  ["SENDER_ID_MISMATCH", "drop-token"],
  ["QUOTA_EXCEEDED", "quota"],
  ["UNAVAILABLE", "retry"],
  ["INTERNAL", "retry"],
  ["UNSPECIFIED_ERROR", "retry"],
  // The APNs certificate or key uploaded to Firebase (iOS through FCM) is wrong: fix the config.
  ["THIRD_PARTY_AUTH_ERROR", "bad-request"],
  ["APNS_AUTH_ERROR", "bad-request"],
  // Google's RPC `status` when there is no FcmError detail: Google's front end refused the request
  // before FCM looked at the token, so these never say anything about the device.
  ["UNAUTHENTICATED", "refresh-credential"],
  ["PERMISSION_DENIED", "bad-request"],
  ["NOT_FOUND", "bad-request"],
  ["RESOURCE_EXHAUSTED", "quota"],
  ["DEADLINE_EXCEEDED", "retry"],
  // firebase-admin's codes. Its mapping folds REST answers that need opposite handling into one code
  // (NOT_FOUND with UNREGISTERED, PERMISSION_DENIED with SENDER_ID_MISMATCH, UNAUTHENTICATED with
  // THIRD_PARTY_AUTH_ERROR), so FcmSender passes FCM's own code whenever it read the answer; these rows
  // serve errors with no FCM answer (client-side validation, the OAuth token fetch, the network).
  ["messaging/registration-token-not-registered", "drop-token"],
  ["messaging/invalid-registration-token", "drop-token"],
  ["messaging/mismatched-credential", "drop-token"],
  ["messaging/invalid-argument", "token-or-request"],
  ["messaging/invalid-recipient", "bad-request"],
  ["messaging/invalid-payload", "bad-request"],
  ["messaging/invalid-data-payload-key", "bad-request"],
  ["messaging/payload-size-limit-exceeded", "bad-request"],
  ["messaging/invalid-options", "bad-request"],
  ["messaging/invalid-package-name", "bad-request"],
  ["messaging/message-rate-exceeded", "quota"],
  ["messaging/device-message-rate-exceeded", "quota"],
  ["messaging/topics-message-rate-exceeded", "quota"],
  ["messaging/server-unavailable", "retry"],
  ["messaging/internal-error", "retry"],
  ["messaging/unknown-error", "retry"],
  ["messaging/third-party-auth-error", "bad-request"],
  // A 401/403 whose body was not JSON.
  ["messaging/authentication-error", "refresh-credential"],
  // The OAuth token fetch failed: key revoked, clock skew, or the token endpoint unreachable.
  ["app/invalid-credential", "refresh-credential"],
  ["app/network-error", "retry"],
  ["app/network-timeout", "retry"],
  // Socket errors, when one surfaces without firebase-admin's wrapping.
  ["ECONNRESET", "retry"],
  ["ECONNREFUSED", "retry"],
  ["ETIMEDOUT", "retry"],
  ["EPIPE", "retry"],
  ["EAI_AGAIN", "retry"],
  ["ENOTFOUND", "retry"],
]);

/**
 * How long to stay away after a quota answer without Retry-After: FCM asks for at least a minute of
 * backoff after QUOTA_EXCEEDED (vendors.md §2, "Errors").
 */
export const QUOTA_BACKOFF_SECONDS = 60;

/**
 * FCM names the token when it is the token that is malformed: "The registration token is not a valid
 * FCM registration token", or "Invalid value at 'message.token'". firebase-admin passes only the
 * message through (not the BadRequest field violations), so the message is what every caller has.
 */
const TOKEN_REFUSED = /registration token|'message\.token'/i;

function byStatus(status: number | undefined): OutcomeKind {
  if (status === undefined || status >= 500) return "retry";
  if (status >= 200 && status < 300) return "delivered";
  if (status === 401) return "refresh-credential";
  if (status === 429) return "quota";
  return "bad-request";
}

/**
 * Maps one FCM answer into the shared outcome. `errorCode` is FCM's errorCode (or Google's RPC status
 * when the answer had no FcmError detail), else firebase-admin's "messaging/…" or "app/…" code;
 * `httpStatus` is absent when no HTTP answer came back. A code the table does not know falls back on
 * the status class.
 */
export function classifyFcm(input: {
  httpStatus?: number;
  errorCode?: string;
  message?: string;
  retryAfterSeconds?: number;
}): Outcome {
  const { httpStatus, errorCode, message, retryAfterSeconds } = input;
  const rule = (errorCode !== undefined ? BY_CODE.get(errorCode) : undefined) ?? byStatus(httpStatus);
  const kind: OutcomeKind =
    rule === "token-or-request" ? (TOKEN_REFUSED.test(message ?? "") ? "drop-token" : "bad-request") : rule;
  const reason = ["FCM", httpStatus, errorCode, message]
    .filter((part) => part !== undefined && part !== "")
    .join(" ");
  switch (kind) {
    case "delivered":
      return { kind };
    case "quota":
      return { kind, reason, retryAfterSeconds: retryAfterSeconds ?? QUOTA_BACKOFF_SECONDS };
    case "retry":
      return retryAfterSeconds === undefined ? { kind, reason } : { kind, reason, retryAfterSeconds };
    default:
      return { kind, reason };
  }
}
