import { createHash } from "node:crypto";
import { collapseKeyOf, type DeliveryTarget, type Notification } from "../model/index.js";
import { type Clock, type SendResult, systemClock, type VendorSender } from "../ports/index.js";
import { AccessTokenCaches, type IssuedToken } from "./access-token.js";
import { conversationNotifyId, fitText, intentWithExt } from "./android-text.js";
import type { OppoCredential, OppoNotifyLevel } from "./credentials.js";
import { vendorUrl } from "./endpoint.js";
import { parseRetryAfter, sendMulticast, sendWithTokenRefresh, type TokenResult } from "./multicast.js";
import { classifyOppo, type OppoAnswer } from "./oppo-outcomes.js";

/**
 * OPPO's two push hosts: "国内环境 https://api.push.oppomobile.com/ 对国内设备推送消息" and "海外环境
 * https://api-intl.push.oppomobile.com/ 对海外设备推送消息" (OPPO, 调用地址，公共参数和返回码,
 * https://open.oppomobile.com/new/developmentDoc/info?id=11238). Each takes the same paths, auth
 * included, and the sender gets an auth_token from the host it sends to.
 */
export const OPPO_HOSTS = {
  cn: "https://api.push.oppomobile.com",
  intl: "https://api-intl.push.oppomobile.com",
} as const;
export type OppoRegion = keyof typeof OPPO_HOSTS;
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
/**
 * action_parameters: "【JSON格式】，字符串长度不超过4000" (OPPO's notification fields, id=11236, as quoted
 * by modood/pushapi oppopush/message.go); counted here in UTF-16 units, never fewer than characters.
 */
export const OPPO_ACTION_PARAMETERS_LIMIT = 4000;
/**
 * The communication-and-service categories (OPPO's new classification, id=13189; the list itself is
 * UNCONFIRMED, vendors.md §5): these go on the private channel, the others (NEWS, CONTENT, MARKETING,
 * SOCIAL) are content and marketing, on the public one.
 */
export const OPPO_SERVICE_CATEGORIES: ReadonlySet<string> = new Set([
  "IM",
  "ACCOUNT",
  "DEVICE_REMINDER",
  "ORDER",
  "TODO",
  "SUBSCRIPTION",
]);
export const OPPO_MARKETING_CATEGORIES: ReadonlySet<string> = new Set([
  "NEWS",
  "CONTENT",
  "MARKETING",
  "SOCIAL",
]);
/** notify_level: "1-通知栏 2-通知栏+锁屏 16-通知栏+锁屏+横幅+震动+铃声" (id=11236). */
const NOTIFY_LEVELS: ReadonlySet<number> = new Set([1, 2, 16]);
/** The strong reminder, which needs OPPO's separate approval. */
const STRONG_REMINDER = 16;

/**
 * Which host serves a registration_id. OPPO: "RegistrationID 使用“_”符号分隔成数组。数组大小为1：regId属于
 * 国内；数组大小为2：第一个值为“CN”，属于国内；数组大小为3：第二个值为“CN”，属于国内" (id=11238); every
 * other regId is an overseas one.
 */
export function oppoRegionOf(registrationId: string): OppoRegion {
  const parts = registrationId.split("_");
  if (parts.length === 1) return "cn";
  if (parts.length === 2) return parts[0] === "CN" ? "cn" : "intl";
  if (parts.length === 3) return parts[1] === "CN" ? "cn" : "intl";
  return "intl";
}
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
  /** The private channel for chat and calls; the public one (when configured) for marketing. */
  channel_id?: string;
  category: string;
  /** Only when asked for: the credential's level, the sender's, or 1 for a quiet replacement. */
  notify_level?: OppoNotifyLevel;
  /** 0 open the app, 1 open an activity (by its intent-filter action name), 5 open an intent scheme URL. */
  click_action_type: 0 | 1 | 5;
  click_action_activity?: string;
  click_action_url?: string;
  /**
   * JSON text `{"ext": <the notification's ext string>}`, handed to the opened page as extras; absent
   * when even a reduced ext would pass OPPO's 4000 characters.
   */
  action_parameters?: string;
  /** The private-message template and its title / content variables, each as JSON text. */
  private_msg_template_id?: string;
  private_title_parameters?: string;
  private_content_parameters?: string;
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
  /** Which host the request goes to: all its targets are of that region. */
  region: OppoRegion;
  path: typeof OPPO_UNICAST_BATCH_PATH;
  headers: typeof FORM_HEADERS;
  /**
   * The form fields but `auth_token`, which the sender adds on each attempt. `messages` stays the JSON
   * text of an `OppoUnicastMessage[]`, as OPPO takes it.
   */
  body: { messages: string };
}

