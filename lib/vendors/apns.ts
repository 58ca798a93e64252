import { createHash, hash } from "node:crypto";
import apn, { type ProviderOptions } from "@parse/node-apn";
import {
  type ApnsEnvironment,
  collapseKeyOf,
  type DeliveryTarget,
  type IosPushOptions,
  type Notification,
  type Outcome,
} from "../model/index.js";
import { type Clock, type SendResult, systemClock, type VendorSender } from "../ports/index.js";
import { ApnsCredentialError, apnsAuthOptions } from "./apns-credential.js";
import { classifyApns } from "./apns-outcomes.js";
import {
  APNS_MAX_IN_FLIGHT,
  APNS_MAX_SESSIONS,
  APNS_MAX_STREAMS_PER_SESSION,
  type ApnsAnswer,
  ApnsSessionPool,
  InFlightGate,
  type WireTemplate,
  wireTemplate,
} from "./apns-pool.js";
import { type ApnsCredential, pickCredential } from "./credentials.js";

/**
 * Apple, "Generating a remote notification": "For Voice over Internet Protocol (VoIP) notifications,
 * the maximum payload size is 5 KB (5120 bytes). For all other remote notifications, the maximum
 * payload size is 4 KB (4096 bytes)."
 */
export const APNS_PAYLOAD_LIMIT = 4096;
export const APNS_VOIP_PAYLOAD_LIMIT = 5120;
/** Apple, "Sending notification requests to APNs": `apns-collapse-id` must not exceed 64 bytes. */
const COLLAPSE_ID_LIMIT = 64;
/** Tencent Cloud Chat keeps offline messages 7 days; a push announcing one is pointless after that. */
const OFFLINE_TTL_SECONDS = 7 * 24 * 60 * 60;
/**
 * How long an invitation with signaling `timeout` 0 ("no timeout detection") rings: TUICalling's own
 * timeout (tencent-calls-and-server-push.md §1.1, TRTCCallingImpl.java `TIME_OUT_COUNT = 30`).
 */
export const DEFAULT_RING_SECONDS = 30;
/**
 * TUICallKit's ringtone for call pushes (`pushInfo.iosSound = "phone_ringing.mp3"`,
 * Tencent-RTC/TUICallKit Android/tuicallkit-kt/…/common/config/OfflinePushInfoConfig.kt and
 * iOS/TUICallKit_Swift/Common/Config/OfflinePushInfoConfig.swift; tencent-calls-and-server-push.md §1.5).
 */
export const CALL_RINGTONE = "phone_ringing.mp3";
/** Tencent's `kIOSOfflinePushNoSound` (tencent-chat.md §7.4): no sound at all. */
export const TENCENT_NO_SOUND = "push.no_sound";
/** Apple, "Sending notification requests to APNs": the provider API hosts. */
export const APNS_HOSTS: Readonly<Record<ApnsEnvironment, string>> = {
  production: "api.push.apple.com",
  sandbox: "api.sandbox.push.apple.com",
};
const ELLIPSIS = "…";

/** The URL a request for `token` goes to (what `GET /_local/deliveries` shows as `endpoint`). */
export function apnsDeviceUrl(environment: ApnsEnvironment, token: string): string {
  return `https://${APNS_HOSTS[environment]}/3/device/${token}`;
}

/** The headers chatpush sets on every APNs request, as they go on the wire. */
export interface ApnsHeaders {
  "apns-topic": string;
  "apns-push-type": "alert" | "voip";
  "apns-priority": "10";
  "apns-expiration": string;
  /** Stable per notification and device (`apnsIdOf`). */
  "apns-id": string;
  /** Alerts only: what a later notification replaces this one by. */
  "apns-collapse-id"?: string;
}

