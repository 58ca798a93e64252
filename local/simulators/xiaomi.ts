import { randomBytes, randomInt } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import type { XiaomiCredential } from "../../lib/vendors/credentials.js";
import type { FaultRule, SimulatorHub } from "./hub.js";
import { isObject, parseOrRaw, readBody } from "./wire.js";

export interface XiaomiSimulatorOptions {
  hub: SimulatorHub;
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 or absent = any free port. */
  port?: number;
}

export interface XiaomiSimulator {
  /** Plain-HTTP base URL for `XiaomiCredential.endpoint.url`, e.g. "http://127.0.0.1:43210". */
  url: string;
  /** Registers an app: its AppSecret, package name and approved private channel, as the console does. */
  addApp(credential: XiaomiCredential): void;
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
/** Fields whose value is JSON text; the delivery log shows them parsed. */
const JSON_FIELDS = ["payload", "extra.ext"];
const BEIJING_OFFSET_MS = 8 * 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;
/** Longer than node's 5 s default, so a client's pooled socket survives between two sends of a test. */
const KEEP_ALIVE_MS = 60_000;

/** What each code means (vendors.md §4 "Response"), sent as `description`. */
const DESCRIPTIONS: Readonly<Record<number, string>> = {
  0: "成功",
  20301: "Send failed",
  65003: "Device not found",
  21301: "Auth failed",
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

interface App {
  packageName: string;
  channelId: string;
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
  const host = opts.host ?? "127.0.0.1";
  const apps = new Map<string, App>();
  const quota: { limit?: number; day: number; accepted: number } = { day: 0, accepted: 0 };
  let connections = 0;
  let sendRequests = 0;

  const server: Server = createServer({ keepAliveTimeout: KEEP_ALIVE_MS }, (request, response) => {
    route(request, response).catch(() => response.destroy());
  });
  server.on("connection", () => {
    connections += 1;
  });

  const route = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const text = await readBody(request);
    if (request.method !== "POST" || new URL(request.url ?? "/", "http://x").pathname !== SEND_PATH) {
      response.writeHead(404, { "content-type": "text/plain" }).end("Not Found");
      return;
    }
    sendRequests += 1;
    const at = new Date().toISOString();
    const form = isForm(request) ? new URLSearchParams(text) : new URLSearchParams();
    const tokens = (form.get("registration_id") ?? "").split(",");
    const app = apps.get(/^key=(.+)$/.exec(request.headers.authorization ?? "")?.[1] ?? "");

    let answer = app === undefined ? refuse(21301, "Authentication failed") : validate(form, app, tokens);
    let delayMs = 0;
    if (answer === undefined) {
      const faults = tokens.map((token) => opts.hub.takeFault("xiaomi", token));
      delayMs = Math.max(0, ...faults.map((fault) => fault?.delayMs ?? 0));
      const dead = new Set(tokens.filter((_, index) => isDeadToken(faults[index])));
      answer =
        faults.map(faultAnswer).find((faulted) => faulted !== undefined) ??
        (dead.size === tokens.length ? refuse(20301, "No valid targets!") : undefined) ??
        chargeQuota(quota, tokens.length - dead.size) ??
        accepted(tokens.length, dead);
    }

    const body = isForm(request) ? recordedForm(form) : parseOrRaw(text);
    for (const token of tokens) {
      opts.hub.record({
        vendor: "xiaomi",
        token,
        at,
        status: answer.httpStatus,
        request: { headers: recordedHeaders(request.headers), body },
      });
    }
    if (delayMs > 0) await sleep(delayMs);
    response.writeHead(answer.httpStatus, {
      "content-type": "application/json;charset=UTF-8",
      ...(answer.retryAfter !== undefined && { "retry-after": String(answer.retryAfter) }),
    });
    response.end(JSON.stringify(answer.body));
  };

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });

  return {
    url: `http://${host}:${(server.address() as AddressInfo).port}`,
    addApp({ appSecret, packageName, channelId }) {
      apps.set(appSecret, { packageName, channelId });
    },
    expireAccessTokens() {},
    setDailyQuota(limit) {
      Object.assign(quota, { limit, accepted: 0 });
    },
    stats: () => ({ connections, sendRequests }),
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Clients keep idle sockets open (as they should); close() would wait for them otherwise.
      server.closeAllConnections();
      await closed;
    },
  };
}

/** Credentials for the simulator: a random AppSecret and a private channel id, as the console issues. */
export function generateXiaomiCredential(opts: {
  certificateId: number;
  packageName?: string;
  endpointUrl?: string;
}): XiaomiCredential {
  return {
    certificateId: opts.certificateId,
    packageName: opts.packageName ?? "com.example.chatpush",
    appSecret: randomBytes(16).toString("base64"),
    channelId: String(randomInt(100_000, 1_000_000)),
    ...(opts.endpointUrl !== undefined && { endpoint: { url: opts.endpointUrl } }),
  };
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
  if (channelId !== null && channelId !== app.channelId) {
    return refuse(27001, `channel_id ${channelId} is not an approved channel of the app`);
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
    return { ...refuse(code, DESCRIPTIONS[code] ?? "Error"), ...retryAfter, httpStatus: httpOf(fault) };
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
function chargeQuota(
  quota: { limit?: number; day: number; accepted: number },
  count: number,
): Answer | undefined {
  const today = Math.floor((Date.now() + BEIJING_OFFSET_MS) / DAY_MS);
  if (quota.day !== today) Object.assign(quota, { day: today, accepted: 0 });
  if (quota.limit !== undefined && quota.accepted + count > quota.limit) {
    return refuse(10034, `Daily quota exceeded: ${quota.accepted} of ${quota.limit} used today`);
  }
  quota.accepted += count;
  return undefined;
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

/** The form as an object, JSON-text fields parsed so the log shows what the app receives. */
function recordedForm(form: URLSearchParams): Record<string, unknown> {
  const fields: Record<string, unknown> = Object.fromEntries(form);
  for (const name of JSON_FIELDS) {
    const value = form.get(name);
    const parsed = value === null ? undefined : parseOrRaw(value);
    if (isObject(parsed)) fields[name] = parsed;
  }
  return fields;
}

/** Node lower-cases header names already; the AppSecret is never stored. */
function recordedHeaders(headers: IncomingMessage["headers"]): Record<string, string> {
  const recorded: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    recorded[name] = name === "authorization" ? "key=<redacted>" : [value].flat().join(", ");
  }
  return recorded;
}
