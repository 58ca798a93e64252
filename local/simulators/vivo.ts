import { createHash, randomBytes, randomInt, randomUUID } from "node:crypto";
import { type IncomingMessage, type ServerResponse, STATUS_CODES } from "node:http";
import type { VivoCredential } from "../../lib/vendors/credentials.js";
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

/** vivo's `desc` for the codes the simulator answers with (vendors.md §6 "Codes"). */
const DESC: Readonly<Record<number, string>> = {
  0: "请求成功",
  10000: "权限认证失败",
  10054: "超过频率限制",
  10070: "超过当日推送总量限制",
  10072: "请求过于频繁",
  10094: "appId与authToken不匹配",
  10096: "category不合法",
  10097: "category与classification不匹配",
  10200: "参数不合法",
  10252: "批量推送用户数超过上限",
  10254: "超过全量推送次数限制",
  10302: "非法用户",
};

const AUTH_TOKEN_SECONDS = 24 * 60 * 60;
/** The auth timestamp must be within ten minutes of vivo's clock. */
const TIMESTAMP_TOLERANCE_MS = 10 * 60 * 1000;
/** The auth endpoint takes 10 calls a second (since v2.9.2). */
const AUTH_CALLS_PER_SECOND = 10;
const TITLE_LIMIT = 40;
const CONTENT_LIMIT = 100;
const MIN_TTL_SECONDS = 60;
/** The latest docs' 1 day (older docs say 7; vendors.md §6 UNCONFIRMED). */
const MAX_TTL_SECONDS = 86_400;
const MAX_REG_IDS = 1000;
const REQUEST_ID_LIMIT = 64;
const CUSTOM_MAP_ENTRIES = 10;
const CUSTOM_MAP_CHARACTERS = 1024;
const SYSTEM_CATEGORIES = ["IM", "ACCOUNT", "TODO", "DEVICE_REMINDER", "ORDER", "SUBSCRIPTION"];
const OPERATION_CATEGORIES = ["NEWS", "CONTENT", "MARKETING", "SOCIAL"];
/** Node lower-cases header names already; the authToken is never stored. */
const REDACTED_HEADERS = { authtoken: "<redacted>" };

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

function invalidParameter(field: string, rule: string): Answer {
  return vivo(10200, `${DESC[10200]}: ${field} ${rule}`);
}

/**
 * A local vivo Push: /message/auth (md5 sign, ±10 min timestamp, 10 calls/s per app), /message/send,
 * /message/saveListPayload and /message/pushToList on one plain HTTP/1.1 keep-alive port, answering as
 * vivo does (HTTP 200 with its `result` code). Faults from the hub apply to sends that pass the checks,
 * so a fault never hides a malformed request. The codes for refused auth, bad parameters and the auth
 * rate limit follow vendors.md §6's buckets (10000, 102xx, 10072); vivo's exact choice is UNCONFIRMED.
 */
