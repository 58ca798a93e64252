import { createHash, randomBytes, randomInt, randomUUID } from "node:crypto";
import { type IncomingMessage, type ServerResponse, STATUS_CODES } from "node:http";
import type { VivoCredential } from "../../lib/vendors/credentials.js";
import { REAL_URL_HEADER } from "../../lib/vendors/endpoint.js";
import { type GeneratedCredentialOptions, generatedCredential } from "./credentials.js";
import { retryAfterHeader, takeFaultsAndWait } from "./faults.js";
import { type JsonAnswer, type SimulatorOptions, startSimulatorServer, writeJson } from "./http-server.js";
import { type FaultRule, recordPerTarget } from "./hub.js";
import { BeijingDailyQuota } from "./quota.js";
import { AccessTokenBook } from "./tokens.js";
import { isObject, parseOrRaw, readBody, recordedHeaders } from "./wire.js";

export type VivoSimulatorOptions = SimulatorOptions;

export interface VivoSimulator {
  /** Plain-HTTP base URL for `VivoCredential.endpoint.url`, e.g. "http://127.0.0.1:43210". */
  url: string;
  /** Registers an app's appId, appKey and appSecret, as creating the app in vivo's console does. */
  addApp(credential: Pick<VivoCredential, "appId" | "appKey" | "appSecret">): void;
  /** Registers a regId as a test device: the only kind a pushMode 1 send reaches. */
  addTestDevice(token: string): void;
  /** Makes every authToken issued so far expire now: the next send with one gets 10000. */
  expireAccessTokens(): void;
  /**
   * Production targets accepted per Beijing day before sends get 10070, counted from this call until
   * midnight and then per day; undefined = no limit.
   */
  setDailyQuota(limit: number | undefined): void;
  /** The message a saveListPayload stored under `taskId` (pushToList bodies carry only the taskId). */
  savedPayload(taskId: string): unknown;
  /** TCP connections accepted and authTokens issued so far. */
  stats(): { connections: number; tokensIssued: number };
  close(): Promise<void>;
}

/**
 * vivo's `desc` for the codes the simulator answers with: vendors.md §6 "Codes" and the parameter codes
 * of vivo's official Java server SDK (com.vivo.push.sdk.common.ExceptionStatusEnum).
 */
const DESC: Readonly<Record<number, string>> = {
  0: "请求成功",
  10000: "权限认证失败",
  10050: "alias和regId 不能都为空",
  10054: "notifyType 不合法",
  10055: "title 不能为空",
  10056: "title 长度不能超过40个字符",
  10057: "content 不能为空",
  10058: "content 长度不能超过100个字符",
  10059: "timeToLive 不合法",
  10060: "skipType 不合法",
  10065: "networkType 不合法",
  10066: "自定义key和Value键值对个数不能超过10个",
  10067: "自定义key和value键值对不合法",
  10068: "skipType = 4, skipContent 不能为空",
  10069: "skipType = 4, skipContent 不能超过1024个字符",
  10070: "超过当日推送总量限制",
  10072: "请求过于频繁",
  10094: "appId与authToken不匹配",
  10096: "category不合法",
  10097: "category与classification不匹配",
  10151: "taskId 不能为空",
  10153: "regIds 个数不在指定范围[2-1000]",
  10200: "参数不合法",
  10252: "批量发送消息体超出限制",
  10254: "超过全量推送次数限制",
  10302: "regId 不合法",
  10352: "requestId 不能为空",
  10353: "requestId 长度不能超过64个字符",
  11000: "消息类型错误",
};

const AUTH_TOKEN_SECONDS = 24 * 60 * 60;
/** The auth timestamp must be within ten minutes of vivo's clock. */
const TIMESTAMP_TOLERANCE_MS = 10 * 60 * 1000;
/** The auth endpoint takes 10 calls a second (since v2.9.2). */
const AUTH_CALLS_PER_SECOND = 10;
const TITLE_LIMIT = 40;
const CONTENT_LIMIT = 100;
/**
 * The SDK's Constants: SINGLE_MIN_TIME_TO_LIVE 60 (/message/send), MIN_TIME_TO_LIVE 900
 * (saveListPayload, /message/all), MAX_TIME_TO_LIVE 604800; doc 362 "最长7天". Written here rather than
 * imported from the sender, so a wrong bound in the sender fails the tests.
 */
