import { collapseKeyOf, type DeliveryTarget, type Notification, type Outcome } from "../model/index.js";
import type { SendResult, VendorSender } from "../ports/sender.js";
import { type FcmCredential, pickCredential } from "./credentials.js";
import { vendorUrl } from "./endpoint.js";
import { AccessTokenCache, FcmTokenError, ServiceAccountCredential } from "./fcm-auth.js";
import { classifyFcm, type FcmAnswer } from "./fcm-outcomes.js";
import {
  FCM_STREAMS_PER_SESSION,
  type Http2Answer,
  Http2Pool,
  type Http2TransportError,
} from "./fcm-transport.js";

/** Tencent Chat keeps offline messages for 7 days; a push should not outlive its message. */
export const FCM_TTL_MS = 7 * 24 * 60 * 60 * 1000;
/**
 * "Check that the total size of the payload data included in a message does not exceed FCM limits:
 * 4096 bytes for most messages … This includes both the keys and the values."
 * (https://firebase.google.com/docs/reference/fcm/rest/v1/ErrorCode, INVALID_ARGUMENT; the same rule
 * in https://firebase.google.com/docs/cloud-messaging/admin/errors, payload-size-limit-exceeded).
 * So the limit counts keys and values (UTF-8 bytes), not the request's JSON: not the token, not the
 * quotes, escapes and braces, not the delivery options (priority, ttl, package). See `fcmPayloadBytes`.
 */
export const FCM_PAYLOAD_LIMIT_BYTES = 4096;
/**
 * A call rings for the invitation's `timeout`; TUICallKit uses 30 s when none is given
 * (TIME_OUT_COUNT in Tencent-RTC/TUICallKit TRTCCallingImpl.java, tencent-calls-and-server-push.md §1.1).
 */
export const DEFAULT_CALL_TIMEOUT_SECONDS = 30;
const ELLIPSIS = "…";

/** FCM HTTP v1 `Message` for one device, in the REST shape (projects.messages, snake_case). */
export interface FcmMessage {
  token: string;
  notification?: { title: string; body: string };
  /** Values must be strings (REST `Message.data`: map<string, string>). */
  data: Record<string, string>;
  android: FcmAndroidConfig;
}

export interface FcmAndroidConfig {
  priority: "HIGH" | "NORMAL";
  /** Duration string, e.g. "604800s". */
  ttl: string;
  collapse_key?: string;
  restricted_package_name?: string;
  notification?: FcmAndroidNotification;
}

export interface FcmAndroidNotification {
  channel_id?: string;
  tag: string;
  sound?: string;
  default_sound?: boolean;
  default_vibrate_timings?: boolean;
  notification_priority: "PRIORITY_LOW" | "PRIORITY_DEFAULT" | "PRIORITY_HIGH";
  notification_count?: number;
  image?: string;
}

/**
 * The payload size FCM limits: the UTF-8 bytes of every key and value the device receives — `data`,
 * `notification` and `android.notification` (FCM hands the display fields to the device as keys and
 * values of the same message). Which of these FCM's own count includes is not spelled out beyond
 * "keys and values" (UNCONFIRMED); counting all of them keeps us under it however it is taken.
 */
export function fcmPayloadBytes(message: Pick<FcmMessage, "data" | "notification" | "android">): number {
  let bytes = 0;
  const add = (map: object | undefined) => {
    for (const [key, value] of Object.entries(map ?? {})) {
      if (value === undefined) continue;
      bytes += Buffer.byteLength(key) + Buffer.byteLength(String(value));
    }
  };
  add(message.data);
  add(message.notification);
  add(message.android.notification);
  return bytes;
}

/**
 * The FCM message for one Android device. A chat message is a notification message (the system shows
 * it while the app is killed) that the plugin's click handler reads `ext` from; title and body are cut
 * to keep the payload within FCM's limit, and an `ext` too big on its own is left for FCM to refuse.
 * A call is a data message for the app's call UI (`buildFcmCallMessage`).
 */
