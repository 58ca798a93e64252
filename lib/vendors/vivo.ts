import { createHash } from "node:crypto";
import { collapseKeyOf, type DeliveryTarget, type Notification } from "../model/index.js";
import { type Clock, type SendResult, systemClock, type VendorSender } from "../ports/index.js";
import { AccessTokenCaches, type IssuedToken } from "./access-token.js";
import { conversationNotifyId, fitText, intentWithExt } from "./android-text.js";
import type { VivoCredential } from "./credentials.js";
import { vendorUrl } from "./endpoint.js";
import { parseRetryAfter, sendMulticast, sendWithTokenRefresh, type TokenResult } from "./multicast.js";
import { classifyVivo, type VivoAnswer } from "./vivo-outcomes.js";

/*
 * Sources: vivo's server API doc (https://dev.vivo.com.cn/documentCenter/doc/362; mirrors of v2.9.x at
 * http://www.qro.cn/post/302609.html ff., modood/pushapi vivopush/message.go quotes its field table) and
 * vivo's official Java server SDK (vivo-push-server-sdk, classes com.vivo.push.sdk.server.Sender,
 * .Validation, com.vivo.push.sdk.common.Constants; decompiled copies are public on GitHub).
 */

export const VIVO_HOST = "https://api-push.vivo.com.cn";
/** pushToList takes 2..1000 regIds (Validation.validateTargetMessage); a chunk of one goes to /message/send. */
export const VIVO_MAX_TARGETS = 1000;
/**
 * Title at most 40, content at most 100, counted as vivo counts them (vivoTextWidth): doc 362 "最大20个
 * 汉字（一个汉字等于两个英文字符…即最大不超过40个英文字符）", SDK Validation.caculateCharSize.
 */
export const VIVO_TITLE_LIMIT = 40;
export const VIVO_CONTENT_LIMIT = 100;
/**
 * timeToLive bounds, SDK Constants: SINGLE_MIN_TIME_TO_LIVE 60 for /message/send, MIN_TIME_TO_LIVE 900
 * for saveListPayload and /message/all (Validation.validateLiveTime), MAX_TIME_TO_LIVE 604800 for both;
 * doc 362 "取值至少60秒（群推 900秒），最长7天。当值为空时，默认一天". The "1 day" vendors.md read as a
 * maximum is the default when timeToLive is absent.
 */
export const VIVO_SEND_MIN_TTL_SECONDS = 60;
export const VIVO_LIST_MIN_TTL_SECONDS = 900;
export const VIVO_MAX_TTL_SECONDS = 604_800;
/**
 * clientCustomMap: at most 10 pairs, and every key and value joined together at most 1024 characters
 * (doc 362; Validation.validatePublicMessage: `sb.append(key).append(value)`, `length() > 1024`).
 */
export const VIVO_CUSTOM_MAP_LIMIT = 1024;
/** skipContent for skipType 4: at most 1024 characters (Validation). */
const SKIP_CONTENT_LIMIT = 1024;
/** Tencent Chat keeps offline messages 7 days; a push announcing one is pointless after that. */
const OFFLINE_WINDOW_SECONDS = 7 * 24 * 60 * 60;

/**
 * vivo's categories (doc 359, vendors.md §6): system messages (classification 1) and operation messages
 * (classification 0). A category of the other class is refused with 10097. vivo documents no call or
 * VoIP category: calls go as IM (its VoIP Service Kit is a separate entitlement, OriginOS 6+).
 */
export const VIVO_SYSTEM_CATEGORIES = ["IM", "ACCOUNT", "TODO", "DEVICE_REMINDER", "ORDER", "SUBSCRIPTION"];
export const VIVO_OPERATION_CATEGORIES = ["NEWS", "CONTENT", "MARKETING", "SOCIAL"];

export const VIVO_PATHS = {
  auth: "/message/auth",
  send: "/message/send",
  saveListPayload: "/message/saveListPayload",
  pushToList: "/message/pushToList",
} as const;

/** Every vivo request is JSON; `authToken` is added by the sender. */
export type VivoHeaders = { "content-type": "application/json" };