export interface ApnsAlertPayload {
  aps: {
    alert: { title: string; subtitle?: string; body: string };
    badge?: number;
    /** Absent = no sound (Apple: the `sound` key names the sound to play). */
    sound?: string;
    "thread-id": string;
    "mutable-content"?: 1;
    "interruption-level"?: NonNullable<IosPushOptions["interruptionLevel"]>;
  };
  /** Top level and still a JSON string, where Tencent's own APNs pushes put it for the plugin. */
  ext: string;
  /** The image the app's Notification Service Extension downloads and attaches. */
  image?: string;
}

/**
 * A PushKit VoIP push: iOS shows nothing, the app reads these keys and must report the call to
 * CallKit before its handler returns (https://developer.apple.com/documentation/pushkit/responding_to_voip_notifications_from_pushkit).
 */
export interface ApnsCallPayload {
  call: {
    inviteId: string;
    callerId: string;
    callerName?: string;
    media: "audio" | "video";
    groupId?: string;
    invitees?: string[];
    /** How many invitees were left out to fit 5120 bytes (the app syncs them from the signaling). */
    inviteesOmitted?: number;
    /** Seconds the invitation rings. */
    timeout: number;
    /** Epoch ms. */
    invitedAt: number;
    roomId?: string;
    /** The signaling envelope (TIMCustomElem.Data), for the SDK's `addInvitedSignaling`. */
    signaling?: string;
  };
  ext?: string;
}

export type ApnsRequest =
  | { headers: ApnsHeaders & { "apns-push-type": "alert" }; payload: ApnsAlertPayload }
  | { headers: ApnsHeaders & { "apns-push-type": "voip" }; payload: ApnsCallPayload };

/** A request, or why this target gets none (a bad-request for that target). */
export type ApnsBuild = { ok: true; request: ApnsRequest } | { ok: false; reason: string };

export type ApnsTarget = Pick<DeliveryTarget, "deviceId" | "badge" | "pushType">;

/** The APNs request for one notification and one target. */
export function buildApnsRequest(
  notification: Notification,
  target: ApnsTarget,
  credential: Pick<ApnsCredential, "bundleId">,
  now: number,
): ApnsBuild {
  return apnsBuilder(notification, credential, now)(target);
}

/**
 * The builder of one notification's requests, target by target. Targets differ only in their badge,
 * their push type and the apns-id, so each payload is built (and cut to fit) once per badge.
 *
 * An IM message is an alert at priority 10 (vendors.md §10). Priority stays 10 for quiet replacements
 * too: Apple says notifications at priority 5 and 1 "might get grouped and delivered in bursts …
 * throttled … and in some cases, not delivered" (Sending notification requests to APNs), and a recall
 * must replace the recalled text promptly; what keeps it quiet is the payload (`quietAlert`).
 */