export function buildFcmMessage(
  notification: Notification,
  target: DeliveryTarget,
  credential: FcmCredential,
): FcmMessage {
  if (notification.call !== undefined) return buildFcmCallMessage(notification, target);
  const { quiet = false, purpose = "im" } = notification;
  const android = notification.android ?? {};
  const badge = target.badge ?? notification.badge;
  // https://firebase.google.com/docs/cloud-messaging/android/message-priority: high priority is
  // "meant for time sensitive, user visible content"; notices of the app server are not time
  // sensitive, and a recall replaces what is shown. The sender's GooglePriority wins otherwise.
  const priority = quiet
    ? "NORMAL"
    : android.googlePriority !== undefined
      ? (android.googlePriority.toUpperCase() as "HIGH" | "NORMAL")
      : purpose === "operations"
        ? "NORMAL"
        : "HIGH";
  // On Android 8+ sound and vibration belong to the channel; a quiet channel is the only way to a
  // silent replacement there (https://developer.android.com/develop/ui/views/notifications/channels).
  const channelId =
    (quiet ? credential.quietChannelId : undefined) ?? android.googleChannelId ?? credential.androidChannelId;
  const build = (title: string, body: string): FcmMessage => ({
    token: target.token,
    notification: { title, body },
    data: { ext: notification.ext, conversationID: notification.conversationId },
    android: {
      priority,
      // No collapse_key: FCM keeps at most 4 collapse keys per offline device and throttles
      // collapsible messages to a burst of 20 (vendors.md §2 Quotas); the tag replaces on the device.
      ttl: `${FCM_TTL_MS / 1000}s`,
      ...(target.appId !== undefined && { restricted_package_name: target.appId }),
      notification: {
        ...(channelId !== undefined && { channel_id: channelId }),
        // One notification per message: a recall carries the recalled message's key and replaces
        // exactly it. FCM HTTP v1 has no Android group key (AndroidNotification in
        // https://firebase.google.com/docs/reference/fcm/rest/v1/projects.messages), so notifications
        // cannot be grouped by conversation here; `conversationID` in data lets an app do it.
        tag: collapseKeyOf(notification),
        // AndroidNotification.sound: "default" or a file in res/raw. Never the iOS sound (a file name
        // with an extension, for the app bundle). A quiet replacement sends none and turns off the
        // framework's default sound and vibration (default_sound, default_vibrate_timings).
        ...(quiet
          ? { default_sound: false, default_vibrate_timings: false }
          : { sound: android.sound ?? "default" }),
        // notification_priority decides heads-up on Android 7 and older (channels do it from 8 on).
        notification_priority: quiet
          ? "PRIORITY_LOW"
          : priority === "HIGH"
            ? "PRIORITY_HIGH"
            : "PRIORITY_DEFAULT",
        ...(badge !== undefined && { notification_count: badge }),
        ...(android.googleImage !== undefined && { image: android.googleImage }),
      },
    },
  });

  const room = FCM_PAYLOAD_LIMIT_BYTES - fcmPayloadBytes(build("", ""));
  const titleBytes = Buffer.byteLength(notification.title);
  const bodyBytes = Buffer.byteLength(notification.body);
  if (titleBytes + bodyBytes <= room) return build(notification.title, notification.body);
  // The title keeps up to half the room (more when the body is short); the body gets the rest.
  const title = truncate(notification.title, Math.max(Math.floor(room / 2), room - bodyBytes));
  return build(title, truncate(notification.body, room - Buffer.byteLength(title)));
}

/**
 * A call as FCM data message (no `notification` block), as TIMPush ≥ 7.9.5668 with TUICallKit ≥ 2.3
 * delivers calls over FCM: the app draws the incoming-call UI (https://trtc.io/document/50999;
 * tencent-calls-and-server-push.md §1.5, §2, §6 items 9 and 12). High priority, because only a high
 * priority message wakes a dozing device at once (message-priority guide above). `callAction` "ring"
 * lives for the invitation's timeout, so a phone that comes online later does not ring for a call that
 * is over; "cancel" (the call ended) carries the "Missed call" texts for the app to replace its
 * notification. Both share a collapse_key derived from the invitation, so FCM keeps only the newest for
 * an offline device: a phone that was off through the whole call gets the cancel, not a stale ring.
 *
 * The keys name the signaling envelope's fields (inviteID, inviter, inviteeList, groupID, timeout:
 * tencent-calls-and-server-push.md §1.2); `signaling` is the envelope itself, which the app hands back
 * to the IM SDK. TIMPush's own FCM data keys are not published (UNCONFIRMED), so these are chatpush's.
 */
