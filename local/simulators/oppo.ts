import { createHash, randomBytes, randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { OppoCredential } from "../../lib/vendors/credentials.js";
import { REAL_URL_HEADER } from "../../lib/vendors/endpoint.js";
import { OPPO_HOSTS, type OppoRegion, oppoRegionOf } from "../../lib/vendors/oppo.js";
import { type GeneratedCredentialOptions, generatedCredential } from "./credentials.js";
import { retryAfterHeader, takeFaultsAndWait } from "./faults.js";
import { type SimulatorOptions, startSimulatorServer, writeJson } from "./http-server.js";
import type { FaultRule, SimulatorHub } from "./hub.js";
import { BeijingDailyQuota } from "./quota.js";
import { AccessTokenBook } from "./tokens.js";
import { isObject, parseOrRaw, readBody, recordedForm, recordedHeaders } from "./wire.js";

export type OppoSimulatorOptions = SimulatorOptions;

/** What OPPO's console knows of an app besides its credential. */
export interface OppoAppOptions {
  /**
   * Whether OPPO approved the app's strong reminder (notify_level 16), a separate application; default:
   * whether the credential asks for level 16.
   */
  strongReminder?: boolean;
}

export interface OppoSimulator {
  /** Plain-HTTP base URL for `OppoCredential.endpoint.url`, e.g. "http://127.0.0.1:43210". */
  url: string;
  /**
   * Registers an app's app_key and master_secret, as enabling push in OPPO's console does, with its
   * strong-reminder approval (`options`).
   */
  addApp(credential: OppoCredential, options?: OppoAppOptions): void;
  /** Makes every auth_token issued so far expire now, as if 24 hours had passed. */
  expireAccessTokens(): void;
  /**
   * After `limit` more accepted messages per app (counted from this call, and afresh each Beijing day),
   * answer 33; undefined = no limit.
   */
  setDailyQuota(limit: number | undefined): void;
  /** TCP connections accepted, auth_tokens issued and unicast_batch requests received so far. */
  stats(): { connections: number; tokensIssued: number; sendRequests: number };
  close(): Promise<void>;
}

const AUTH_PATH = "/server/v1/auth";
const UNICAST_BATCH_PATH = "/server/v1/message/notification/unicast_batch";
/** vendors.md §5: auth_token valid 24 h; timestamp within 10 minutes; ≤ 1000 messages per batch. */
const AUTH_TOKEN_SECONDS = 24 * 60 * 60;
const TIMESTAMP_WINDOW_MS = 10 * 60 * 1000;
const MAX_MESSAGES = 1000;
/** OPPO's field limits, counted in characters ("中英文字符及特殊符号（如emoji）均视为一个字符"). */
const TITLE_LIMIT = 50;
const SUB_TITLE_LIMIT = 10;
/** content: 50 for style 1 (standard) and 3 (big picture), 128 for style 2 (long text). */
const CONTENT_LIMITS: Readonly<Record<number, number>> = { 1: 50, 2: 128, 3: 50 };
const CLICK_ACTIVITY_LIMIT = 500;
const CLICK_URL_LIMIT = 2000;
const ACTION_PARAMETERS_LIMIT = 4000;
const CLICK_ACTION_TYPES = new Set([0, 1, 2, 4, 5]);
/** 1 status bar, 2 + lock screen, 16 + banner, vibration and ring. */
const NOTIFY_LEVELS = new Set([1, 2, 16]);
/**
 * OPPO's categories. vendors.md §5 marks the full list UNCONFIRMED (it appears to mirror vivo's); the
 * simulator takes these and refuses others with 67.
 */
const CATEGORIES = new Set([
  "IM",
  "ACCOUNT",
  "DEVICE_REMINDER",
  "ORDER",
  "TODO",
  "SUBSCRIPTION",
  "NEWS",
  "CONTENT",
  "MARKETING",
  "SOCIAL",
]);
/**
 * Real registration_ids are 32 hex digits with optional region prefixes ("CN_…", "OPPO_CN_…"); the
 * simulator only refuses what could never be one, so test tokens need not look real.
 */
const REGISTRATION_ID = /^[A-Za-z0-9_-]{1,128}$/;
/** Node lower-cases header names already; an auth_token sent as a header is never stored. */
const REDACTED_HEADERS = { auth_token: "<redacted>", authorization: "<redacted>" };

/** OPPO's own English messages for its codes (vendors.md §5; OPPO's "公共参数和返回码" page). */
const MESSAGES: Readonly<Record<number, string>> = {
  [-2]: "Service in Flow Control",
  [-1]: "Service Currently Unavailable",
  0: "Success",
  11: "Invalid AuthToken",
  12: "Http Action Not Allowed",
  13: "App Call Limited",
  14: "Invalid App Key",
  15: "Missing App Key",
  16: "Invalid Signature",
  17: "Missing Signature",
  18: "Missing Timestamp",
  19: "Invalid Timestamp",
  20: "Invalid Method",
  21: "Missing Method",
  22: "Missing Version",
  23: "Invalid Version",
  24: "Unsupported Version",
  25: "Invalid Encoding",
  26: "IP Black List",
  27: "Access Denied",
  28: "App Disabled",
  29: "Missing Auth Token",
  30: "Api Permission Denied",
  31: "Data Not Exist",
  32: "Data Duplicate",
  33: "The number of messages exceeds the daily limit",
  34: "The number of upload pictures exceeds the daily limit",
  40: "Missing Required Arguments",
  41: "Invalid Arguments",
  51: "Invalid Picture",
  55: "App Call Frequency Limit",
  59: "UseSecondaryAction permission denied",
  67: "Category error/Private classify channel notify_level invalid",
  10000: "Invalid Registration_id",
};

/** A fault's HTTP status → the OPPO code it answers with when its rule names none. */
const FAULT_CODES: Readonly<Record<number, number>> = {
  400: 41,
  401: 11,
  404: 10000,
  410: 10000,
  429: 33,
  500: -1,
  503: -2,
};

interface App {
  masterSecret: string;
  /** Prefix of the message ids OPPO issues: "<AppID>-1-1-<unique id>". */
  appId: string;
  /** OPPO's separate approval for notify_level 16. */
  strongReminder: boolean;
}

/** Whom an auth_token was issued to: an app, at one host (each host issues its own). */
interface TokenOwner {
  appKey: string;
  region: OppoRegion;
}

/** The region each real host serves (id=11238). */
const REGION_OF_HOST = new Map(
  Object.entries(OPPO_HOSTS).map(([region, url]) => [new URL(url).host, region as OppoRegion]),
);

/** An answer for the whole request: OPPO's envelope with a code other than 0. */
interface Refusal {
  httpStatus: number;
  code: number;
  message?: string;
  retryAfter?: number;
}

/** What to answer for one message of a batch that was accepted as a whole. */
type ItemAnswer = { errorCode: number; errorMessage: string } | undefined;

/**
 * A local OPPO Push: /server/v1/auth and unicast_batch on one plain HTTP/1.1 port with keep-alive,
 * checking requests as OPPO does and answering with OPPO's envelope and codes. Every unicast_batch
 * request it reads is recorded in the hub, one entry per registration_id; the hub's faults apply to
 * requests that pass the checks, so a fault never hides a malformed request.
 */
export async function startOppoSimulator(opts: OppoSimulatorOptions): Promise<OppoSimulator> {
  /** Apps by app_key. */
  const apps = new Map<string, App>();
  /** auth_tokens, each for the app_key and host that issued it. */
  const tokens = new AccessTokenBook<TokenOwner>(AUTH_TOKEN_SECONDS);
  /** Accepted messages per app_key and Beijing day. */
  const quota = new BeijingDailyQuota();
  let sendRequests = 0;

  const server = await startSimulatorServer(opts, async (request, response) => {
    const body = await readBody(request);
    const path = (request.url ?? "").split("?")[0];
    if (path !== AUTH_PATH && path !== UNICAST_BATCH_PATH) {
      writeEnvelope(response, { httpStatus: 404, code: 20 });
      return;
    }
    if (request.method !== "POST") {
      writeEnvelope(response, { httpStatus: 405, code: 12 });
      return;
    }
    const form = new URLSearchParams(body);
    // Where the sender addressed it: the real host, carried in a header when sent to the simulator.
    const header = request.headers[REAL_URL_HEADER];
    const endpoint = typeof header === "string" ? header : `${OPPO_HOSTS.cn}${path}`;
    const region = regionOf(endpoint);
    if (region === undefined) {
      writeEnvelope(response, { httpStatus: 404, code: 20, message: `not an OPPO host: ${endpoint}` });
      return;
    }
    if (path === AUTH_PATH) {
      const refusal = checkAuth(form, apps);
      if (refusal !== undefined) {
        writeEnvelope(response, refusal);
        return;
      }
      const authToken = randomUUID();
      const createTime = Date.now();
      tokens.issue(authToken, { appKey: form.get("app_key")!, region }, createTime);
      writeEnvelope(
        response,
        { httpStatus: 200, code: 0 },
        { auth_token: authToken, create_time: createTime },
      );
      return;
    }
    sendRequests += 1;
    await unicastBatch({ request, response, form, hub: opts.hub, apps, tokens, quota, endpoint, region });
  });

  return {
    url: server.url,
    addApp(credential, options = {}) {
      apps.set(credential.appKey, {
        masterSecret: credential.masterSecret,
        appId: randomBytes(18).toString("base64url"),
        strongReminder: options.strongReminder ?? credential.notifyLevel === 16,
      });
      quota.reset(credential.appKey);
    },
    expireAccessTokens: () => tokens.expireAll(),
    setDailyQuota: (limit) => quota.restart(limit),
    stats: () => ({ connections: server.connections(), tokensIssued: tokens.issued, sendRequests }),
    close: () => server.close(),
  };
}

/**
 * An OPPO app for the simulator: app_key and master_secret as random hex (OPPO's are 32 characters),
 * the private IM channel and the public channel the app creates, no click target (open the app), no
 * notify level (the strong reminder needs OPPO's approval).
 */
export function generateOppoCredential(opts: GeneratedCredentialOptions): OppoCredential {
  return generatedCredential(opts, {
    appKey: randomBytes(16).toString("hex"),
    masterSecret: randomBytes(16).toString("hex"),
    channelId: "chat_messages",
    publicChannelId: "public_messages",
  });
}

/** /server/v1/auth's checks, in OPPO's code order; undefined when a token would be issued. */
function checkAuth(form: URLSearchParams, apps: ReadonlyMap<string, App>): Refusal | undefined {
  const appKey = form.get("app_key");
  const timestamp = form.get("timestamp");
  const sign = form.get("sign");
  if (!appKey) return { httpStatus: 200, code: 15 };
  const app = apps.get(appKey);
  if (app === undefined) return { httpStatus: 200, code: 14 };
  if (!sign) return { httpStatus: 200, code: 17 };
  if (!timestamp) return { httpStatus: 200, code: 18 };
  if (!/^\d{13}$/.test(timestamp) || Math.abs(Date.now() - Number(timestamp)) > TIMESTAMP_WINDOW_MS) {
    return { httpStatus: 200, code: 19 };
  }
  const expected = createHash("sha256").update(`${appKey}${timestamp}${app.masterSecret}`).digest("hex");
  if (sign !== expected) return { httpStatus: 200, code: 16 };
  return undefined;
}

async function unicastBatch(args: {
  request: IncomingMessage;
  response: ServerResponse;
  form: URLSearchParams;
  hub: SimulatorHub;
  apps: ReadonlyMap<string, App>;
  tokens: AccessTokenBook<TokenOwner>;
  quota: BeijingDailyQuota;
  /** The real URL the request was addressed to, and the region its host serves. */
  endpoint: string;
  region: OppoRegion;
}): Promise<void> {
  const { request, response, form, hub, apps, tokens, quota, endpoint, region } = args;
  const at = new Date().toISOString();
  const parsedMessages = parseOrRaw(form.get("messages") ?? "");
  const messages = Array.isArray(parsedMessages) ? parsedMessages : undefined;
  const registrationIds = (messages ?? []).map((message) =>
    isObject(message) && typeof message.target_value === "string" ? message.target_value : "",
  );

  const authToken = form.get("auth_token");
  const issued = tokens.lookup(authToken);
  const app = issued === undefined ? undefined : apps.get(issued.owner.appKey);
  let refusal: Refusal | undefined;
  if (!authToken) refusal = { httpStatus: 200, code: 29 };
  // A token another host issued is unknown here.
  else if (issued === undefined || app === undefined || issued.expired || issued.owner.region !== region) {
    refusal = { httpStatus: 200, code: 11 };
  } else refusal = checkMessages(form.get("messages"), messages) ?? checkApproval(messages!, app);

  // A regId of the other region is unknown at this host. How OPPO answers one is UNCONFIRMED: the
  // simulator answers as for any registration_id it does not know, 10000 in the regId's own item.
  let items: ItemAnswer[] = registrationIds.map((id) =>
    REGISTRATION_ID.test(id) && oppoRegionOf(id) === region
      ? undefined
      : { errorCode: 10000, errorMessage: MESSAGES[10000]! },
  );
  let faults: (FaultRule | undefined)[] = [];
  if (refusal === undefined) {
    faults = await takeFaultsAndWait(hub, "oppo", registrationIds);
    refusal = faults.map(faultRefusal).find((r) => r !== undefined);
    items = items.map((item, index) => item ?? faultItem(faults[index]));
  }
  if (refusal === undefined && issued !== undefined) {
    const counted = countAgainstDailyQuota(items, quota, issued.owner.appKey);
    if (Array.isArray(counted)) items = counted;
    else refusal = counted;
  }

  const httpStatus = refusal?.httpStatus ?? 200;
  // The form as recorded: auth_token redacted, messages parsed (each action_parameters too, below).
  const recorded = recordedForm(form, { auth_token: () => "<redacted>", messages: () => parsedMessages });
  for (const [index, token] of (registrationIds.length > 0 ? registrationIds : [""]).entries()) {
    hub.record(
      {
        vendor: "oppo",
        token,
        at,
        endpoint,
        status: httpStatus,
        request: {
          headers: recordedHeaders(request.headers, REDACTED_HEADERS),
          // Each entry shows its own message, not the other 999 of the batch.
          body:
            messages === undefined ? recorded : { ...recorded, messages: [recordedMessage(messages[index])] },
        },
      },
      faults[index],
    );
  }

  if (refusal !== undefined) {
    writeEnvelope(response, refusal);
    return;
  }
  const data = registrationIds.map((registrationId, index) => ({
    messageId: `${app!.appId}-1-1-${randomBytes(12).toString("hex")}`,
    registrationId,
    ...items[index],
  }));
  writeEnvelope(response, { httpStatus: 200, code: 0 }, data);
}

/**
 * The form's `messages` as OPPO checks it: a JSON array of 1–1000 unicast messages, each with a
 * registration_id target and a notification within OPPO's limits and classification rules.
 */
function checkMessages(raw: string | null, messages: unknown[] | undefined): Refusal | undefined {
  if (!raw) return { httpStatus: 200, code: 40, message: "messages is required" };
  if (messages === undefined) return invalid("messages is not a JSON array");
  if (messages.length === 0 || messages.length > MAX_MESSAGES) {
    return invalid(`messages must hold 1 to ${MAX_MESSAGES} messages, got ${messages.length}`);
  }
  for (const message of messages) {
    const problem = checkMessage(message);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

function checkMessage(message: unknown): Refusal | undefined {
  if (!isObject(message)) return invalid("a message is not a JSON object");
  if (message.target_type !== 2 && message.target_type !== 5) return invalid("target_type must be 2 or 5");
  if (typeof message.target_value !== "string" || message.target_value === "") {
    return { httpStatus: 200, code: 40, message: "target_value is required" };
  }
  const notification = message.notification;
  if (!isObject(notification)) return { httpStatus: 200, code: 40, message: "notification is required" };
  const style = notification.style ?? 1;
  const contentLimit = typeof style === "number" ? CONTENT_LIMITS[style] : undefined;
  if (contentLimit === undefined) return invalid("style must be 1, 2 or 3");
  for (const [field, limit] of [
    ["title", TITLE_LIMIT],
    ["content", contentLimit],
  ] as const) {
    const value = notification[field];
    if (typeof value !== "string" || value === "") {
      return { httpStatus: 200, code: 40, message: `${field} is required` };
    }
    if (characters(value) > limit) return invalid(`${field} longer than ${limit} characters`);
  }
  if (notification.sub_title !== undefined && !fits(notification.sub_title, SUB_TITLE_LIMIT)) {
    return invalid(`sub_title longer than ${SUB_TITLE_LIMIT} characters`);
  }
  const clickType = notification.click_action_type ?? 0;
  if (typeof clickType !== "number" || !CLICK_ACTION_TYPES.has(clickType)) {
    return invalid("click_action_type must be 0, 1, 2, 4 or 5");
  }
  if (
    (clickType === 1 || clickType === 4) &&
    !fits(notification.click_action_activity, CLICK_ACTIVITY_LIMIT, 1)
  ) {
    return invalid(
      `click_action_activity is required for type ${clickType}, at most ${CLICK_ACTIVITY_LIMIT}`,
    );
  }
  if ((clickType === 2 || clickType === 5) && !fits(notification.click_action_url, CLICK_URL_LIMIT, 1)) {
    return invalid(`click_action_url is required for type ${clickType}, at most ${CLICK_URL_LIMIT}`);
  }
  // OPPO's extra parameters must be a JSON object's text (OPPO's example: {"key1":"value1",...}).
  const parameters = notification.action_parameters;
  if (parameters !== undefined) {
    if (typeof parameters !== "string" || parameters.length > ACTION_PARAMETERS_LIMIT) {
      return invalid(`action_parameters must be a string of at most ${ACTION_PARAMETERS_LIMIT}`);
    }
    if (!isObject(parseOrRaw(parameters))) return invalid("action_parameters is not a JSON object");
  }
  if (notification.off_line !== undefined && typeof notification.off_line !== "boolean") {
    return invalid("off_line must be a boolean");
  }
  // Over 10 days OPPO stores it for 10 days ("参数超过10天以10天传入"), so only the type is checked.
  const ttl = notification.off_line_ttl;
  if (ttl !== undefined && (!Number.isInteger(ttl) || (ttl as number) < 0)) {
    return invalid("off_line_ttl must be a whole number of seconds");
  }
  if (notification.notify_id !== undefined && !Number.isInteger(notification.notify_id)) {
    return invalid("notify_id must be an integer");
  }
  if (notification.channel_id !== undefined && typeof notification.channel_id !== "string") {
    return invalid("channel_id must be a string");
  }
  const { category, notify_level: level } = notification;
  if (category !== undefined && (typeof category !== "string" || !CATEGORIES.has(category))) {
    return { httpStatus: 200, code: 67 };
  }
  // "使用notify_level参数时，category参数必传".
  if (
    level !== undefined &&
    (category === undefined || typeof level !== "number" || !NOTIFY_LEVELS.has(level))
  ) {
    return { httpStatus: 200, code: 67 };
  }
  return undefined;
}

/**
 * notify_level 16 (banner, vibration and ring) only for an app OPPO approved for the strong reminder;
 * otherwise the whole request gets 67, "分类错误（包含强提醒所有异常）" (id=11238).
 */
function checkApproval(messages: unknown[], app: App): Refusal | undefined {
  if (app.strongReminder) return undefined;
  const strong = messages.some(
    (message) =>
      isObject(message) && isObject(message.notification) && message.notification.notify_level === 16,
  );
  return strong ? { httpStatus: 200, code: 67 } : undefined;
}

/** The region of a real OPPO URL's host; undefined for a host that is not OPPO's. */
function regionOf(url: string): OppoRegion | undefined {
  try {
    return REGION_OF_HOST.get(new URL(url).host);
  } catch {
    return undefined;
  }
}

function invalid(message: string): Refusal {
  return { httpStatus: 200, code: 41, message: `${MESSAGES[41]}: ${message}` };
}

/** OPPO counts characters, an emoji as one: code points. */
function characters(text: string): number {
  return Array.from(text).length;
}

function fits(value: unknown, limit: number, minimum = 0): boolean {
  return typeof value === "string" && characters(value) >= minimum && characters(value) <= limit;
}

/** The code a fault names: its reason when that is a number ("55", "OPPO 67"), else its status's. */
function faultCode(fault: FaultRule): number | undefined {
  const named = /-?\d+/.exec(fault.reason ?? "")?.[0];
  return named !== undefined ? Number(named) : FAULT_CODES[fault.status];
}

/**
 * Codes below 10000 are answered for the whole request, as OPPO does: one envelope for the batch. A
 * 5xx fault answers with that HTTP status; OPPO's other refusals come with HTTP 200.
 */
function faultRefusal(fault: FaultRule | undefined): Refusal | undefined {
  if (fault === undefined || fault.status === 200) return undefined;
  const code = faultCode(fault);
  if (code === undefined || code >= 10000) return undefined;
  return {
    httpStatus: fault.status >= 500 ? fault.status : 200,
    code,
    ...(fault.retryAfter !== undefined && { retryAfter: fault.retryAfter }),
  };
}

/** Business codes (10000–20000) are answered per registration_id inside the batch's `data`. */
function faultItem(fault: FaultRule | undefined): ItemAnswer {
  if (fault === undefined || fault.status === 200) return undefined;
  const code = faultCode(fault);
  if (code === undefined || code < 10000) return undefined;
  return { errorCode: code, errorMessage: MESSAGES[code] ?? "Business Error" };
}

/**
 * Counts the messages OPPO would accept against the app's daily limit (reset at midnight Beijing time).
 * Once the day's limit is used up the whole request gets 33; a batch that crosses it has its messages
 * past the limit answered 33 one by one (how OPPO splits such a batch is UNCONFIRMED).
 */
function countAgainstDailyQuota(
  items: ItemAnswer[],
  quota: BeijingDailyQuota,
  appKey: string,
): ItemAnswer[] | Refusal {
  let room = quota.remaining(appKey);
  if (room <= 0) return { httpStatus: 200, code: 33 };
  const counted = items.map((item): ItemAnswer => {
    if (item !== undefined) return item;
    if (room <= 0) return { errorCode: 33, errorMessage: MESSAGES[33]! };
    room -= 1;
    return undefined;
  });
  quota.charge(counted.filter((item) => item === undefined).length, appKey);
  return counted;
}

function recordedMessage(message: unknown): unknown {
  if (!isObject(message) || !isObject(message.notification)) return message;
  const parameters = message.notification.action_parameters;
  if (typeof parameters !== "string") return message;
  return { ...message, notification: { ...message.notification, action_parameters: parseOrRaw(parameters) } };
}

function writeEnvelope(response: ServerResponse, refusal: Refusal, data?: unknown): void {
  const { httpStatus, code, message, retryAfter } = refusal;
  const envelope = { code, message: message ?? MESSAGES[code] ?? "", ...(data !== undefined && { data }) };
  writeJson(response, httpStatus, envelope, retryAfterHeader(retryAfter));
}