export function apnsBuilder(
  notification: Notification,
  credential: Pick<ApnsCredential, "bundleId">,
  now: number,
): (target: ApnsTarget) => ApnsBuild {
  const call = notification.call;
  const ringing = call?.action === "ring";
  const nowSeconds = Math.floor(now / 1000);

  let expiration: number;
  if (call !== undefined && ringing) {
    // A ring is worth nothing once the invitation has timed out: APNs must not store it past then.
    const endsAt = Math.floor((call.invitedAt + ringSeconds(call.timeoutSeconds) * 1000) / 1000);
    if (endsAt <= nowSeconds) {
      const reason = `call invitation ${call.inviteId} rang out at ${new Date(endsAt * 1000).toISOString()}`;
      return () => ({ ok: false, reason });
    }
    expiration = endsAt;
  } else {
    // Past Tencent's window (a retry that waited long), 0 = "deliver now if the device is online,
    // never store" rather than a date APNs would have to interpret.
    const expiresAt = Math.floor(notification.sentAt / 1000) + OFFLINE_TTL_SECONDS;
    expiration = expiresAt > nowSeconds ? expiresAt : 0;
  }

  // A ring and its "Missed call" share the invitation's collapse id, so the second replaces the first.
  const collapseId = headerSafeId(call !== undefined ? call.inviteId : collapseKeyOf(notification));
  const alerts = new Map<number | undefined, ApnsAlertPayload>();
  let voip: ApnsCallPayload | undefined;
  const unsendableByType = new Map<boolean, string | null>();

  return (target) => {
    const isVoip = target.pushType === "voip";
    const common = {
      "apns-priority": "10" as const,
      "apns-expiration": String(expiration),
      "apns-id": apnsIdOf(notification, target),
    };
    let request: ApnsRequest;
    if (isVoip) {
      // Apple: "Use VoIP pushes only to start calls" and report every one to CallKit; a cancel or an
      // update must not be a VoIP push (tencent-calls-and-server-push.md §3). The router never sends
      // one; a job that does is refused here rather than crashing the app.
      if (call === undefined || call.action !== "ring") {
        return { ok: false, reason: "VoIP tokens only take call invitations" };
      }
      voip ??= callPayload(notification, call);
      request = {
        // Apple (apns-push-type): "If you set this push type, the apns-topic header field must use your
        // app's bundle ID with .voip appended to the end."
        headers: { "apns-topic": `${credential.bundleId}.voip`, "apns-push-type": "voip", ...common },
        payload: voip,
      };
    } else {
      const badge = target.badge ?? notification.badge;
      let payload = alerts.get(badge);
      if (payload === undefined) {
        payload = alertPayload(notification, badge);
        alerts.set(badge, payload);
      }
      request = {
        headers: {
          "apns-topic": credential.bundleId,
          "apns-push-type": "alert",
          ...common,
          "apns-collapse-id": collapseId,
        },
        payload,
      };
    }
    // apns-id is hex by construction; the other headers are the same for every target of a kind.
    let unsendable = unsendableByType.get(isVoip);
    if (unsendable === undefined) {
      unsendable = unsendableHeader(request.headers) ?? null;
      unsendableByType.set(isVoip, unsendable);
    }
    if (unsendable !== null) {
      return {
        ok: false,
        reason: `APNs header ${unsendable} cannot be sent over HTTP/2 (not visible ASCII)`,
      };
    }
    return { ok: true, request };
  };
}

function ringSeconds(timeoutSeconds: number): number {
  return timeoutSeconds > 0 ? timeoutSeconds : DEFAULT_RING_SECONDS;
}

function alertPayload(notification: Notification, badge: number | undefined): ApnsAlertPayload {
  const ios = notification.ios ?? {};
  const ringing = notification.call?.action === "ring";
  // A recall, or the "Missed call" that replaces a ring: it must not alert again.
  const quiet = notification.quiet === true || notification.call?.action === "ended";
  const silent = quiet || ios.silent === true || ios.sound === TENCENT_NO_SOUND;
  const sound = silent ? undefined : (ios.sound ?? (ringing ? CALL_RINGTONE : "default"));
  // Apple (UNNotificationInterruptionLevel): `passive` "adds the notification to the notification
  // list without lighting up the screen or playing a sound"; `time-sensitive` breaks through Focus
  // (the app needs the Time Sensitive Notifications capability, vendors.md §10).
  const level = quiet ? "passive" : ringing ? "time-sensitive" : ios.interruptionLevel;
  // Apple: "mutable-content: 1" is what makes the system pass the push to the Notification Service
  // Extension, the only place an image URL can be downloaded and attached.
  const mutable = ios.mutableContent === true || ios.image !== undefined;
  const subtitle = ios.subtitle !== undefined ? { subtitle: wellFormed(ios.subtitle) } : {};
  const payload: ApnsAlertPayload = {
    aps: {
      alert: {
        title: wellFormed(ios.title ?? notification.title),
        ...subtitle,
        body: wellFormed(notification.body),
      },
      ...(badge !== undefined && { badge }),
      ...(sound !== undefined && { sound }),
      "thread-id": wellFormed(notification.conversationId),
      ...(mutable && { "mutable-content": 1 as const }),
      ...(level !== undefined && { "interruption-level": level }),
    },
    ext: notification.ext,
    // UNCONFIRMED: which key Tencent's TIMPush extension reads the image URL from is not documented
    // (TIMPush is closed source; TencentCloud/TIMSDK iOS/Demo/pushservice/NotificationService.m only
    // rewrites the title). Apple requires custom keys outside `aps`; chatpush sends top-level `image`.
    ...(ios.image !== undefined && { image: ios.image }),
  };
  return fitAlert(payload);
}