const SEND_MIN_TTL_SECONDS = 60;
const LIST_MIN_TTL_SECONDS = 900;
const MAX_TTL_SECONDS = 604_800;
const MAX_REG_IDS = 1000;
const REQUEST_ID_LIMIT = 64;
const CUSTOM_MAP_ENTRIES = 10;
const CUSTOM_MAP_CHARACTERS = 1024;
const SYSTEM_CATEGORIES = ["IM", "ACCOUNT", "TODO", "DEVICE_REMINDER", "ORDER", "SUBSCRIPTION"];
const OPERATION_CATEGORIES = ["NEWS", "CONTENT", "MARKETING", "SOCIAL"];
/** Node lower-cases header names already; the authToken is never stored. */
const REDACTED_HEADERS = { authtoken: "<redacted>" };
/** vivo's one host: where a request without the sender's real-URL header was addressed. */
const VIVO_HOST = "https://api-push.vivo.com.cn";
/**
 * How long an accepted requestId is remembered. vivo documents requestId as the request's unique id
 * ("用户请求唯一标识", doc 362) without saying for how long; a day covers chatpush's retries (UNCONFIRMED).
 */
const REQUEST_ID_MEMORY_MS = 24 * 60 * 60 * 1000;

const PATHS = {
  auth: "/message/auth",
  send: "/message/send",
  saveListPayload: "/message/saveListPayload",
  pushToList: "/message/pushToList",
} as const;

/** The body is JSON, or text for a front-end error. */
type Answer = JsonAnswer;

interface App {
  appKey: string;
  appSecret: string;
  authCalls: number[];
}

function vivo(result: number, desc?: string, extra: Record<string, unknown> = {}): Answer {
  return { httpStatus: 200, body: { result, desc: desc ?? DESC[result] ?? "模拟故障", ...extra } };
}

function invalidParameter(field: string, rule: string, code = 10200): Answer {
  return vivo(code, `${DESC[code] ?? DESC[10200]}: ${field} ${rule}`);
}

/**
 * A local vivo Push: /message/auth (md5 sign, ±10 min timestamp, 10 calls/s per app), /message/send,
 * /message/saveListPayload and /message/pushToList on one plain HTTP/1.1 keep-alive port, answering as
 * vivo does (HTTP 200 with its `result` code). Faults from the hub apply to sends that pass the checks,
 * so a fault never hides a malformed request. Message fields are refused with the SDK's parameter codes
 * (ExceptionStatusEnum); refused auth and the auth rate limit follow vendors.md §6's buckets (10000,
 * 102xx, 10072), vivo's exact choice there is UNCONFIRMED. An accepted push's requestId is remembered per
 * app: a resend with it is answered as the first was and not delivered (or recorded) again.
 */
