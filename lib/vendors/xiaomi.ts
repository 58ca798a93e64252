import { collapseKeyOf, type DeliveryTarget, type Notification } from "../model/index.js";
import { type Clock, type SendResult, systemClock, type VendorSender } from "../ports/index.js";
import { conversationNotifyId, fitText, intentWithExt } from "./android-text.js";
import type { XiaomiCredential, XiaomiRegion } from "./credentials.js";
import { vendorUrl } from "./endpoint.js";
import { parseRetryAfter, sendMulticast, type TokenResult } from "./multicast.js";
import { BAD_REGID, classifyXiaomi, type XiaomiAnswer } from "./xiaomi-outcomes.js";

/**
 * One host per region, and a device is served only from its own region's host: "If sending overseas
 * messages, you must use the specified domain according to the region of the device" (Xiaomi, Server
 * API Address, https://dev.mi.com/xiaomihyperos/documentation/detail?pId=1696; the same five hosts in
 * "query the device region", pId=1705). The regions are Xiaomi's server rooms (privacy upgrade,
 * pId=1698): Russia, India, EEA + UK (Frankfurt), everything else (Singapore), and mainland China.
 */
export const XIAOMI_HOSTS: Readonly<Record<XiaomiRegion, string>> = {
  cn: "https://api.xmpush.xiaomi.com",
  global: "https://sgp-api.xmpush.global.xiaomi.com",
  eu: "https://fr-api.xmpush.global.xiaomi.com",
  ru: "https://ru-api.xmpush.global.xiaomi.com",
  in: "https://idmb-api.xmpush.global.xiaomi.com",
};
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
/** Private channels keep a message at most 10 days, the public channel 1 day (vendors.md §4 `time_to_live`). */
export const XIAOMI_MAX_TTL_MS = 10 * 24 * 60 * 60 * 1000;
export const XIAOMI_PUBLIC_MAX_TTL_MS = 24 * 60 * 60 * 1000;
/**
 * Template rules (Xiaomi's template guide, https://dev.mi.com/xiaomihyperos/documentation/detail?pId=2314):
 * "每个模板最多支持9个变量"; each `extra.template_param` value "长度 1~128 个字符", "不能为纯空格",
 * "不支持 emoji 及特殊符号（Unicode Other Symbol 类，即 \p{So}）", "不支持未分配的 Unicode 字符".
 */
export const XIAOMI_TEMPLATE_MAX_VARIABLES = 9;
export const XIAOMI_TEMPLATE_VALUE_LIMIT = 128;
/** What a template value that sanitizing left empty becomes: neither blank nor a symbol Xiaomi refuses. */
export const XIAOMI_TEMPLATE_PLACEHOLDER = "…";
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
  /** -1 sound, vibration and light; 4 light only (a quiet replacement). */
  notify_type: "-1" | "4";
  notify_id: string;
  time_to_live: string;
  "extra.channel_id": string;
  /** Private-channel messages only: the template and its variables as JSON text. */
  "extra.template_id"?: string;
  "extra.template_param"?: string;
  "extra.notify_foreground": "1";
  "extra.notify_effect": "1" | "2";
  "extra.intent_uri"?: string;
  "extra.ext": string;
}

export interface XiaomiRequest {
  /** The real Mi Push URL: the send path on the credential's region host. */
  url: string;
  /** Every header but `Authorization: key=<AppSecret>`. */
  headers: { "content-type": typeof FORM_CONTENT_TYPE };
  body: XiaomiForm;
}

/**
 * The credential cannot send this message as Xiaomi requires (no template for the private channel, no
 * public channel for an operations push, an unknown region): parked as a credential problem, unsent.
 */
export class XiaomiCredentialError extends Error {
  override readonly name = "XiaomiCredentialError";
}

/**
 * The Mi Push request for one notification to up to XIAOMI_MAX_REGIDS regIds of one app: a
 * notification message (pass_through 0) on a classification channel. Chat and calls go on the app's
 * private channel, which keeps IM out of the public channel's daily quota (vendors.md §10) and, since
 * Xiaomi's template rules, carries the channel's template (pId=2314: "所有私信channel需携带channel_id和
 * 模板id下发"); operations pushes go on the public channel unless the sender named a channel.
 * Throws XiaomiCredentialError when the credential lacks what that needs.
 */
