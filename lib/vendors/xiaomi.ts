import type { DeliveryTarget, Notification } from "../model/index.js";
import { type Clock, type SendResult, systemClock, type VendorSender } from "../ports/index.js";
import { conversationNotifyId, fitText, intentWithExt } from "./android-text.js";
import type { XiaomiCredential } from "./credentials.js";
import { parseRetryAfter, sendMulticast, type TokenResult } from "./multicast.js";
import { BAD_REGID, classifyXiaomi, type XiaomiAnswer } from "./xiaomi-outcomes.js";

/** Mainland China production host (vendors.md §4 "Hosts"). */
export const XIAOMI_HOST = "https://api.xmpush.xiaomi.com";
export const XIAOMI_SEND_PATH = "/v3/message/regid";
/** `registration_id` takes at most 1000 comma-separated regIds (vendors.md §4 "Endpoints"). */
export const XIAOMI_MAX_REGIDS = 1000;
/**
 * Xiaomi documents title "<50" and description "<128" (vendors.md §4, pId=1559 "长度小于50"), one
 * under Tencent's Mi limits of 50 / 128 (tencent-chat.md §4.4); the stricter bound wins.
 */
export const XIAOMI_TITLE_LIMIT = 49;
export const XIAOMI_BODY_LIMIT = 127;
/** Tencent Cloud Chat keeps offline messages 7 days; a push should not outlive its message. */
const OFFLINE_WINDOW_MS = 7 * 24 * 60 * 60 * 1000;
/** Private channels keep a message at most 10 days (vendors.md §4 `time_to_live`). */
export const XIAOMI_MAX_TTL_MS = 10 * 24 * 60 * 60 * 1000;
/**
 * Past Tencent's window (a retry that waited long) Xiaomi still needs a positive TTL (0 or absent
 * means its default of days): one second reaches a device that is online now and stores nothing.
 */
const MIN_TTL_MS = 1000;

const FORM_CONTENT_TYPE = "application/x-www-form-urlencoded;charset=UTF-8";

/** The form fields of one `/v3/message/regid` send, as strings before URL-encoding. */
export interface XiaomiForm {
  registration_id: string;
  restricted_package_name: string;
  pass_through: "0";
  title: string;
  description: string;
  payload: string;
  notify_type: "-1";
  notify_id: string;
  time_to_live: string;
  "extra.channel_id": string;
  "extra.notify_foreground": "1";
  "extra.notify_effect": "1" | "2";
  "extra.intent_uri"?: string;
  "extra.ext": string;
}

export interface XiaomiRequest {
  path: typeof XIAOMI_SEND_PATH;
  /** Every header but `Authorization: key=<AppSecret>`. */
  headers: { "content-type": typeof FORM_CONTENT_TYPE };
  body: XiaomiForm;
}

/**
 * The Mi Push request for one notification to up to XIAOMI_MAX_REGIDS regIds of one app: a
 * notification message (pass_through 0) on the app's private IM channel, which is what keeps IM out
 * of the public channel's daily quota (vendors.md §10).
 */
export function buildXiaomiRequest(
  notification: Notification,
  tokens: readonly string[],
  credential: XiaomiCredential,
  nowMs: number,
): XiaomiRequest {
  const remaining = notification.sentAt + OFFLINE_WINDOW_MS - nowMs;
  const ttl = Math.max(MIN_TTL_MS, Math.min(remaining, OFFLINE_WINDOW_MS, XIAOMI_MAX_TTL_MS));
  const click: Pick<XiaomiForm, "extra.notify_effect" | "extra.intent_uri"> =
    credential.clickIntent === undefined
      ? { "extra.notify_effect": "1" }
      : {
          "extra.notify_effect": "2",
          "extra.intent_uri": intentWithExt(credential.clickIntent, notification.ext),
        };
  return {
    path: XIAOMI_SEND_PATH,
    headers: { "content-type": FORM_CONTENT_TYPE },
    body: {
      registration_id: tokens.join(","),
      restricted_package_name: credential.packageName,
      pass_through: "0",
      title: fitText(notification.title, XIAOMI_TITLE_LIMIT),
      description: fitText(notification.body, XIAOMI_BODY_LIMIT),
      // The message content the Mi SDK hands the app (MiPushMessage.getContent()).
      payload: notification.ext,
      // Default sound, vibration and light. A custom sound would need extra.sound_uri to a raw
      // resource, and Tencent's only sound field for Android is honoured by Huawei and Google alone
      // (tencent-chat.md §4.2); `notification.sound` is the iOS file name.
      notify_type: "-1",
      // One notification per conversation: the same notify_id replaces the one shown.
      notify_id: String(conversationNotifyId(notification.conversationId)),
      time_to_live: String(ttl),
      // Without it the message is public/marketing since 2024-11-04: 1–5 per device per day.
      "extra.channel_id": credential.channelId,
      "extra.notify_foreground": "1",
      ...click,
      // A custom extra reaches the app whatever the click does. Xiaomi caps each at 1024 characters
      // (vendors.md §4); ext is never cut, so a longer one is refused as a bad request.
      "extra.ext": notification.ext,
    },
  };
}

const REQUEST_TIMEOUT_MS = 10_000;

export interface XiaomiSenderOptions {
  credentials: readonly XiaomiCredential[];
  clock?: Clock;
}