export async function startVivoSimulator(opts: VivoSimulatorOptions): Promise<VivoSimulator> {
  const hub = opts.hub;
  const apps = new Map<string, App>();
  /** authTokens, each for the appId that got it. */
  const sessions = new AccessTokenBook(AUTH_TOKEN_SECONDS);
  const payloads = new Map<string, { appId: string; message: Record<string, unknown> }>();
  const testDevices = new Set<string>();
  /** Production targets accepted; the count resets at Beijing midnight. */
  const quota = new BeijingDailyQuota();

  const authorize = (body: unknown): Answer => {
    if (!isObject(body)) return invalidParameter("body", "不是JSON对象");
    const { appId, appKey, timestamp, sign } = body;
    if (
      typeof appId !== "string" ||
      typeof appKey !== "string" ||
      typeof timestamp !== "number" ||
      typeof sign !== "string"
    ) {
      return invalidParameter("appId, appKey, timestamp, sign", "不能为空");
    }
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

  /** What vivo answers a valid send to `targets`, after the hub's faults. */
  const deliver = async (
    path: typeof PATHS.send | typeof PATHS.pushToList,
    body: Record<string, unknown>,
    targets: string[],
  ): Promise<Answer> => {
    const faults = await takeFaultsAndWait(hub, "vivo", targets);
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
    // vivo's API carries no package name: the appId, bound to the authToken, is what names the app.
    const appMismatch = body.appId === session.owner ? undefined : vivo(10094);

    if (path === PATHS.saveListPayload) {
      const refused = appMismatch ?? checkMessage(body);
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
        appMismatch ??
        (targets.length === 0 ? invalidParameter("regId", "和alias不能都为空") : checkMessage(body));
    } else {
      const regIds: unknown[] = Array.isArray(body.regIds) ? body.regIds : [];
      targets = regIds.filter((id): id is string => typeof id === "string" && id !== "");
      const saved = typeof body.taskId === "string" ? payloads.get(body.taskId) : undefined;
      refused =
        appMismatch ??
        checkPushToList(body, targets.length === regIds.length) ??
        (saved?.appId === session.owner ? undefined : invalidParameter("taskId", "不存在"));
    }
    const answer = refused ?? (await deliver(path, body, targets));
    // Unlike the other simulators', a request naming no regId leaves no record.
    if (targets.length > 0) {
      recordPerTarget(hub, targets, {
        vendor: "vivo",
        at,
        status: answer.httpStatus,
        request: { headers: recordedHeaders(request.headers, REDACTED_HEADERS), body },
      });
    }
    return answer;
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
      apps.set(appId, { appKey, appSecret, authCalls: [] });
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
 * A fault's effect on one target: an invalidUser status (404 → 1 regId unknown, 410 → 2 uninstalled),
 * an answer for the whole request, or nothing (200: a slow success). `reason` may name a vivo code.
 */
function faultEffect(fault: FaultRule): number | Answer | undefined {
  const code = fault.reason !== undefined && /^\d+$/.test(fault.reason) ? Number(fault.reason) : undefined;
  if (code === 10302) return 1;
  if (code !== undefined) return vivo(code);
  switch (fault.status) {
    case 200:
      return undefined;
    case 404:
      return 1;
    case 410:
      return 2;
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

/** vivo counts a Chinese character (here: anything outside ASCII) as two characters. */
function width(text: string): number {
  let total = 0;
  for (const codePoint of text) total += codePoint.codePointAt(0)! < 0x80 ? 1 : 2;
  return total;
}

function isOneOf(value: unknown, allowed: readonly unknown[]): boolean {
  return allowed.includes(value);
}

function isIntegerIn(value: unknown, min: number, max: number): boolean {
  return typeof value === "number" && Number.isInteger(value) && value >= min && value <= max;
}

/** The message fields of /message/send and /message/saveListPayload, as vivo checks them. */
function checkMessage(body: Record<string, unknown>): Answer | undefined {
  const { title, content, skipType, skipContent, classification, category, clientCustomMap } = body;
  if (body.notifyType !== undefined && !isOneOf(body.notifyType, [1, 2, 3, 4])) {
    return invalidParameter("notifyType", "取值为1-4");
  }
  if (typeof title !== "string" || title === "") return invalidParameter("title", "不能为空");
  if (width(title) > TITLE_LIMIT) return invalidParameter("title", `超过${TITLE_LIMIT}个字符`);
  if (typeof content !== "string" || content === "") return invalidParameter("content", "不能为空");
  if (width(content) > CONTENT_LIMIT) return invalidParameter("content", `超过${CONTENT_LIMIT}个字符`);
  if (body.timeToLive !== undefined && !isIntegerIn(body.timeToLive, MIN_TTL_SECONDS, MAX_TTL_SECONDS)) {
    return invalidParameter("timeToLive", `取值为${MIN_TTL_SECONDS}-${MAX_TTL_SECONDS}秒`);
  }
  if (!isOneOf(skipType, [1, 2, 3, 4])) return invalidParameter("skipType", "取值为1-4");
  if (skipType !== 1) {
    const limit = skipType === 2 ? 1000 : 1024;
    if (typeof skipContent !== "string" || skipContent === "" || skipContent.length > limit) {
      return invalidParameter("skipContent", `不能为空且不超过${limit}个字符`);
    }
    if (skipType === 4 && !skipContent.startsWith("intent:")) {
      return invalidParameter("skipContent", "须为intent uri");
    }
  }
  if (body.networkType !== undefined && !isOneOf(body.networkType, [-1, 1])) {
    return invalidParameter("networkType", "取值为-1或1");
  }
  if (classification !== undefined && !isOneOf(classification, [0, 1])) {
    return invalidParameter("classification", "取值为0或1");
  }
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
    if (
      entries === undefined ||
      entries.length > CUSTOM_MAP_ENTRIES ||
      entries.some(([, value]) => typeof value !== "string") ||
      characters! > CUSTOM_MAP_CHARACTERS
    ) {
      return invalidParameter(
        "clientCustomMap",
        `须为不超过${CUSTOM_MAP_ENTRIES}个字符串键值对, 总长不超过${CUSTOM_MAP_CHARACTERS}个字符`,
      );
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
  if (regIds.length > MAX_REG_IDS) return vivo(10252);
  if (regIds.length < 2) return invalidParameter("regIds", "至少2个");
  return checkCommon(body);
}

function checkCommon(body: Record<string, unknown>): Answer | undefined {
  const { requestId, pushMode } = body;
  if (typeof requestId !== "string" || requestId === "" || requestId.length > REQUEST_ID_LIMIT) {
    return invalidParameter("requestId", `不能为空且不超过${REQUEST_ID_LIMIT}个字符`);
  }
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