export function buildXiaomiRequest(
  notification: Notification,
  tokens: readonly string[],
  credential: XiaomiCredential,
  nowMs: number,
): XiaomiRequest {
  const channelId = channelOf(notification, credential);
  const isPrivate = channelId === credential.channelId;
  const maxTtl = isPrivate ? XIAOMI_MAX_TTL_MS : XIAOMI_PUBLIC_MAX_TTL_MS;
  const remaining = notification.sentAt + OFFLINE_WINDOW_MS - nowMs;
  const ttl = Math.max(MIN_TTL_MS, Math.min(remaining, OFFLINE_WINDOW_MS, maxTtl));
  const click: Pick<XiaomiForm, "extra.notify_effect" | "extra.intent_uri"> =
    credential.clickIntent === undefined
      ? { "extra.notify_effect": "1" }
      : {
          "extra.notify_effect": "2",
          "extra.intent_uri": intentWithExt(credential.clickIntent, notification.ext),
        };
  return {
    url: `${hostOf(credential)}${XIAOMI_SEND_PATH}`,
    headers: { "content-type": FORM_CONTENT_TYPE },
    body: {
      registration_id: tokens.join(","),
      restricted_package_name: credential.packageName,
      pass_through: "0",
      title: fitText(notification.title, XIAOMI_TITLE_LIMIT),
      description: fitText(notification.body, XIAOMI_BODY_LIMIT),
      // The message content the Mi SDK hands the app (MiPushMessage.getContent()).
      payload: notification.ext,
      // Default sound, vibration and light; a quiet replacement (a recall) asks for the light only:
      // notify_type sums DEFAULT_SOUND 1, DEFAULT_VIBRATE 2, DEFAULT_LIGHTS 4 (Mi Push server API,
      // pId=1559). Android 8+ plays what the channel says whatever notify_type is, so this is as quiet
      // as Xiaomi lets a sender be. No sound file is ever sent: Tencent's Android sound is honoured by
      // Huawei and Google alone (tencent-chat.md §4.2) and `ios.sound` is an iOS file name.
      notify_type: notification.quiet ? "4" : "-1",
      // Per message (collapseKeyOf): a newer message never replaces an older one's notification, a
      // recall replaces exactly the recalled one.
      notify_id: String(conversationNotifyId(collapseKeyOf(notification))),
      time_to_live: String(ttl),
      // Without a classification channel the message is not sent at all since the 2024-11-04 rules
      // (vendors.md §4 "Limits").
      "extra.channel_id": channelId,
      ...(isPrivate && templateFields(notification, credential)),
      "extra.notify_foreground": "1",
      ...click,
      // A custom extra reaches the app whatever the click does. Xiaomi caps each at 1024 characters
      // (vendors.md §4); ext is never cut, so a longer one is refused as a bad request.
      "extra.ext": notification.ext,
    },
  };
}

function hostOf(credential: XiaomiCredential): string {
  const host = XIAOMI_HOSTS[credential.region ?? "cn"];
  if (host === undefined) {
    throw new XiaomiCredentialError(
      `Xiaomi credential ${credential.certificateId}: unknown region ${JSON.stringify(credential.region)} (cn, global, eu, ru, in)`,
    );
  }
  return host;
}

/**
 * The channel a message goes on. The sender's XiaoMiChannelID wins (Tencent: "overrides the console
 * value", tencent-chat.md §4.2); else chat and calls take the private channel and operations the public
 * one. An operations push is never moved onto the private channel: that is how an app loses its IM
 * classification (issue 11).
 */
