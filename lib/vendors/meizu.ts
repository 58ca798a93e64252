import { createHash } from "node:crypto";
import { collapseKeyOf, type DeliveryTarget, type Notification, type Outcome } from "../model/index.js";
import { type Clock, type SendResult, systemClock, type VendorSender } from "../ports/index.js";
import { conversationNotifyId, fitText } from "./android-text.js";
import type { MeizuCredential } from "./credentials.js";
import { vendorUrl } from "./endpoint.js";
import { classifyMeizu, meizuResendsOnce } from "./meizu-outcomes.js";
import { parseRetryAfter, sendMulticast, type TokenResult } from "./multicast.js";

/** HTTPS-only since JavaSdk 1.2.13 (vendors.md §7 "Host and endpoints"). */
export const MEIZU_BASE_URL = "https://server-api-push.meizu.com";
export const MEIZU_PUSH_PATH = "/garcia/api/server/push/varnished/pushByPushId";
/** pushIds per request: 100 since 2023-08-21 (vendors.md §7; older READMEs say 1000). */
export const MEIZU_MAX_PUSH_IDS = 100;
/** Tencent's Meizu limits (tencent-chat.md §4.4), the same as Meizu's own title 1–32 and content 1–100. */
export const MEIZU_TITLE_LIMIT = 32;
export const MEIZU_CONTENT_LIMIT = 100;
/** pushTimeInfo.validTime: whole hours, 1–72. */
export const MEIZU_MAX_VALID_HOURS = 72;
/** Tencent Cloud Chat keeps offline messages 7 days; a push announcing one is pointless after that. */
const OFFLINE_WINDOW_MS = 7 * 24 * 60 * 60 * 1000;
const HOUR_MS = 60 * 60 * 1000;
const REQUEST_TIMEOUT_MS = 10_000;

/**
 * noticeBarInfo.noticeMsgType: 0 public (operations), 1 private message (service / IM) under Meizu's
 * 2025-05-07 rules; private needs Meizu's approval, public is capped at 3 a day per device (5 for news).
 * SDK enum `NoticeMsgType` (PUB_MSG 0 "公信消息", PERSONAL_MSG 1 "私信消息";
 * https://github.com/MEIZUPUSH/JavaSdk src/main/java/com/meizu/push/sdk/constant/NoticeMsgType.java).
 */
export const MEIZU_PUBLIC_MESSAGE = 0;
export const MEIZU_PRIVATE_MESSAGE = 1;

/** advanceInfo.notificationType: each 0 off / 1 on, default 1 (PushAPI README, VarnishedMessage.java). */
export interface MeizuNotificationType {
  vibrate: 0 | 1;
  lights: 0 | 1;
  sound: 0 | 1;
}

/** The `messageJson` chatpush sends (PushAPI README "pushId推送接口（通知栏消息）"). */
export interface MeizuMessage {
  noticeBarInfo: {
    noticeMsgType: typeof MEIZU_PUBLIC_MESSAGE | typeof MEIZU_PRIVATE_MESSAGE;
    noticeBarType: 0;
    title: string;
    content: string;
  };
  clickTypeInfo:
    | { clickType: 0; parameters: { ext: string } }
    | { clickType: 1; activity: string; parameters: { ext: string } };
  pushTimeInfo: { offLine: 1; validTime: number } | { offLine: 0 };
  advanceInfo: {
    notifyKey: string;
    notificationType: MeizuNotificationType;
    /** 0: no floating (heads-up) window; absent = Meizu's default 1. Sent for a quiet replacement only. */
    suspend?: 0;
  };
}

/** The form fields, as strings; `messageJson` stays a JSON string, as Meizu signs and reads it. */
export interface MeizuForm {
  appId: string;
  pushIds: string;
  messageJson: string;
  sign: string;
}

export interface MeizuRequest {
  path: typeof MEIZU_PUSH_PATH;
  headers: { "content-type": "application/x-www-form-urlencoded;charset=UTF-8" };
  form: MeizuForm;
}

/**
 * Meizu's request signature (PushAPI README "接口签名规范"): every parameter but `sign`, sorted by
 * name, written `key=value` with no separator and the raw (not URL-encoded) values, then the
 * appSecret; the lowercase hex MD5 of that.
 */
export function meizuSign(params: Readonly<Record<string, string>>, appSecret: string): string {
  const base = Object.keys(params)
    .filter((key) => key !== "sign")
    .sort()
    .map((key) => `${key}=${params[key]}`)
    .join("");
  return createHash("md5").update(`${base}${appSecret}`, "utf8").digest("hex");
}

/**
 * The signed pushByPushId request for one notification to `targets` (at most MEIZU_MAX_PUSH_IDS): a
 * private (IM) or public message as the notification's purpose and the sender's override say, replacing
 * the shown notification with the same replacement key (notifyKey), opening the configured activity or
 * the app, with `ext` in the click parameters.
 */
