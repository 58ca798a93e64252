import { collapseKeyOf, type DeliveryTarget, type Notification } from "../model/index.js";
import { type Clock, type SendResult, systemClock, type VendorSender } from "../ports/index.js";
import { AccessTokenCaches, type IssuedToken } from "./access-token.js";
import { conversationNotifyId, fitText, intentWithExt } from "./android-text.js";
import type { HuaweiCredential } from "./credentials.js";
import { vendorUrl } from "./endpoint.js";
import {
  classifyHuawei,
  HUAWEI_ILLEGAL_TOKEN,
  HUAWEI_PARTIAL_SUCCESS,
  type HuaweiAnswer,
} from "./huawei-outcomes.js";
import {
  fetchErrorText,
  parseRetryAfter,
  sendMulticast,
  sendWithTokenRefresh,
  type TokenResult,
} from "./multicast.js";

/** Tencent's limits for Huawei, in UTF-16 units (tencent-chat.md §4.4). */
export const HUAWEI_TITLE_LIMIT = 60;
export const HUAWEI_BODY_LIMIT = 600;
/** Push Kit refuses a message over 4096 bytes, tokens excluded (vendors.md §3, code 80300008). */
export const HUAWEI_MESSAGE_LIMIT_BYTES = 4096;
/** `message.token` takes 1–1000 tokens (vendors.md §3, code 80300010). */
export const HUAWEI_MAX_TOKENS = 1000;
/** Tencent Cloud Chat keeps offline messages 7 days; a push announcing one is pointless after that. */
const OFFLINE_TTL_SECONDS = 7 * 24 * 60 * 60;
/** android.ttl: at most 15 days (vendors.md §3). */
const HUAWEI_MAX_TTL_SECONDS = 15 * 24 * 60 * 60;
/** badge.set_num: 0–99, badge.add_num: 1–99 (vendors.md §3; tencent-chat.md §4.1 BadgeSetNum/AddNum). */
const BADGE_MAX = 99;

/** The real Push Kit v1 hosts (vendors.md §3 "Auth", "Send endpoints"). */
export const HUAWEI_PUSH_HOST = "https://push-api.cloud.huawei.com";
export const HUAWEI_OAUTH_URL = "https://oauth-login.cloud.huawei.com/oauth2/v3/token";
const REQUEST_TIMEOUT_MS = 10_000;

/**
 * Huawei's `android.category` values (vendors.md §3; the self-classification list in
 * https://help.aliyun.com/document_detail/436435.html): MARKETING is "information & marketing"
 * (silent, 2 a day per device), every other value a service & communication class.
 */
export const HUAWEI_CATEGORIES = [
  "IM",
  "VOIP",
  "SUBSCRIPTION",
  "TRAVEL",
  "HEALTH",
  "WORK",
  "ACCOUNT",
  "EXPRESS",
  "FINANCE",
  "DEVICE_REMINDER",
  "SYSTEM_REMINDER",
  "MAIL",
  "PLAY_VOICE",
  "MARKETING",
] as const;
export type HuaweiCategory = (typeof HUAWEI_CATEGORIES)[number];

/** 1 opens the intent the app registered (with `ext` in it), 3 opens the app's launcher activity. */
export type HuaweiClickAction = { type: 1; intent: string } | { type: 3 };

export interface HuaweiAndroidNotification {
  title: string;
  body: string;
  click_action: HuaweiClickAction;
  importance: "LOW" | "NORMAL";
  channel_id?: string;
  image?: string;
  tag: string;
  notify_id: number;
  group: string;
  default_sound?: boolean;
  sound?: string;
  badge?: { set_num: number; class: string } | { add_num: number; class: string };
}

export interface HuaweiMessage {
  /** The notification's `ext` JSON, handed to the app with the notification (see buildHuaweiRequest). */
  data?: string;
  android: {
    category: HuaweiCategory;
    ttl: string;
    notification: HuaweiAndroidNotification;
  };
  token: string[];
}

/** The messages:send request for one chunk of tokens, all but the `Authorization` header. */
export interface HuaweiRequest {
  /** The real Push Kit URL the request is addressed to. */
  url: string;
  headers: { "content-type": string };
  body: { validate_only: false; message: HuaweiMessage };
}

/** How a push is classified on Huawei (vendors.md §10) and whether it may ring. */
export interface HuaweiClassification {
  category: HuaweiCategory;
  importance: "LOW" | "NORMAL";
  /** The custom channel to post in, if any. */
  channelId?: string;
  /** No sound of ours: a quiet replacement (a recall, a call that ended). */
  silent: boolean;
}

