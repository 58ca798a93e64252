import type { Outcome, OutcomeKind } from "../model/index.js";

/**
 * APNs answers, reason by reason (vendors.md §1 "Response", from Apple's "Handling notification
 * responses from APNs"). A reason Apple adds later falls back on its status class in `byStatus`.
 */
const BY_REASON = new Map<string, OutcomeKind>([
  // 400. BadDeviceToken is also what a sandbox token sent to production gets; the sender routes by the
  // environment the device registered with, so a mismatch here means the registration itself is wrong.
  ["BadDeviceToken", "drop-token"],
  ["DeviceTokenNotForTopic", "drop-token"],
  ["BadCollapseId", "bad-request"],
  ["BadExpirationDate", "bad-request"],
  ["BadMessageId", "bad-request"],
  ["BadPriority", "bad-request"],
  ["BadTopic", "bad-request"],
  ["DuplicateHeaders", "bad-request"],
  ["InvalidPushType", "bad-request"],
  ["MissingDeviceToken", "bad-request"],
  ["MissingTopic", "bad-request"],
  ["PayloadEmpty", "bad-request"],
  ["TopicDisallowed", "bad-request"],
  // APNs closed an idle connection; the request is fine on a new one.
  ["IdleTimeout", "retry"],
  // 403. A JWT older than an hour: the sender mints a new one and resends once. An invalid or missing
  // one usually means a key revoked in the console: retried later with the credential reloaded, then
  // dead-lettered by the worker once its attempts run out.
  ["ExpiredProviderToken", "refresh-credential"],
  ["InvalidProviderToken", "refresh-credential"],
  ["MissingProviderToken", "refresh-credential"],
  ["BadCertificate", "bad-request"],
  ["BadCertificateEnvironment", "bad-request"],
  ["Forbidden", "bad-request"],
  ["UnrelatedKeyIdInToken", "bad-request"],
  ["BadEnvironmentKeyInToken", "bad-request"],
  // 404, 405
  ["BadPath", "bad-request"],
  ["MethodNotAllowed", "bad-request"],
  // 410
  ["Unregistered", "drop-token"],
  ["ExpiredToken", "drop-token"],
  // 413
  ["PayloadTooLarge", "bad-request"],
  // 429. TooManyRequests is per device token; TooManyProviderTokenUpdates means the JWT was rotated
  // too often (more than once per 20 minutes), so it is retried later with the same token.
  ["TooManyRequests", "quota"],
  ["TooManyProviderTokenUpdates", "retry"],
  // 500, 503 (Shutdown: the server is going away; node-apn reconnects on the GOAWAY)
  ["InternalServerError", "retry"],
  ["ServiceUnavailable", "retry"],
  ["Shutdown", "retry"],
]);

/**
 * How long to stay away after TooManyProviderTokenUpdates when APNs gives no Retry-After: Apple's
 * forum (thread 675879) reports the connection stays unusable for a while, and the token itself is fine.
 */
export const TOKEN_UPDATES_BACKOFF_SECONDS = 60;

function byStatus(status: number): OutcomeKind {
  if (status === 200) return "delivered";
  if (status === 0 || status >= 500) return "retry";
  if (status === 410) return "drop-token";
  if (status === 429) return "quota";
  return "bad-request";
}

/**
 * Maps one APNs answer into the shared outcome. `status` 0 means no HTTP answer came back (connection
 * error, timeout, stream reset); `reason` is APNs' `reason` field, or the error message then.
 */
export function classifyApns(
  status: number,
  reason: string | undefined,
  retryAfterSeconds?: number,
): Outcome {
  const kind = (reason !== undefined ? BY_REASON.get(reason) : undefined) ?? byStatus(status);
  const text = [`APNs ${status === 0 ? "network" : status}`, reason].filter(Boolean).join(" ");
  switch (kind) {
    case "delivered":
      return { kind };
    case "retry": {
      const delay =
        retryAfterSeconds ??
        (reason === "TooManyProviderTokenUpdates" ? TOKEN_UPDATES_BACKOFF_SECONDS : undefined);
      return delay === undefined ? { kind, reason: text } : { kind, reason: text, retryAfterSeconds: delay };
    }
    case "quota":
      return retryAfterSeconds === undefined
        ? { kind, reason: text }
        : { kind, reason: text, retryAfterSeconds };
    default:
      return { kind, reason: text };
  }
}
