import { createHash } from "node:crypto";
import type { DeliveryTarget, Notification } from "../model/index.js";
import { type Clock, type SendResult, systemClock, type VendorSender } from "../ports/index.js";
import { AccessTokenCaches, type IssuedToken } from "./access-token.js";
import { conversationNotifyId, fitText, intentWithExt } from "./android-text.js";
import type { OppoCredential } from "./credentials.js";
import { parseRetryAfter, sendMulticast, sendWithTokenRefresh, type TokenResult } from "./multicast.js";
import { classifyOppo, type OppoAnswer } from "./oppo-outcomes.js";

/** OPPO's China host (vendors.md §5 "Hosts"). */
export const OPPO_HOST = "https://api.push.oppomobile.com";
export const OPPO_AUTH_PATH = "/server/v1/auth";
export const OPPO_UNICAST_BATCH_PATH = "/server/v1/message/notification/unicast_batch";
/** unicast_batch takes at most 1000 messages (vendors.md §5 "Send endpoints"). */
export const OPPO_MAX_MESSAGES = 1000;
/**
 * Tencent's OPPO limits (tencent-chat.md §4.4), within OPPO's own: title ≤ 50 characters and, for the
 * standard style 1, content ≤ 50 (vendors.md §5 "Notification fields").
 */
export const OPPO_TITLE_LIMIT = 50;
export const OPPO_CONTENT_LIMIT = 50;
/** off_line_ttl: OPPO stores an offline message at most 10 days. */
export const OPPO_MAX_OFFLINE_TTL_SECONDS = 10 * 24 * 60 * 60;
/** click_action_url takes at most 2000 characters. */
export const OPPO_CLICK_URL_LIMIT = 2000;
/** Tencent Cloud Chat keeps offline messages 7 days; a push announcing one is pointless after that. */
const OFFLINE_WINDOW_MS = 7 * 24 * 60 * 60 * 1000;
/** OPPO: "the auth_token is valid for 24 h" (vendors.md §5 "Auth"). */
const AUTH_TOKEN_SECONDS = 24 * 60 * 60;
const REQUEST_TIMEOUT_MS = 10_000;
const FORM_HEADERS = { "content-type": "application/x-www-form-urlencoded" } as const;

/** One unicast message's `notification`, in OPPO's snake_case field names. */
export interface OppoNotification {
  style: 1;
  title: string;
  content: string;
  channel_id: string;
  category: "IM";
  notify_level: 16;
  /** 0 open the app, 1 open an activity (by action name), 5 open an intent scheme URL. */
  click_action_type: 0 | 1 | 5;
  click_action_activity?: string;
  click_action_url?: string;
  /** JSON text `{"ext": <the notification's ext string>}`, handed to the opened page as extras. */
  action_parameters: string;
  off_line: boolean;
  off_line_ttl?: number;
  notify_id: number;
}

/** One element of unicast_batch's `messages`: target_type 2 = registration_id. */
export interface OppoUnicastMessage {
  target_type: 2;
  target_value: string;
  notification: OppoNotification;
}

export interface OppoRequest {
  path: typeof OPPO_UNICAST_BATCH_PATH;
  headers: typeof FORM_HEADERS;
  /**
   * The form fields but `auth_token`, which the sender adds on each attempt. `messages` stays the JSON
   * text of an `OppoUnicastMessage[]`, as OPPO takes it.
   */
  body: { messages: string };
}

/**
 * The unicast_batch request for one notification to `targets` (at most OPPO_MAX_MESSAGES; the sender
 * splits first). Every message is classified as IM for the private channel (vendors.md §5 "Limits and
 * classification", §10): the public channel would cap it at 2 a day per device, and since the
 * 2024-11-20 rules a missing category may be refused with 67.
 */
export function buildOppoRequest(
  notification: Notification,
  targets: readonly DeliveryTarget[],
  credential: OppoCredential,
  nowMs: number,
): OppoRequest {
  const remainingSeconds = Math.floor((notification.sentAt + OFFLINE_WINDOW_MS - nowMs) / 1000);
  const fields: OppoNotification = {
    style: 1,
    title: fitText(notification.title, OPPO_TITLE_LIMIT),
    content: fitText(notification.body, OPPO_CONTENT_LIMIT),
    channel_id: credential.channelId,
    category: "IM",
    // Banner, lock screen, vibration and ring; OPPO takes notify_level only with a category. It is also
    // the only say a sender has over sound: OPPO's API has no sound field (its FAQ: notifications use
    // the system's default alert), so `notification.sound` has nowhere to go.
    notify_level: 16,
    ...clickAction(credential, notification.ext),
    // Always, whatever the click action, so the plugin finds `ext` among the extras it is opened with.
    action_parameters: JSON.stringify({ ext: notification.ext }),
    // Past Tencent's window (a retry that waited long): only a device online right now gets it, the
    // counterpart of APNs' expiration 0.
    ...(remainingSeconds > 0
      ? { off_line: true, off_line_ttl: Math.min(remainingSeconds, OPPO_MAX_OFFLINE_TTL_SECONDS) }
      : { off_line: false }),
    // A newer message of the conversation replaces the one shown. OPPO has no badge number to set
    // (ColorOS shows a dot), so `notification.badge` is not sent either.
    notify_id: conversationNotifyId(notification.conversationId),
  };
  const messages: OppoUnicastMessage[] = targets.map((target) => ({
    target_type: 2,
    target_value: target.token,
    notification: fields,
  }));
  return {
    path: OPPO_UNICAST_BATCH_PATH,
    headers: FORM_HEADERS,
    body: { messages: JSON.stringify(messages) },
  };
}