function callPayload(notification: Notification, call: NonNullable<Notification["call"]>): ApnsCallPayload {
  const full: ApnsCallPayload = {
    call: {
      inviteId: call.inviteId,
      callerId: call.callerId,
      callerName: wellFormed(call.callerName),
      media: call.media,
      ...(call.groupId !== undefined && { groupId: call.groupId }),
      invitees: call.invitees,
      timeout: ringSeconds(call.timeoutSeconds),
      invitedAt: call.invitedAt,
      ...(call.roomId !== undefined && { roomId: call.roomId }),
      ...(call.signaling !== undefined && { signaling: call.signaling }),
    },
    ext: notification.ext,
  };
  const fits = (p: ApnsCallPayload) => payloadBytes(p) <= APNS_VOIP_PAYLOAD_LIMIT;
  if (fits(full)) return full;
  // Cut the optional parts, never the ids: the envelope (its keys are all here), then ext, then the
  // display name, then the invitee list (the woken app syncs the invitation from the SDK).
  const withoutSignaling: ApnsCallPayload["call"] = { ...full.call };
  delete withoutSignaling.signaling;
  let cutDown: ApnsCallPayload = { call: withoutSignaling, ...(full.ext !== undefined && { ext: full.ext }) };
  if (fits(cutDown)) return cutDown;
  cutDown = { call: withoutSignaling };
  if (fits(cutDown)) return cutDown;
  const name = withoutSignaling.callerName ?? "";
  const named = longestFitting(name, (n) => fits({ call: { ...withoutSignaling, callerName: n } }));
  if (named !== undefined) return { call: { ...withoutSignaling, callerName: named } };
  const bare: ApnsCallPayload["call"] = { ...withoutSignaling, inviteesOmitted: call.invitees.length };
  delete bare.callerName;
  delete bare.invitees;
  // Still too large means the ids alone are: sent as is, APNs answers 413 and the target is parked.
  return { call: bare };
}

function payloadBytes(payload: object): number {
  return Buffer.byteLength(JSON.stringify(payload));
}

type AlertField = "body" | "subtitle" | "title";

function withAlertField(payload: ApnsAlertPayload, field: AlertField, text: string): ApnsAlertPayload {
  return { ...payload, aps: { ...payload.aps, alert: { ...payload.aps.alert, [field]: text } } };
}

/** The body, then the subtitle, then the title are cut so the payload fits APNs' limit. */
function fitAlert(payload: ApnsAlertPayload): ApnsAlertPayload {
  const fits = (p: ApnsAlertPayload) => payloadBytes(p) <= APNS_PAYLOAD_LIMIT;
  if (fits(payload)) return payload;
  let current = payload;
  for (const field of ["body", "subtitle", "title"] as const) {
    const text = current.aps.alert[field];
    if (text === undefined) continue;
    const cutText = longestFitting(text, (t) => fits(withAlertField(current, field, t)));
    if (cutText !== undefined) return withAlertField(current, field, cutText);
    current = withAlertField(current, field, cut(Array.from(text), text, 0));
  }
  // Still too large means `ext` alone is: left whole (cutting it would break the app's JSON), so APNs
  // answers 413 PayloadTooLarge and the target is dead-lettered with that reason.
  return current;
}

/** The first `keep` code points plus an ellipsis, or the text itself when nothing is cut. */
function cut(codePoints: string[], text: string, keep: number): string {
  return keep >= codePoints.length ? text : `${codePoints.slice(0, keep).join("")}${ELLIPSIS}`;
}

/**
 * The longest cut of `text` (on a code-point boundary, so no emoji is split into a lone surrogate)
 * that `fits`; undefined when even the bare ellipsis does not. Callers only ask when the whole text
 * does not fit, so fitting is monotonic in `keep` and a binary search finds the boundary.
 */
