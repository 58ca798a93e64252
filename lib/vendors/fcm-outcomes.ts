import type { Outcome, OutcomeKind } from "../model/index.js";

/** INVALID_ARGUMENT is a dead token or a bad request depending on which field FCM refused. */
type CodeRule = OutcomeKind | "token-or-request";

/**
 * FCM HTTP v1 answers in one table: FCM's own `errorCode` (the FcmError entry of an error's
 * `details`), else Google's RPC `status`, else a transport error code. Sources:
 * https://firebase.google.com/docs/reference/fcm/rest/v1/ErrorCode and
 * https://firebase.google.com/docs/cloud-messaging/error-codes (vendors.md §2 "Errors").
 *
 * Only answers that say *this token* is dead remove a device. Answers that mean our credential or
 * project is wrong come back for every token of the project, so reading them as dead tokens would
 * wipe the device table (issue 7): they are credential problems.
 */
const BY_CODE = new Map<string, CodeRule>([
  // "App instance was unregistered from FCM ... the token used is no longer valid" (ErrorCode).
  ["UNREGISTERED", "drop-token"],
  ["INVALID_ARGUMENT", "token-or-request"],
  // "The authenticated sender ID is different from the sender ID for the registration token"
  // (ErrorCode): a mistyped project or service account answers this for every token it sends to.
  ["SENDER_ID_MISMATCH", "credential-problem"],
  ["QUOTA_EXCEEDED", "quota"],
  ["UNAVAILABLE", "retry"],
  ["INTERNAL", "retry"],
  ["UNSPECIFIED_ERROR", "retry"],
  // "APNs certificate or web push auth key was invalid or missing" (ErrorCode): the iOS credential
  // uploaded to Firebase is wrong. APNS_AUTH_ERROR is its older name.
  ["THIRD_PARTY_AUTH_ERROR", "credential-problem"],
  ["APNS_AUTH_ERROR", "credential-problem"],
  // Google's RPC statuses when there is no FcmError detail: Google's front end answered before FCM
  // looked at the token, so these never say anything about the device.
  // An access token that expired or was revoked: fetch a new one.
  ["UNAUTHENTICATED", "refresh-credential"],
  // "Permission 'cloudmessaging.messages.create' denied on resource …": the service account may not
  // send for this project (or the FCM API is off in it).
  ["PERMISSION_DENIED", "credential-problem"],
  // A 404 without UNREGISTERED is a project id FCM does not know (firebase-admin-python#180, where
  // the maintainer traced "Requested entity was not found." to an undetected project id).
  ["NOT_FOUND", "credential-problem"],
  ["RESOURCE_EXHAUSTED", "quota"],
  ["DEADLINE_EXCEEDED", "retry"],
  // Transport errors of our own HTTP/2 client (fcm-transport.ts): no answer came back.
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
 * FCM names the token when the token is what it refused. Two shapes are on record: the message "The
 * registration token is not a valid FCM registration token" with only an FcmError detail (Firebase's
 * own example 2, https://firebase.google.com/docs/cloud-messaging/error-codes), and the generic
 * "Request contains an invalid argument." with a BadRequest field violation on `message.token`
 * (recorded by Bloomberg's pushiko, https://bloomberg.github.io/pushiko/fcm_responses). Any other
 * INVALID_ARGUMENT (a payload over 4096 bytes, a bad TTL, a package-name mismatch) is our request.
 */
const TOKEN_MESSAGE = /registration token is not a valid FCM registration token|'message\.token'/i;
const TOKEN_FIELD = "message.token";

function byStatus(status: number | undefined): OutcomeKind {
  if (status === undefined || status >= 500) return "retry";
  if (status >= 200 && status < 300) return "delivered";
  if (status === 401) return "refresh-credential";
  // Google's 403 and a 404 without UNREGISTERED are about the project or the credential.
  if (status === 403 || status === 404) return "credential-problem";
  if (status === 429) return "quota";
  return "bad-request";
}

/** One FCM answer as the sender read it. */
export interface FcmAnswer {
  /** Absent when no HTTP answer came back. */
  httpStatus?: number;
  /** FCM's errorCode, else Google's RPC status, else the transport's error code. */
  errorCode?: string;
  message?: string;
  /** Fields named by the answer's google.rpc.BadRequest field violations. */
  fields?: readonly string[];
  retryAfterSeconds?: number;
}

/**
 * Maps one FCM answer into the shared outcome. A code the table does not know falls back on the
 * status class.
 */
export function classifyFcm(input: FcmAnswer): Outcome {
  const { httpStatus, errorCode, message, fields, retryAfterSeconds } = input;
  const rule = (errorCode !== undefined ? BY_CODE.get(errorCode) : undefined) ?? byStatus(httpStatus);
  const namesToken = TOKEN_MESSAGE.test(message ?? "") || (fields ?? []).includes(TOKEN_FIELD);
  const kind: OutcomeKind = rule === "token-or-request" ? (namesToken ? "drop-token" : "bad-request") : rule;
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
