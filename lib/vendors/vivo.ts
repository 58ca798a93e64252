import { createHash } from "node:crypto";
import type { DeliveryTarget, Notification } from "../model/index.js";
import { type Clock, type SendResult, systemClock, type VendorSender } from "../ports/index.js";
import { AccessTokenCaches, type IssuedToken } from "./access-token.js";
import { conversationNotifyId, fitText, intentWithExt } from "./android-text.js";
import type { VivoCredential } from "./credentials.js";
import { parseRetryAfter, sendMulticast, sendWithTokenRefresh, type TokenResult } from "./multicast.js";
import { classifyVivo, type VivoAnswer } from "./vivo-outcomes.js";

export const VIVO_HOST = "https://api-push.vivo.com.cn";
/** pushToList takes 2..1000 regIds (vendors.md §6 "Batch send"); a chunk of one goes to /message/send. */
export const VIVO_MAX_TARGETS = 1000;
/** Tencent's vivo limits (tencent-chat.md §4.4) and vivo's own (vendors.md §6). */
export const VIVO_TITLE_LIMIT = 40;
export const VIVO_CONTENT_LIMIT = 100;
export const VIVO_MIN_TTL_SECONDS = 60;
/**
 * vendors.md §6: the latest docs allow timeToLive up to 1 day, older ones 7 days (UNCONFIRMED); the
 * stricter one cannot be refused.
 */
export const VIVO_MAX_TTL_SECONDS = 86_400;
/** Tencent Chat keeps offline messages 7 days; a push announcing one is pointless after that. */
const OFFLINE_WINDOW_SECONDS = 7 * 24 * 60 * 60;
const SKIP_CONTENT_LIMIT = 1024;

export const VIVO_PATHS = {
  auth: "/message/auth",
  send: "/message/send",
  saveListPayload: "/message/saveListPayload",
  pushToList: "/message/pushToList",
} as const;

/** Every vivo request is JSON; `authToken` is added by the sender. */
export type VivoHeaders = { "content-type": "application/json" };

/** The message fields of /message/send and /message/saveListPayload (vendors.md §6). */
export interface VivoMessage {
  appId: string;
  /** 4 = sound and vibration: vivo's default sound (it has no custom sound field). */
  notifyType: 4;
  title: string;
  content: string;
  timeToLive: number;
  /** 1 opens the app, 4 the intent in `skipContent`. */
  skipType: 1 | 4;
  skipContent?: string;
  /** 1 = system message: with an approved self-classification, no per-device daily cap (vendors.md §10). */
  classification: 1;
  category: "IM";
  clientCustomMap: { ext: string };
  requestId: string;
  /** 1 = test push, to the console's test devices only. */
  pushMode: 0 | 1;
  notifyId: number;
}

export interface VivoSendBody extends VivoMessage {
  regId: string;
}

export interface VivoPushToListBody {
  appId: string;
  regIds: string[];
  /** From saveListPayload's answer. */
  taskId: string;
  requestId: string;
  pushMode: 0 | 1;
}

/** One target: a single /message/send. Two or more: saveListPayload, then pushToList with its taskId. */
export type VivoRequest =
  | { kind: "send"; path: typeof VIVO_PATHS.send; headers: VivoHeaders; body: VivoSendBody }
  | {
      kind: "list";
      save: { path: typeof VIVO_PATHS.saveListPayload; headers: VivoHeaders; body: VivoMessage };
      push: {
        path: typeof VIVO_PATHS.pushToList;
        headers: VivoHeaders;
        body: Omit<VivoPushToListBody, "taskId">;
      };
    };

const HEADERS: VivoHeaders = { "content-type": "application/json" };

/**
 * The vivo request(s) for one chunk of at most VIVO_MAX_TARGETS targets. An IM message is a system
 * message in the IM category on every request (vendors.md §10), replaces the conversation's shown
 * notification (notifyId) and carries `ext` in clientCustomMap whatever the click opens.
 */