export function buildFcmCallMessage(notification: Notification, target: DeliveryTarget): FcmMessage {
  const call = notification.call!;
  const ringing = call.action === "ring";
  const timeout = call.timeoutSeconds > 0 ? call.timeoutSeconds : DEFAULT_CALL_TIMEOUT_SECONDS;
  const build = (withSignaling: boolean, title: string, body: string): FcmMessage => ({
    token: target.token,
    data: {
      callAction: ringing ? "ring" : "cancel",
      inviteID: call.inviteId,
      inviter: call.callerId,
      inviterName: call.callerName,
      media: call.media,
      inviteeList: JSON.stringify(call.invitees),
      timeout: String(timeout),
      invitedAt: String(call.invitedAt),
      ...(call.groupId !== undefined && { groupID: call.groupId }),
      ...(call.roomId !== undefined && { roomID: call.roomId }),
      ...(call.endReason !== undefined && { endReason: call.endReason }),
      ...(withSignaling && call.signaling !== undefined && { signaling: call.signaling }),
      // The id the app shows its call notification under, so the cancel replaces that notification.
      notificationTag: collapseKeyOf(notification),
      title,
      body,
      ext: notification.ext,
      conversationID: notification.conversationId,
    },
    android: {
      priority: "HIGH",
      ttl: `${ringing ? timeout : FCM_TTL_MS / 1000}s`,
      collapse_key: collapseKeyOf(notification),
      ...(target.appId !== undefined && { restricted_package_name: target.appId }),
    },
  });

  const full = build(true, notification.title, notification.body);
  if (fcmPayloadBytes(full) <= FCM_PAYLOAD_LIMIT_BYTES) return full;
  // The app can read the invitation from the IM SDK, which syncs signaling on start (§1.1): the
  // envelope goes first, then the texts are cut.
  const lean = build(false, notification.title, notification.body);
  const room = FCM_PAYLOAD_LIMIT_BYTES - fcmPayloadBytes(build(false, "", ""));
  if (fcmPayloadBytes(lean) <= FCM_PAYLOAD_LIMIT_BYTES) return lean;
  const title = truncate(notification.title, Math.floor(room / 2));
  return build(false, title, truncate(notification.body, room - Buffer.byteLength(title)));
}

/** The longest whole-code-point prefix of `text` within `maxBytes` UTF-8 bytes, "…" included. */
function truncate(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  let used = Buffer.byteLength(ELLIPSIS);
  if (used > maxBytes) return "";
  let end = 0;
  for (const codePoint of text) {
    const size = Buffer.byteLength(codePoint);
    if (used + size > maxBytes) break;
    used += size;
    end += codePoint.length;
  }
  return `${text.slice(0, end).trimEnd()}${ELLIPSIS}`;
}

export const FCM_ORIGIN = "https://fcm.googleapis.com";

/** The real URL of messages:send for a project (https://firebase.google.com/docs/reference/fcm/rest/v1/projects.messages/send). */
export function fcmSendUrl(projectId: string): string {
  return `${FCM_ORIGIN}/v1/projects/${encodeURIComponent(projectId)}/messages:send`;
}

export interface FcmSenderOptions {
  credentials: readonly FcmCredential[];
  /**
   * Most HTTP/2 sessions per origin. Each carries up to the server's SETTINGS_MAX_CONCURRENT_STREAMS
   * (FCM: 100), so the default keeps up to 800 requests in flight: a job of 500 at once, and room for
   * the other jobs of a Lambda batch.
   */
  sessions?: number;
  /** Per request; firebase-admin waits 15 s. Ours leaves the worker time to settle within its 30 s. */
  requestTimeoutMs?: number;
}

const DEFAULT_SESSIONS = 8;
const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
const FCM_ERROR_TYPE = "type.googleapis.com/google.firebase.fcm.v1.FcmError";
const BAD_REQUEST_TYPE = "type.googleapis.com/google.rpc.BadRequest";

interface Channel {
  credential: FcmCredential;
  tokens: AccessTokenCache;
  pool: Http2Pool;
  path: string;
  headers: Record<string, string>;
}