export function buildMeizuRequest(
  notification: Notification,
  targets: readonly DeliveryTarget[],
  credential: MeizuCredential,
  nowMs: number,
): MeizuRequest {
  const parameters = { ext: notification.ext };
  const quiet = notification.quiet === true;
  const message: MeizuMessage = {
    noticeBarInfo: {
      noticeMsgType: noticeMsgTypeOf(notification),
      noticeBarType: 0,
      title: fitText(notification.title, MEIZU_TITLE_LIMIT),
      content: fitText(notification.body, MEIZU_CONTENT_LIMIT),
    },
    // Meizu opens an activity by class name, not an intent URI, so `clickIntent` has no Meizu form;
    // the plugin reads `ext` from the parameters, which Meizu passes to the opened activity as extras.
    clickTypeInfo:
      credential.clickActivity !== undefined
        ? { clickType: 1, activity: credential.clickActivity, parameters }
        : { clickType: 0, parameters },
    pushTimeInfo: pushTime(notification, nowMs),
    advanceInfo: {
      notifyKey: meizuNotifyKey(notification),
      // Meizu has no custom sound or badge (no iOS or Android sound name is ever sent): its default sound,
      // vibration and light, or none of them for a quiet replacement (a recall), which also shows no
      // floating window, so the phone does not ring again.
      notificationType: quiet ? { vibrate: 0, lights: 0, sound: 0 } : { vibrate: 1, lights: 1, sound: 1 },
      ...(quiet && { suspend: 0 as const }),
    },
  };
  const params = {
    appId: credential.appId,
    pushIds: targets.map((target) => target.token).join(","),
    messageJson: JSON.stringify(message),
  };
  return {
    path: MEIZU_PUSH_PATH,
    headers: { "content-type": "application/x-www-form-urlencoded;charset=UTF-8" },
    form: { ...params, sign: meizuSign(params, credential.appSecret) },
  };
}

/**
 * The sender's `MeiZuNoticeMsgType` (tencent-chat.md §4.2) when it names 0 or 1; otherwise public for an
 * operations push (issue 11: an app server's notice is not IM, so the app keeps its IM approval), private
 * for chat messages and calls (a call is a person-to-person message, Meizu has no call class).
 */
function noticeMsgTypeOf({ android, purpose }: Notification): MeizuMessage["noticeBarInfo"]["noticeMsgType"] {
  const asked = android?.meizuNoticeMsgType;
  if (asked === MEIZU_PUBLIC_MESSAGE || asked === MEIZU_PRIVATE_MESSAGE) return asked;
  return purpose === "operations" ? MEIZU_PUBLIC_MESSAGE : MEIZU_PRIVATE_MESSAGE;
}

/**
 * notifyKey from the message's replacement key (collapseKeyOf): "凡是带有此key的通知栏消息只会显示最后到达的
 * 一条", at most 8 of [0-9a-zA-Z_-] (PushAPI README advanceInfo.notifyKey); a 31-bit id in base 36 takes
 * at most 6. Per message, so a newer message never hides an older one, and a recall replaces exactly its
 * message's notification.
 */
export function meizuNotifyKey(notification: Pick<Notification, "collapseKey" | "messageKey">): string {
  return conversationNotifyId(collapseKeyOf(notification)).toString(36);
}

/**
 * What remains of Tencent's 7 days, in Meizu's whole hours (1–72); a ringing call only as long as it
 * rings (at least Meizu's 1 hour). Past the window, offLine 0 asks for delivery only to a device online
 * now, never stored.
 */
function pushTime({ sentAt, call }: Notification, nowMs: number): MeizuMessage["pushTimeInfo"] {
  const end =
    call?.action === "ring" ? call.invitedAt + call.timeoutSeconds * 1000 : sentAt + OFFLINE_WINDOW_MS;
  const remaining = end - nowMs;
  if (remaining <= 0) return { offLine: 0 };
  return {
    offLine: 1,
    validTime: Math.min(MEIZU_MAX_VALID_HOURS, Math.max(1, Math.floor(remaining / HOUR_MS))),
  };
}

/** What one pushByPushId request came back with; no httpStatus = no HTTP answer. */
interface ChunkAnswer {
  httpStatus?: number;
  code?: string;
  message?: string;
  /** pushId → the code Meizu listed it under in `value`. */
  failed: Map<string, string>;
  msgId?: string;
  retryAfterSeconds?: number;
}

export interface MeizuSenderOptions {
  credentials: readonly MeizuCredential[];
  clock?: Clock;
}