/**
 * The configured intent (type 5 takes it in click_action_url: OPPO's field table, "click_action_type
 * 2 or 5 … click_action_url"), else the configured activity (type 1), else the app. An intent whose
 * `ext` extra would pass click_action_url's 2000 characters falls back the same way rather than have
 * OPPO refuse every message of the batch; the extras in action_parameters still carry `ext` then.
 */
function clickAction(
  credential: OppoCredential,
  ext: string,
): Pick<OppoNotification, "click_action_type" | "click_action_activity" | "click_action_url"> {
  if (credential.clickIntent !== undefined) {
    const url = intentWithExt(credential.clickIntent, ext);
    if (url.length <= OPPO_CLICK_URL_LIMIT) return { click_action_type: 5, click_action_url: url };
  }
  if (credential.clickActivity !== undefined) {
    return { click_action_type: 1, click_action_activity: credential.clickActivity };
  }
  return { click_action_type: 0 };
}

export interface OppoSenderOptions {
  credentials: readonly OppoCredential[];
  clock?: Clock;
}

/** One item of unicast_batch's `data`. */
interface OppoItem {
  messageId?: string;
  errorCode?: number;
  errorMessage?: string;
}

/** What one unicast_batch request got: one answer for all its tokens, or one item per token. */
type BatchAnswer = { whole: OppoAnswer } | { httpStatus: number; items: Map<string, OppoItem> };

/** Thrown into AccessTokenCache when /server/v1/auth refuses or cannot be reached. */
class OppoAuthError extends Error {
  constructor(readonly answer: OppoAnswer) {
    super(`OPPO auth failed: ${answer.code ?? answer.httpStatus ?? "network"} ${answer.message ?? ""}`);
  }
}

/**
 * OPPO Push over unicast_batch with global `fetch` (undici keeps its connections alive, so a warm Lambda
 * reuses them). One auth_token per credential, cached for the life of the process; when OPPO refuses
 * it (11 Invalid AuthToken, 29 Missing Auth Token) the sender fetches a new one and resends that batch
 * once.
 */
export class OppoSender implements VendorSender {
  readonly vendor = "oppo";
  private readonly credentials: readonly OppoCredential[];
  private readonly clock: Clock;
  private readonly authTokens: AccessTokenCaches<OppoCredential>;

  constructor({ credentials, clock = systemClock }: OppoSenderOptions) {
    this.credentials = credentials;
    this.clock = clock;
    this.authTokens = new AccessTokenCaches((credential) => requestAuthToken(credential, clock), clock);
  }

  send(notification: Notification, targets: DeliveryTarget[]): Promise<SendResult[]> {
    // A token listed twice is sent once: OPPO would show the same notification twice.
    return sendMulticast({
      credentials: this.credentials,
      targets,
      chunkSize: OPPO_MAX_MESSAGES,
      vendorName: this.vendor,
      sendChunk: (credential, chunk) => this.sendChunk(notification, credential, chunk),
    });
  }

  async close(): Promise<void> {
    this.authTokens.clear();
  }

  private async sendChunk(
    notification: Notification,
    credential: OppoCredential,
    chunk: DeliveryTarget[],
  ): Promise<Map<string, TokenResult>> {
    const request = buildOppoRequest(notification, chunk, credential, this.clock.now());
    const url = `${baseUrl(credential)}${request.path}`;
    // On OPPO's auth-expired answer, resent once with a new auth_token. Other batches refused with the
    // same token invalidate it too; the cache fetches one new token.
    const answer = await sendWithTokenRefresh<BatchAnswer>({
      tokens: this.authTokens.for(credential),
      send: async (authToken) =>
        readBatchAnswer(await postForm(url, request.headers, { ...request.body, auth_token: authToken })),
      noToken: (error) => ({
        whole: error instanceof OppoAuthError ? error.answer : { message: String(error) },
      }),
      tokenRefused: refusesAuthToken,
    });
    const now = this.clock.now();
    return new Map(chunk.map(({ token }) => [token, resultOf(answer, token, now)]));
  }
}

function baseUrl(credential: OppoCredential): string {
  return (credential.endpoint?.url ?? OPPO_HOST).replace(/\/+$/, "");
}

/**
 * POST /server/v1/auth: sign = lowercase hex sha256(app_key + timestamp + master_secret), timestamp in
 * ms and within 10 minutes of OPPO's clock (vendors.md §5 "Auth").
 */