/**
 * FCM HTTP v1 over keep-alive HTTP/2 sessions of our own, one request per target, all of a job's
 * targets in flight at once (bounded by the pool).
 *
 * Not firebase-admin's transport, for three reasons found in firebase-admin 13.10:
 * - `sendEach` opens a new HTTP/2 session per call and closes it in `finally`
 *   (lib/messaging/messaging.js), to a hard-coded `https://fcm.googleapis.com`
 *   (lib/utils/api-request.js Http2SessionHandler), so a warm Lambda never keeps one;
 * - `send` is HTTP/1.1, one socket per request in flight;
 * - both retry a 503 and a reset or timed-out socket themselves, up to 4 times with the Retry-After or
 *   0/1/2/4 s of backoff (`defaultRetryConfig`, which AuthorizedHttp2Client and AuthorizedHttpClient
 *   always use; no public option turns it off). That retry delivered a second copy after we had
 *   answered "retry" and the worker had scheduled its own (issue 9: 20 of 20). Here every request
 *   is sent once; only a request HTTP/2 says was never processed is sent again.
 * Its error mapping also folds opposite answers into one code (NOT_FOUND with UNREGISTERED,
 * PERMISSION_DENIED with SENDER_ID_MISMATCH), so the sender reads FCM's own answer (fcm-outcomes.ts).
 * The OAuth grant stays the service account's JWT-bearer grant (fcm-auth.ts).
 */
export class FcmSender implements VendorSender {
  readonly vendor = "fcm";
  private readonly credentials: readonly FcmCredential[];
  private readonly sessions: number;
  private readonly requestTimeoutMs: number;
  private readonly channels = new Map<number, Channel>();
  private readonly pools = new Map<string, Http2Pool>();
  /**
   * Deliveries in progress across all `send` calls, at most what the sessions can carry at once: a
   * message is built only when a stream is about to be free, so ten jobs of 500 do not hold 5,000
   * request bodies at once.
   */
  private readonly gate: Gate;

  constructor(options: FcmSenderOptions) {
    this.credentials = options.credentials;
    this.sessions = options.sessions ?? DEFAULT_SESSIONS;
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.gate = new Gate(this.sessions * FCM_STREAMS_PER_SESSION);
  }

  send(notification: Notification, targets: DeliveryTarget[]): Promise<SendResult[]> {
    return Promise.all(targets.map((target) => this.gate.run(() => this.deliver(notification, target))));
  }

  /** HTTP/2 sessions opened so far, over all origins (for benchmarks and tests). */
  sessionsOpened(): number {
    let opened = 0;
    for (const pool of this.pools.values()) opened += pool.sessionsOpened();
    return opened;
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((pool) => pool.close()));
    this.pools.clear();
    this.channels.clear();
  }

  private async deliver(notification: Notification, target: DeliveryTarget): Promise<SendResult> {
    const credential = pickCredential(this.credentials, target.certificateId);
    if (credential === undefined) {
      // Our configuration lacks the credential the device registered with; the device is fine.
      const reason = `FCM no credential for certificateId ${target.certificateId ?? "(default)"}`;
      return { target, outcome: { kind: "credential-problem", reason } };
    }
    let channel: Channel;
    try {
      channel = this.channelFor(credential);
    } catch (error) {
      const reason = `FCM credential ${credential.certificateId} unusable: ${(error as Error).message}`;
      return { target, outcome: { kind: "credential-problem", reason } };
    }
    const body = JSON.stringify({ message: buildFcmMessage(notification, target, credential) });
    const first = await this.attempt(channel, body);
    if (first.refusedToken === undefined) return { target, ...first.result };
    // Google refused the access token (revoked, or expired early). It answered before FCM saw the
    // message, so sending again cannot make a second copy.
    channel.tokens.renew(first.refusedToken);
    return { target, ...(await this.attempt(channel, body)).result };
  }

  private async attempt(
    channel: Channel,
    body: string,
  ): Promise<{ result: Omit<SendResult, "target">; refusedToken?: number }> {
    let token: { token: string; generation: number };
    try {
      token = await channel.tokens.get();
    } catch (error) {
      return { result: { outcome: tokenOutcome(error) } };
    }
    let answer: Http2Answer;
    try {
      answer = await channel.pool.request({
        method: "POST",
        path: channel.path,
        headers: {
          authorization: `Bearer ${token.token}`,
          "content-type": "application/json; charset=UTF-8",
          ...channel.headers,
        },
        body,
        timeoutMs: this.requestTimeoutMs,
      });
    } catch (error) {
      const { code, message } = error as Http2TransportError;
      return { result: { outcome: classifyFcm({ errorCode: code, message }) } };
    }
    const outcome = classifyFcm(readFcmAnswer(answer));
    if (outcome.kind === "delivered") {
      // FCM answers {"name": "projects/<id>/messages/<message id>"}.
      const name = (parseJson(answer.body) as { name?: unknown } | undefined)?.name;
      const delivered: Outcome = typeof name === "string" ? { kind: "delivered", vendorId: name } : outcome;
      return { result: { outcome: delivered, status: answer.status } };
    }
    const result = { outcome, status: answer.status };
    return outcome.kind === "refresh-credential" ? { result, refusedToken: token.generation } : { result };
  }

  private channelFor(credential: FcmCredential): Channel {
    let channel = this.channels.get(credential.certificateId);
    if (channel === undefined) {
      const { url, headers } = vendorUrl(fcmSendUrl(credential.projectId), credential.endpoint?.url);
      const target = new URL(url);
      channel = {
        credential,
        tokens: new AccessTokenCache(new ServiceAccountCredential(credential)),
        pool: this.poolFor(target.origin, credential.endpoint?.ca),
        path: `${target.pathname}${target.search}`,
        headers,
      };
      this.channels.set(credential.certificateId, channel);
    }
    return channel;
  }

  private poolFor(origin: string, ca: string | undefined): Http2Pool {
    const key = `${origin} ${ca ?? ""}`;
    let pool = this.pools.get(key);
    if (pool === undefined) {
      pool = new Http2Pool({ origin, maxSessions: this.sessions, ...(ca !== undefined && { ca }) });
      this.pools.set(key, pool);
    }
    return pool;
  }
}