function channelOf(notification: Notification, credential: XiaomiCredential): string {
  const override = notification.android?.xiaomiChannelId;
  if (override !== undefined && override !== "") return override;
  if (notification.purpose !== "operations") return credential.channelId;
  if (credential.publicChannelId === undefined || credential.publicChannelId === "") {
    throw new XiaomiCredentialError(
      `Xiaomi credential ${credential.certificateId} has no publicChannelId: operations pushes need Xiaomi's public channel`,
    );
  }
  return credential.publicChannelId;
}

/**
 * `extra.template_id` and `extra.template_param` for the private channel. A template bound to another
 * private channel than the credential's is not supported: a sender's XiaoMiChannelID naming one goes
 * out without a template.
 */
function templateFields(
  notification: Notification,
  credential: XiaomiCredential,
): Pick<XiaomiForm, "extra.template_id" | "extra.template_param"> {
  const { templateId, templateParams = {} } = credential;
  if (templateId === undefined || templateId === "") {
    throw new XiaomiCredentialError(
      `Xiaomi credential ${credential.certificateId} has no templateId: Xiaomi requires a template on every private-channel message (pId=2314)`,
    );
  }
  const variables = Object.entries(templateParams);
  if (variables.length > XIAOMI_TEMPLATE_MAX_VARIABLES) {
    throw new XiaomiCredentialError(
      `Xiaomi credential ${credential.certificateId}: ${variables.length} template variables, Xiaomi allows ${XIAOMI_TEMPLATE_MAX_VARIABLES}`,
    );
  }
  const values: Record<string, string> = {};
  for (const [variable, field] of variables) {
    if (field !== "title" && field !== "body") {
      throw new XiaomiCredentialError(
        `Xiaomi credential ${credential.certificateId}: template variable ${variable} maps to ${JSON.stringify(field)}, not "title" or "body"`,
      );
    }
    values[variable] = xiaomiTemplateValue(notification[field]);
  }
  return {
    "extra.template_id": templateId,
    ...(variables.length > 0 && { "extra.template_param": JSON.stringify(values) }),
  };
}

/**
 * What Xiaomi refuses in a template value: Other Symbols (\p{So}: emoji, flags' regional indicators,
 * dingbats) and unassigned code points (\p{Cn}), by its rule; with them the parts of emoji sequences
 * that would be left stranded (skin-tone modifiers, zero-width joiners, variation selectors, the keycap
 * mark) and lone surrogates.
 */
const TEMPLATE_REFUSED = /[\p{So}\p{Cn}\p{Cs}\p{Emoji_Modifier}]|\u200d|\ufe0e|\ufe0f|\u20e3/gu;

/** One text as a template value Xiaomi takes: refused symbols removed, blank replaced, cut to 128. */
export function xiaomiTemplateValue(text: string): string {
  const cleaned = text.replace(TEMPLATE_REFUSED, "").replace(/\s+/gu, " ").trim();
  return fitText(cleaned === "" ? XIAOMI_TEMPLATE_PLACEHOLDER : cleaned, XIAOMI_TEMPLATE_VALUE_LIMIT);
}

const REQUEST_TIMEOUT_MS = 10_000;

export interface XiaomiSenderOptions {
  credentials: readonly XiaomiCredential[];
  clock?: Clock;
}

/**
 * Mi Push over global fetch (undici keeps connections alive across calls, so a warm Lambda reuses
 * them), to the credential's region host. Xiaomi authenticates every request with the static AppSecret
 * and has no token exchange, so unlike the OAuth vendors there is no access token to cache and no
 * "refresh once and resend": a refused secret (21301) is a credential problem, sent once.
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
    let request: XiaomiRequest;
    try {
      request = buildXiaomiRequest(notification, tokens, credential, this.clock.now());
    } catch (error) {
      if (!(error instanceof XiaomiCredentialError)) throw error;
      const refused: TokenResult = { outcome: { kind: "credential-problem", reason: error.message } };
      return new Map(tokens.map((token) => [token, refused]));
    }
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
    // The real region host, or the simulator carrying it in a header (lib/vendors/endpoint.ts).
    const { url, headers } = vendorUrl(request.url, credential.endpoint?.url);
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { ...request.headers, ...headers, authorization: `key=${credential.appSecret}` },
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