/**
 * What the push is for decides its class, and the sender's `android.huaweiCategory` /
 * `huaweiImportance` / `huaweiChannelId` (Tencent's HuaWeiCategory, HuaWeiImportance,
 * HuaWeiChannelID, which "override the console value", tencent-chat.md §4.2) override that:
 * - a chat message is `IM` + `NORMAL`: service & communication, lock screen, sound, vibration;
 * - an operations push is `MARKETING` + `LOW` (Huawei: "MARKETING … only marks the content, silent,
 *   shown only in the shade", https://help.aliyun.com/document_detail/613940.html), so the app keeps its
 *   IM approval (misclassifying marketing as service can cost it, vendors.md §3 "Limits");
 * - a call is `VOIP` (Huawei's "audio/video call" class) when the credential says the app is approved
 *   for it, else `IM`, as TUICallKit sends it (tencent-calls-and-server-push.md §1.5, §2);
 * - a quiet replacement (recall, a call that ended) keeps its class but is `LOW`: Huawei sends a service
 *   & communication message "silently, without ringtone or vibration" when importance is LOW
 *   (https://help.aliyun.com/document_detail/613940.html "更多信息"), and it goes to no custom channel,
 *   whose own sound would ring.
 * The credential's channel is for chat (IM class) only: Huawei honours a custom channel only for service
 * & communication messages (vendors.md §3).
 */
export function classifyForHuawei(
  notification: Notification,
  credential: HuaweiCredential,
): HuaweiClassification {
  const { purpose = "im", android } = notification;
  const quiet = notification.quiet === true || notification.call?.action === "ended";
  const asked = huaweiCategory(android?.huaweiCategory);
  const byPurpose: HuaweiCategory =
    purpose === "operations" ? "MARKETING" : purpose === "call" && credential.voipCategory ? "VOIP" : "IM";
  const category = asked ?? byPurpose;
  const marketing = category === "MARKETING";
  const importance = quiet ? "LOW" : (android?.huaweiImportance ?? (marketing ? "LOW" : "NORMAL"));
  const channelId = quiet
    ? undefined
    : (nonEmpty(android?.huaweiChannelId) ?? (marketing ? undefined : credential.channelId));
  return { category, importance, ...(channelId !== undefined && { channelId }), silent: quiet };
}

/**
 * The Push Kit v1 request for one notification to up to 1000 tokens of one app, at most 4096 bytes
 * without its tokens (the body, then the title, are cut further when the 60/600 units do not fit).
 *
 * `ext` rides along as `message.data`: a notification message may carry `data`, and "when the user taps
 * the notification the data is passed to the app" (NC 9.1.1 and later), whatever the click action
 * (https://developer.huawei.com/consumer/cn/doc/HMSCore-Guides/andorid-basic-clickaction-0000001087554076);
 * an app in the foreground gets it in onMessageReceived
 * (https://developer.huawei.com/consumer/cn/doc/HMScore-Guides/android-basic-receivemsg-0000001087370610).
 * Huawei's own server SDK builds notification messages with `data` beside them (HMS-Core/
 * hms-push-serverdemo-go src/push/model/message.go, NewNotificationMsgRequest). The intent keeps `ext`
 * too, for older NC versions and the plugin's click handler; `data` gives way first when both do not fit.
 *
 * Replacement is per message (`tag` and `notify_id` from collapseKeyOf: a newer message never replaces
 * an older one, a recall replaces exactly its message); `group` is the conversation, which Huawei
 * folds into its newest notification and a count (push-sendapi `group`).
 */