/** The message fields of /message/send and /message/saveListPayload (doc 362). */
export interface VivoMessage {
  /** A number, as vivo types it ("appId int", doc 362; the SDK's `int appId`). */
  appId: number;
  /**
   * 1 none, 2 sound, 3 vibration, 4 both (doc 362; it decides on Android 8 and older only, later ones
   * follow vivo's channel for the class). 4 is vivo's default sound, 1 a quiet replacement (a recall).
   * vivo has no sound-name field: neither an iOS nor an Android sound name is ever sent.
   */
  notifyType: 1 | 4;
  title: string;
  content: string;
  timeToLive: number;
  /** 1 opens the app, 4 the intent in `skipContent`. */
  skipType: 1 | 4;
  skipContent?: string;
  /** 1 system message (IM, no per-device daily cap once approved), 0 operation message (doc 359). */
  classification: 0 | 1;
  category: string;
  /** Absent when not even the conversation id fits vivo's 1024 characters. */
  clientCustomMap?: { ext: string };
  requestId: string;
  /** 1 = test push, to the console's test devices only. */
  pushMode: 0 | 1;
  notifyId: number;
}

export interface VivoSendBody extends VivoMessage {
  regId: string;
}

export interface VivoPushToListBody {
  appId: number;
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

/** The credential's appId as the number vivo wants; undefined when it is not a positive integer. */
export function vivoAppId(credential: Pick<VivoCredential, "appId">): number | undefined {
  const text = String(credential.appId).trim();
  const appId = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  return Number.isSafeInteger(appId) && appId > 0 ? appId : undefined;
}

/**
 * The vivo request(s) for one chunk of at most VIVO_MAX_TARGETS targets: classified as the notification's
 * purpose and the sender's overrides say (a system IM message by default), replacing the shown
 * notification with the same replacement key (notifyId), with `ext` in clientCustomMap whatever the
 * click opens. Throws when the credential's appId is not vivo's numeric id.
 */
export function buildVivoRequest(
  notification: Notification,
  targets: readonly DeliveryTarget[],
  credential: VivoCredential,
  nowMs: number,
): VivoRequest {
  const appId = vivoAppId(credential);
  if (appId === undefined) throw new Error(`vivo appId ${JSON.stringify(credential.appId)} is not a number`);
  const tokens = targets.map((target) => target.token);
  const pushMode = credential.testMode ? 1 : 0;
  const customMap = clientCustomMap(notification.ext);
  const message = (requestId: string, minTtlSeconds: number): VivoMessage => ({
    appId,
    notifyType: notification.quiet === true ? 1 : 4,
    title: fitVivoText(notification.title, VIVO_TITLE_LIMIT),
    content: fitVivoText(notification.body, VIVO_CONTENT_LIMIT),
    timeToLive: timeToLive(notification, nowMs, minTtlSeconds),
    ...click(credential, notification.ext),
    ...vivoClassificationOf(notification),
    ...(customMap !== undefined && { clientCustomMap: customMap }),
    requestId,
    pushMode,
    notifyId: vivoNotifyId(notification),
  });
  const idFor = (path: string) => vivoRequestId(path, appId, notification, tokens);
  const [only] = tokens;
  if (tokens.length === 1 && only !== undefined) {
    const body = message(idFor(VIVO_PATHS.send), VIVO_SEND_MIN_TTL_SECONDS);
    return { kind: "send", path: VIVO_PATHS.send, headers: HEADERS, body: { ...body, regId: only } };
  }
  return {
    kind: "list",
    save: {
      path: VIVO_PATHS.saveListPayload,
      headers: HEADERS,
      body: message(idFor(VIVO_PATHS.saveListPayload), VIVO_LIST_MIN_TTL_SECONDS),
    },
    push: {
      path: VIVO_PATHS.pushToList,
      headers: HEADERS,
      body: { appId, regIds: tokens, requestId: idFor(VIVO_PATHS.pushToList), pushMode },
    },
  };
}

/**
 * classification and category: the sender's `VIVOCategory` when it is one of vivo's (it wins over
 * `VIVOClassification`, which it superseded in vivo's 2023-04-03 rules, tencent-chat.md §4.2), with the
 * classification that category belongs to; else the sender's `VIVOClassification` (1 IM, 0 MARKETING);
 * else by purpose: an operations push is an operation message (MARKETING: the app server's notice must not
 * spend the app's IM classification, issue 11), a chat message or a call a system message in IM.
 */
export function vivoClassificationOf({
  android,
  purpose,
}: Pick<Notification, "android" | "purpose">): Pick<VivoMessage, "classification" | "category"> {
  const asked = android?.vivoCategory?.trim().toUpperCase();
  if (asked !== undefined && VIVO_SYSTEM_CATEGORIES.includes(asked))
    return { classification: 1, category: asked };
  if (asked !== undefined && VIVO_OPERATION_CATEGORIES.includes(asked)) {
    return { classification: 0, category: asked };
  }
  if (android?.vivoClassification === 1) return { classification: 1, category: "IM" };
  if (android?.vivoClassification === 0) return { classification: 0, category: "MARKETING" };
  return purpose === "operations"
    ? { classification: 0, category: "MARKETING" }
    : { classification: 1, category: "IM" };
}

/**
 * notifyId ("每条消息在通知显示时的唯一标识", doc 362) from the message's replacement key (collapseKeyOf):
 * per message, so a newer message never replaces an older one, and a recall replaces exactly its own.
 */
export function vivoNotifyId(notification: Pick<Notification, "collapseKey" | "messageKey">): number {
  return conversationNotifyId(collapseKeyOf(notification));
}

/**
 * vivo's count (SDK Validation.caculateCharSize): every UTF-16 unit counts one, and one more for each in
 * the CJK blocks (unified ideographs and extension A, compatibility ideographs, CJK symbols and
 * punctuation), general punctuation (… “ ” —) and half/full-width forms: "一个汉字等于两个英文字符" (doc 362).
 * So 20 汉字 or 40 Latin letters fill a title; an emoji (two units) counts two.
 */
export function vivoTextWidth(text: string): number {
  let width = text.length;
  for (let index = 0; index < text.length; index += 1) {
    if (isDoubleWidth(text.charCodeAt(index))) width += 1;
  }
  return width;
}

function isDoubleWidth(unit: number): boolean {
  return (
    (unit >= 0x4e00 && unit <= 0x9fff) || // CJK Unified Ideographs
    (unit >= 0x3400 && unit <= 0x4dbf) || // CJK Unified Ideographs Extension A
    (unit >= 0xf900 && unit <= 0xfaff) || // CJK Compatibility Ideographs
    (unit >= 0x3000 && unit <= 0x303f) || // CJK Symbols and Punctuation
    (unit >= 0x2000 && unit <= 0x206f) || // General Punctuation
    (unit >= 0xff00 && unit <= 0xffef) // Halfwidth and Fullwidth Forms
  );
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

/**
 * What remains of Tencent's 7 days (a ringing call: of its timeout), within vivo's bounds: at least 60 s
 * for /message/send, 900 s for a list message, at most 7 days.
 */
function timeToLive({ sentAt, call }: Notification, nowMs: number, minSeconds: number): number {
  const endMs =
    call?.action === "ring"
      ? call.invitedAt + call.timeoutSeconds * 1000
      : sentAt + OFFLINE_WINDOW_SECONDS * 1000;
  const left = Math.floor((endMs - nowMs) / 1000);
  return Math.min(VIVO_MAX_TTL_SECONDS, Math.max(minSeconds, left));
}

/**
 * The ext the app can still use when the whole one does not fit: just the conversation to open, which
 * is what the push plugin's click handler reads; undefined when ext names none.
 */
function conversationOnlyExt(ext: string): string | undefined {
  try {
    const value: unknown = JSON.parse(ext);
    const conversationID = (value as { conversationID?: unknown } | null)?.conversationID;
    return typeof conversationID === "string" ? JSON.stringify({ conversationID }) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `{ext}` when "ext" and its value fit VIVO_CUSTOM_MAP_LIMIT; else the conversation-only ext; else no
 * map at all. Cutting JSON would hand the app something it cannot parse, and an oversized map makes vivo
 * refuse the whole message.
 */
function clientCustomMap(ext: string): { ext: string } | undefined {
  for (const candidate of [ext, conversationOnlyExt(ext)]) {
    if (candidate !== undefined && "ext".length + candidate.length <= VIVO_CUSTOM_MAP_LIMIT)
      return { ext: candidate };
  }
  return undefined;
}

function click(credential: VivoCredential, ext: string): Pick<VivoMessage, "skipType" | "skipContent"> {
  if (credential.clickIntent === undefined) return { skipType: 1 };
  // The intent with the whole ext, else with the conversation only, else bare: a long ext still
  // reaches the app through clientCustomMap rather than the message being refused.
  for (const candidate of [ext, conversationOnlyExt(ext)]) {
    if (candidate === undefined) continue;
    const withExt = intentWithExt(credential.clickIntent, candidate);
    if (withExt.length <= SKIP_CONTENT_LIMIT) return { skipType: 4, skipContent: withExt };
  }
  return { skipType: 4, skipContent: credential.clickIntent };
}

/**
 * vivo's requestId ("用户请求唯一标识", at most 64 characters, required: doc 362, Validation
 * REQUEST_ID_EMPTY / REQUEST_ID_LENGTH_INVALID): a sha256 of the endpoint, the app, the push (message key,
 * replacement key, what it is for) and the set of regIds, so a resend of the same push to the same
 * devices (a retried or redelivered job, a resend after 10000) carries the same id whatever order the
 * targets come in, and vivo can drop the duplicate, while a different app, push or target set never
 * shares one. vivo documents the field as the request's unique id but not how long it remembers one
 * (UNCONFIRMED), nor whether ids are scoped per endpoint: each endpoint gets its own.
 */
export function vivoRequestId(
  path: string,
  appId: number,
  notification: Notification,
  tokens: readonly string[],
): string {
  const push = [
    notification.messageKey,
    collapseKeyOf(notification),
    notification.purpose ?? "im",
    notification.quiet === true,
    notification.call?.action ?? null,
  ];
  const regIds = [...new Set(tokens)].sort();
  return createHash("sha256")
    .update(JSON.stringify([path, appId, push, regIds]))
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
    if (vivoAppId(credential) === undefined) {
      // vivo's appId is an int (doc 362): a credential with anything else can never authorize.
      const reason = `vivo appId ${JSON.stringify(credential.appId)} is not vivo's numeric app id`;
      return new Map(
        targets.map(({ token }) => [token, { outcome: { kind: "credential-problem", reason } }]),
      );
    }
    const request = buildVivoRequest(notification, targets, credential, this.clock.now());
    const override = credential.endpoint?.url;
    const reply = await sendWithTokenRefresh<ChunkReply>({
      tokens: this.authTokens.for(credential),
      send: (authToken) => sendRequest(override, request, authToken),
      noToken: (error) => ({
        answer: error instanceof VivoAuthError ? error.answer : { stage: "auth", desc: String(error) },
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

  /**
   * POST /message/auth {appId (a number: "appId int", doc 362; the SDK's `getToken(int appId, String
   * appKey)` puts the int in the body), appKey, timestamp, sign = lowercase md5(appId + appKey +
   * timestamp + appSecret), each part trimmed (doc 362 as quoted in modood/pushapi vivopush/message.go)}.
   */
  async authorize(credential: VivoCredential): Promise<IssuedToken> {
    // Public for `npm run doctor`, which checks a credential with it (lib/ops/doctor-checks.ts).
    const appId = vivoAppId(credential)!;
    const appKey = credential.appKey.trim();
    const timestamp = this.clock.now();
    const sign = createHash("md5")
      .update(`${appId}${appKey}${timestamp}${credential.appSecret.trim()}`)
      .digest("hex");
    const { answer, json } = await post(`${VIVO_HOST}${VIVO_PATHS.auth}`, credential.endpoint?.url, HEADERS, {
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
    throw new VivoAuthError({ ...refused, stage: "auth" });
  }
}

/** The chunk's request(s) with `authToken`: /message/send, or saveListPayload then pushToList. */
async function sendRequest(
  override: string | undefined,
  request: VivoRequest,
  authToken: string,
): Promise<ChunkReply> {
  if (request.kind === "send") {
    const { answer, json } = await post(
      `${VIVO_HOST}${request.path}`,
      override,
      { ...request.headers, authToken },
      request.body,
    );
    return { answer, invalidUsers: invalidUsersOf(json) };
  }
  const saved = await post(
    `${VIVO_HOST}${request.save.path}`,
    override,
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
  const pushed = await post(
    `${VIVO_HOST}${request.push.path}`,
    override,
    { ...request.push.headers, authToken },
    body,
  );
  // pushToList answers no taskId of its own: the saved message's is the one to trace.
  return { answer: { ...pushed.answer, taskId }, invalidUsers: invalidUsersOf(pushed.json) };
}

/**
 * One JSON POST to vivo's `realUrl`, or to the override carrying it (lib/vendors/endpoint.ts); never
 * throws: a network error or timeout is an answer without an HTTP status.
 */
async function post(
  realUrl: string,
  override: string | undefined,
  headers: Record<string, string>,
  body: unknown,
): Promise<{ answer: VivoAnswer; json?: Record<string, unknown> }> {
  const { url, headers: routing } = vendorUrl(realUrl, override);
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { ...headers, ...routing },
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