export function buildVivoRequest(
  notification: Notification,
  targets: readonly DeliveryTarget[],
  credential: VivoCredential,
  nowMs: number,
): VivoRequest {
  const tokens = targets.map((target) => target.token);
  const pushMode = credential.testMode ? 1 : 0;
  const message = (requestId: string): VivoMessage => ({
    appId: credential.appId,
    notifyType: 4,
    title: fitVivoText(notification.title, VIVO_TITLE_LIMIT),
    content: fitVivoText(notification.body, VIVO_CONTENT_LIMIT),
    timeToLive: timeToLive(notification.sentAt, nowMs),
    ...click(credential, notification.ext),
    classification: 1,
    category: "IM",
    clientCustomMap: { ext: notification.ext },
    requestId,
    pushMode,
    notifyId: conversationNotifyId(notification.conversationId),
  });
  const [only] = tokens;
  if (tokens.length === 1 && only !== undefined) {
    const body = message(requestId(VIVO_PATHS.send, notification.messageKey, tokens));
    return { kind: "send", path: VIVO_PATHS.send, headers: HEADERS, body: { ...body, regId: only } };
  }
  return {
    kind: "list",
    save: {
      path: VIVO_PATHS.saveListPayload,
      headers: HEADERS,
      body: message(requestId(VIVO_PATHS.saveListPayload, notification.messageKey, tokens)),
    },
    push: {
      path: VIVO_PATHS.pushToList,
      headers: HEADERS,
      body: {
        appId: credential.appId,
        regIds: tokens,
        requestId: requestId(VIVO_PATHS.pushToList, notification.messageKey, tokens),
        pushMode,
      },
    },
  };
}

/**
 * vivo counts a Chinese character as two English ones ("title: at most 20 汉字, i.e. 40 English
 * characters", vivo's API doc as quoted in modood/pushapi vivopush/message.go; UNCONFIRMED for other
 * scripts and emoji), so every code point outside ASCII counts two here.
 */
export function vivoTextWidth(text: string): number {
  let width = 0;
  for (const codePoint of text) width += codePoint.codePointAt(0)! < 0x80 ? 1 : 2;
  return width;
}

/** Tencent's cut (fitText) at the limit, shortened further until vivo's own count fits too. */
function fitVivoText(text: string, limit: number): string {
  let units = limit;
  let fitted = fitText(text, units);
  while (vivoTextWidth(fitted) > limit) {
    units -= 1;
    fitted = fitText(text, units);
  }
  return fitted;
}

function timeToLive(sentAt: number, nowMs: number): number {
  const left = OFFLINE_WINDOW_SECONDS - Math.floor((nowMs - sentAt) / 1000);
  // Past the window (a job retried for days) vivo still wants its 60 s minimum.
  return Math.min(VIVO_MAX_TTL_SECONDS, Math.max(VIVO_MIN_TTL_SECONDS, left));
}

function click(credential: VivoCredential, ext: string): Pick<VivoMessage, "skipType" | "skipContent"> {
  if (credential.clickIntent === undefined) return { skipType: 1 };
  const withExt = intentWithExt(credential.clickIntent, ext);
  // skipContent is at most 1024 characters (vendors.md §6); a long ext still reaches the app through
  // clientCustomMap, so the intent goes without it rather than the message being refused.
  return {
    skipType: 4,
    skipContent: withExt.length <= SKIP_CONTENT_LIMIT ? withExt : credential.clickIntent,
  };
}

/**
 * vivo's idempotency key (≤ 64 characters, vendors.md §6): the same message to the same chunk always gets
 * the same id, so a resend (after 10000, or a retried job) is not shown twice. One id per endpoint,
 * since whether vivo scopes ids per endpoint is not documented.
 */
function requestId(path: string, messageKey: string, tokens: readonly string[]): string {
  return createHash("sha256")
    .update([path, messageKey, ...tokens].join("\n"))
    .digest("hex");
}

export interface VivoSenderOptions {
  credentials: readonly VivoCredential[];
  clock?: Clock;
}

/** vivo: an authToken is valid 24 h, and vivo recommends renewing it every 1–2 h (vendors.md §6). */
const AUTH_TOKEN_RENEW_SECONDS = 60 * 60;
const REQUEST_TIMEOUT_MS = 10_000;
const AUTH_FAILED = 10000;
/** /message/send's answer when its target is invalid; `invalidUser` says why. */
const INVALID_USER = 10302;

