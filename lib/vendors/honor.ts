import { collapseKeyOf, type DeliveryTarget, type Notification } from "../model/index.js";
import { type Clock, type SendResult, systemClock, type VendorSender } from "../ports/index.js";
import { AccessTokenCaches, type IssuedToken } from "./access-token.js";
import { conversationNotifyId, fitText, intentWithExt } from "./android-text.js";
import type { HonorCredential } from "./credentials.js";
import { vendorUrl } from "./endpoint.js";
import { classifyHonor, type HonorAnswer, type HonorTokenList } from "./honor-outcomes.js";
import {
  fetchErrorText,
  parseRetryAfter,
  sendMulticast,
  sendWithTokenRefresh,
  type TokenResult,
} from "./multicast.js";

/** Tencent's per-vendor limits for Honor, in UTF-16 units (tencent-chat.md §4.4). */
export const HONOR_TITLE_LIMIT = 50;
export const HONOR_BODY_LIMIT = 400;
/**
 * Tokens per sendMessage request. Honor's maximum is UNCONFIRMED; vendors.md §8 takes Huawei's 1000
 * (vendors.md §3), the API Honor's derives from.
 */
export const HONOR_MAX_TOKENS = 1000;
/**
 * android.ttl's ceiling: 15 days, as the comment in zandala88/honor-push model.go and Huawei's
 * documented maximum both say (UNCONFIRMED for Honor: vendors.md §8 names no maximum).
 */
export const HONOR_MAX_TTL_SECONDS = 15 * 24 * 60 * 60;
/** Tencent Cloud Chat keeps offline messages 7 days; a push announcing one is pointless after that. */
const OFFLINE_TTL_SECONDS = 7 * 24 * 60 * 60;
/** badge.setNum is 0–99, addNum 1–99 (vendors.md §8; zandala88/honor-push model.go BadgeNotification). */
const MAX_BADGE = 99;
/**
 * Honor's token endpoint and push host (vendors.md §8; Honor's guide "发送下行消息能力指导", copied at
 * https://my.oschina.net/u/5873522/blog/10140231).
 */
export const HONOR_AUTH_URL = "https://iam.developer.honor.com/auth/token";
export const HONOR_PUSH_HOST = "https://push-api.cloud.honor.com";
const REQUEST_TIMEOUT_MS = 10_000;

/** type 1 opens the intent (the plugin's conversation page), type 3 opens the app (vendors.md §8). */
export type HonorClickAction = { type: 1; intent: string } | { type: 3 };

export interface HonorAndroidNotification {
  title: string;
  body: string;
  clickAction: HonorClickAction;
  importance: "LOW" | "NORMAL";
  image?: string;
  badge?: { setNum: number; badgeClass: string } | { addNum: number; badgeClass: string };
  tag: string;
  notifyId: number;
  group: string;
}

/** sendMessage's body: camelCase and no `message` wrapper, unlike Huawei's (vendors.md §8 "Send"). */
export interface HonorMessage {
  notification: { title: string; body: string };
  android: {
    /** Seconds, written "NNNs". */
    ttl: string;
    /** The notification's `ext` JSON string, for the plugin when the app opens without the intent. */
    data: string;
    notification: HonorAndroidNotification;
  };
  token: string[];
}

export interface HonorRequest {
  /** The real Honor Push URL the request is addressed to. */
  url: string;
  /** Every header but `authorization`, which carries the access token. */
  headers: { "content-type": "application/json"; timestamp: string };
  body: HonorMessage;
}

/**
 * Honor's classification: `importance` NORMAL is "service & communication" (chat messages, audio and
 * video calls), LOW "information & marketing" (silent, shown only in the shade, 2 a day per device)
 * (zandala88/honor-push model.go `Importance`, from Honor's downlink-message reference; Honor's message
 * classification standard, copied at http://www.coreui.cn/news/209029.html). So:
 * - chat messages and calls are NORMAL;
 * - an operations push is LOW, unless the sender's `android.honorImportance` (Tencent's
 *   HonorImportance, tencent-chat.md §4.2) says NORMAL; the sender's importance wins for the others too;
 * - a quiet replacement (recall, ended call) stays NORMAL: LOW would file it under marketing, where the
 *   daily cap may swallow it, and Honor has no field that silences one notification (no sound,
 *   vibration or channel field in its reference), so a replacement may ring on Honor.
 * Honor has no custom channels (vendors.md §10) and no sound field: `android.sound` is not sent.
 */