function longestFitting(text: string, fits: (candidate: string) => boolean): string | undefined {
  const codePoints = Array.from(text);
  if (!fits(cut(codePoints, text, 0))) return undefined;
  let low = 0;
  let high = codePoints.length;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (fits(cut(codePoints, text, middle))) low = middle;
    else high = middle - 1;
  }
  return cut(codePoints, text, low);
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** Text with lone surrogates (which UTF-8 cannot carry) replaced by U+FFFD. */
function wellFormed(text: string): string {
  return text.replace(LONE_SURROGATE, "\ufffd");
}

/** An HTTP/2 header value APNs takes as it is: visible ASCII, inner spaces only. */
const SENDABLE_HEADER = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;
const VISIBLE_ASCII = /^[\x21-\x7e]+$/;

/**
 * A value that becomes a header: itself when it is plain visible ASCII within `limit` bytes, else
 * its SHA-256 in hex (64 bytes). Ids with NUL, emoji or lone surrogates would otherwise end in an
 * HTTP/2 protocol error. The hash is over the value's JSON form, so ids that differ only in lone
 * surrogates (which UTF-8 would turn into the same U+FFFD) keep different hashes.
 */
export function headerSafeId(value: string, limit = COLLAPSE_ID_LIMIT): string {
  if (VISIBLE_ASCII.test(value) && value.length <= limit) return value;
  return createHash("sha256").update(JSON.stringify(value)).digest("hex");
}

/** The first header whose value HTTP/2 would refuse, if any. */
function unsendableHeader(headers: ApnsHeaders): string | undefined {
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !SENDABLE_HEADER.test(value)) return name;
  }
  return undefined;
}

/** RFC 9562 §5.5 name space for chatpush's apns-id (a random UUID, fixed once). */
const APNS_ID_NAMESPACE = Buffer.from("5f1d6c2e8b0a4e7f9c3d2a1b0e9f8d7c", "hex");

/**
 * The apns-id of one notification on one device: a name-based UUID (version 5) of the message, the
 * notification it is (a recall has its own messageKey, a ring and its end their own action), the
 * device and its push type, so a resend of the same job carries the same id. Apple: "a canonical UUID
 * … 8-4-4-4-12, lowercase" (vendors.md §1). APNs documents no de-duplication by apns-id
 * (UNCONFIRMED); it ties a resend to the first attempt in APNs' answers and delivery log.
 */
export function apnsIdOf(
  notification: Notification,
  target: Pick<DeliveryTarget, "deviceId" | "pushType">,
): string {
  return apnsIdsOf(notification)(target);
}

/**
 * `apnsIdOf` for many devices of one notification: the name's shared part (message, notification,
 * action) is hashed once and each device only adds its own, so the ids are byte for byte the same.
 */
export function apnsIdsOf(
  notification: Notification,
): (target: Pick<DeliveryTarget, "deviceId" | "pushType">) => string {
  // JSON.stringify of a string array is `["a","b",…]`: the shared head, then each device's tail.
  const head = JSON.stringify([
    notification.messageKey,
    collapseKeyOf(notification),
    notification.call?.action ?? "",
  ]).slice(0, -1);
  const headBytes = Buffer.concat([APNS_ID_NAMESPACE, Buffer.from(head, "utf8")]);
  // One scratch buffer for every device's name: the shared bytes once, each tail written after them,
  // hashed in one call (no Hash object per device).
  let scratch = Buffer.alloc(0);
  return (target) => {
    const tail = `,${JSON.stringify(target.deviceId ?? null)},${JSON.stringify(target.pushType ?? "alert")}]`;
    if (scratch.length < headBytes.length + 3 * tail.length) {
      scratch = Buffer.allocUnsafe(headBytes.length + 3 * tail.length + 64);
      headBytes.copy(scratch);
    }
    const written = scratch.write(tail, headBytes.length, "utf8");
    const hex = hash("sha1", scratch.subarray(0, headBytes.length + written), "hex");
    // RFC 9562 §5.5: version 5 in the high nibble of byte 6, variant 10 in the top bits of byte 8.
    const variant = VARIANT_NIBBLE[Number.parseInt(hex[16]!, 16) & 0x3];
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
  };
}

