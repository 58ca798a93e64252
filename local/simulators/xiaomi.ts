import { randomBytes, randomInt } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import type { XiaomiCredential, XiaomiRegion } from "../../lib/vendors/credentials.js";
import { REAL_URL_HEADER } from "../../lib/vendors/endpoint.js";
import {
  XIAOMI_HOSTS,
  XIAOMI_TEMPLATE_MAX_VARIABLES,
  XIAOMI_TEMPLATE_VALUE_LIMIT,
} from "../../lib/vendors/xiaomi.js";
import { type GeneratedCredentialOptions, generatedCredential } from "./credentials.js";
import { retryAfterHeader, takeFaults } from "./faults.js";
import { type SimulatorOptions, startSimulatorServer, writeJson } from "./http-server.js";
import { type FaultRule, recordPerTarget } from "./hub.js";
import { BeijingDailyQuota } from "./quota.js";
import { isObject, parseOrRaw, readBody, recordedForm, recordedHeaders } from "./wire.js";

export type XiaomiSimulatorOptions = SimulatorOptions;

/** What the console knows of an app besides its credential. */
export interface XiaomiAppOptions {
  /** The region the app's devices are registered in; default the credential's `region`, else cn. */
  region?: XiaomiRegion;
  /** Approved templates of the private channel, by id: each with its variable names. */
  templates?: Record<string, readonly string[]>;
}

export interface XiaomiSimulator {
  /** Plain-HTTP base URL for `XiaomiCredential.endpoint.url`, e.g. "http://127.0.0.1:43210". */
  url: string;
  /**
   * Registers an app as the console does: its AppSecret, package name, approved private and public
   * channels, the private channel's template (its variables are the credential's `templateParams`
   * keys) and the region its devices are registered in (the credential's, unless `options` says
   * otherwise).
   */
  addApp(credential: XiaomiCredential, options?: XiaomiAppOptions): void;
  /**
   * Xiaomi issues no access tokens (every request carries the static AppSecret), so there is nothing
   * to expire; present so the local runtime can treat every vendor's simulator alike.
   */
  expireAccessTokens(): void;
  /**
   * After `limit` more accepted regIds (counted from this call, and afresh from each Beijing midnight)
   * sends answer 10034; a send that would go over is refused whole. Undefined = no quota, as on a
   * private channel.
   */
  setDailyQuota(limit: number | undefined): void;
  /** TCP connections accepted and send requests answered so far. */
  stats(): { connections: number; sendRequests: number };
  close(): Promise<void>;
}

const SEND_PATH = "/v3/message/regid";
/**
 * Xiaomi's Tracer, "追踪消息状态" (dev.mi.com pId=1558 lists it; the path is the official server
 * SDK's `V1_MESSAGE_STATUS`, com.xiaomi.xmpush.server.Constants): a GET that needs the AppSecret and
 * delivers nothing, which `npm run doctor` uses to check the secret.
 */
const TRACE_PATH = "/v1/trace/message/status";
/** vendors.md §4: at most 1000 regIds per request; title <50 and description <128 characters. */
const MAX_REGIDS = 1000;
const TITLE_LIMIT = 50;
const DESCRIPTION_LIMIT = 128;
/** Private channels keep a message at most 10 days. */
const MAX_TTL_MS = 10 * 24 * 60 * 60 * 1000;
/** notify_type is -1 (all) or a sum of 1 sound, 2 vibrate, 4 lights. */
const NOTIFY_TYPES = new Set(["-1", "1", "2", "3", "4", "5", "6", "7"]);
const NOTIFY_EFFECTS = new Set(["1", "2", "3"]);
/** Custom extras: at most 10 pairs, each at most 1024 characters (vendors.md §4 `extra.<custom>`). */
const MAX_CUSTOM_EXTRAS = 10;
const CUSTOM_EXTRA_LIMIT = 1024;
/** Xiaomi's own `extra.*` parameters (vendors.md §4; the Java SDK's constants); the rest are custom. */
const KNOWN_EXTRAS = new Set(
  [
    "sound_uri",
    "ticker",
    "notify_foreground",
    "notify_effect",
    "intent_uri",
    "web_uri",
    "flow_control",
    "jobkey",
    "callback",
    "callback.param",
    "callback.type",
    "locale",
    "locale_not_in",
    "model",
    "model_not_in",
    "app_version",
    "app_version_not_in",
    "connpt",
    "only_send_once",
    "channel_id",
    "channel_name",
    "channel_description",
    "template_id",
    "template_param",
  ].map((name) => `extra.${name}`),
);
/** Fields whose value is JSON text; the delivery log shows them parsed (when they hold an object). */
const JSON_FIELDS = {
  payload: parsedObject,
  "extra.ext": parsedObject,
  "extra.template_param": parsedObject,
};
/** Node lower-cases header names already; the AppSecret is never stored. */
const REDACTED_HEADERS = { authorization: "key=<redacted>" };

