import { createHash, randomBytes, randomInt, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import type { MeizuCredential } from "../../lib/vendors/credentials.js";
import type { FaultRule, SimulatorHub } from "./hub.js";
import { isObject, parseOrRaw, readBody } from "./wire.js";

export interface MeizuSimulatorOptions {
  hub: SimulatorHub;
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 or absent = any free port. */
  port?: number;
}

export interface MeizuSimulator {
  /** Plain-HTTP base URL for `MeizuCredential.endpoint.url`, e.g. "http://127.0.0.1:43210". */
  url: string;
  /** Registers an app's appId and appSecret, as creating the app in Meizu's console does. */
  addApp(credential: Pick<MeizuCredential, "appId" | "appSecret">): void;
  /**
   * Meizu issues no access tokens (every request is signed with the appSecret), so there is nothing to
   * expire; present so every vendor simulator offers the same controls.
   */
  expireAccessTokens(): void;
  /** After `limit` accepted pushIds per app per Beijing day, answer 110019; undefined = no limit. */
  setDailyQuota(limit: number | undefined): void;
  /** TCP connections accepted and pushByPushId requests received so far. */
  stats(): { connections: number; pushRequests: number };
  close(): Promise<void>;
}

/** Written here rather than imported from the sender, so a wrong path in the sender fails the tests. */
const PUSH_PATH = "/garcia/api/server/push/varnished/pushByPushId";
/** vendors.md §7: 100 pushIds per request since 2023-08-21. */
const MAX_PUSH_IDS = 100;
const TITLE_LIMIT = 32;
const CONTENT_LIMIT = 100;
const MAX_VALID_HOURS = 72;
/** "clickType为应用客户端自定义时 … 输入长度为1000字节以内", and the same for activity (older README). */
const CLICK_FIELD_LIMIT_BYTES = 1000;
/** The field each clickType opens: 1 an app page, 2 a URI, 3 the app's own handling. */
const CLICK_TARGETS: Readonly<Record<number, string>> = { 1: "activity", 2: "url", 3: "customAttribute" };
/** README: notifyKey "由数字, 大小写字母, 下划线和中划线组成, 长度不大于8个字符". */
const NOTIFY_KEY = /^[0-9A-Za-z_-]{0,8}$/;
/** The pushIds in Meizu's examples ("J0476035d625e…", "RA50c6348036…"): letters and digits. */
const PUSH_ID = /^[0-9A-Za-z]{1,64}$/;
const BEIJING_OFFSET_MS = 8 * 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;
/** Long enough that two sends of a test share a pooled connection (node's default is 5 s). */
const KEEP_ALIVE_MS = 60_000;

/** Meizu's messages for its top-level codes (PushAPI README "Api returnCode定义"). */
const MESSAGES: Readonly<Record<string, string>> = {
  "200": "",
  "500": "其他异常",
  "1001": "系统错误",
  "1003": "服务器忙",
  "1005": "参数错误，请参考API文档",
  "1006": "签名认证失败",
  "110000": "appId不合法",
  "110004": "参数不能为空",
  "110010": "应用请求频率超过限制",
  // The 2025 README lists 110019 as the app's daily push count; its exact wording is not recorded.
  "110019": "应用当日推送数量超过限制",
};

/** Codes Meizu reports only per pushId, inside `value` (vendors.md §7 "Per-pushId codes"). */
const PUSH_ID_CODES = new Set([
  "110002",
  "110003",
  "110005",
  "110011",
  "201",
  "501",
  "513",
  "518",
  "519",
  "520",
]);

/** What a fault answers when its rule names no Meizu code. */
const FAULT_CODES: Readonly<Record<number, string>> = {
  400: "1005",
  401: "1006",
  404: "110002",
  410: "110002",
  429: "110019",
  500: "1001",
  503: "1003",
};

interface Answer {
  httpStatus: number;
  code: string;
  message: string;
  /** pushId → code, for `value`. */
  failed: Map<string, string>;
  retryAfter?: number;
}

interface App {
  appSecret: string;
  /** Beijing day number and pushIds accepted on it, for the daily quota. */
  day: number;
  accepted: number;
}

/**
 * A local Meizu Flyme Push: pushByPushId on one plain HTTP/1.1 port with keep-alive. It checks the
 * form and its md5 signature the way Meizu's PushAPI README describes, answers in Meizu's
 * `{code, message, value, redirect, msgId}` shape (HTTP 200, `code` a string, failed pushIds listed per
 * code in `value`) and records one delivery per pushId in the hub. The hub's faults apply to requests
 * that pass the checks, so a fault never hides a malformed request.
 */
export async function startMeizuSimulator(opts: MeizuSimulatorOptions): Promise<MeizuSimulator> {
  const host = opts.host ?? "127.0.0.1";
  const apps = new Map<string, App>();
  let dailyQuota: number | undefined;
  let connections = 0;
  let pushRequests = 0;

  const server: Server = createServer({ keepAliveTimeout: KEEP_ALIVE_MS }, (request, response) => {
    route(request, response).catch(() => response.destroy());
  });
  server.on("connection", () => {
    connections += 1;
  });

  const route = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const body = await readBody(request);
    if (request.url !== PUSH_PATH) {
      response.writeHead(404, { "content-type": "text/plain" }).end("Not Found");
      return;
    }
    if (request.method !== "POST") {
      response.writeHead(405, { "content-type": "text/plain", allow: "POST" }).end("Method Not Allowed");
      return;
    }
    pushRequests += 1;
    const at = new Date().toISOString();
    const form = new URLSearchParams(body);
    const pushIds = (form.get("pushIds") ?? "").split(",").filter((id) => id !== "");

    let answer = check(request.headers["content-type"], form, pushIds, apps);
    if (answer.code === "200") {
      answer = await applyFaults(answer, pushIds, opts.hub);
    }
    if (answer.code === "200") {
      answer = countAgainstQuota(answer, pushIds, apps.get(form.get("appId") ?? "")!, dailyQuota);
    }

    const recorded = { headers: recordedHeaders(request.headers), body: recordedForm(form) };
    for (const token of pushIds.length > 0 ? pushIds : [""]) {
      opts.hub.record({ vendor: "meizu", token, at, status: answer.httpStatus, request: recorded });
    }
    writeAnswer(response, answer);
  };

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });

  return {
    url: `http://${host}:${(server.address() as AddressInfo).port}`,
    addApp({ appId, appSecret }) {
      apps.set(appId, { appSecret, day: 0, accepted: 0 });
    },
    expireAccessTokens() {},
    setDailyQuota(limit) {
      dailyQuota = limit;
    },
    stats: () => ({ connections, pushRequests }),
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Clients keep idle sockets open (as they should); close() would wait for them otherwise.
      server.closeAllConnections();
      await closed;
    },
  };
}