export function honorImportance(notification: Notification): "LOW" | "NORMAL" {
  const asked = notification.android?.honorImportance;
  if (asked === "LOW" || asked === "NORMAL") return asked;
  return notification.purpose === "operations" ? "LOW" : "NORMAL";
}

/**
 * The sendMessage request for one notification to `targets` (at most HONOR_MAX_TOKENS; the sender
 * chunks). Replacement is per message: `tag` and `notifyId` from collapseKeyOf ("messages with the same
 * tag replace each other", "the same notifyId replaces the previous message", model.go), so a newer
 * message never replaces an older one and a recall replaces exactly its message; `group` is the
 * conversation ("a group shows its newest message and the count", model.go).
 */
export function buildHonorRequest(
  notification: Notification,
  targets: readonly DeliveryTarget[],
  credential: HonorCredential,
  nowMs: number,
): HonorRequest {
  const title = fitText(notification.title, HONOR_TITLE_LIMIT);
  const body = fitText(notification.body, HONOR_BODY_LIMIT);
  const key = collapseKeyOf(notification);
  const clickAction: HonorClickAction =
    credential.clickIntent === undefined
      ? { type: 3 }
      : { type: 1, intent: intentWithExt(credential.clickIntent, notification.ext) };
  const badge = badgeOf(notification, targets, credential);
  const image = httpsUrl(notification.android?.honorImage);
  return {
    url: `${HONOR_PUSH_HOST}/api/v1/${encodeURIComponent(credential.appId)}/sendMessage`,
    headers: { "content-type": "application/json", timestamp: String(nowMs) },
    body: {
      notification: { title, body },
      android: {
        ttl: `${ttlSeconds(notification, nowMs)}s`,
        data: notification.ext,
        notification: {
          title,
          body,
          clickAction,
          importance: honorImportance(notification),
          // HonorImage: "the URL must use HTTPS" (model.go `Image`).
          ...(image !== undefined && { image }),
          ...(badge !== undefined && { badge }),
          tag: key,
          notifyId: conversationNotifyId(key),
          group: notification.conversationId,
        },
      },
      token: targets.map((target) => target.token),
    },
  };
}

/**
 * One badge for every token of the multicast: `notification.badge` as setNum; else a push that counts
 * (its `badgeAdd`, or targets carrying counted badges) adds `badgeAdd` or 1, Tencent's +1 per offline
 * push (https://www.tencentcloud.com/document/product/1047/60572), as addNum. Nothing without the
 * launcher class, which the badge needs (model.go `BadgeClass`).
 */
function badgeOf(
  notification: Notification,
  targets: readonly DeliveryTarget[],
  credential: HonorCredential,
): HonorAndroidNotification["badge"] {
  const badgeClass = credential.badgeClass;
  if (badgeClass === undefined) return undefined;
  if (notification.badge !== undefined) {
    return { setNum: Math.min(Math.max(0, Math.floor(notification.badge)), MAX_BADGE), badgeClass };
  }
  const counted = notification.badgeAdd !== undefined || targets.some((target) => target.badge !== undefined);
  if (!counted) return undefined;
  const add = Math.min(MAX_BADGE, Math.floor(notification.badgeAdd ?? 1));
  return add >= 1 ? { addNum: add, badgeClass } : undefined;
}

function httpsUrl(value: string | undefined): string | undefined {
  return value !== undefined && /^https:\/\/\S+$/.test(value) ? value : undefined;
}

/**
 * What remains of Tencent's 7 days. Past them (a retry that waited long), 1 s still reaches a phone that
 * is online now: the nearest to APNs' expiration 0, which Honor's "NNNs" format may not accept. A ringing
 * call lives only until its invitation times out.
 */