/** What one chunk's exchange came back with. */
interface ChunkReply {
  answer: VivoAnswer;
  /** regId → invalidUser status. */
  invalidUsers: Map<string, number>;
}

/** The auth endpoint refused, or could not be reached. */
class VivoAuthError extends Error {
  constructor(readonly answer: VivoAnswer) {
    super(`vivo auth ${answer.result ?? answer.httpStatus ?? "network"} ${answer.desc ?? ""}`);
  }
}

/**
 * vivo Push over HTTP/1.1 JSON with the global `fetch` (its pool keeps connections alive, so a warm
 * Lambda reuses them). One authToken per credential, cached for the life of the process: the auth
 * endpoint allows 10 calls a second (vendors.md §6), so concurrent sends share one fetch.
 */
export class VivoSender implements VendorSender {
  readonly vendor = "vivo";
  private readonly credentials: readonly VivoCredential[];
  private readonly clock: Clock;
  private readonly authTokens: AccessTokenCaches<VivoCredential>;

  constructor({ credentials, clock = systemClock }: VivoSenderOptions) {
    this.credentials = credentials;
    this.clock = clock;
    this.authTokens = new AccessTokenCaches((credential) => this.authorize(credential), clock);
  }

  send(notification: Notification, targets: DeliveryTarget[]): Promise<SendResult[]> {
    // vivo would count a regId listed twice twice; every target with it gets the one answer.
    return sendMulticast({
      credentials: this.credentials,
      targets,
      chunkSize: VIVO_MAX_TARGETS,
      vendorName: this.vendor,
      unknownCredentialReason: (certificateId) => `no vivo credential ${certificateId ?? "(default)"}`,
      sendChunk: (credential, chunk) => this.sendChunk(notification, credential, chunk),
    });
  }

  close(): Promise<void> {
    // The connections belong to the process-wide fetch pool (shared with other senders), not to us.
    this.authTokens.clear();
    return Promise.resolve();
  }

  private async sendChunk(
    notification: Notification,
    credential: VivoCredential,
    targets: DeliveryTarget[],
  ): Promise<Map<string, TokenResult>> {
    const request = buildVivoRequest(notification, targets, credential, this.clock.now());
    const baseUrl = credential.endpoint?.url ?? VIVO_HOST;
    const reply = await sendWithTokenRefresh<ChunkReply>({
      tokens: this.authTokens.for(credential),
      send: (authToken) => sendRequest(baseUrl, request, authToken),
      noToken: (error) => ({
        answer: error instanceof VivoAuthError ? error.answer : { desc: String(error) },
        invalidUsers: new Map(),
      }),
      // 10000 on a send: the token expired or was revoked before its time. One new token, one resend;
      // a second 10000 goes back as refresh-credential.
      tokenRefused: (refused) => refused.answer.result === AUTH_FAILED,
    });
    const now = this.clock.now();
    return new Map(
      targets.map(({ token }) => {
        const { result } = reply.answer;
        const invalidUserStatus =
          result === 0 || result === INVALID_USER ? reply.invalidUsers.get(token) : undefined;
        const answer =
          invalidUserStatus === undefined ? reply.answer : { ...reply.answer, invalidUserStatus };
        const outcome = classifyVivo(answer, now);
        const { httpStatus } = reply.answer;
        return [token, httpStatus === undefined ? { outcome } : { outcome, status: httpStatus }];
      }),
    );
  }