/**
 * What each code means, sent as `description` as Xiaomi does: its own words from 服务端错误码参考
 * (https://dev.mi.com/xiaomihyperos/documentation/detail?pId=1560).
 */
const DESCRIPTIONS: Readonly<Record<number, string>> = {
  0: "成功",
  20301: "发送消息失败",
  65003: "未找到device，通常是设备不在线导致",
  21301: "认证失败",
  22022: "应用程序package name不合法",
  27001: "channel相关信息不匹配",
  65009: "消息内容太长",
  10016: "缺失必选参数",
  10017: "参数值非法",
  10002: "系统繁忙",
  10003: "远程服务错误",
  10027: "应用的API调用太频繁",
  10034: "应用当日发送消息数量过多",
  65029: "远程服务异常",
};

/** The English `reason` a fault that names a code answers with (Xiaomi's reasons are its own). */
const REASONS: Readonly<Record<number, string>> = {
  20301: "No valid targets!",
  65003: "Device not found",
  21301: "Authentication failed",
  22022: "Package name mismatch",
  27001: "Invalid channel",
  65009: "Message too long",
  10016: "Missing parameter",
  10017: "Invalid parameter",
  10002: "System busy",
  10003: "Remote service timeout",
  10027: "Too frequent",
  10034: "Daily quota exceeded",
  65029: "Remote error",
};

/** The region each real host serves (pId=1696). */
const REGION_OF_HOST = new Map(
  Object.entries(XIAOMI_HOSTS).map(([region, url]) => [new URL(url).host, region as XiaomiRegion]),
);

interface App {
  packageName: string;
  channelId: string;
  publicChannelId?: string;
  region: XiaomiRegion;
  /** Template id → its variable names. */
  templates: ReadonlyMap<string, readonly string[]>;
}

/** One answer of a send, before it is written. */
interface Answer {
  httpStatus: number;
  body: Record<string, unknown>;
  retryAfter?: number;
}

/**
 * A local Mi Push: `POST /v3/message/regid` on one plain HTTP/1.1 keep-alive port, checked the way
 * Xiaomi checks it (the AppSecret in `Authorization: key=…`, then the form fields and their limits),
 * answered in Xiaomi's JSON with its codes, and recorded in the hub one entry per regId. Xiaomi has no
 * auth endpoint: the secret is checked on every send. The hub's faults apply to sends that pass the
 * checks, so a fault never hides a malformed request.
 */
