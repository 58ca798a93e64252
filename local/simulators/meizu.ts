import { createHash, randomBytes, randomInt, randomUUID } from "node:crypto";
import type { ServerResponse } from "node:http";
import type { MeizuCredential } from "../../lib/vendors/credentials.js";
import { REAL_URL_HEADER } from "../../lib/vendors/endpoint.js";
import { type GeneratedCredentialOptions, generatedCredential } from "./credentials.js";
import { retryAfterHeader, takeFaultsAndWait } from "./faults.js";
import { type SimulatorOptions, startSimulatorServer, writeJson } from "./http-server.js";
import { type FaultRule, recordPerTarget } from "./hub.js";
import { BeijingDailyQuota } from "./quota.js";
import { isObject, parseOrRaw, readBody, recordedForm, recordedHeaders } from "./wire.js";

export type MeizuSimulatorOptions = SimulatorOptions;

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
/**
 * 获取应用推送统计 (PushAPI README, "推送统计"): a signed GET that delivers nothing, which
 * `npm run doctor` uses to check the appSecret.
 */
const STATS_PATH = "/garcia/api/server/push/statistics/dailyPushStatics";
/** "获取应用推送统计（最长跨度30天）". */
const STATS_MAX_DAYS = 30;
/** Meizu's host (HTTPS only since JavaSdk 1.2.13): where a request without the real-URL header went. */
const MEIZU_HOST = "https://server-api-push.meizu.com";
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
/** The form as recorded: messageJson parsed, the signature (derived from the appSecret) never stored. */
const RECORDED_FIELDS = { sign: () => "<redacted>", messageJson: parseOrRaw };

/**
 * Meizu's messages for its top-level codes: PushAPI README "Api returnCode定义" and the official Java
 * SDK's ErrorCode (https://github.com/MEIZUPUSH/JavaSdk, server/constant/ErrorCode.java and its README).
 */
const MESSAGES: Readonly<Record<string, string>> = {
  "200": "",
  "500": "其他异常",
  "1001": "系统错误",
  "1003": "服务器忙",
  "1005": "参数错误，请参考API文档",
  "1006": "签名认证失败",
  "110000": "appId不合法",
  "110001": "appKey不合法",
  "110004": "参数不能为空",
  "110009": "应用被加入黑名单",
  "110010": "应用请求频率超过限制",
  "110019": "超过该应用每天推送次数限制",
  "110031": "packageName不合法",
  "110033": "非法的appSecret",
  "110051": "超过该应用的次数限制",
};

/**
 * A code Meizu uses for a whole request and, with another meaning, for one pushId in `value`: 110010 is
 * the app's request rate (ErrorCode APP_REQUEST_EXCEED_LIMIT) and a pushId whose user switched the app's
 * messages off (PushResponseCode RSP_OFF_PUSHID "pushId失效(消息开关关闭)"). A fault naming it lists the
 * fault's token in `value` when the rule names a token, and refuses the whole request otherwise.
 */
const PUSH_ID_OFF = "110010";

/** Codes Meizu reports only per pushId, inside `value` (PushResponseCode.java, vendors.md §7). */
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
}

/**
 * A local Meizu Flyme Push: pushByPushId on one plain HTTP/1.1 port with keep-alive. It checks the
 * form and its md5 signature the way Meizu's PushAPI README describes, answers in Meizu's
 * `{code, message, value, redirect, msgId}` shape (HTTP 200, `code` a string, failed pushIds listed per
 * code in `value`) and records one delivery per pushId in the hub. The hub's faults apply to requests
 * that pass the checks, so a fault never hides a malformed request.
 */
export async function startMeizuSimulator(opts: MeizuSimulatorOptions): Promise<MeizuSimulator> {
  const apps = new Map<string, App>();
  /** pushIds accepted per appId and Beijing day, counted whether or not a limit is set. */
  const quota = new BeijingDailyQuota();
  let pushRequests = 0;

  const server = await startSimulatorServer(opts, async (request, response) => {
    const body = await readBody(request);
    const url = new URL(request.url ?? "/", "http://x");
    if (request.method === "GET" && url.pathname === STATS_PATH) {
      writeJson(response, 200, dailyStatistics(url.searchParams, apps));
      return;
    }
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
    let rules: (FaultRule | undefined)[] = [];
    if (answer.code === "200") {
      rules = await takeFaultsAndWait(opts.hub, "meizu", pushIds);
      answer = applyFaults(answer, pushIds, rules);
    }
    if (answer.code === "200") {
      answer = countAgainstQuota(answer, pushIds, quota, form.get("appId") ?? "");
    }

    // Meizu requests carry no credentials in their headers: nothing to redact.
    const recorded = { headers: recordedHeaders(request.headers), body: recordedForm(form, RECORDED_FIELDS) };
    const realUrl = request.headers[REAL_URL_HEADER];
    recordPerTarget(
      opts.hub,
      pushIds,
      {
        vendor: "meizu",
        at,
        status: answer.httpStatus,
        request: recorded,
        endpoint: typeof realUrl === "string" ? realUrl : `${MEIZU_HOST}${PUSH_PATH}`,
      },
      rules,
    );
    writeAnswer(response, answer);
  });

  return {
    url: server.url,
    addApp({ appId, appSecret }) {
      apps.set(appId, { appSecret });
      quota.reset(appId);
    },
    expireAccessTokens() {},
    // Unlike the other simulators', the day's count so far stands: the limit is per whole Beijing day.
    setDailyQuota(limit) {
      quota.limit = limit;
    },
    stats: () => ({ connections: server.connections(), pushRequests }),
    close: () => server.close(),
  };
}