/** Runs at most `limit` tasks at once, the rest in the order they came. */
class Gate {
  private running = 0;
  private readonly queue: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((resolve) => this.queue.push(resolve));
    else this.running += 1;
    try {
      return await task();
    } finally {
      const next = this.queue.shift();
      // The slot passes straight to the next task; only when none waits is it given back.
      if (next !== undefined) next();
      else this.running -= 1;
    }
  }
}

/** A token grant that failed: a refused service account is ours to fix, an unreachable endpoint is not. */
function tokenOutcome(error: unknown): Outcome {
  const reason = `FCM access token: ${(error as Error).message}`;
  if (error instanceof FcmTokenError && error.refusesAccount) return { kind: "credential-problem", reason };
  return { kind: "retry", reason };
}

/** FCM's errorCode from the FcmError detail, else Google's RPC status; the message and named fields. */
export function readFcmAnswer(answer: Http2Answer): FcmAnswer {
  const retryAfterSeconds = parseRetryAfter(answer.headers["retry-after"]);
  const base: FcmAnswer = {
    httpStatus: answer.status,
    ...(retryAfterSeconds !== undefined && { retryAfterSeconds }),
  };
  if (answer.status >= 200 && answer.status < 300) return base;
  type GoogleError = { error?: { message?: unknown; status?: unknown; details?: unknown } };
  const error = (parseJson(answer.body) as GoogleError | null | undefined)?.error;
  const details = Array.isArray(error?.details) ? (error.details as Record<string, unknown>[]) : [];
  const fcmCode = details.find((d) => d["@type"] === FCM_ERROR_TYPE)?.errorCode;
  const errorCode = typeof fcmCode === "string" ? fcmCode : error?.status;
  const fields = details
    .filter((d) => d["@type"] === BAD_REQUEST_TYPE && Array.isArray(d.fieldViolations))
    .flatMap((d) => d.fieldViolations as { field?: unknown }[])
    .map((violation) => violation.field)
    .filter((field): field is string => typeof field === "string");
  return {
    ...base,
    ...(typeof errorCode === "string" && { errorCode }),
    ...(typeof error?.message === "string" && { message: error.message }),
    ...(fields.length > 0 && { fields }),
  };
}

/** Retry-After is delay-seconds or an HTTP date (RFC 9110 §10.2.3). */
function parseRetryAfter(value: string | string[] | undefined): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined) return undefined;
  if (/^\d+$/.test(text.trim())) return Number(text);
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