export async function startVivoSimulator(opts: VivoSimulatorOptions): Promise<VivoSimulator> {
  const hub = opts.hub;
  const apps = new Map<string, App>();
  /** authTokens, each for the appId that got it. */
  const sessions = new AccessTokenBook(AUTH_TOKEN_SECONDS);
  const payloads = new Map<string, { appId: string; message: Record<string, unknown> }>();
  const testDevices = new Set<string>();
  /** `${appId} ${requestId}` of accepted pushes → their answer and when; oldest first (Map order). */
  const acceptedRequests = new Map<string, { answer: Answer; at: number }>();
  const remembered = (key: string): Answer | undefined => {
    const now = Date.now();
    for (const [oldest, { at }] of acceptedRequests) {
      if (now - at < REQUEST_ID_MEMORY_MS) break;
      acceptedRequests.delete(oldest);
    }
    return acceptedRequests.get(key)?.answer;
  };
  /** Production targets accepted; the count resets at Beijing midnight. */
  const quota = new BeijingDailyQuota();

  const authorize = (body: unknown): Answer => {
    if (!isObject(body)) return invalidParameter("body", "不是JSON对象");
    const { appKey, timestamp, sign } = body;
    if (typeof appKey !== "string" || typeof timestamp !== "number" || typeof sign !== "string") {
      return invalidParameter("appKey, timestamp, sign", "不能为空");
    }
    // "appId int" (doc 362), as the SDK sends it (Sender.getToken(int appId, …)): a number, not its digits.
    if (typeof body.appId !== "number" || !Number.isSafeInteger(body.appId)) {
      return invalidParameter("appId", "须为整数 (int)");
    }
    const appId = String(body.appId);
    const app = apps.get(appId);
    if (app === undefined || app.appKey !== appKey) return vivo(10000, `${DESC[10000]}: appId或appKey不合法`);
    const now = Date.now();
    app.authCalls = app.authCalls.filter((at) => now - at < 1000);
    if (app.authCalls.length >= AUTH_CALLS_PER_SECOND) return vivo(10072);
    app.authCalls.push(now);
    if (Math.abs(now - timestamp) > TIMESTAMP_TOLERANCE_MS) {
      return vivo(10000, `${DESC[10000]}: timestamp不在有效范围内`);
    }
    const expected = createHash("md5").update(`${appId}${appKey}${timestamp}${app.appSecret}`).digest("hex");
    if (sign !== expected) return vivo(10000, `${DESC[10000]}: sign不正确`);
    const authToken = randomUUID();
    sessions.issue(authToken, appId, now);
    return vivo(0, undefined, { authToken });
  };

  /** What vivo answers a valid send to `targets`, after the faults each target took. */
  const deliver = (
    path: typeof PATHS.send | typeof PATHS.pushToList,
    body: Record<string, unknown>,
    targets: string[],
    faults: readonly (FaultRule | undefined)[],
  ): Answer => {
    const invalid = new Map<string, number>();
    for (const [index, fault] of faults.entries()) {
      const effect = fault === undefined ? undefined : faultEffect(fault);
      if (typeof effect === "number") invalid.set(targets[index]!, effect);
      else if (effect !== undefined) return effect;
    }
    const testMode = body.pushMode === 1;
    if (testMode) {
      for (const token of targets) if (!testDevices.has(token) && !invalid.has(token)) invalid.set(token, 4);
    }
    // Test pushes do not count towards the quota (vendors.md §6 "Test mode").
    const accepted = targets.filter((token) => !invalid.has(token)).length;
    if (!testMode && !quota.tryCharge(accepted)) return vivo(10070);
    if (path === PATHS.send) {
      const [regId] = targets;
      const status = invalid.get(regId!);
      return status === undefined
        ? vivo(0, undefined, { taskId: taskId() })
        : vivo(10302, undefined, { invalidUser: { status, userid: regId } });
    }
    return vivo(0, undefined, {
      invalidUsers: [...invalid].map(([userid, status]) => ({ status, userid })),
    });
  };

  const push = async (
    path: (typeof PATHS)["send" | "saveListPayload" | "pushToList"],
    request: IncomingMessage,
    body: unknown,
  ): Promise<Answer> => {
    if (!isObject(body)) return invalidParameter("body", "不是JSON对象");
    const session = sessions.lookup(String(request.headers.authtoken ?? ""));
    if (session === undefined || session.expired) {
      return vivo(10000, `${DESC[10000]}: authToken不合法或已过期`);
    }
    // vivo's API carries no package name: the appId (an int, like the auth's), bound to the authToken,
    // is what names the app.
    const appMismatch =
      typeof body.appId === "number" && String(body.appId) === session.owner ? undefined : vivo(10094);

    if (path === PATHS.saveListPayload) {
      const refused = appMismatch ?? checkMessage(body, LIST_MIN_TTL_SECONDS);
      if (refused !== undefined) return refused;
      const id = taskId();
      payloads.set(id, { appId: session.owner, message: body });
      return vivo(0, undefined, { taskId: id });
    }

    const at = new Date().toISOString();
    let targets: string[];
    let refused: Answer | undefined;
    if (path === PATHS.send) {
      targets = typeof body.regId === "string" && body.regId !== "" ? [body.regId] : [];
      refused =
        appMismatch ?? (targets.length === 0 ? vivo(10050) : checkMessage(body, SEND_MIN_TTL_SECONDS));
    } else {
      const regIds: unknown[] = Array.isArray(body.regIds) ? body.regIds : [];
      targets = regIds.filter((id): id is string => typeof id === "string" && id !== "");
      const saved = typeof body.taskId === "string" ? payloads.get(body.taskId) : undefined;
      refused =
        appMismatch ??
        checkPushToList(body, targets.length === regIds.length) ??
        (saved?.appId === session.owner ? undefined : invalidParameter("taskId", "不存在"));
    }
    if (refused !== undefined) {
      record(request, path, body, targets, refused, at);
      return refused;
    }
    const requestKey = `${session.owner} ${String(body.requestId)}`;
    const duplicate = remembered(requestKey);
    // The push was accepted already: vivo shows it once, so the resend is neither delivered nor recorded.
    if (duplicate !== undefined) return duplicate;
    const faults = await takeFaultsAndWait(hub, "vivo", targets);
    const answer = deliver(path, body, targets, faults);
    if (answer.httpStatus === 200 && isObject(answer.body) && answer.body.result === 0) {
      acceptedRequests.set(requestKey, { answer, at: Date.now() });
    }
    record(request, path, body, targets, answer, at, faults);
    return answer;
  };

  /** One delivery per regId; unlike the other simulators', a request naming no regId leaves no record. */
  const record = (
    request: IncomingMessage,
    path: string,
    body: Record<string, unknown>,
    targets: string[],
    answer: Answer,
    at: string,
    faults: readonly (FaultRule | undefined)[] = [],
  ): void => {
    if (targets.length === 0) return;
    const realUrl = request.headers[REAL_URL_HEADER];
    recordPerTarget(
      hub,
      targets,
      {
        vendor: "vivo",
        at,
        status: answer.httpStatus,
        request: { headers: recordedHeaders(request.headers, REDACTED_HEADERS), body },
        endpoint: typeof realUrl === "string" ? realUrl : `${VIVO_HOST}${path}`,
      },
      faults,
    );
  };

  const route = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const text = await readBody(request);
    const path = new URL(request.url ?? "/", "http://vivo").pathname;
    if (request.method !== "POST") {
      write(response, { httpStatus: 405, body: STATUS_CODES[405] });
    } else if (path === PATHS.auth) {
      write(response, authorize(parseOrRaw(text)));
    } else if (path === PATHS.send || path === PATHS.saveListPayload || path === PATHS.pushToList) {
      write(response, await push(path, request, parseOrRaw(text)));
    } else {
      write(response, { httpStatus: 404, body: STATUS_CODES[404] });
    }
  };

  const server = await startSimulatorServer(opts, route);

  return {
    url: server.url,
    addApp({ appId, appKey, appSecret }) {
      apps.set(String(appId), { appKey, appSecret, authCalls: [] });
    },
    addTestDevice(token) {
      testDevices.add(token);
    },
    expireAccessTokens: () => sessions.expireAll(),
    setDailyQuota: (limit) => quota.restart(limit),
    savedPayload: (id) => payloads.get(id)?.message,
    stats: () => ({ connections: server.connections(), tokensIssued: sessions.issued }),
    close: () => server.close(),
  };
}