export function buildHuaweiRequest(
  notification: Notification,
  targets: readonly DeliveryTarget[],
  credential: HuaweiCredential,
  nowMs: number,
): HuaweiRequest {
  const { conversationId, android } = notification;
  const key = collapseKeyOf(notification);
  const classification = classifyForHuawei(notification, credential);
  const badge = badgeOf(notification, targets, credential);
  const image = httpsUrl(android?.huaweiImage);
  const data = isJsonObject(notification.ext) ? notification.ext : undefined;
  const build = (title: string, body: string, withData: boolean): HuaweiRequest["body"] => ({
    validate_only: false,
    message: {
      // A notification message's data must be a JSON object string (push-sendapi `data`).
      ...(withData && data !== undefined && { data }),
      android: {
        category: classification.category,
        ttl: `${ttlSeconds(notification, nowMs)}s`,
        notification: {
          title,
          body,
          click_action:
            credential.clickIntent === undefined
              ? { type: 3 }
              : { type: 1, intent: intentWithExt(credential.clickIntent, notification.ext) },
          importance: classification.importance,
          ...(classification.channelId !== undefined && { channel_id: classification.channelId }),
          // HuaWeiImage: an HTTPS URL (Huawei's SDK refuses any other, hms-push-serverdemo-java
          // AndroidNotification.check "must start with https").
          ...(image !== undefined && { image }),
          // Same tag or notify_id = the newer notification replaces the shown one (push-sendapi); the
          // same pair for the same message makes a recall replace exactly it.
          tag: key,
          notify_id: conversationNotifyId(key),
          group: conversationId,
          ...(classification.silent ? {} : soundFields(android?.sound)),
          ...(badge !== undefined && { badge }),
        },
      },
      token: [...new Set(targets.map((target) => target.token))],
    },
  });

  const fits = (title: string, body: string, withData: boolean) =>
    bytesWithoutTokens(build(title, body, withData)) <= HUAWEI_MESSAGE_LIMIT_BYTES;
  const fitted = (withData: boolean) => {
    let title = fitText(notification.title, HUAWEI_TITLE_LIMIT);
    let body = fitText(notification.body, HUAWEI_BODY_LIMIT);
    if (!fits(title, body, withData)) {
      body = longestFitting(notification.body, HUAWEI_BODY_LIMIT, (b) => fits(title, b, withData));
      // Still too large means the title must give way too; past that only `ext` is left, which is
      // never cut (the app parses it), so Huawei answers 80300008 and the target is dead-lettered.
      if (!fits(title, body, withData))
        title = longestFitting(notification.title, HUAWEI_TITLE_LIMIT, (t) => fits(t, body, withData));
    }
    return { title, body };
  };
  let withData = data !== undefined;
  let text = fitted(withData);
  // `ext` twice (data and intent) may not fit where once would: the intent alone still carries it.
  if (withData && credential.clickIntent !== undefined && !fits(text.title, text.body, true)) {
    withData = false;
    text = fitted(false);
  }
  return {
    url: `${HUAWEI_PUSH_HOST}/v1/${encodeURIComponent(credential.appId)}/messages:send`,
    headers: { "content-type": "application/json;charset=utf-8" },
    body: build(text.title, text.body, withData),
  };
}

/**
 * The badge a multicast can carry: one number for every token. `notification.badge` sets it
 * (`set_num`); otherwise a push that counts towards the badge adds `badgeAdd`, or 1 — Tencent's own
 * behaviour on Huawei: "each new offline push adds 1 to the base badge"
 * (https://www.tencentcloud.com/document/product/1047/60572) — as `add_num`. A push counts when it
 * says `badgeAdd` or when its targets carry counted badges (the per-device number itself cannot ride
 * in a multicast). set_num wins over add_num when both are set (Getui's Huawei options,
 * https://docs.getui.com/getui/server/rest_v2/third_party/), so only one is sent. Nothing without the
 * launcher class, which Huawei requires with either.
 */
function badgeOf(
  notification: Notification,
  targets: readonly DeliveryTarget[],
  credential: HuaweiCredential,
): HuaweiAndroidNotification["badge"] {
  const badgeClass = credential.badgeClass;
  if (badgeClass === undefined) return undefined;
  if (notification.badge !== undefined) {
    return { set_num: Math.min(BADGE_MAX, Math.max(0, Math.floor(notification.badge))), class: badgeClass };
  }
  const counted = notification.badgeAdd !== undefined || targets.some((target) => target.badge !== undefined);
  if (!counted) return undefined;
  const add = Math.min(BADGE_MAX, Math.floor(notification.badgeAdd ?? 1));
  return add >= 1 ? { add_num: add, class: badgeClass } : undefined;
}

function huaweiCategory(value: string | undefined): HuaweiCategory | undefined {
  const upper = value?.trim().toUpperCase();
  return HUAWEI_CATEGORIES.find((category) => category === upper);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value;
}

function httpsUrl(value: string | undefined): string | undefined {
  return value !== undefined && /^https:\/\/\S+$/.test(value) ? value : undefined;
}