/**
 * Sends Meizu Flyme Push notifications with global fetch, one signed request per 100 pushIds. Meizu
 * has no access token (every request is signed with the appSecret), so there is no refresh path: a
 * refused signature (1006) is a wrong secret, a credential problem answered without a resend.
 */
export class MeizuSender implements VendorSender {
  readonly vendor = "meizu";
  private readonly credentials: readonly MeizuCredential[];
  private readonly clock: Clock;

  constructor({ credentials, clock = systemClock }: MeizuSenderOptions) {
    this.credentials = credentials;
    this.clock = clock;
  }

  send(notification: Notification, targets: DeliveryTarget[]): Promise<SendResult[]> {
    return sendMulticast({
      credentials: this.credentials,
      targets,
      chunkSize: MEIZU_MAX_PUSH_IDS,
      vendorName: this.vendor,
      sendChunk: (credential, chunk) => this.sendChunk(notification, credential, chunk),
    });
  }

  /** Global fetch's dispatcher owns the keep-alive connections (process-wide); nothing else is held. */
  async close(): Promise<void> {}

  private async sendChunk(
    notification: Notification,
    credential: MeizuCredential,
    targets: DeliveryTarget[],
  ): Promise<Map<string, TokenResult>> {
    const request = buildMeizuRequest(notification, targets, credential, this.clock.now());
    // To Meizu's own host, or to the override carrying the real URL (lib/vendors/endpoint.ts).
    const { url, headers } = vendorUrl(`${MEIZU_BASE_URL}${request.path}`, credential.endpoint?.url);
    let answer = await post(url, headers, request);
    const resent = answer.code !== undefined && meizuResendsOnce(answer.code);
    if (resent) answer = await post(url, headers, request);
    const nowMs = this.clock.now();
    return new Map(targets.map(({ token }) => [token, resultOf(answer, token, resent, nowMs)]));
  }
}

async function post(
  url: string,
  extraHeaders: Record<string, string>,
  request: MeizuRequest,
): Promise<ChunkAnswer> {
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { ...request.headers, ...extraHeaders },
      body: new URLSearchParams(Object.entries(request.form)),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await response.text();
    const retryAfterSeconds = parseRetryAfter(response.headers.get("retry-after"));
    return {
      httpStatus: response.status,
      ...readAnswer(text),
      ...(retryAfterSeconds !== undefined && { retryAfterSeconds }),
    };
  } catch (error) {
    return { failed: new Map(), message: networkReason(error) };
  }
}

/** Meizu's `{code, message, value, redirect, msgId}`; `code` is a string, `value` maps codes to pushIds. */
function readAnswer(text: string): Omit<ChunkAnswer, "httpStatus" | "retryAfterSeconds"> {
  const failed = new Map<string, string>();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { failed };
  }
  if (typeof body !== "object" || body === null) return { failed };
  const { code, message, value, msgId } = body as Record<string, unknown>;
  if (typeof value === "object" && value !== null) {
    for (const [failedCode, pushIds] of Object.entries(value)) {
      if (!Array.isArray(pushIds)) continue;
      for (const pushId of pushIds) if (typeof pushId === "string") failed.set(pushId, failedCode);
    }
  }
  return {
    failed,
    ...((typeof code === "string" || typeof code === "number") && { code: String(code) }),
    ...(typeof message === "string" && { message }),
    ...(typeof msgId === "string" && { msgId }),
  };
}

function resultOf(answer: ChunkAnswer, token: string, resent: boolean, nowMs: number): TokenResult {
  const { httpStatus, code, message, retryAfterSeconds } = answer;
  if (code !== "200") {
    const outcome = classifyMeizu({
      scope: "request",
      code,
      message,
      httpStatus,
      retryAfterSeconds,
      resent,
      nowMs,
    });
    return withStatus(outcome, code, httpStatus);
  }
  const failedCode = answer.failed.get(token);
  if (failedCode !== undefined) {
    return withStatus(classifyMeizu({ scope: "pushId", code: failedCode, httpStatus, nowMs }), failedCode);
  }
  const outcome: Outcome =
    answer.msgId === undefined ? { kind: "delivered" } : { kind: "delivered", vendorId: answer.msgId };
  return { outcome, status: 200 };
}

/** Meizu answers HTTP 200 whatever happened, so its own code is the status worth logging. */
function withStatus(outcome: Outcome, code: string | undefined, httpStatus?: number): TokenResult {
  const status = code !== undefined && /^\d+$/.test(code) ? Number(code) : httpStatus;
  return status === undefined ? { outcome } : { outcome, status };
}

/** fetch wraps socket errors as TypeError("fetch failed") with the cause (ECONNREFUSED…) inside. */
function networkReason(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
  if (typeof cause?.code === "string") return cause.code;
  if (error instanceof Error) return error.name === "TimeoutError" ? "timeout" : error.message;
  return String(error);
}