/** An app for the simulator: a numeric appId, as Meizu's console assigns, and a random appSecret. */
export function generateMeizuCredential(opts: GeneratedCredentialOptions): MeizuCredential {
  return generatedCredential(opts, {
    appId: String(100_000 + randomInt(900_000)),
    appSecret: randomBytes(16).toString("hex"),
  });
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

/**
 * dailyPushStatics as the README describes it: appId, startTime and endTime (yyyyMMdd) and the sign
 * over them; the same codes as a push for a missing field (110004), an unknown app (110000) and a
 * wrong sign (1006), and the README's 500s for a range that ends first or spans over 30 days. The
 * simulator keeps no statistics: a day's figures are all 0.
 */
function dailyStatistics(query: URLSearchParams, apps: ReadonlyMap<string, App>): Record<string, unknown> {
  const refused = (code: string, message = MESSAGES[code] ?? "") => ({
    code,
    message,
    value: "",
    redirect: "",
  });
  const missing = ["appId", "startTime", "endTime", "sign"].filter((name) => !query.get(name));
  if (missing.length > 0) return refused("110004", `${MESSAGES["110004"] ?? ""}: ${missing.join(", ")}`);
  const app = apps.get(query.get("appId")!);
  if (app === undefined) return refused("110000");
  if (query.get("sign") !== sign(query, app.appSecret)) return refused("1006");
  const day = (text: string) => {
    const match = /^(\d{4})(\d{2})(\d{2})$/.exec(text);
    return match === null ? Number.NaN : Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
  };
  const start = day(query.get("startTime")!);
  const end = day(query.get("endTime")!);
  if (Number.isNaN(start) || Number.isNaN(end)) return refused("1005");
  if (end < start) return refused("500", "结束时间不能早于开始时间");
  if ((end - start) / 86_400_000 > STATS_MAX_DAYS)
    return refused("500", "开始时间和结束时间不能相差30天以上");
  const value = [];
  for (let at = end; at >= start; at -= 86_400_000) {
    const date = new Date(at).toISOString().slice(0, 10);
    value.push({ acceptNo: 0, clickNo: 0, date, displayNo: 0, pushedNo: 0, targetNo: 0, validNo: 0 });
  }
  return { code: "200", message: "", redirect: "", value };
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
 * The answer after one fault per pushId. A per-pushId fault (a per-pushId code, 404/410, or 110010 for a named
 * token: its user switched messages off) lists that id in `value`; any other makes the whole request fail
 * (the first such fault wins).
 */
function applyFaults(answer: Answer, pushIds: string[], faults: readonly (FaultRule | undefined)[]): Answer {
  let whole: Answer | undefined;
  const failed = new Map(answer.failed);
  for (const [index, token] of pushIds.entries()) {
    const fault = faults[index];
    if (fault === undefined) continue;
    const code = faultCode(fault);
    if (code === undefined) continue;
    const perPushId =
      PUSH_ID_CODES.has(code) ||
      (code === PUSH_ID_OFF && fault.token !== undefined) ||
      fault.status === 404 ||
      fault.status === 410;
    if (perPushId) failed.set(token, code);
    else whole ??= faultAnswer(fault, code);
  }
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
function countAgainstQuota(
  answer: Answer,
  pushIds: string[],
  quota: BeijingDailyQuota,
  appId: string,
): Answer {
  const accepted = pushIds.filter((id) => !answer.failed.has(id)).length;
  return quota.tryCharge(accepted, appId) ? answer : answerWith("110019");
}

function writeAnswer(response: ServerResponse, answer: Answer): void {
  const value: Record<string, string[]> = {};
  for (const [id, code] of answer.failed) value[code] = [...(value[code] ?? []), id];
  const body =
    answer.code === "200"
      ? { code: "200", message: "", value, redirect: "", msgId: randomUUID().replaceAll("-", "") }
      : { code: answer.code, message: answer.message, value: "", redirect: "" };
  writeJson(response, answer.httpStatus, body, retryAfterHeader(answer.retryAfter));
}