/** A vivo app for the simulator, with random keys; register it with `addApp`. */
export function generateVivoCredential(opts: GeneratedCredentialOptions): VivoCredential {
  return generatedCredential(opts, {
    appId: String(randomInt(100_000_000, 999_999_999)),
    appKey: randomBytes(16).toString("hex"),
    appSecret: randomUUID(),
  });
}

/**
 * A fault's effect on one target: an invalidUser status (404 and 410 → 1, the regId does not exist;
 * reason "invalidUser:<status>" any status, e.g. "invalidUser:2" uninstalled or notifications off), an
 * answer for the whole request, or nothing (200: a slow success). `reason` may name a vivo code.
 */
function faultEffect(fault: FaultRule): number | Answer | undefined {
  const invalidUser = /^invalidUser:(\d+)$/.exec(fault.reason ?? "");
  if (invalidUser !== null) return Number(invalidUser[1]);
  const code = fault.reason !== undefined && /^\d+$/.test(fault.reason) ? Number(fault.reason) : undefined;
  if (code === 10302) return 1;
  if (code !== undefined) return vivo(code);
  switch (fault.status) {
    case 200:
      return undefined;
    case 404:
    case 410:
      return 1;
    case 400:
      return vivo(10200);
    case 401:
      return vivo(10000, `${DESC[10000]}: authToken已过期`);
    case 429:
      return vivo(10070);
    default:
      // 5xx and the rest: vivo's front end answers before the push service does.
      return {
        httpStatus: fault.status,
        body: STATUS_CODES[fault.status] ?? "Error",
        headers: retryAfterHeader(fault.retryAfter),
      };
  }
}

/**
 * vivo's count (SDK Validation.caculateCharSize): UTF-16 units, plus one for each in the CJK, general
 * punctuation and half/full-width blocks ("一个汉字等于两个英文字符", doc 362).
 */
function width(text: string): number {
  let total = text.length;
  for (let index = 0; index < text.length; index += 1) {
    const unit = text.charCodeAt(index);
    const double =
      (unit >= 0x4e00 && unit <= 0x9fff) ||
      (unit >= 0x3400 && unit <= 0x4dbf) ||
      (unit >= 0xf900 && unit <= 0xfaff) ||
      (unit >= 0x3000 && unit <= 0x303f) ||
      (unit >= 0x2000 && unit <= 0x206f) ||
      (unit >= 0xff00 && unit <= 0xffef);
    if (double) total += 1;
  }
  return total;
}

function isOneOf(value: unknown, allowed: readonly unknown[]): boolean {
  return allowed.includes(value);
}

function isIntegerIn(value: unknown, min: number, max: number): boolean {
  return typeof value === "number" && Number.isInteger(value) && value >= min && value <= max;
}

/**
 * The message fields of /message/send and /message/saveListPayload, as vivo checks them (SDK
 * Validation.validatePublicMessage, with its codes); `minTtlSeconds` is 60 for a send, 900 for a list.
 */