/** An app for the simulator: a numeric appId, as Meizu's console assigns, and a random appSecret. */
export function generateMeizuCredential(opts: {
  certificateId: number;
  packageName?: string;
  endpointUrl?: string;
}): MeizuCredential {
  return {
    certificateId: opts.certificateId,
    packageName: opts.packageName ?? "com.example.chatpush",
    appId: String(100_000 + randomInt(900_000)),
    appSecret: randomBytes(16).toString("hex"),
    ...(opts.endpointUrl !== undefined && { endpoint: { url: opts.endpointUrl } }),
  };
}

function answerWith(code: string, detail?: string, httpStatus = 200): Answer {
  const message = MESSAGES[code] ?? "";
  return {
    httpStatus,
    code,
    message: detail === undefined ? message : `${message}: ${detail}`,
    failed: new Map(),
  };
}

/** Meizu's checks in the order a request meets them: form, app, signature, pushIds, messageJson. */
function check(
  contentType: string | undefined,
  form: URLSearchParams,
  pushIds: string[],
  apps: ReadonlyMap<string, App>,
): Answer {
  // A servlet reads form fields only from a form body; anything else arrives as no parameters at all.
  if (!(contentType ?? "").toLowerCase().startsWith("application/x-www-form-urlencoded")) {
    return answerWith("110004", "appId, pushIds, messageJson, sign");
  }
  const missing = ["appId", "pushIds", "messageJson", "sign"].filter((name) => !form.get(name));
  if (missing.length > 0) return answerWith("110004", missing.join(", "));
  const app = apps.get(form.get("appId")!);
  if (app === undefined) return answerWith("110000");
  if (form.get("sign") !== sign(form, app.appSecret)) return answerWith("1006");
  if (pushIds.length > MAX_PUSH_IDS) return answerWith("1005", `pushIds最多${MAX_PUSH_IDS}个`);
  const problem = messageProblem(parseOrRaw(form.get("messageJson")!));
  if (problem !== undefined) return answerWith("1005", problem);
  const answer = answerWith("200");
  for (const id of pushIds) if (!PUSH_ID.test(id)) answer.failed.set(id, "110003");
  return answer;
}