const VARIANT_NIBBLE = ["8", "9", "a", "b"];

/** APNs device tokens are hex (the path segment of /3/device/<token>). */
const HEX_TOKEN = /^[0-9a-f]+$/i;

type TokenResult = Omit<SendResult, "target">;

export interface ApnsSenderOptions {
  credentials: readonly ApnsCredential[];
  clock?: Clock;
  /** HTTP/2 sessions per credential × environment (default `APNS_MAX_SESSIONS`). */
  maxSessions?: number;
  /** Requests in flight across all sessions: the memory cap (default `APNS_MAX_IN_FLIGHT`). */
  maxInFlight?: number;
  /** How long a request waits for APNs' answer (node-apn's `requestTimeout`, default 5,000 ms). */
  requestTimeoutMs?: number;
}

/**
 * Sends with token (.p8) or certificate (.p12) auth over node-apn's sessions. Built once at module
 * scope by the worker, so its HTTP/2 sessions live as long as the Lambda container (Apple treats
 * connect-per-request as a DoS pattern) and are shared by every job of a batch: each credential ×
 * environment has a pool of sessions (`ApnsSessionPool`) that keeps every request of every job in
 * flight within the server's stream limit and a memory cap.
 *
 * Still node-apn (issue 10: "through the chosen libraries"), but not its whole request path: node-apn
 * makes each session (a Provider: TLS options from the key or certificate, proxy, heartbeat,
 * reconnection after GOAWAY or an error) and the JWT (minted, refreshed after 55 minutes, renewed on
 * ExpiredProviderToken); the pool writes the request's stream itself. node-apn 8.1's Client.write
 * costs an async function, three promise layers, eight listeners and a timer per request, resends
 * 408/429/5xx on its own at once (it reads `Retry-After` under a capitalised name HTTP/2 never
 * delivers, lib/client.js), keeps one session per Provider and never says the server's stream limit;
 * through it chatpush spent more CPU per send than node-apn used plainly (bench/senders-apns.ts).
 * Should a later node-apn hide its session, the pool goes through Client.write again.
 */
export class ApnsSender implements VendorSender {
  readonly vendor = "apns";
  private readonly credentials: readonly ApnsCredential[];
  private readonly clock: Clock;
  private readonly maxSessions: number;
  private readonly gate: InFlightGate;
  private readonly requestTimeoutMs: number | undefined;
  private readonly pools = new Map<string, ApnsSessionPool | ApnsCredentialError>();

  constructor({
    credentials,
    clock = systemClock,
    maxSessions = APNS_MAX_SESSIONS,
    maxInFlight = APNS_MAX_IN_FLIGHT,
    requestTimeoutMs,
  }: ApnsSenderOptions) {
    this.credentials = credentials;
    this.clock = clock;
    this.maxSessions = maxSessions;
    this.gate = new InFlightGate(maxInFlight);
    this.requestTimeoutMs = requestTimeoutMs;
  }