export async function startXiaomiSimulator(opts: XiaomiSimulatorOptions): Promise<XiaomiSimulator> {
  const apps = new Map<string, App>();
  /** One count for the simulator, counted afresh from each Beijing midnight. */
  const quota = new BeijingDailyQuota();
  let sendRequests = 0;

  const server = await startSimulatorServer(opts, async (request, response) => {
    const text = await readBody(request);
    const url = new URL(request.url ?? "/", "http://x");
    if (request.method === "GET" && url.pathname === TRACE_PATH) {
      const known = apps.has(/^key=(.+)$/.exec(request.headers.authorization ?? "")?.[1] ?? "");
      const answer = known ? traced(url.searchParams.get("msg_id")) : refuse(21301, "Authentication failed");
      writeJson(response, answer.httpStatus, answer.body);
      return;
    }
    if (request.method !== "POST" || url.pathname !== SEND_PATH) {
      response.writeHead(404, { "content-type": "text/plain" }).end("Not Found");
      return;
    }
    sendRequests += 1;
    const at = new Date().toISOString();
    const form = isForm(request) ? new URLSearchParams(text) : new URLSearchParams();
    const tokens = (form.get("registration_id") ?? "").split(",");
    const app = apps.get(/^key=(.+)$/.exec(request.headers.authorization ?? "")?.[1] ?? "");

    // Where the sender addressed it: the real host, carried in a header when sent to the simulator.
    const endpoint = request.headers[REAL_URL_HEADER];
    const realUrl = typeof endpoint === "string" ? endpoint : `${XIAOMI_HOSTS.cn}${SEND_PATH}`;

    let answer =
      app === undefined
        ? refuse(21301, "Authentication failed")
        : (validate(form, app, tokens) ?? checkRegion(realUrl, app));
    let delayMs = 0;
    let rules: (FaultRule | undefined)[] = [];
    if (answer === undefined) {
      const faults = takeFaults(opts.hub, "xiaomi", tokens);
      delayMs = faults.delayMs;
      rules = faults.rules;
      // Dead regIds come back in data.bad_regids, even when every regId of the request is dead (how
      // Xiaomi answers that case is UNCONFIRMED; 20301 stays the answer of a request it cannot serve).
      const dead = new Set(tokens.filter((_, index) => isDeadToken(faults.rules[index])));
      answer =
        faults.rules.map(faultAnswer).find((faulted) => faulted !== undefined) ??
        chargeQuota(quota, tokens.length - dead.size) ??
        accepted(tokens.length, dead);
    }

    const body = isForm(request) ? recordedForm(form, JSON_FIELDS) : parseOrRaw(text);
    recordPerTarget(
      opts.hub,
      tokens,
      {
        vendor: "xiaomi",
        at,
        endpoint: realUrl,
        status: answer.httpStatus,
        request: { headers: recordedHeaders(request.headers, REDACTED_HEADERS), body },
      },
      rules,
    );
    // The hub has the delivery before the slow answer arrives.
    if (delayMs > 0) await sleep(delayMs);
    writeJson(response, answer.httpStatus, answer.body, retryAfterHeader(answer.retryAfter));
  });

  return {
    url: server.url,
    addApp(credential, options = {}) {
      const { appSecret, packageName, channelId, publicChannelId, templateId, templateParams } = credential;
      const templates = new Map(Object.entries(options.templates ?? {}));
      if (options.templates === undefined && templateId !== undefined) {
        templates.set(templateId, Object.keys(templateParams ?? {}));
      }
      apps.set(appSecret, {
        packageName,
        channelId,
        ...(publicChannelId !== undefined && { publicChannelId }),
        region: options.region ?? credential.region ?? "cn",
        templates,
      });
    },
    expireAccessTokens() {},
    setDailyQuota: (limit) => quota.restart(limit),
    stats: () => ({ connections: server.connections(), sendRequests }),
    close: () => server.close(),
  };
}

/**
 * Credentials for the simulator, as the console issues them: a random AppSecret, a private and a
 * public channel id, and a private-channel template with two variables, the sender and the text.
 */
export function generateXiaomiCredential(opts: GeneratedCredentialOptions): XiaomiCredential {
  return generatedCredential(opts, {
    appSecret: randomBytes(16).toString("base64"),
    channelId: String(randomInt(100_000, 1_000_000)),
    publicChannelId: String(randomInt(100_000, 1_000_000)),
    templateId: String(randomInt(10_000_000, 100_000_000)),
    templateParams: { sender: "title", text: "body" },
    region: "cn",
  });
}

/**
 * A request at another region's host finds none of the app's regIds there: devices "will not be able
 * to receive messages from non-local server rooms" (pId=1698). Xiaomi's exact answer is UNCONFIRMED;
 * the simulator answers what it answers a request without one valid target, 20301.
 */
function checkRegion(realUrl: string, app: App): Answer | undefined {
  let host: string;
  try {
    host = new URL(realUrl).host;
  } catch {
    return refuse(10017, `Invalid request URL ${realUrl}`);
  }
  const region = REGION_OF_HOST.get(host);
  if (region === app.region) return undefined;
  return refuse(20301, `No valid targets! (app registered in region ${app.region}, request to ${host})`);
}

function isForm(request: IncomingMessage): boolean {
  return /^application\/x-www-form-urlencoded\b/i.test(request.headers["content-type"] ?? "");
}