function isJsonObject(text: string): boolean {
  const value = parseJson(text);
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * What remains of Tencent's 7 days; at least a second, so a late retry still reaches a device online
 * now. A ringing call lives only until its invitation times out: a ring that arrives later is noise.
 */
function ttlSeconds(notification: Notification, nowMs: number): number {
  const { sentAt, call } = notification;
  const remaining = Math.floor((sentAt - nowMs) / 1000) + OFFLINE_TTL_SECONDS;
  const ringing =
    call?.action === "ring"
      ? Math.ceil((call.invitedAt + call.timeoutSeconds * 1000 - nowMs) / 1000)
      : Number.POSITIVE_INFINITY;
  return Math.max(1, Math.min(OFFLINE_TTL_SECONDS, HUAWEI_MAX_TTL_SECONDS, remaining, ringing));
}

/**
 * A custom sound is a file in the app's res/raw, named "/raw/<name>" without extension (Huawei's
 * `sound`; Tencent's AndroidSound is the name without extension too, tencent-chat.md §4.2). Huawei
 * applies it only when it creates the notification channel.
 */
function soundFields(sound: string | undefined): Pick<HuaweiAndroidNotification, "default_sound" | "sound"> {
  if (sound === undefined || sound === "default") return { default_sound: true };
  const name = sound.replace(/^\/?(raw\/)?/, "").replace(/\.[^./]+$/, "");
  return { default_sound: false, sound: `/raw/${name}` };
}

function bytesWithoutTokens(body: HuaweiRequest["body"]): number {
  return Buffer.byteLength(JSON.stringify({ ...body, message: { ...body.message, token: [] } }));
}

/**
 * `fitText(text, units)` for the most units up to `maxUnits` that `fits` (binary search: a longer cut
 * never takes fewer bytes), or the bare ellipsis when none does.
 */
function longestFitting(text: string, maxUnits: number, fits: (candidate: string) => boolean): string {
  let low = 1;
  let high = maxUnits;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (fits(fitText(text, middle))) low = middle;
    else high = middle - 1;
  }
  return fitText(text, low);
}

export interface HuaweiSenderOptions {
  credentials: readonly HuaweiCredential[];
  clock?: Clock;
}

/** Huawei's answer to one messages:send. */
interface SendAnswer extends HuaweiAnswer {
  requestId?: string;
}

/** The OAuth endpoint refused or failed the client_credentials grant. */
class HuaweiAuthError extends Error {
  constructor(readonly answer: HuaweiAnswer) {
    super(`Huawei OAuth ${answer.httpStatus ?? ""} ${answer.code ?? ""} ${answer.message ?? ""}`.trim());
    this.name = "HuaweiAuthError";
  }
}

/**
 * Sends through Push Kit v1 with global `fetch` (undici keeps its connections alive, so a warm Lambda
 * reuses them): targets grouped by credential, deduplicated, in chunks of 1000 tokens sent at once.
 * Each credential's OAuth access token lives in an AccessTokenCache for the life of the process; when
 * Huawei refuses it, the chunk is resent once with a new one. Requests name Huawei's real URLs; a
 * credential's `endpoint.url` redirects them (vendorUrl), carrying the real URL for the simulator.
 */
export class HuaweiSender implements VendorSender {
  readonly vendor = "huawei";
  private readonly credentials: readonly HuaweiCredential[];
  private readonly clock: Clock;
  private readonly accessTokens: AccessTokenCaches<HuaweiCredential>;

  constructor({ credentials, clock = systemClock }: HuaweiSenderOptions) {
    this.credentials = credentials;
    this.clock = clock;
    this.accessTokens = new AccessTokenCaches(fetchAccessToken, clock);
  }

  send(notification: Notification, targets: DeliveryTarget[]): Promise<SendResult[]> {
    return sendMulticast({
      credentials: this.credentials,
      targets,
      chunkSize: HUAWEI_MAX_TOKENS,
      vendorName: this.vendor,
      sendChunk: (credential, chunk) => this.sendChunk(notification, credential, chunk),
    });
  }

  async close(): Promise<void> {
    this.accessTokens.clear();
  }

  private async sendChunk(
    notification: Notification,
    credential: HuaweiCredential,
    chunk: DeliveryTarget[],
  ): Promise<Map<string, TokenResult>> {
    const request = buildHuaweiRequest(notification, chunk, credential, this.clock.now());
    let sends = 0;
    const answer = await sendWithTokenRefresh<SendAnswer>({
      tokens: this.accessTokens.for(credential),
      send: (accessToken) => {
        sends += 1;
        return postSend(request, credential, accessToken);
      },
      noToken: (error) =>
        error instanceof HuaweiAuthError ? error.answer : { stage: "oauth", message: fetchErrorText(error) },
      // 80200003 / 80200001 / HTTP 401: the token expired early or was revoked. Resent once with a new
      // one; a refusal of that one is a credential problem.
      tokenRefused: (answer) => classifyHuawei(answer, this.clock.now()).kind === "refresh-credential",
    });
    return this.resultsOf(request.body.message.token, answer, sends > 1);
  }