/**
 * The unicast_batch request for one notification to `targets` (at most OPPO_MAX_MESSAGES, all of one
 * region; the sender splits first). Chat and calls are classified as IM on the private channel
 * (vendors.md §5 "Limits and classification", §10): the public channel would cap them at 2 a day per
 * device, and since the 2024-11-20 rules a missing category may be refused with 67. OPPO's VoIP call
 * category is not open for applications (tencent-calls-and-server-push.md §2), so a call is IM too.
 * Operations pushes are MARKETING on the public channel unless the sender classified them.
 */
export function buildOppoRequest(
  notification: Notification,
  targets: readonly DeliveryTarget[],
  credential: OppoCredential,
  nowMs: number,
): OppoRequest {
  const regions = new Set(targets.map(({ token }) => oppoRegionOf(token)));
  if (regions.size > 1) throw new Error("buildOppoRequest: targets of both OPPO regions in one request");
  const [region = "cn"] = regions;
  const remainingSeconds = Math.floor((notification.sentAt + OFFLINE_WINDOW_MS - nowMs) / 1000);
  const category = categoryOf(notification);
  const isService = OPPO_SERVICE_CATEGORIES.has(category);
  const senderChannel = notification.android?.oppoChannelId;
  const channelId = senderChannel
    ? senderChannel
    : isService
      ? credential.channelId
      : credential.publicChannelId;
  const notifyLevel = notifyLevelOf(notification, credential, isService);
  const actionParameters = actionParametersOf(notification.ext);
  const fields: OppoNotification = {
    style: 1,
    title: fitText(notification.title, OPPO_TITLE_LIMIT),
    content: fitText(notification.body, OPPO_CONTENT_LIMIT),
    ...(channelId && { channel_id: channelId }),
    category,
    // OPPO takes notify_level only with a category ("使用notify_level参数时，category参数必传"). It is
    // also the only say a sender has over sound: OPPO's API has no sound field (its FAQ: notifications
    // use the system's default alert, id=11256), so neither `ios.sound` nor `android.sound` goes out.
    ...(notifyLevel !== undefined && { notify_level: notifyLevel }),
    ...clickAction(credential, notification.ext),
    // Whatever the click action, so the plugin finds `ext` among the extras it is opened with.
    ...(actionParameters !== undefined && { action_parameters: actionParameters }),
    ...(isService && channelId === credential.channelId && privateTemplate(notification, credential)),
    // Past Tencent's window (a retry that waited long): only a device online right now gets it, the
    // counterpart of APNs' expiration 0.
    ...(remainingSeconds > 0
      ? { off_line: true, off_line_ttl: Math.min(remainingSeconds, OPPO_MAX_OFFLINE_TTL_SECONDS) }
      : { off_line: false }),
    // Per message (collapseKeyOf): "当不同的消息设置为同一个notify_id，到达设备的新消息将覆盖旧消息" (id=11236),
    // so a newer message never replaces an older one and a recall replaces exactly the recalled one.
    // OPPO has no badge number to set (ColorOS shows a dot), so `notification.badge` is not sent either.
    notify_id: conversationNotifyId(collapseKeyOf(notification)),
  };
  const messages: OppoUnicastMessage[] = targets.map((target) => ({
    target_type: 2,
    target_value: target.token,
    notification: fields,
  }));
  return {
    region,
    path: OPPO_UNICAST_BATCH_PATH,
    headers: FORM_HEADERS,
    body: { messages: JSON.stringify(messages) },
  };
}