/** Xiaomi's checks of a send's form, in the order it meets them; undefined when it would send. */
function validate(form: URLSearchParams, app: App, tokens: readonly string[]): Answer | undefined {
  const missing = (name: string) => refuse(10016, `Missing required parameter ${name}`);
  const invalid = (name: string, why: string) => refuse(10017, `Invalid parameter ${name}: ${why}`);

  if (!form.get("registration_id")) return missing("registration_id");
  if (tokens.some((token) => token.trim() === "")) return invalid("registration_id", "empty regId");
  if (tokens.length > MAX_REGIDS) {
    return invalid("registration_id", `${tokens.length} regIds, at most ${MAX_REGIDS}`);
  }
  const packages = form.get("restricted_package_name");
  if (!packages) return missing("restricted_package_name");
  // v3 takes several package names, comma-separated; one must be the app's.
  if (!packages.split(",").includes(app.packageName)) {
    return refuse(22022, `restricted_package_name ${packages} does not match the app`);
  }
  const passThrough = form.get("pass_through") ?? "0";
  if (passThrough !== "0" && passThrough !== "1") return invalid("pass_through", "must be 0 or 1");
  if (passThrough === "0") {
    const text = checkText(form, "title", TITLE_LIMIT) ?? checkText(form, "description", DESCRIPTION_LIMIT);
    if (text !== undefined) return text;
  } else if (form.get("payload") === null) {
    return missing("payload");
  }
  const notifyType = form.get("notify_type");
  if (notifyType !== null && !NOTIFY_TYPES.has(notifyType)) {
    return invalid("notify_type", "must be -1 or a sum of 1, 2 and 4");
  }
  const notifyId = form.get("notify_id");
  if (notifyId !== null && !(/^\d{1,10}$/.test(notifyId) && Number(notifyId) <= 0x7fffffff)) {
    return invalid("notify_id", "must be a non-negative int");
  }
  const ttl = form.get("time_to_live");
  if (ttl !== null && !(/^\d+$/.test(ttl) && Number(ttl) > 0 && Number(ttl) <= MAX_TTL_MS)) {
    return invalid("time_to_live", `must be 1..${MAX_TTL_MS} ms`);
  }
  // Without a channel the message goes out as public (marketing); with one, it must be the app's.
  const channelId = form.get("extra.channel_id");
  if (channelId !== null && channelId !== app.channelId && channelId !== app.publicChannelId) {
    return refuse(27001, `channel_id ${channelId} is not an approved channel of the app`);
  }
  if (channelId !== null && channelId === app.channelId) {
    const template = checkTemplate(form, app);
    if (template !== undefined) return template;
  }
  const foreground = form.get("extra.notify_foreground");
  if (foreground !== null && foreground !== "0" && foreground !== "1") {
    return invalid("extra.notify_foreground", "must be 0 or 1");
  }
  const effect = form.get("extra.notify_effect");
  if (effect !== null && !NOTIFY_EFFECTS.has(effect))
    return invalid("extra.notify_effect", "must be 1, 2 or 3");
  if (effect === "2" && !form.get("extra.intent_uri")) return missing("extra.intent_uri");
  if (effect === "3" && !form.get("extra.web_uri")) return missing("extra.web_uri");
  const custom = [...form.keys()].filter((key) => key.startsWith("extra.") && !KNOWN_EXTRAS.has(key));
  if (custom.length > MAX_CUSTOM_EXTRAS) {
    return invalid("extra", `${custom.length} custom extras, at most ${MAX_CUSTOM_EXTRAS}`);
  }
  const long = custom.find(
    (key) => key.length > CUSTOM_EXTRA_LIMIT || form.get(key)!.length > CUSTOM_EXTRA_LIMIT,
  );
  if (long !== undefined) return invalid(long, `longer than ${CUSTOM_EXTRA_LIMIT} characters`);
  return undefined;
}

/**
 * Xiaomi's template rules for a private-channel message (pId=2314): a template id of the app's, and
 * `extra.template_param` as JSON text holding exactly the template's variables, each value 1–128
 * characters, not all white space, without Other Symbols (\p{So}: emoji) or unassigned characters.
 * Which code Xiaomi answers a missing template with is UNCONFIRMED: the simulator answers as for any
 * missing required parameter (10016) and any invalid value (10017).
 */
function checkTemplate(form: URLSearchParams, app: App): Answer | undefined {
  const templateId = form.get("extra.template_id");
  if (!templateId) {
    return refuse(
      10016,
      "Missing required parameter extra.template_id: private channel messages need a template",
    );
  }
  const variables = app.templates.get(templateId);
  if (variables === undefined) {
    return refuse(
      10017,
      `Invalid parameter extra.template_id: ${templateId} is not an approved template of the app`,
    );
  }
  const raw = form.get("extra.template_param");
  if (variables.length === 0 && raw === null) return undefined;
  const param = raw === null ? undefined : parseOrRaw(raw);
  if (!isObject(param)) return refuse(10017, "Invalid parameter extra.template_param: not a JSON object");
  const names = Object.keys(param);
  if (names.length > XIAOMI_TEMPLATE_MAX_VARIABLES) {
    return refuse(10017, `Invalid parameter extra.template_param: ${names.length} variables, at most 9`);
  }
  if (names.length !== variables.length || !variables.every((name) => Object.hasOwn(param, name))) {
    return refuse(
      10017,
      `Invalid parameter extra.template_param: needs exactly ${variables.join(", ")}, got ${names.join(", ")}`,
    );
  }
  for (const name of names) {
    const value = param[name];
    const length = typeof value === "string" ? Array.from(value).length : 0;
    if (typeof value !== "string" || length < 1 || length > XIAOMI_TEMPLATE_VALUE_LIMIT) {
      return refuse(10017, `Invalid parameter extra.template_param.${name}: must be 1 to 128 characters`);
    }
    if (value.trim() === "")
      return refuse(10017, `Invalid parameter extra.template_param.${name}: all white space`);
    if (/[\p{So}\p{Cn}]/u.test(value)) {
      return refuse(10017, `Invalid parameter extra.template_param.${name}: emoji or unassigned characters`);
    }
  }
  return undefined;
}