  private resultsOf(
    tokens: readonly string[],
    answer: SendAnswer,
    refreshed: boolean,
  ): Map<string, TokenResult> {
    const now = this.clock.now();
    const status = answer.httpStatus === undefined ? {} : { status: answer.httpStatus };
    const outcome = classifyHuawei(answer, now, refreshed);
    const whole: TokenResult =
      outcome.kind === "delivered" && answer.requestId !== undefined
        ? { ...status, outcome: { kind: "delivered", vendorId: answer.requestId } }
        : { ...status, outcome };
    if (answer.code !== HUAWEI_PARTIAL_SUCCESS) return new Map(tokens.map((token) => [token, whole]));
    const illegal = illegalTokens(answer.message);
    const dropped: TokenResult = {
      ...status,
      outcome: classifyHuawei({ ...answer, code: HUAWEI_ILLEGAL_TOKEN, message: undefined }, now),
    };
    return new Map(tokens.map((token) => [token, illegal.has(token) ? dropped : whole]));
  }
}

/**
 * OAuth 2.0 client credentials (vendors.md §3 "Auth"): the app id is the client id. With the
 * credential's `endpoint.url` the grant goes there, naming Huawei's URL (lib/vendors/endpoint.ts).
 */
export async function fetchAccessToken(credential: HuaweiCredential): Promise<IssuedToken> {
  const { url, headers } = vendorUrl(HUAWEI_OAUTH_URL, credential.endpoint?.url);
  const response = await fetch(url, {
    method: "POST",
    headers: { ...headers, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "client_credentials",
      client_id: credential.appId,
      client_secret: credential.clientSecret,
    }).toString(),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const json = asObject(parseJson(await response.text()));
  const { access_token, expires_in, error, error_description, sub_error } = json;
  if (response.status === 200 && typeof access_token === "string" && typeof expires_in === "number") {
    return { token: access_token, expiresInSeconds: expires_in };
  }
  // Huawei's refusal: {"error":1101,"error_description":"invalid client_secret","sub_error":12304}.
  const message = [error_description, sub_error === undefined ? undefined : `(sub_error ${sub_error})`]
    .filter((part) => part !== undefined && part !== "")
    .join(" ");
  throw new HuaweiAuthError({
    stage: "oauth",
    httpStatus: response.status,
    ...(error !== undefined && { code: String(error) }),
    ...(message !== "" && { message }),
  });
}

async function postSend(
  request: HuaweiRequest,
  credential: HuaweiCredential,
  accessToken: string,
): Promise<SendAnswer> {
  const { url, headers } = vendorUrl(request.url, credential.endpoint?.url);
  let response: Response;
  let text: string;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { ...request.headers, ...headers, authorization: `Bearer ${accessToken}` },
      body: JSON.stringify(request.body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    text = await response.text();
  } catch (error) {
    return { message: fetchErrorText(error) };
  }
  const { code, msg, requestId } = asObject(parseJson(text));
  const retryAfterSeconds = parseRetryAfter(response.headers.get("retry-after"));
  return {
    httpStatus: response.status,
    ...((typeof code === "string" || typeof code === "number") && { code: String(code) }),
    ...(typeof msg === "string" && { message: msg }),
    ...(typeof requestId === "string" && { requestId }),
    ...(retryAfterSeconds !== undefined && { retryAfterSeconds }),
  };
}

/**
 * The tokens an 80100000 answer lists in `msg`, a JSON string: v1 names them `illegal_tokens`
 * (UNCONFIRMED by a Huawei page; independent v1 clients read that key, e.g. the frappe and Rust
 * pushkin senders found by find_string), v3 `illegalTokens`, as an array or as arrays keyed by reason
 * (https://developer.huawei.com/consumer/cn/doc/harmonyos-references/push-scenariozed-api-response).
 * An unreadable `msg` lists none: dropping live tokens would be worse than one more failed push.
 */
function illegalTokens(msg: string | undefined): Set<string> {
  const detail = asObject(parseJson(msg ?? ""));
  const listed = detail.illegal_tokens ?? detail.illegalTokens;
  const values = Array.isArray(listed) ? listed : Object.values(asObject(listed)).flat();
  return new Set(values.filter((value): value is string => typeof value === "string"));
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function asObject(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}