/**
 * The sender's OPPOCategory when it is one OPPO knows (tencent-chat.md §4.2), else IM for chat and
 * calls and MARKETING for operations (OPPO's content-and-marketing class, id=13189): an operations push
 * never borrows the IM classification.
 */
function categoryOf(notification: Notification): string {
  const asked = notification.android?.oppoCategory?.toUpperCase();
  if (asked !== undefined && (OPPO_SERVICE_CATEGORIES.has(asked) || OPPO_MARKETING_CATEGORIES.has(asked))) {
    return asked;
  }
  return notification.purpose === "operations" ? "MARKETING" : "IM";
}

/**
 * A quiet replacement (a recall) asks for the status bar only, level 1: no banner, sound or vibration.
 * Otherwise the sender's OPPONotifyLevel, 16 only when the credential has OPPO's strong-reminder
 * approval (without it every batch fails with 67, "分类错误（包含强提醒所有异常）", id=11238; the approval
 * is a separate application for chat apps, https://trtc.io/zh/document/60576), else the credential's
 * level. Marketing takes no level: OPPO shows it in the status bar only. Whether levels 1 and 2 need the
 * approval too is UNCONFIRMED; OPPO's field table names none.
 */
function notifyLevelOf(
  notification: Notification,
  credential: OppoCredential,
  isService: boolean,
): OppoNotifyLevel | undefined {
  if (notification.quiet) return 1;
  if (!isService) return undefined;
  const approved = isNotifyLevel(credential.notifyLevel) ? credential.notifyLevel : undefined;
  const asked = notification.android?.oppoNotifyLevel;
  if (isNotifyLevel(asked) && (asked !== STRONG_REMINDER || approved === STRONG_REMINDER)) return asked;
  return approved;
}

function isNotifyLevel(level: unknown): level is OppoNotifyLevel {
  return typeof level === "number" && NOTIFY_LEVELS.has(level);
}

/**
 * `{"ext": ext}` within OPPO's 4000 characters. A longer ext is never cut mid-JSON: the plugin gets
 * just its conversationID (what its click handler opens), else no ext at all, rather than OPPO refusing
 * the whole batch.
 */
export function actionParametersOf(ext: string): string | undefined {
  const full = JSON.stringify({ ext });
  if (full.length <= OPPO_ACTION_PARAMETERS_LIMIT) return full;
  const conversationId = conversationIdOf(ext);
  if (conversationId === undefined) return undefined;
  const reduced = JSON.stringify({ ext: JSON.stringify({ conversationID: conversationId }) });
  return reduced.length <= OPPO_ACTION_PARAMETERS_LIMIT ? reduced : undefined;
}