  /** POST /message/auth: sign = lowercase md5(appId + appKey + timestamp + appSecret), vendors.md §6. */
  private async authorize(credential: VivoCredential): Promise<IssuedToken> {
    // vivo's doc asks for the parts trimmed before they are joined (modood/pushapi vivopush/message.go).
    const appId = credential.appId.trim();
    const appKey = credential.appKey.trim();
    const timestamp = this.clock.now();
    const sign = createHash("md5")
      .update(`${appId}${appKey}${timestamp}${credential.appSecret.trim()}`)
      .digest("hex");
    const baseUrl = credential.endpoint?.url ?? VIVO_HOST;
    const { answer, json } = await post(`${baseUrl}${VIVO_PATHS.auth}`, HEADERS, {
      appId,
      appKey,
      timestamp,
      sign,
    });
    const authToken = json?.authToken;
    if (answer.result === 0 && typeof authToken === "string" && authToken !== "") {
      return { token: authToken, expiresInSeconds: AUTH_TOKEN_RENEW_SECONDS };
    }
    // result 0 without a token is an unreadable answer, not a success.
    const refused = answer.result === 0 ? { ...answer, result: undefined, desc: "no authToken" } : answer;
    throw new VivoAuthError({ ...refused, desc: `auth ${refused.desc ?? ""}`.trim() });
  }
}

/** The chunk's request(s) with `authToken`: /message/send, or saveListPayload then pushToList. */
async function sendRequest(baseUrl: string, request: VivoRequest, authToken: string): Promise<ChunkReply> {
  if (request.kind === "send") {
    const { answer, json } = await post(
      `${baseUrl}${request.path}`,
      { ...request.headers, authToken },
      request.body,
    );
    return { answer, invalidUsers: invalidUsersOf(json) };
  }
  const saved = await post(
    `${baseUrl}${request.save.path}`,
    { ...request.save.headers, authToken },
    request.save.body,
  );
  const { taskId } = saved.answer;
  if (saved.answer.result !== 0) return { answer: saved.answer, invalidUsers: new Map() };
  if (taskId === undefined) {
    const answer = { ...saved.answer, result: undefined, desc: "saveListPayload answered no taskId" };
    return { answer, invalidUsers: new Map() };
  }
  const body: VivoPushToListBody = { ...request.push.body, taskId };
  const pushed = await post(`${baseUrl}${request.push.path}`, { ...request.push.headers, authToken }, body);
  // pushToList answers no taskId of its own: the saved message's is the one to trace.
  return { answer: { ...pushed.answer, taskId }, invalidUsers: invalidUsersOf(pushed.json) };
}

/** One JSON POST; never throws: a network error or timeout is an answer without an HTTP status. */
async function post(
  url: string,
  headers: Record<string, string>,
  body: unknown,
): Promise<{ answer: VivoAnswer; json?: Record<string, unknown> }> {
  try {
    const response = await fetch(url, {
      method: "POST",
      headers,
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await response.text();
    const json = parseObject(text);
    const retryAfterSeconds = parseRetryAfter(response.headers.get("retry-after"));
    const answer: VivoAnswer = {
      httpStatus: response.status,
      ...(typeof json?.result === "number" && { result: json.result }),
      desc: typeof json?.desc === "string" ? json.desc : response.statusText,
      ...((typeof json?.taskId === "string" || typeof json?.taskId === "number") && {
        taskId: String(json.taskId),
      }),
      ...(retryAfterSeconds !== undefined && { retryAfterSeconds }),
    };
    return json === undefined ? { answer } : { answer, json };
  } catch (error) {
    // fetch rejects with "fetch failed" and puts the socket's error (ECONNREFUSED, ECONNRESET) in `cause`.
    const { name, message, cause } = error as Error;
    const detail = cause instanceof Error ? `${message}: ${cause.message}` : message;
    return {
      answer: { desc: name === "TimeoutError" ? `no answer within ${REQUEST_TIMEOUT_MS} ms` : detail },
    };
  }
}

/** `invalidUser` (single send) or `invalidUsers` (pushToList): `{status, userid}`, userid = the regId. */
function invalidUsersOf(json: Record<string, unknown> | undefined): Map<string, number> {
  const listed = [json?.invalidUser, ...(Array.isArray(json?.invalidUsers) ? json.invalidUsers : [])];
  const invalid = new Map<string, number>();
  for (const entry of listed) {
    if (typeof entry !== "object" || entry === null) continue;
    const { status, userid } = entry as { status?: unknown; userid?: unknown };
    if (typeof status === "number" && (typeof userid === "string" || typeof userid === "number")) {
      invalid.set(String(userid), status);
    }
  }
  return invalid;
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