function ttlSeconds(notification: Notification, nowMs: number): number {
  const { sentAt, call } = notification;
  const remaining = Math.floor((sentAt - nowMs) / 1000) + OFFLINE_TTL_SECONDS;
  const ringing =
    call?.action === "ring"
      ? Math.ceil((call.invitedAt + call.timeoutSeconds * 1000 - nowMs) / 1000)
      : Number.POSITIVE_INFINITY;
  return Math.min(Math.max(1, Math.min(remaining, ringing)), HONOR_MAX_TTL_SECONDS);
}

export interface HonorSenderOptions {
  credentials: readonly HonorCredential[];
  clock?: Clock;
}

/** Honor's answer to one sendMessage, as far as it could be read. */
interface SendAnswer extends HonorAnswer {
  requestId?: string;
  /** `data.sendResult`; absent when the answer carried none. */
  sendResult?: boolean;
  failTokens: readonly string[];
  expireTokens: readonly string[];
}

/** The token endpoint refused or could not be reached; `answer` says how, for classifyHonor. */
class HonorAuthError extends Error {
  constructor(readonly answer: HonorAnswer) {
    super(answer.message);
  }
}

/**
 * Honor Push over global fetch (undici keeps connections alive, so a warm Lambda reuses them). Targets
 * are grouped by credential and sent as multicasts of up to HONOR_MAX_TOKENS, all chunks at once; each
 * credential's OAuth token is cached for the life of the process and refreshed once, with that chunk
 * resent, when Honor says it expired.
 */
export class HonorSender implements VendorSender {
  readonly vendor = "honor";
  private readonly credentials: readonly HonorCredential[];
  private readonly clock: Clock;
  private readonly accessTokens: AccessTokenCaches<HonorCredential>;

  constructor({ credentials, clock = systemClock }: HonorSenderOptions) {
    this.credentials = credentials;
    this.clock = clock;
    this.accessTokens = new AccessTokenCaches(fetchAccessToken, clock);
  }

  send(notification: Notification, targets: DeliveryTarget[]): Promise<SendResult[]> {
    return sendMulticast({
      credentials: this.credentials,
      targets,
      chunkSize: HONOR_MAX_TOKENS,
      vendorName: this.vendor,
      sendChunk: (credential, chunk) => this.sendChunk(notification, credential, chunk),
    });
  }

  async close(): Promise<void> {
    this.accessTokens.clear();
  }

  private async sendChunk(
    notification: Notification,
    credential: HonorCredential,
    chunk: DeliveryTarget[],
  ): Promise<Map<string, TokenResult>> {
    const request = buildHonorRequest(notification, chunk, credential, this.clock.now());
    let sends = 0;
    const answer = await sendWithTokenRefresh<SendAnswer>({
      tokens: this.accessTokens.for(credential),
      send: (accessToken) => {
        sends += 1;
        return postMessage(request, credential, accessToken);
      },
      noToken: (error) => ({
        ...(error instanceof HonorAuthError
          ? error.answer
          : { httpStatus: 0, stage: "auth" as const, message: `auth ${fetchErrorText(error)}` }),
        failTokens: [],
        expireTokens: [],
      }),
      tokenRefused: (answer) => classifyHonor(answer, this.clock.now()).kind === "refresh-credential",
    });
    return this.resultsOf(chunk, answer, sends > 1);
  }