function conversationIdOf(ext: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(ext);
    const id = isObject(parsed) ? parsed.conversationID : undefined;
    return typeof id === "string" ? id : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The credential's private-message template: "私信模板id。下发对应私信模板时必须携带" with its fill-ins
 * as JSON text, e.g. `{"city":"北京"}` for a title template "欢迎来到${city}" (id=11236, as quoted by
 * modood/pushapi oppopush/message.go). Values are cut to OPPO's title limit; their own limit is
 * UNCONFIRMED.
 */
function privateTemplate(
  notification: Notification,
  credential: OppoCredential,
): Pick<
  OppoNotification,
  "private_msg_template_id" | "private_title_parameters" | "private_content_parameters"
> {
  const { privateTemplateId, privateTitleParameters, privateContentParameters } = credential;
  if (!privateTemplateId) return {};
  const fill = (params: Record<string, "title" | "body"> | undefined): string | undefined => {
    if (params === undefined) return undefined;
    const values = Object.fromEntries(
      Object.entries(params).map(([name, field]) => [
        name,
        fitText(field === "body" ? notification.body : notification.title, OPPO_TITLE_LIMIT),
      ]),
    );
    return JSON.stringify(values);
  };
  const title = fill(privateTitleParameters);
  const content = fill(privateContentParameters);
  return {
    private_msg_template_id: privateTemplateId,
    ...(title !== undefined && { private_title_parameters: title }),
    ...(content !== undefined && { private_content_parameters: content }),
  };
}

/**
 * The configured intent (type 5 takes it in click_action_url: "当跳转的形式为URL时，click_action_type参数
 * 需要设置为2或5，同时设置本参数", id=11236), else the configured activity (type 1: "跳转指定应用内页（action
 * 标签名）", the activity's intent-filter action name; type 4 would take the class name), else the app. An intent whose
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
  /** One auth_token per credential and host: each host issues its own. */
  private readonly authTokens: Record<OppoRegion, AccessTokenCaches<OppoCredential>>;

  constructor({ credentials, clock = systemClock }: OppoSenderOptions) {
    this.credentials = credentials;
    this.clock = clock;
    const caches = (region: OppoRegion) =>
      new AccessTokenCaches(
        (credential: OppoCredential) => requestAuthToken(credential, region, clock),
        clock,
      );
    this.authTokens = { cn: caches("cn"), intl: caches("intl") };
  }

  /** The targets split by the host their regId belongs to, each part sent as a multicast of its own. */
  async send(notification: Notification, targets: DeliveryTarget[]): Promise<SendResult[]> {
    const byRegion = new Map<OppoRegion, { indexes: number[]; targets: DeliveryTarget[] }>();
    targets.forEach((target, index) => {
      const region = oppoRegionOf(target.token);
      const part = byRegion.get(region) ?? { indexes: [], targets: [] };
      part.indexes.push(index);
      part.targets.push(target);
      byRegion.set(region, part);
    });
    const results: SendResult[] = new Array(targets.length);
    await Promise.all(
      [...byRegion.values()].map(async (part) => {
        // A token listed twice is sent once: OPPO would show the same notification twice.
        const answers = await sendMulticast({
          credentials: this.credentials,
          targets: part.targets,
          chunkSize: OPPO_MAX_MESSAGES,
          vendorName: this.vendor,
          sendChunk: (credential, chunk) => this.sendChunk(notification, credential, chunk),
        });
        answers.forEach((answer, i) => {
          results[part.indexes[i]!] = answer;
        });
      }),
    );
    return results;
  }

  async close(): Promise<void> {
    this.authTokens.cn.clear();
    this.authTokens.intl.clear();
  }

  private async sendChunk(
    notification: Notification,
    credential: OppoCredential,
    chunk: DeliveryTarget[],
  ): Promise<Map<string, TokenResult>> {
    const request = buildOppoRequest(notification, chunk, credential, this.clock.now());
    const { url, headers } = vendorUrl(
      `${OPPO_HOSTS[request.region]}${request.path}`,
      credential.endpoint?.url,
    );
    // On OPPO's auth-expired answer, resent once with a new auth_token. Other batches refused with the
    // same token invalidate it too; the cache fetches one new token.
    const answer = await sendWithTokenRefresh<BatchAnswer>({
      tokens: this.authTokens[request.region].for(credential),
      send: async (authToken) =>
        readBatchAnswer(
          await postForm(url, { ...request.headers, ...headers }, { ...request.body, auth_token: authToken }),
        ),
      noToken: (error) => ({
        whole: error instanceof OppoAuthError ? error.answer : { message: String(error) },
      }),
      tokenRefused: refusesAuthToken,
    });
    const now = this.clock.now();
    return new Map(chunk.map(({ token }) => [token, resultOf(answer, token, now)]));
  }
}

/**
 * POST /server/v1/auth on the host the token is for: sign = lowercase hex sha256(app_key + timestamp +
 * master_secret), timestamp in ms and within 10 minutes of OPPO's clock (vendors.md §5 "Auth").
 */
export async function requestAuthToken(
  credential: OppoCredential,
  region: OppoRegion,
  clock: Clock,
): Promise<IssuedToken> {
  const timestamp = String(clock.now());
  const sign = createHash("sha256")
    .update(`${credential.appKey}${timestamp}${credential.masterSecret}`)
    .digest("hex");
  const { url, headers } = vendorUrl(`${OPPO_HOSTS[region]}${OPPO_AUTH_PATH}`, credential.endpoint?.url);
  const exchange = await postForm(
    url,
    { ...FORM_HEADERS, ...headers },
    {
      app_key: credential.appKey,
      timestamp,
      sign,
    },
  );
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
