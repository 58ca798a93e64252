import type { Outcome, OutcomeKind } from "../model/index.js";

/**
 * APNs answers, reason by reason. Reasons and their meaning: Apple, "Handling notification responses
 * from APNs" (https://developer.apple.com/documentation/usernotifications/handling-notification-responses-from-apns,
 * "Response error strings"); vendors.md §1 "Response". A reason Apple adds later falls back on its
 * status class in `byStatus`.
 *
 * The rule that decides the columns: a device is removed only when APNs says *this token* is dead.
 * Anything that would come back for every token of the app when our credential or configuration is
 * wrong (key, team, certificate, topic) is a credential problem: the job is parked and alarmed, no
 * device is removed, so one mistyped bundle id can never wipe the device table.
 */
const BY_REASON = new Map<string, OutcomeKind>([
  // 400. BadDeviceToken: "The specified device token is invalid. Verify that the request contains a
  // valid token and that the token matches the environment." A valid sandbox token sent to production
  // gets it too (Apple DTS, https://developer.apple.com/forums/thread/807380), so it is a dead token
  // only when the request went to the environment the device registered with (`classifyApns`).
  ["BadDeviceToken", "drop-token"],
  // "The device token doesn't match the specified topic": the same token is fine for another topic of
  // the app (Apple DTS, thread 807380: regular vs VoIP topics), and a wrong bundle id in the credential
  // makes every token answer it. Configuration, never a removal.
  ["DeviceTokenNotForTopic", "credential-problem"],
  // "The apns-topic header of the request isn't valid" / "…isn't specified and is required" (mandatory
  // with a multi-topic certificate) / "Pushing to this topic is not allowed": the topic comes from the
  // credential's bundle id and what its key or certificate covers.
  ["BadTopic", "credential-problem"],
  ["MissingTopic", "credential-problem"],
  ["TopicDisallowed", "credential-problem"],
  // Our request is wrong, for every device alike: park it with the reason.
  ["BadCollapseId", "bad-request"],
  ["BadExpirationDate", "bad-request"],
  ["BadMessageId", "bad-request"],
  ["BadPriority", "bad-request"],
  ["DuplicateHeaders", "bad-request"],
  ["InvalidPushType", "bad-request"],
  ["MissingDeviceToken", "bad-request"],
  ["PayloadEmpty", "bad-request"],
  // "Idle time out": APNs closed an idle connection; the request is fine on a new one.
  ["IdleTimeout", "retry"],
  // 403. A JWT older than an hour ("The provider token is stale and a new token should be
  // generated"): the sender mints a new one and resends once.
  ["ExpiredProviderToken", "refresh-credential"],
  // "The provider token isn't valid, or the token signature can't be verified" / no certificate and no
  // token / "The certificate is invalid" / "The client certificate is for the wrong environment" /
  // "The specified action is not allowed": the key, team, certificate or its environment is wrong.
  // UnrelatedKeyIdInToken and BadEnvironmentKeyInToken come with topic- and environment-scoped keys
  // (vendors.md §1, UNCONFIRMED: not in the table Apple published).
  ["InvalidProviderToken", "credential-problem"],
  ["MissingProviderToken", "credential-problem"],
  ["BadCertificate", "credential-problem"],
  ["BadCertificateEnvironment", "credential-problem"],
  ["Forbidden", "credential-problem"],
  ["UnrelatedKeyIdInToken", "credential-problem"],
  ["BadEnvironmentKeyInToken", "credential-problem"],
  // 404, 405: our URL or method.
  ["BadPath", "bad-request"],
  ["MethodNotAllowed", "bad-request"],
  // 410 "The device token is inactive for the specified topic" / "The device token has expired".
  // Apple: don't retry these (nor BadDeviceToken, DeviceTokenNotForTopic, Forbidden, PayloadTooLarge).
  ["Unregistered", "drop-token"],
  ["ExpiredToken", "drop-token"],
  // 413
  ["PayloadTooLarge", "bad-request"],
  // 429. TooManyRequests is per device token ("too many requests for the same device token");
  // TooManyProviderTokenUpdates means the JWT was rotated too often (more than once per 20 minutes),
  // so it is retried later with the same token.
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
  // Apple: 403 "There was an error with the certificate or with the provider's authentication token."
  if (status === 403) return "credential-problem";
  return "bad-request";
}

/** What else the sender knows about the answer besides status and reason. */
export interface ApnsAnswerContext {
  /** The `Retry-After` header, in seconds. */
  retryAfterSeconds?: number;
  /**
   * The 410 body's `timestamp`: "The time, in milliseconds since Epoch, at which APNs confirmed the
   * token was no longer valid for the topic" (Apple, "Handling notification responses from APNs").
   */
  timestamp?: number;
  /**
   * The device registered an environment and the request went there. Without it (production was
   * assumed), a BadDeviceToken may be a sandbox token at the production host: no removal.
   */
  environmentKnown?: boolean;
}

/**
 * Maps one APNs answer into the shared outcome. `status` 0 means no HTTP answer came back (connection
 * error, timeout, stream reset); `reason` is APNs' `reason` field, or the error message then.
 */
export function classifyApns(
  status: number,
  reason: string | undefined,
  context: ApnsAnswerContext = {},
): Outcome {
  const { retryAfterSeconds, timestamp, environmentKnown = true } = context;
  const kind = (reason !== undefined ? BY_REASON.get(reason) : undefined) ?? byStatus(status);
  const text = [`APNs ${status === 0 ? "network" : status}`, reason].filter(Boolean).join(" ");
  if (reason === "BadDeviceToken" && !environmentKnown) {
    return {
      kind: "bad-request",
      reason: `${text} at the production host; the device registered no environment, so it may be a sandbox token`,
    };
  }
  switch (kind) {
    case "delivered":
      return { kind };
    case "drop-token":
      return Number.isFinite(timestamp) ? { kind, reason: text, since: timestamp } : { kind, reason: text };
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