  async send(notification: Notification, targets: DeliveryTarget[]): Promise<SendResult[]> {
    const job = new JobRequests(notification, this.clock.now());
    // One request per pool, push type and token: a token listed twice in a job is pushed once, and
    // its answer settles every target that names it.
    const requests = new Map<ApnsSessionPool, Record<"alert" | "voip", Map<string, number[]>>>();
    const results = new Array<SendResult>(targets.length);
    let outstanding = 0;
    let finished: () => void = () => undefined;
    const allAnswered = new Promise<void>((resolve) => {
      finished = resolve;
    });
    let route: Route | undefined;

    for (let index = 0; index < targets.length; index += 1) {
      const target = targets[index]!;
      const environment = target.environment ?? "production";
      if (
        route === undefined ||
        route.certificateId !== target.certificateId ||
        route.environment !== environment
      ) {
        route = this.routeOf(target.certificateId, environment);
      }
      const prepared = job.prepare(route, target);
      if (prepared.refused !== undefined) {
        results[index] = { target, outcome: prepared.refused };
        continue;
      }
      const { pool, template } = prepared;
      let byType = requests.get(pool);
      if (byType === undefined) {
        byType = { alert: new Map(), voip: new Map() };
        requests.set(pool, byType);
      }
      const byToken = byType[template.pushType === "voip" ? "voip" : "alert"];
      const same = byToken.get(target.token);
      if (same !== undefined) {
        same.push(index);
        continue;
      }
      const indexes = [index];
      byToken.set(target.token, indexes);
      outstanding += 1;
      const environmentKnown = target.environment !== undefined;
      deliver(pool, template, job.idOf(target), target.token, (answer) => {
        const result = resultOf(answer, environmentKnown);
        for (const i of indexes) {
          results[i] =
            result.status === undefined
              ? { target: targets[i]!, outcome: result.outcome }
              : { target: targets[i]!, status: result.status, outcome: result.outcome };
        }
        outstanding -= 1;
        if (outstanding === 0) finished();
      });
    }
    if (outstanding > 0) await allAnswered;
    return results;
  }

  /** Where a certificate id × environment goes: its credential and pool, or why nowhere. */
  private routeOf(certificateId: number | undefined, environment: ApnsEnvironment): Route {
    const credential = pickCredential(this.credentials, certificateId);
    if (credential === undefined) {
      return {
        certificateId,
        environment,
        refused: { kind: "bad-request", reason: `no APNs credential ${certificateId}` },
      };
    }
    const pool = this.poolFor(credential, environment);
    if (pool instanceof ApnsCredentialError) {
      return { certificateId, environment, refused: { kind: "credential-problem", reason: pool.message } };
    }
    return { certificateId, environment, credential, pool };
  }

  async close(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((pool) => (pool instanceof ApnsSessionPool ? pool.close() : undefined)));
  }

  private poolFor(
    credential: ApnsCredential,
    environment: ApnsEnvironment,
  ): ApnsSessionPool | ApnsCredentialError {
    const key = `${credential.certificateId}:${environment}`;
    let pool = this.pools.get(key);
    if (pool === undefined) {
      try {
        const options = providerOptions(credential, environment, this.requestTimeoutMs);
        pool = new ApnsSessionPool({
          open: () => new apn.Provider(options),
          gate: this.gate,
          maxSessions: this.maxSessions,
          streamCap: APNS_MAX_STREAMS_PER_SESSION,
        });
      } catch (error) {
        pool =
          error instanceof ApnsCredentialError
            ? error
            : new ApnsCredentialError(
                `APNs credential ${credential.certificateId} unusable: ${(error as Error).message}`,
              );
      }
      this.pools.set(key, pool);
    }
    return pool;
  }
}

function providerOptions(
  credential: ApnsCredential,
  environment: ApnsEnvironment,
  requestTimeoutMs: number | undefined,
): ProviderOptions {
  const options: ProviderOptions = {
    ...(requestTimeoutMs !== undefined && { requestTimeout: requestTimeoutMs }),
    ...apnsAuthOptions(credential),
    production: environment === "production",
    // Retries belong to the worker's queue. node-apn would resend 408/429/5xx at once (it reads
    // `Retry-After` by a capitalised name HTTP/2 never delivers, so it always waits 0 s) and hammer a
    // device APNs just throttled.
    connectionRetryLimit: 0,
  };
  // node-apn checks a certificate against `production` (lib/credentials/certificate/validate.js: the
  // push certificate's Apple OIDs for development / production) when it builds the Provider, so a
  // certificate for the wrong environment is caught here, before any request.
  new apn.Provider(options).shutdown();
  const endpoint = credential.endpoint;
  if (endpoint === undefined) return options;
  // local-tooling.md §5: `address` must be the host alone (a port in it is overridden by `port`), and
  // trust comes from the endpoint's CA, never from turning verification off.
  const { host, port } = endpoint[environment];
  return { ...options, address: host, port, ...(endpoint.ca !== undefined && { ca: [endpoint.ca] }) };
}

