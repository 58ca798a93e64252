import type { DeliveryTarget, Notification } from "../model/index.js";
import { type Clock, type SendResult, systemClock, type VendorSender } from "../ports/index.js";
import { AccessTokenCaches, type IssuedToken } from "./access-token.js";
import { conversationNotifyId, fitText, intentWithExt } from "./android-text.js";
import type { HuaweiCredential } from "./credentials.js";
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
/** badge.set_num: 0–99 (vendors.md §3; tencent-chat.md §4.1 BadgeSetNum for Huawei). */
const BADGE_MAX = 99;

const PUSH_HOST = "https://push-api.cloud.huawei.com";
const OAUTH_HOST = "https://oauth-login.cloud.huawei.com";
const REQUEST_TIMEOUT_MS = 10_000;

/** 1 opens the intent the app registered (with `ext` in it), 3 opens the app's launcher activity. */
export type HuaweiClickAction = { type: 1; intent: string } | { type: 3 };

export interface HuaweiAndroidNotification {
  title: string;
  body: string;
  click_action: HuaweiClickAction;
  importance: "NORMAL";
  channel_id?: string;
  tag: string;
  notify_id: number;
  default_sound: boolean;
  sound?: string;
  badge?: { set_num: number; class: string };
}

export interface HuaweiMessage {
  android: {
    category: "IM";
    ttl: string;
    notification: HuaweiAndroidNotification;
  };
  token: string[];
}

/** The messages:send request for one chunk of tokens, all but the `Authorization` header. */
export interface HuaweiRequest {
  path: string;
  headers: { "content-type": string };
  body: { validate_only: false; message: HuaweiMessage };
}

/**
 * The Push Kit v1 request for one notification to up to 1000 tokens of one app: a notification message
 * classified as IM (vendors.md §10), at most 4096 bytes without its tokens (the body, then the title, are
 * cut further when the 60/600 units do not fit).
 *
 * Huawei's `message.data` belongs to data messages and cannot ride along with a notification (vendors.md
 * §3), and click_action type 3 opens the launcher activity with no extras: without `clickIntent` the
 * app cannot read `ext`, so apps on Huawei must configure `clickIntent`.
 */
export function buildHuaweiRequest(
  notification: Notification,
  targets: readonly DeliveryTarget[],
  credential: HuaweiCredential,
  nowMs: number,
): HuaweiRequest {
  const { conversationId, badge } = notification;
  const sound = notification.android?.sound;
  const build = (title: string, body: string): HuaweiRequest["body"] => ({
    validate_only: false,
    message: {
      android: {
        // vendors.md §10: "IM" under Huawei's self-classification rules; a notification message
        // without it may be reclassified (the exact coupling with importance is UNCONFIRMED).
        category: "IM",
        ttl: `${ttlSeconds(notification.sentAt, nowMs)}s`,
        notification: {
          title,
          body,
          click_action:
            credential.clickIntent === undefined
              ? { type: 3 }
              : { type: 1, intent: intentWithExt(credential.clickIntent, notification.ext) },
          // "NORMAL" is service & communication; "LOW" would make it marketing, capped at 2 a day.
          importance: "NORMAL",
          // Huawei honours a custom channel only for service & communication messages.
          ...(credential.channelId !== undefined && { channel_id: credential.channelId }),
          // One notification per conversation: a newer message replaces the shown one. Huawei
          // documents no length limit for tag; notify_id makes Android's (tag, id) pair stable too.
          tag: conversationId,
          notify_id: conversationNotifyId(conversationId),
          ...soundFields(sound),
          ...(badge !== undefined &&
            credential.badgeClass !== undefined && {
              badge: {
                set_num: Math.min(BADGE_MAX, Math.max(0, Math.floor(badge))),
                class: credential.badgeClass,
              },
            }),
        },
      },
      token: [...new Set(targets.map((target) => target.token))],
    },
  });

  const fits = (title: string, body: string) =>
    bytesWithoutTokens(build(title, body)) <= HUAWEI_MESSAGE_LIMIT_BYTES;
  let title = fitText(notification.title, HUAWEI_TITLE_LIMIT);
  let body = fitText(notification.body, HUAWEI_BODY_LIMIT);
  if (!fits(title, body)) {
    body = longestFitting(notification.body, HUAWEI_BODY_LIMIT, (b) => fits(title, b));
    // Still too large means the title must give way too; past that only `ext` (in the intent) is left,
    // which is never cut (the app parses it), so Huawei answers 80300008 and the target is dead-lettered.
    if (!fits(title, body))
      title = longestFitting(notification.title, HUAWEI_TITLE_LIMIT, (t) => fits(t, body));
  }
  return {
    path: `/v1/${encodeURIComponent(credential.appId)}/messages:send`,
    headers: { "content-type": "application/json;charset=utf-8" },
    body: build(title, body),
  };
}

/** What remains of Tencent's 7 days; at least a second, so a late retry still reaches a device online now. */
function ttlSeconds(sentAt: number, nowMs: number): number {
  const remaining = Math.floor((sentAt - nowMs) / 1000) + OFFLINE_TTL_SECONDS;
  return Math.max(1, Math.min(OFFLINE_TTL_SECONDS, HUAWEI_MAX_TTL_SECONDS, remaining));
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
 * Huawei refuses it, the chunk is resent once with a new one.
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
    const answer = await sendWithTokenRefresh<SendAnswer>({
      tokens: this.accessTokens.for(credential),
      send: (accessToken) => postSend(baseUrl(credential, PUSH_HOST), request, accessToken),
      noToken: (error) =>
        error instanceof HuaweiAuthError ? error.answer : { message: fetchErrorText(error) },
      // 80200003 / 80200001 / HTTP 401: the token expired early or was revoked. Resent once with a new
      // one; a second refusal goes back as refresh-credential.
      tokenRefused: (answer) => classifyHuawei(answer, this.clock.now()).kind === "refresh-credential",
    });
    return this.resultsOf(request.body.message.token, answer);
  }

  private resultsOf(tokens: readonly string[], answer: SendAnswer): Map<string, TokenResult> {
    const now = this.clock.now();
    const status = answer.httpStatus === undefined ? {} : { status: answer.httpStatus };
    const outcome = classifyHuawei(answer, now);
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

function baseUrl(credential: HuaweiCredential, productionHost: string): string {
  return (credential.endpoint?.url ?? productionHost).replace(/\/+$/, "");
}

/** OAuth 2.0 client credentials (vendors.md §3 "Auth"): the app id is the client id. */
async function fetchAccessToken(credential: HuaweiCredential): Promise<IssuedToken> {
  const response = await fetch(`${baseUrl(credential, OAUTH_HOST)}/oauth2/v3/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
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
    httpStatus: response.status,
    ...(error !== undefined && { code: String(error) }),
    ...(message !== "" && { message }),
  });
}

async function postSend(base: string, request: HuaweiRequest, accessToken: string): Promise<SendAnswer> {
  let response: Response;
  let text: string;
  try {
    response = await fetch(`${base}${request.path}`, {
      method: "POST",
      headers: { ...request.headers, authorization: `Bearer ${accessToken}` },
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
 * (UNCONFIRMED), v3 `illegalTokens`, as an array or as arrays keyed by reason (Huawei's HarmonyOS FAQ).
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