/** The README's rule: every parameter but sign, sorted by name, `k=v` raw, then the appSecret; md5 hex. */
function sign(form: URLSearchParams, appSecret: string): string {
  const base = [...form.entries()]
    .filter(([key]) => key !== "sign")
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, value]) => `${key}=${value}`)
    .join("");
  return createHash("md5").update(`${base}${appSecret}`, "utf8").digest("hex");
}

/** What Meizu would refuse in a notification's messageJson (PushAPI README, pushByPushId 通知栏消息). */
function messageProblem(message: unknown): string | undefined {
  if (!isObject(message)) return "messageJson is not a JSON object";
  const bar = message.noticeBarInfo;
  if (!isObject(bar)) return "noticeBarInfo is required";
  const title = textProblem(bar.title, "noticeBarInfo.title", TITLE_LIMIT);
  if (title !== undefined) return title;
  const content = textProblem(bar.content, "noticeBarInfo.content", CONTENT_LIMIT);
  if (content !== undefined) return content;
  const problems = [
    oneOf(bar.noticeBarType, "noticeBarInfo.noticeBarType", [0, 2]),
    oneOf(bar.noticeMsgType, "noticeBarInfo.noticeMsgType", [0, 1]),
    clickProblem(message.clickTypeInfo),
    timeProblem(message.pushTimeInfo),
    advanceProblem(message.advanceInfo),
  ];
  return problems.find((problem) => problem !== undefined);
}

/** Lengths in UTF-16 units, as Meizu's Java servers count a String. */
function textProblem(value: unknown, field: string, max: number): string | undefined {
  if (typeof value !== "string" || value.length < 1 || value.length > max) {
    return `${field} must be 1-${max} characters`;
  }
  return undefined;
}

function oneOf(value: unknown, field: string, allowed: readonly number[]): string | undefined {
  if (value === undefined || (typeof value === "number" && allowed.includes(value))) return undefined;
  return `${field} must be one of ${allowed.join(", ")}`;
}

function clickProblem(click: unknown): string | undefined {
  if (click === undefined) return undefined;
  if (!isObject(click)) return "clickTypeInfo must be an object";
  const type = oneOf(click.clickType, "clickTypeInfo.clickType", [0, 1, 2, 3]);
  if (type !== undefined) return type;
  if (click.parameters !== undefined && !isObject(click.parameters)) {
    return "clickTypeInfo.parameters must be a JSON object";
  }
  const required = CLICK_TARGETS[click.clickType as number];
  if (required === undefined) return undefined;
  const value = click[required];
  if (typeof value !== "string" || value === "") return `clickTypeInfo.${required} is required`;
  if (required !== "url" && Buffer.byteLength(value) > CLICK_FIELD_LIMIT_BYTES) {
    return `clickTypeInfo.${required} must be at most ${CLICK_FIELD_LIMIT_BYTES} bytes`;
  }
  return undefined;
}

function timeProblem(time: unknown): string | undefined {
  if (time === undefined) return undefined;
  if (!isObject(time)) return "pushTimeInfo must be an object";
  const offLine = oneOf(time.offLine, "pushTimeInfo.offLine", [0, 1]);
  if (offLine !== undefined) return offLine;
  // offLine defaults to 1, validTime to 24; given, it must be a whole number of hours in 1–72.
  const { validTime } = time;
  if (time.offLine === 0 || validTime === undefined) return undefined;
  if (
    typeof validTime !== "number" ||
    !Number.isInteger(validTime) ||
    validTime < 1 ||
    validTime > MAX_VALID_HOURS
  ) {
    return `pushTimeInfo.validTime must be 1-${MAX_VALID_HOURS}`;
  }
  return undefined;
}

