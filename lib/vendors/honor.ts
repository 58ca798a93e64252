import type { DeliveryTarget, Notification } from "../model/index.js";
import { type Clock, type SendResult, systemClock, type VendorSender } from "../ports/index.js";
import { AccessTokenCaches, type IssuedToken } from "./access-token.js";
import { conversationNotifyId, fitText, intentWithExt } from "./android-text.js";
import type { HonorCredential } from "./credentials.js";
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
/** badge.setNum is 0–99 (vendors.md §8; tencent-chat.md §4.1 BadgeSetNum). */
const MAX_BADGE = 99;

/** type 1 opens the intent (the plugin's conversation page), type 3 opens the app (vendors.md §8). */
export type HonorClickAction = { type: 1; intent: string } | { type: 3 };

export interface HonorAndroidNotification {
  title: string;
  body: string;
  clickAction: HonorClickAction;
  importance: "NORMAL";
  badge?: { setNum: number; badgeClass: string };
  tag: string;
  notifyId: number;
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
  /** Under the push host (or `credential.endpoint.url`). */
  path: string;
  /** Every header but `authorization`, which carries the access token. */
  headers: { "content-type": "application/json"; timestamp: string };
  body: HonorMessage;
}

/**
 * The sendMessage request for one notification to `targets` (at most HONOR_MAX_TOKENS; the sender
 * chunks). An IM message is a service & communication message: `importance: "NORMAL"`, Honor having
 * no custom channels (vendors.md §10). No sound field: Honor documents none, so the device plays its
 * default sound.
 */
export function buildHonorRequest(
  notification: Notification,
  targets: readonly DeliveryTarget[],
  credential: HonorCredential,
  nowMs: number,
): HonorRequest {
  const title = fitText(notification.title, HONOR_TITLE_LIMIT);
  const body = fitText(notification.body, HONOR_BODY_LIMIT);
  const clickAction: HonorClickAction =
    credential.clickIntent === undefined
      ? { type: 3 }
      : { type: 1, intent: intentWithExt(credential.clickIntent, notification.ext) };
  const badge =
    notification.badge !== undefined && credential.badgeClass !== undefined
      ? {
          setNum: Math.min(Math.max(0, Math.floor(notification.badge)), MAX_BADGE),
          badgeClass: credential.badgeClass,
        }
      : undefined;
  return {
    path: `/api/v1/${encodeURIComponent(credential.appId)}/sendMessage`,
    headers: { "content-type": "application/json", timestamp: String(nowMs) },
    body: {
      notification: { title, body },
      android: {
        ttl: `${ttlSeconds(notification.sentAt, nowMs)}s`,
        data: notification.ext,
        notification: {
          title,
          body,
          clickAction,
          importance: "NORMAL",
          ...(badge !== undefined && { badge }),
          // Both make the conversation's newest message replace its shown notification, as APNs'
          // collapse id and FCM's tag do (vendors.md §8 body; zandala88/honor-push model.go describes both).
          tag: notification.conversationId,
          notifyId: conversationNotifyId(notification.conversationId),
        },
      },
      token: targets.map((target) => target.token),
    },
  };
}

/**
 * What remains of Tencent's 7 days. Past them (a retry that waited long), 1 s still reaches a phone that
 * is online now: the nearest to APNs' expiration 0, which Honor's "NNNs" format may not accept.
 */
function ttlSeconds(sentAt: number, nowMs: number): number {
  const remaining = Math.floor((sentAt - nowMs) / 1000) + OFFLINE_TTL_SECONDS;
  return Math.min(Math.max(1, remaining), HONOR_MAX_TTL_SECONDS);
}

const AUTH_HOST = "https://iam.developer.honor.com";
const PUSH_HOST = "https://push-api.cloud.honor.com";
const TOKEN_PATH = "/auth/token";
const REQUEST_TIMEOUT_MS = 10_000;

export interface HonorSenderOptions {
  credentials: readonly HonorCredential[];
  clock?: Clock;
}

/** Honor's answer to one sendMessage, as far as it could be read. */
interface SendAnswer extends HonorAnswer {
  requestId?: string;
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
    const url = `${credential.endpoint?.url ?? PUSH_HOST}${request.path}`;
    const answer = await sendWithTokenRefresh<SendAnswer>({
      tokens: this.accessTokens.for(credential),
      send: (accessToken) => postMessage(url, request, accessToken),
      noToken: (error) => ({
        ...(error instanceof HonorAuthError
          ? error.answer
          : { httpStatus: 0, message: fetchErrorText(error) }),
        failTokens: [],
        expireTokens: [],
      }),
      tokenRefused: (answer) => classifyHonor(answer, this.clock.now()).kind === "refresh-credential",
    });
    return this.resultsOf(chunk, answer);
  }

  private resultsOf(chunk: readonly DeliveryTarget[], answer: SendAnswer): Map<string, TokenResult> {
    const now = this.clock.now();
    const status = answer.httpStatus === 0 ? {} : { status: answer.httpStatus };
    const outcome = classifyHonor(answer, now);
    const listed = new Map<string, HonorTokenList>();
    if (outcome.kind === "delivered") {
      for (const token of answer.failTokens) listed.set(token, "failTokens");
      for (const token of answer.expireTokens) listed.set(token, "expireTokens");
    }
    const delivered = {
      ...status,
      outcome: {
        kind: "delivered" as const,
        ...(answer.requestId !== undefined && { vendorId: answer.requestId }),
      },
    };
    return new Map(
      chunk.map(({ token }): [string, TokenResult] => {
        const list = listed.get(token);
        if (list !== undefined) {
          return [
            token,
            { ...status, outcome: classifyHonor({ httpStatus: answer.httpStatus, code: list }, now) },
          ];
        }
        return [token, outcome.kind === "delivered" ? delivered : { ...status, outcome }];
      }),
    );
  }
}

/** OAuth 2.0 client credentials at Honor's IAM (vendors.md §8 "Auth"). */
async function fetchAccessToken(credential: HonorCredential): Promise<IssuedToken> {
  let status: number;
  let body: string;
  try {
    const response = await fetch(`${credential.endpoint?.url ?? AUTH_HOST}${TOKEN_PATH}`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
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
    throw new HonorAuthError({ httpStatus: 0, message: `auth ${fetchErrorText(error)}` });
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
    message: `auth ${described.length > 0 ? described.join(" ") : body.slice(0, 200)}`,
  });
}

async function postMessage(url: string, request: HonorRequest, accessToken: string): Promise<SendAnswer> {
  let response: Response;
  let body: string;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { ...request.headers, authorization: `Bearer ${accessToken}` },
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