/**
 * The requests of one job: a template per credential and kind of target (VoIP, or an alert with a
 * given badge), built and serialised once by `apnsBuilder`, and each target's own apns-id. Targets
 * differ in nothing else (`apnsBuilder`), so 500 targets cost one payload and 500 ids.
 */
class JobRequests {
  private readonly builders = new Map<ApnsCredential, (target: ApnsTarget) => ApnsBuild>();
  private readonly kinds = new Map<
    ApnsCredential,
    Map<number | "voip" | undefined, WireTemplate | Outcome>
  >();
  readonly idOf: (target: Pick<DeliveryTarget, "deviceId" | "pushType">) => string;

  constructor(
    private readonly notification: Notification,
    private readonly now: number,
  ) {
    this.idOf = apnsIdsOf(notification);
  }

  /** The pool and request template for one target, or why it gets none (nothing is sent for it then). */
  prepare(
    route: Route,
    target: DeliveryTarget,
  ): { pool: ApnsSessionPool; template: WireTemplate; refused?: undefined } | { refused: Outcome } {
    if (route.refused !== undefined) return { refused: route.refused };
    // Never sent, so never a removal on our own reading: the device API should not have taken it.
    if (!HEX_TOKEN.test(target.token)) {
      return { refused: { kind: "bad-request", reason: "APNs device token is not hex" } };
    }
    const { credential, pool } = route;
    let kinds = this.kinds.get(credential);
    if (kinds === undefined) {
      kinds = new Map();
      this.kinds.set(credential, kinds);
    }
    const kind = target.pushType === "voip" ? "voip" : (target.badge ?? this.notification.badge);
    let template = kinds.get(kind);
    if (template === undefined) {
      let builder = this.builders.get(credential);
      if (builder === undefined) {
        builder = apnsBuilder(this.notification, credential, this.now);
        this.builders.set(credential, builder);
      }
      const build = builder(target);
      template = build.ok
        ? wireTemplate(
            build.request.headers as unknown as Record<string, string>,
            JSON.stringify(build.request.payload),
          )
        : { kind: "bad-request", reason: build.reason };
      kinds.set(kind, template);
    }
    return "bytes" in template ? { pool, template } : { refused: template };
  }
}

type Route = { certificateId: number | undefined; environment: ApnsEnvironment } & (
  | { credential: ApnsCredential; pool: ApnsSessionPool; refused?: undefined }
  | { refused: Outcome }
);

/**
 * One token's request, answered through `done`. On 403 ExpiredProviderToken the JWT has been renewed
 * (node-apn's token.regenerate, as its Client does), so the same pool resends once with the new one;
 * a second expiry goes back as refresh-credential.
 */
function deliver(
  pool: ApnsSessionPool,
  template: WireTemplate,
  id: string,
  token: string,
  done: (answer: ApnsAnswer) => void,
): void {
  pool.post(template, id, token, (answer) => {
    if (answer.status === 403 && answer.reason === "ExpiredProviderToken")
      pool.post(template, id, token, done);
    else done(answer);
  });
}

function resultOf(answer: ApnsAnswer, environmentKnown: boolean): TokenResult {
  if (answer.status === 200) {
    return {
      status: 200,
      outcome: { kind: "delivered", ...(answer.apnsId !== undefined && { vendorId: answer.apnsId }) },
    };
  }
  if (answer.local === true) {
    // The request never reached APNs in a form it could answer: the same job would fail the same way.
    return { outcome: { kind: "bad-request", reason: `APNs request could not be sent: ${answer.reason}` } };
  }
  const outcome = classifyApns(answer.status, answer.reason, {
    environmentKnown,
    ...(answer.timestamp !== undefined && { timestamp: answer.timestamp }),
  });
  return answer.status === 0 ? { outcome } : { outcome, status: answer.status };
}