function advanceProblem(advance: unknown): string | undefined {
  if (advance === undefined) return undefined;
  if (!isObject(advance)) return "advanceInfo must be an object";
  for (const flag of ["suspend", "clearNoticeBar", "fixDisplay"]) {
    const problem = oneOf(advance[flag], `advanceInfo.${flag}`, [0, 1]);
    if (problem !== undefined) return problem;
  }
  const { notificationType, notifyKey } = advance;
  if (notificationType !== undefined) {
    if (!isObject(notificationType)) return "advanceInfo.notificationType must be an object";
    for (const flag of ["vibrate", "lights", "sound"]) {
      const problem = oneOf(notificationType[flag], `advanceInfo.notificationType.${flag}`, [0, 1]);
      if (problem !== undefined) return problem;
    }
  }
  if (notifyKey !== undefined && (typeof notifyKey !== "string" || !NOTIFY_KEY.test(notifyKey))) {
    return "advanceInfo.notifyKey must be at most 8 of [0-9a-zA-Z_-]";
  }
  return undefined;
}

/**
 * Takes one fault per pushId. A per-pushId fault lists that id in `value`; any other makes the whole
 * request fail (the first such fault wins); the slowest delay holds the answer back.
 */
async function applyFaults(answer: Answer, pushIds: string[], hub: SimulatorHub): Promise<Answer> {
  let whole: Answer | undefined;
  let delayMs = 0;
  const failed = new Map(answer.failed);
  for (const token of pushIds) {
    const fault = hub.takeFault("meizu", token);
    if (fault === undefined) continue;
    delayMs = Math.max(delayMs, fault.delayMs ?? 0);
    const code = faultCode(fault);
    if (code === undefined) continue;
    if (PUSH_ID_CODES.has(code) || fault.status === 404 || fault.status === 410) failed.set(token, code);
    else whole ??= faultAnswer(fault, code);
  }
  if (delayMs > 0) await sleep(delayMs);
  return whole ?? { ...answer, failed };
}

/** The Meizu code a fault answers with: the one its reason names, else the usual one for its status. */
function faultCode(fault: FaultRule): string | undefined {
  if (fault.reason !== undefined && /^\d+$/.test(fault.reason)) return fault.reason;
  if (fault.status === 200) return undefined;
  return FAULT_CODES[fault.status] ?? "500";
}

/** Meizu answers HTTP 200 with its code; only a server in trouble (5xx) answers with the status itself. */
function faultAnswer(fault: FaultRule, code: string): Answer {
  const answer = answerWith(code, undefined, fault.status >= 500 ? fault.status : 200);
  return fault.retryAfter === undefined ? answer : { ...answer, retryAfter: fault.retryAfter };
}

/** The app's daily count: a request that would take it past the limit is refused whole. */
function countAgainstQuota(answer: Answer, pushIds: string[], app: App, limit: number | undefined): Answer {
  const today = Math.floor((Date.now() + BEIJING_OFFSET_MS) / DAY_MS);
  if (app.day !== today) {
    app.day = today;
    app.accepted = 0;
  }
  const accepted = pushIds.filter((id) => !answer.failed.has(id)).length;
  if (limit !== undefined && app.accepted + accepted > limit) return answerWith("110019");
  app.accepted += accepted;
  return answer;
}

function writeAnswer(response: ServerResponse, answer: Answer): void {
  const value: Record<string, string[]> = {};
  for (const [id, code] of answer.failed) value[code] = [...(value[code] ?? []), id];
  const body =
    answer.code === "200"
      ? { code: "200", message: "", value, redirect: "", msgId: randomUUID().replaceAll("-", "") }
      : { code: answer.code, message: answer.message, value: "", redirect: "" };
  response.writeHead(answer.httpStatus, {
    "content-type": "application/json;charset=UTF-8",
    ...(answer.retryAfter !== undefined && { "retry-after": String(answer.retryAfter) }),
  });
  response.end(JSON.stringify(body));
}

/** Node lower-cases header names already. Meizu requests carry no credentials in their headers. */
function recordedHeaders(headers: IncomingMessage["headers"]): Record<string, string> {
  const recorded: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) recorded[name] = [value].flat().join(", ");
  }
  return recorded;
}

/** The form as an object, messageJson parsed, the signature (derived from the appSecret) never stored. */
function recordedForm(form: URLSearchParams): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const [name, value] of form) {
    fields[name] = name === "sign" ? "<redacted>" : name === "messageJson" ? parseOrRaw(value) : value;
  }
  return fields;
}