  /**
   * Each token's answer. In an accepted answer, a token in `expireTokens` is dead, one in `failTokens`
   * was not delivered (retried), and when `sendResult` is false a token neither list names was not
   * delivered either: `code` 200 alone is no delivery.
   */
  private resultsOf(
    chunk: readonly DeliveryTarget[],
    answer: SendAnswer,
    refreshed: boolean,
  ): Map<string, TokenResult> {
    const now = this.clock.now();
    const status = answer.httpStatus === 0 ? {} : { status: answer.httpStatus };
    const outcome = classifyHonor(answer, now, refreshed);
    const listed = new Map<string, HonorTokenList>();
    if (outcome.kind === "delivered") {
      for (const token of answer.failTokens) listed.set(token, "failTokens");
      for (const token of answer.expireTokens) listed.set(token, "expireTokens");
    }
    const unlisted: HonorTokenList | undefined =
      outcome.kind === "delivered" && answer.sendResult === false ? "notAccepted" : undefined;
    const delivered = {
      ...status,
      outcome: {
        kind: "delivered" as const,
        ...(answer.requestId !== undefined && { vendorId: answer.requestId }),
      },
    };
    return new Map(
      chunk.map(({ token }): [string, TokenResult] => {
        const list = listed.get(token) ?? unlisted;
        if (list !== undefined) {
          const message = list === "notAccepted" ? "sendResult false" : undefined;
          return [
            token,
            {
              ...status,
              outcome: classifyHonor(
                { httpStatus: answer.httpStatus, code: list, ...(message !== undefined && { message }) },
                now,
              ),
            },
          ];
        }
        return [token, outcome.kind === "delivered" ? delivered : { ...status, outcome }];
      }),
    );
  }
}

/**
 * OAuth 2.0 client credentials at Honor's IAM (vendors.md §8 "Auth"). With the credential's
 * `endpoint.url` the grant goes there, naming Honor's URL (lib/vendors/endpoint.ts).
 */
export async function fetchAccessToken(credential: HonorCredential): Promise<IssuedToken> {
  const { url, headers } = vendorUrl(HONOR_AUTH_URL, credential.endpoint?.url);
  let status: number;
  let body: string;
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { ...headers, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "client_credentials",
        client_id: credential.clientId,
        client_secret: credential.clientSecret,
      }),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    status = response.status;
    body = await response.text();
  } catch (error) {
    throw new HonorAuthError({ httpStatus: 0, stage: "auth", message: `auth ${fetchErrorText(error)}` });
  }
  const json = parseObject(body);
  const { access_token, expires_in } = json ?? {};
  if (status === 200 && typeof access_token === "string" && typeof expires_in === "number") {
    return { token: access_token, expiresInSeconds: expires_in };
  }
  // The IAM answers OAuth's {error, error_description}, not Honor's {code, message}.
  const described = [json?.error, json?.error_description].filter((part) => typeof part === "string");
  throw new HonorAuthError({
    httpStatus: status,
    stage: "auth",
    message: `auth ${described.length > 0 ? described.join(" ") : body.slice(0, 200)}`,
  });
}

async function postMessage(
  request: HonorRequest,
  credential: HonorCredential,
  accessToken: string,
): Promise<SendAnswer> {
  const { url, headers } = vendorUrl(request.url, credential.endpoint?.url);
  let response: Response;
  let body: string;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { ...request.headers, ...headers, authorization: `Bearer ${accessToken}` },
      body: JSON.stringify(request.body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    body = await response.text();
  } catch (error) {
    return { httpStatus: 0, message: fetchErrorText(error), failTokens: [], expireTokens: [] };
  }
  const json = parseObject(body);
  const data = parseObject(json?.data);
  const retryAfterSeconds = parseRetryAfter(response.headers.get("retry-after"));
  const code = typeof json?.code === "string" && /^\d+$/.test(json.code) ? Number(json.code) : json?.code;
  return {
    httpStatus: response.status,
    ...(typeof code === "number" && { code }),
    ...(typeof json?.message === "string" && { message: json.message }),
    ...(retryAfterSeconds !== undefined && { retryAfterSeconds }),
    ...(typeof data?.requestId === "string" && { requestId: data.requestId }),
    ...(typeof data?.sendResult === "boolean" && { sendResult: data.sendResult }),
    failTokens: strings(data?.failTokens),
    expireTokens: strings(data?.expireTokens),
  };
}

/** A JSON object from text (or an already-parsed value), else undefined. */
function parseObject(value: unknown): Record<string, unknown> | undefined {
  let parsed = value;
  if (typeof value === "string") {
    try {
      parsed = JSON.parse(value);
    } catch {
      return undefined;
    }
  }
  return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)
    ? (parsed as Record<string, unknown>)
    : undefined;
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];
}