function checkMessage(body: Record<string, unknown>, minTtlSeconds: number): Answer | undefined {
  const { title, content, skipType, skipContent, classification, category, clientCustomMap } = body;
  if (body.notifyType !== undefined && !isOneOf(body.notifyType, [1, 2, 3, 4])) return vivo(10054);
  if (typeof title !== "string" || title.trim() === "") return vivo(10055);
  if (width(title) > TITLE_LIMIT) return vivo(10056);
  if (typeof content !== "string" || content.trim() === "") return vivo(10057);
  if (width(content) > CONTENT_LIMIT) return vivo(10058);
  if (body.timeToLive !== undefined && !isIntegerIn(body.timeToLive, minTtlSeconds, MAX_TTL_SECONDS)) {
    return invalidParameter("timeToLive", `取值为${minTtlSeconds}-${MAX_TTL_SECONDS}秒`, 10059);
  }
  if (!isOneOf(skipType, [1, 2, 3, 4])) return vivo(10060);
  if (skipType !== 1) {
    const limit = skipType === 2 ? 1000 : 1024;
    if (typeof skipContent !== "string" || skipContent === "" || skipContent.length > limit) {
      return invalidParameter(
        "skipContent",
        `不能为空且不超过${limit}个字符`,
        skipType === 4 ? 10069 : 10200,
      );
    }
    if (skipType === 4 && !skipContent.startsWith("intent:")) {
      return invalidParameter("skipContent", "须为intent uri", 10069);
    }
  }
  if (body.networkType !== undefined && !isOneOf(body.networkType, [-1, 1])) return vivo(10065);
  if (classification !== undefined && !isOneOf(classification, [0, 1])) return vivo(11000);
  if (category !== undefined) {
    const system = SYSTEM_CATEGORIES.includes(String(category));
    if (typeof category !== "string" || (!system && !OPERATION_CATEGORIES.includes(category))) {
      return vivo(10096);
    }
    // An absent classification means 0, operation (vendors.md §6).
    if (system !== (classification === 1)) return vivo(10097);
  }
  if (clientCustomMap !== undefined) {
    const entries = isObject(clientCustomMap) ? Object.entries(clientCustomMap) : undefined;
    const characters = entries?.reduce((sum, [key, value]) => sum + key.length + String(value).length, 0);
    if (entries !== undefined && entries.length > CUSTOM_MAP_ENTRIES) return vivo(10066);
    // Every key and value joined together at most 1024 characters (Validation: sb.append(key).append(value)).
    if (
      entries === undefined ||
      entries.some(([, value]) => typeof value !== "string") ||
      characters! > CUSTOM_MAP_CHARACTERS
    ) {
      return invalidParameter("clientCustomMap", `总长不超过${CUSTOM_MAP_CHARACTERS}个字符`, 10067);
    }
  }
  if (body.notifyId !== undefined && !isIntegerIn(body.notifyId, 1, 2_147_483_647)) {
    return invalidParameter("notifyId", "须为正整数");
  }
  return checkCommon(body);
}

/** pushToList's own fields; `regIdsAreStrings` is false when an entry of regIds was not a regId. */
function checkPushToList(body: Record<string, unknown>, regIdsAreStrings: boolean): Answer | undefined {
  const regIds = body.regIds;
  if (!Array.isArray(regIds) || !regIdsAreStrings) return invalidParameter("regIds", "须为regId数组");
  if (regIds.length > MAX_REG_IDS || regIds.length < 2) return vivo(10153);
  return checkCommon(body);
}

function checkCommon(body: Record<string, unknown>): Answer | undefined {
  const { requestId, pushMode } = body;
  if (typeof requestId !== "string" || requestId.trim() === "") return vivo(10352);
  if (requestId.length > REQUEST_ID_LIMIT) return vivo(10353);
  if (pushMode !== undefined && !isOneOf(pushMode, [0, 1])) return invalidParameter("pushMode", "取值为0或1");
  return undefined;
}

/** vivo task ids are long decimal strings. */
function taskId(): string {
  return `${Date.now()}${randomInt(100_000, 999_999)}`;
}

/** vivo's answers are JSON; its front end's (a 404, a 5xx) are text. */
function write(response: ServerResponse, answer: Answer): void {
  if (typeof answer.body !== "string") {
    writeJson(response, answer.httpStatus, answer.body, answer.headers);
    return;
  }
  response.writeHead(answer.httpStatus, { "content-type": "text/plain;charset=UTF-8", ...answer.headers });
  response.end(answer.body);
}