/** Required, not all white space, and under the limit (one per UTF-16 unit, as Java's length()). */
function checkText(form: URLSearchParams, name: string, limit: number): Answer | undefined {
  const value = form.get(name);
  if (value === null) return refuse(10016, `Missing required parameter ${name}`);
  if (value.trim() === "") return refuse(10017, `Invalid parameter ${name}: all white space`);
  if (value.length >= limit) return refuse(65009, `${name} must be shorter than ${limit} characters`);
  return undefined;
}

function isDeadToken(fault: FaultRule | undefined): boolean {
  return fault !== undefined && (fault.status === 404 || fault.status === 410) && !isCode(fault.reason);
}

function isCode(reason: string | undefined): reason is string {
  return reason !== undefined && /^-?\d+$/.test(reason);
}

/** The whole-request answer a fault asks for; undefined for a slow success or a dead token. */
function faultAnswer(fault: FaultRule | undefined): Answer | undefined {
  if (fault === undefined) return undefined;
  const retryAfter = fault.retryAfter !== undefined ? { retryAfter: fault.retryAfter } : {};
  if (isCode(fault.reason)) {
    const code = Number(fault.reason);
    return { ...refuse(code, REASONS[code] ?? "Error"), ...retryAfter, httpStatus: httpOf(fault) };
  }
  switch (fault.status) {
    case 200:
    case 404:
    case 410:
      return undefined;
    case 400:
      return refuse(10017, "Invalid parameter");
    case 401:
      return refuse(21301, "Authentication failed");
    case 429:
      return { ...refuse(10034, "Daily quota exceeded"), ...retryAfter };
    case 500:
      return { ...refuse(10003, "Remote service timeout"), ...retryAfter, httpStatus: 500 };
    case 503:
      return { ...refuse(10002, "System busy"), ...retryAfter, httpStatus: 503 };
    default:
      return { ...refuse(-1, "Unknown error"), ...retryAfter, httpStatus: fault.status };
  }
}

/** Xiaomi answers its business errors with HTTP 200; a fault's 5xx stays a 5xx. */
function httpOf(fault: FaultRule): number {
  return fault.status >= 500 ? fault.status : 200;
}

/** Counts `count` regIds against the day's quota, or answers 10034 when they would go over it. */
function chargeQuota(quota: BeijingDailyQuota, count: number): Answer | undefined {
  if (quota.tryCharge(count)) return undefined;
  return refuse(10034, `Daily quota exceeded: ${quota.used()} of ${quota.limit} used today`);
}

function accepted(count: number, dead: ReadonlySet<string>): Answer {
  return {
    httpStatus: 200,
    body: {
      result: "ok",
      trace_id: traceId(),
      code: 0,
      data: { id: `scm${randomId()}`, ...(dead.size > 0 && { bad_regids: [...dead].join(",") }) },
      description: DESCRIPTIONS[0],
      info: `Received push messages for ${count} REGID`,
    },
  };
}

/**
 * The Tracer's answer for a message id. What Xiaomi answers for an id it never issued is UNCONFIRMED:
 * the simulator answers success with no data (the secret was accepted), 10016 without `msg_id`.
 */
function traced(messageId: string | null): Answer {
  if (!messageId) return refuse(10016, "Missing parameter: msg_id");
  return {
    httpStatus: 200,
    body: { result: "ok", trace_id: traceId(), code: 0, description: DESCRIPTIONS[0], data: {} },
  };
}

function refuse(code: number, reason: string): Answer {
  return {
    httpStatus: 200,
    body: {
      result: "error",
      reason,
      trace_id: traceId(),
      code,
      description: DESCRIPTIONS[code] ?? "Error",
    },
  };
}

function traceId(): string {
  return `Xlm${randomId()}`;
}

function randomId(): string {
  return randomBytes(16).toString("base64url");
}

/** JSON text holding an object, parsed so the log shows what the app receives; else as sent. */
function parsedObject(value: string): Record<string, unknown> | undefined {
  const parsed = parseOrRaw(value);
  return isObject(parsed) ? parsed : undefined;
}