/**
 * Mi Push over global fetch (undici keeps connections alive across calls, so a warm Lambda reuses
 * them). Xiaomi authenticates every request with the static AppSecret and has no token exchange, so
 * unlike the OAuth vendors there is no access token to cache and no "refresh once and resend": a
 * refused secret (21301) is a bad request, sent once.
 */
export class XiaomiSender implements VendorSender {
  readonly vendor = "xiaomi";
  private readonly credentials: readonly XiaomiCredential[];
  private readonly clock: Clock;
  /** Aborts the requests in flight when the sender is closed. */
  private closing = new AbortController();

  constructor({ credentials, clock = systemClock }: XiaomiSenderOptions) {
    this.credentials = credentials;
    this.clock = clock;
  }

  send(notification: Notification, targets: DeliveryTarget[]): Promise<SendResult[]> {
    return sendMulticast({
      credentials: this.credentials,
      targets,
      chunkSize: XIAOMI_MAX_REGIDS,
      vendorName: this.vendor,
      sendChunk: (credential, chunk) => this.sendChunk(notification, credential, chunk),
    });
  }

  /** Nothing pooled is ours (fetch's dispatcher is process-wide); requests still in flight are aborted. */
  async close(): Promise<void> {
    this.closing.abort(new Error("XiaomiSender closed"));
    this.closing = new AbortController();
  }

  private async sendChunk(
    notification: Notification,
    credential: XiaomiCredential,
    chunk: DeliveryTarget[],
  ): Promise<Map<string, TokenResult>> {
    const tokens = chunk.map(({ token }) => token);
    const request = buildXiaomiRequest(notification, tokens, credential, this.clock.now());
    const { answer, id, badRegIds } = await this.post(credential, request);
    const now = this.clock.now();
    const { httpStatus, code } = answer;
    if (code === 0 && httpStatus !== undefined && httpStatus < 300) {
      const delivered: TokenResult = {
        status: httpStatus,
        outcome: { kind: "delivered", ...(id !== undefined && { vendorId: id }) },
      };
      const dead: TokenResult = {
        status: httpStatus,
        outcome: classifyXiaomi({ httpStatus, code: BAD_REGID, message: "invalid regId" }, now),
      };
      return new Map(tokens.map((token) => [token, badRegIds.has(token) ? dead : delivered]));
    }
    const outcome = classifyXiaomi(answer, now);
    // Xiaomi answers business errors with HTTP 200, so there its own code is the status worth logging.
    const status = httpStatus === 200 && typeof code === "number" ? code : httpStatus;
    const result: TokenResult = status === undefined ? { outcome } : { outcome, status };
    return new Map(tokens.map((token) => [token, result]));
  }

  private async post(credential: XiaomiCredential, request: XiaomiRequest): Promise<XiaomiReply> {
    const base = credential.endpoint?.url ?? XIAOMI_HOST;
    try {
      const response = await fetch(new URL(request.path, base), {
        method: "POST",
        headers: { ...request.headers, authorization: `key=${credential.appSecret}` },
        body: new URLSearchParams(formEntries(request.body)).toString(),
        signal: AbortSignal.any([AbortSignal.timeout(REQUEST_TIMEOUT_MS), this.closing.signal]),
      });
      return readReply(response, await response.text(), this.clock.now());
    } catch (error) {
      // fetch reports a refused or reset connection as "fetch failed"; the socket's code is in `cause`.
      const { name, message, cause } = error as Error & { cause?: { code?: unknown } };
      const detail = typeof cause?.code === "string" ? ` (${cause.code})` : "";
      return { answer: { message: `${name}: ${message}${detail}` }, badRegIds: new Set() };
    }
  }
}

function formEntries(form: XiaomiForm): [string, string][] {
  return Object.entries(form).filter((entry): entry is [string, string] => entry[1] !== undefined);
}

interface XiaomiReply {
  answer: XiaomiAnswer;
  /** `data.id`: the message id, for Xiaomi's trace API. */
  id?: string;
  badRegIds: ReadonlySet<string>;
}

/**
 * `{"result":"ok"|"error","code":0,"description":"成功","reason":"…","data":{"id","bad_regids"}}`
 * (vendors.md §4 "Response"): `reason` is the English detail, `description` the Chinese summary. A
 * body that is not Xiaomi's JSON (a proxy's error page) is kept, shortened, as the message.
 */
function readReply(response: Response, text: string, nowMs: number): XiaomiReply {
  const body = parseJson(text);
  // Xiaomi sends `code` as a number; a string of digits is read too, anything else is no code at all.
  const code = /^-?\d+$/.test(String(body?.code)) ? Number(body?.code) : undefined;
  const data = isRecord(body?.data) ? body.data : undefined;
  const message =
    body === undefined
      ? text.trim().slice(0, 200)
      : [body.reason, body.description].find((m): m is string => typeof m === "string" && m !== "");
  const retryAfterSeconds = parseRetryAfter(response.headers.get("retry-after"), nowMs);
  const answer: XiaomiAnswer = {
    httpStatus: response.status,
    ...(code !== undefined && { code }),
    ...(message && { message }),
    ...(retryAfterSeconds !== undefined && { retryAfterSeconds }),
  };
  const badRegIds = typeof data?.bad_regids === "string" ? data.bad_regids.split(",") : [];
  return {
    answer,
    ...(typeof data?.id === "string" && { id: data.id }),
    badRegIds: new Set(badRegIds.filter((regId) => regId !== "")),
  };
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return isRecord(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