async function requestAuthToken(credential: OppoCredential, clock: Clock): Promise<IssuedToken> {
  const timestamp = String(clock.now());
  const sign = createHash("sha256")
    .update(`${credential.appKey}${timestamp}${credential.masterSecret}`)
    .digest("hex");
  const exchange = await postForm(`${baseUrl(credential)}${OPPO_AUTH_PATH}`, FORM_HEADERS, {
    app_key: credential.appKey,
    timestamp,
    sign,
  });
  if ("error" in exchange) throw new OppoAuthError({ message: exchange.error });
  const { json } = exchange;
  const data = isObject(json) && json.code === 0 && isObject(json.data) ? json.data : undefined;
  if (typeof data?.auth_token !== "string") throw new OppoAuthError(answerOf(exchange));
  // The 24 h run from create_time (OPPO's ms), which may predate this request if OPPO hands back a
  // token it issued earlier.
  const ageSeconds = typeof data.create_time === "number" ? (clock.now() - data.create_time) / 1000 : 0;
  const expiresInSeconds = Math.floor(Math.min(AUTH_TOKEN_SECONDS, AUTH_TOKEN_SECONDS - ageSeconds));
  return { token: data.auth_token, expiresInSeconds: Math.max(0, expiresInSeconds) };
}

type Exchange = { httpStatus: number; json: unknown; retryAfterSeconds?: number } | { error: string };

async function postForm(
  url: string,
  headers: Record<string, string>,
  form: Record<string, string>,
): Promise<Exchange> {
  try {
    const response = await fetch(url, {
      method: "POST",
      headers,
      body: new URLSearchParams(form).toString(),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await response.text();
    const retryAfterSeconds = parseRetryAfter(response.headers.get("retry-after"));
    return {
      httpStatus: response.status,
      json: parseJson(text),
      ...(retryAfterSeconds !== undefined && { retryAfterSeconds }),
    };
  } catch (error) {
    return { error: describeError(error) };
  }
}

/** OPPO's envelope as an answer for every token of the request. */
function answerOf(exchange: Exchange): OppoAnswer {
  if ("error" in exchange) return { message: exchange.error };
  const { httpStatus, json, retryAfterSeconds } = exchange;
  const code = isObject(json) && typeof json.code === "number" ? json.code : undefined;
  const message = isObject(json) && typeof json.message === "string" ? json.message : undefined;
  return {
    httpStatus,
    ...(code !== undefined && { code }),
    ...(message && { message }),
    ...(retryAfterSeconds !== undefined && { retryAfterSeconds }),
  };
}

/** `{"code":0,"data":[{messageId, registrationId, errorCode?, errorMessage?}]}`, else one whole answer. */
function readBatchAnswer(exchange: Exchange): BatchAnswer {
  if ("error" in exchange || !isObject(exchange.json) || exchange.json.code !== 0) {
    return { whole: answerOf(exchange) };
  }
  const { httpStatus, json } = exchange;
  if (!Array.isArray(json.data)) return { whole: { httpStatus, message: "no data in OPPO's answer" } };
  const items = new Map<string, OppoItem>();
  for (const entry of json.data as unknown[]) {
    if (!isObject(entry) || typeof entry.registrationId !== "string") continue;
    items.set(entry.registrationId, {
      ...(typeof entry.messageId === "string" && { messageId: entry.messageId }),
      ...(typeof entry.errorCode === "number" && { errorCode: entry.errorCode }),
      ...(typeof entry.errorMessage === "string" && { errorMessage: entry.errorMessage }),
    });
  }
  return { httpStatus, items };
}

function resultOf(answer: BatchAnswer, token: string, nowMs: number): TokenResult {
  if ("whole" in answer) {
    const outcome = classifyOppo(answer.whole, nowMs);
    return answer.whole.httpStatus === undefined ? { outcome } : { outcome, status: answer.whole.httpStatus };
  }
  const { httpStatus } = answer;
  const item = answer.items.get(token);
  if (item === undefined) {
    return {
      status: httpStatus,
      outcome: classifyOppo({ httpStatus, message: "no result for this registration_id" }, nowMs),
    };
  }
  if (item.errorCode !== undefined && item.errorCode !== 0) {
    const failure = { code: item.errorCode, httpStatus, message: item.errorMessage };
    return { status: httpStatus, outcome: classifyOppo(failure, nowMs) };
  }
  return { status: httpStatus, outcome: { kind: "delivered", vendorId: item.messageId } };
}

/** 11 Invalid AuthToken (expired, or issued before a secret change) and 29 Missing Auth Token. */
function refusesAuthToken(answer: BatchAnswer): boolean {
  return "whole" in answer && (answer.whole.code === 11 || answer.whole.code === 29);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** fetch's TypeError says only "fetch failed"; the cause names the socket error. */
function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause as { code?: unknown; message?: unknown } | undefined;
  const detail = cause?.code ?? cause?.message;
  return typeof detail === "string" ? `${error.message}: ${detail}` : error.message;
}
