import { randomBytes, randomInt, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import type { HonorCredential } from "../../lib/vendors/credentials.js";
import { HONOR_DAILY_QUOTA_CODE } from "../../lib/vendors/honor-outcomes.js";
import type { FaultRule, SimulatorHub } from "./hub.js";
import { isObject, parseOrRaw, readBody } from "./wire.js";

export interface HonorSimulatorOptions {
  hub: SimulatorHub;
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 or absent = any free port. */
  port?: number;
}

export interface HonorSimulator {
  /** Plain-HTTP base URL for `HonorCredential.endpoint.url`: serves both /auth/token and sendMessage. */
  url: string;
  /** Registers an app's client id and secret, as creating the app in Honor's console does. */
  addApp(credential: Pick<HonorCredential, "appId" | "clientId" | "clientSecret">): void;
  /** Makes every access token issued so far expire now, as if an hour had passed. */
  expireAccessTokens(): void;
  /** After this many accepted tokens per Beijing day, sends get the daily-quota answer; undefined = none. */
  setDailyQuota(tokensPerDay: number | undefined): void;
  /** TCP connections accepted, access tokens issued and sendMessage requests received so far. */
  stats(): { connections: number; tokensIssued: number; sendRequests: number };
  close(): Promise<void>;
}

/** vendors.md §8 "Auth": tokens live an hour. */
const ACCESS_TOKEN_SECONDS = 3600;
const SEND_PATH = /^\/api\/v1\/([^/?]+)\/sendMessage$/;
/** UNCONFIRMED (vendors.md §8), as HonorSender assumes: Huawei's 1000. */
const MAX_TOKENS = 1000;
/** Tencent's limits for Honor (tencent-chat.md §4.4), the only published ones. */
const TITLE_LIMIT = 50;
const BODY_LIMIT = 400;
/** 15 days (zandala88/honor-push model.go; Huawei's documented maximum). */
const MAX_TTL_SECONDS = 15 * 24 * 60 * 60;
const TTL_FORMAT = /^\d+(\.\d{1,9})?s$/;
const IMPORTANCES = new Set(["LOW", "NORMAL"]);
const CLICK_TYPES = new Set([1, 2, 3]);
const BEIJING_OFFSET_MS = 8 * 60 * 60 * 1000;
/** Keeps pooled client sockets open between a test's sends, as a real front end does. */
const KEEP_ALIVE_MS = 60_000;

/**
 * Honor's codes as this simulator answers them. Honor's table is UNCONFIRMED (vendors.md §8); these are
 * Huawei's meanings for the same codes (vendors.md §3), which classifyHonor reads the same way.
 */
const CODE = {
  success: 200,
  parameter: 80100001,
  payload: 80100003,
  authError: 80200001,
  authExpired: 80200003,
  allTokensInvalid: 80300007,
  tokenCount: 80300010,
  dailyQuota: HONOR_DAILY_QUOTA_CODE,
  internal: 81000001,
} as const;

const MESSAGES: Readonly<Record<number, string>> = {
  [CODE.parameter]: "Illegal parameter",
  [CODE.payload]: "Illegal payload",
  [CODE.authError]: "Oauth authentication error",
  [CODE.authExpired]: "Oauth Token expired",
  [CODE.allTokensInvalid]: "Token invalid error",
  [CODE.tokenCount]: "The number of tokens does not meet the default value",
  [CODE.dailyQuota]: "The daily push quota of the app is exceeded",
  [CODE.internal]: "Internal system error",
};

interface App {
  appId: string;
  clientSecret: string;
}

interface IssuedToken {
  appId: string;
  expiresAt: number;
}

/** One sendMessage answer before it is written. */
interface Answer {
  httpStatus: number;
  body: unknown;
  headers?: Record<string, string>;
}

/**
 * A local Honor Push: the IAM token endpoint (client credentials) and sendMessage, on one plain HTTP/1.1
 * keep-alive port, routed by path so one base URL serves both. It checks sends the way Honor does as
 * far as vendors.md knows it, answers `{code, message, data}` and records one hub entry per token of
 * each send. The hub's faults apply to sends that pass the checks, so a fault never hides a bad request.
 */
export async function startHonorSimulator(opts: HonorSimulatorOptions): Promise<HonorSimulator> {
  const host = opts.host ?? "127.0.0.1";
  const apps = new Map<string, App>();
  const tokens = new Map<string, IssuedToken>();
  const quota: { limit?: number; day: string; accepted: number } = { day: beijingDay(), accepted: 0 };
  let connections = 0;
  let sendRequests = 0;

  const route = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const body = await readBody(request);
    const path = request.url ?? "";
    if (request.method === "POST" && path === "/auth/token") {
      const grant = grantToken(body, apps);
      if ("access_token" in grant) {
        tokens.set(grant.access_token, {
          appId: grant.appId,
          expiresAt: Date.now() + ACCESS_TOKEN_SECONDS * 1000,
        });
        writeJson(response, 200, {
          access_token: grant.access_token,
          expires_in: ACCESS_TOKEN_SECONDS,
          token_type: "Bearer",
        });
      } else {
        writeJson(response, grant.httpStatus, { error: grant.error, error_description: grant.description });
      }
      return;
    }
    const appId = SEND_PATH.exec(path)?.[1];
    if (request.method !== "POST" || appId === undefined) {
      writeJson(response, 404, { code: 404, message: `Not Found: ${request.method} ${path}` });
      return;
    }
    sendRequests += 1;
    const at = new Date().toISOString();
    const parsed = parseOrRaw(body);
    const targets = isObject(parsed) && Array.isArray(parsed.token) ? parsed.token.map(String) : [];

    let answer =
      authorize(request.headers, decodeURIComponent(appId), tokens) ??
      checkTimestamp(request.headers.timestamp) ??
      validate(parsed);
    if (answer === undefined) {
      const faults = targets.map((token) => ({ token, fault: opts.hub.takeFault("honor", token) }));
      const delayMs = Math.max(0, ...faults.map(({ fault }) => fault?.delayMs ?? 0));
      if (delayMs > 0) await sleep(delayMs);
      const whole = faults.map(({ fault }) => fault && wholeRequestAnswer(fault)).find(Boolean);
      const failTokens = faults.filter(({ fault }) => isTokenFault(fault, 404)).map(({ token }) => token);
      const expireTokens = faults.filter(({ fault }) => isTokenFault(fault, 410)).map(({ token }) => token);
      const accepted = targets.length - failTokens.length - expireTokens.length;
      const day = beijingDay();
      if (quota.day !== day) Object.assign(quota, { day, accepted: 0 });
      if (whole !== undefined) {
        answer = whole;
      } else if (quota.limit !== undefined && quota.accepted + accepted > quota.limit) {
        answer = failure(429, CODE.dailyQuota);
      } else {
        quota.accepted += accepted;
        answer = {
          httpStatus: 200,
          body: {
            code: CODE.success,
            message: "success",
            data: { sendResult: accepted > 0, requestId: requestId(), failTokens, expireTokens },
          },
        };
      }
    }

    for (const token of targets.length > 0 ? targets : [""]) {
      opts.hub.record({
        vendor: "honor",
        token,
        at,
        status: answer.httpStatus,
        request: { headers: recordedHeaders(request.headers), body: parsed },
      });
    }
    writeJson(response, answer.httpStatus, answer.body, answer.headers);
  };

  const server = createServer({ keepAliveTimeout: KEEP_ALIVE_MS }, (request, response) => {
    route(request, response).catch(() => response.destroy());
  });
  server.on("connection", () => {
    connections += 1;
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });

  return {
    url: `http://${host}:${(server.address() as AddressInfo).port}`,
    addApp({ appId, clientId, clientSecret }) {
      apps.set(clientId, { appId, clientSecret });
    },
    expireAccessTokens() {
      for (const token of tokens.values()) token.expiresAt = 0;
    },
    setDailyQuota(tokensPerDay) {
      Object.assign(quota, { limit: tokensPerDay, day: beijingDay(), accepted: 0 });
    },
    stats: () => ({ connections, tokensIssued: tokens.size, sendRequests }),
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Clients keep idle sockets open (as they should); close() would wait for them otherwise.
      server.closeAllConnections();
      await closed;
    },
  };
}

/**
 * An app for the simulator, with random ids and secret in Honor's shapes (numeric app and client ids,
 * a hex client secret).
 */
export function generateHonorCredential(opts: {
  certificateId: number;
  packageName?: string;
  endpointUrl?: string;
}): HonorCredential {
  return {
    certificateId: opts.certificateId,
    packageName: opts.packageName ?? "com.example.chatpush",
    appId: String(randomInt(100_000_000, 1_000_000_000)),
    clientId: String(randomInt(100_000_000, 1_000_000_000)),
    clientSecret: randomBytes(32).toString("hex"),
    ...(opts.endpointUrl !== undefined && { endpoint: { url: opts.endpointUrl } }),
  };
}

type Grant =
  | { access_token: string; appId: string }
  | { httpStatus: number; error: string; description: string };

/**
 * The client-credentials grant. Honor's IAM is Keycloak (its older endpoint is a Keycloak realm,
 * vendors.md §8), so refusals are Keycloak's (UNCONFIRMED for the newer /auth/token).
 */
function grantToken(body: string, apps: ReadonlyMap<string, App>): Grant {
  const form = new URLSearchParams(body);
  const grantType = form.get("grant_type");
  if (grantType === null) {
    return { httpStatus: 400, error: "invalid_request", description: "Missing form parameter: grant_type" };
  }
  if (grantType !== "client_credentials") {
    return { httpStatus: 400, error: "unsupported_grant_type", description: "Unsupported grant_type" };
  }
  const app = apps.get(form.get("client_id") ?? "");
  if (app === undefined) {
    return {
      httpStatus: 401,
      error: "invalid_client",
      description: "Invalid client or Invalid client credentials",
    };
  }
  if (form.get("client_secret") !== app.clientSecret) {
    return { httpStatus: 401, error: "unauthorized_client", description: "Invalid client secret" };
  }
  return { access_token: `honor-local-${randomBytes(24).toString("base64url")}`, appId: app.appId };
}

/** Undefined when the bearer token is one this simulator issued, unexpired, for the path's app. */
function authorize(
  headers: IncomingMessage["headers"],
  appId: string,
  tokens: ReadonlyMap<string, IssuedToken>,
): Answer | undefined {
  const issued = tokens.get(/^Bearer (.+)$/i.exec(headers.authorization ?? "")?.[1] ?? "");
  // Huawei answers a token of another app with the authentication error, not "expired" (vendors.md §3).
  if (issued === undefined || issued.appId !== appId) return failure(401, CODE.authError);
  if (issued.expiresAt <= Date.now()) return failure(401, CODE.authExpired);
  return undefined;
}

/** vendors.md §8 lists the `timestamp` header (epoch ms) among sendMessage's required headers. */
function checkTimestamp(timestamp: string | string[] | undefined): Answer | undefined {
  if (typeof timestamp === "string" && /^\d{13}$/.test(timestamp)) return undefined;
  return failure(400, CODE.parameter, "Illegal parameter: timestamp header must be epoch milliseconds");
}

/** sendMessage's body checks, in the order a request meets them; undefined when Honor would accept it. */
function validate(body: unknown): Answer | undefined {
  if (!isObject(body)) return failure(400, CODE.payload, "Illegal payload: the body is not a JSON object");
  const { token, notification, android } = body;
  if (!Array.isArray(token) || token.length === 0 || token.length > MAX_TOKENS) {
    return failure(400, CODE.tokenCount, `${MESSAGES[CODE.tokenCount]}: 1 to ${MAX_TOKENS} tokens`);
  }
  if (!token.every((t) => typeof t === "string" && t !== "")) {
    return failure(400, CODE.parameter, "Illegal parameter: token must hold non-empty strings");
  }
  if (notification !== undefined && !isObject(notification)) return payload("notification must be an object");
  if (android !== undefined && !isObject(android)) return payload("android must be an object");
  const androidNotification = android?.notification;
  if (androidNotification !== undefined && !isObject(androidNotification)) {
    return payload("android.notification must be an object");
  }
  const isNotification = notification !== undefined || androidNotification !== undefined;

  for (const [field, value] of [
    ["data", body.data],
    ["android.data", android?.data],
  ] as const) {
    if (value === undefined) continue;
    if (typeof value !== "string") return payload(`${field} must be a string`);
    // A notification message's data must be a JSON string; only pass-through messages may carry text.
    if (isNotification && !isObject(parseOrRaw(value)))
      return payload(`${field} must be a JSON object string`);
  }
  if (!isNotification) {
    return body.data === undefined && android?.data === undefined
      ? payload("no notification and no data")
      : undefined;
  }

  const title = androidNotification?.title ?? notification?.title;
  const text = androidNotification?.body ?? notification?.body;
  if (typeof title !== "string" || title === "") return payload("notification title is required");
  if (typeof text !== "string" || text === "") return payload("notification body is required");
  for (const [field, value, limit] of [
    ["notification.title", notification?.title, TITLE_LIMIT],
    ["notification.body", notification?.body, BODY_LIMIT],
    ["android.notification.title", androidNotification?.title, TITLE_LIMIT],
    ["android.notification.body", androidNotification?.body, BODY_LIMIT],
  ] as const) {
    if (value === undefined) continue;
    if (typeof value !== "string") return payload(`${field} must be a string`);
    if (value.length > limit) return payload(`${field} is longer than ${limit} characters`);
  }

  const ttl = android?.ttl;
  if (ttl !== undefined) {
    if (typeof ttl !== "string" || !TTL_FORMAT.test(ttl))
      return payload(`android.ttl "${String(ttl)}" is not "NNNs"`);
    if (Number.parseFloat(ttl) > MAX_TTL_SECONDS) return payload(`android.ttl exceeds ${MAX_TTL_SECONDS}s`);
  }
  const targetUserType = android?.targetUserType;
  if (targetUserType !== undefined && targetUserType !== 0 && targetUserType !== 1) {
    return payload("android.targetUserType must be 0 or 1");
  }
  return androidNotification === undefined ? undefined : validateAndroidNotification(androidNotification);
}

function validateAndroidNotification(n: Record<string, unknown>): Answer | undefined {
  const click = n.clickAction;
  // vendors.md §8 / model.go: clickAction is required on an Android notification message.
  if (!isObject(click)) return payload("android.notification.clickAction is required");
  if (typeof click.type !== "number" || !CLICK_TYPES.has(click.type)) {
    return payload("android.notification.clickAction.type must be 1, 2 or 3");
  }
  if (click.type === 1 && !isText(click.intent) && !isText(click.action)) {
    return payload("clickAction type 1 needs an intent or an action");
  }
  if (click.type === 2 && !(typeof click.url === "string" && click.url.startsWith("https://"))) {
    return payload("clickAction type 2 needs an https url");
  }
  if (n.importance !== undefined && !IMPORTANCES.has(String(n.importance))) {
    return payload(`android.notification.importance "${String(n.importance)}" is not LOW or NORMAL`);
  }
  const badge = n.badge;
  if (badge !== undefined) {
    if (!isObject(badge) || !isText(badge.badgeClass)) return payload("badge.badgeClass is required");
    if (badge.setNum !== undefined && !isIntegerIn(badge.setNum, 0, 99)) {
      return payload("badge setNum value ranges from 0 to 99");
    }
    if (badge.addNum !== undefined && !isIntegerIn(badge.addNum, 1, 99)) {
      return payload("badge addNum value ranges from 1 to 99");
    }
  }
  if (n.notifyId !== undefined && !isIntegerIn(n.notifyId, -1, 0x7fffffff)) {
    return payload("android.notification.notifyId must be an int");
  }
  if (n.tag !== undefined && typeof n.tag !== "string")
    return payload("android.notification.tag must be a string");
  return undefined;
}

/**
 * The answer a fault makes for the whole request, or undefined for a per-token fault: Honor names dead
 * tokens one by one (404 → data.failTokens, 410 → data.expireTokens) in an otherwise successful answer.
 */
function wholeRequestAnswer(fault: FaultRule): Answer | undefined {
  const retryAfter = fault.retryAfter !== undefined ? { "retry-after": String(fault.retryAfter) } : undefined;
  if (fault.reason !== undefined && /^\d+$/.test(fault.reason)) {
    return failure(fault.status, Number(fault.reason), undefined, retryAfter);
  }
  switch (fault.status) {
    case 200:
    case 404:
    case 410:
      return undefined;
    case 400:
      return failure(400, CODE.parameter);
    case 401:
      return failure(401, CODE.authExpired);
    case 429:
      return failure(429, CODE.dailyQuota);
    default:
      return failure(fault.status, CODE.internal, undefined, retryAfter);
  }
}

function isTokenFault(fault: FaultRule | undefined, status: 404 | 410): boolean {
  return fault?.status === status && !(fault.reason !== undefined && /^\d+$/.test(fault.reason));
}

function failure(
  httpStatus: number,
  code: number,
  message?: string,
  headers?: Record<string, string>,
): Answer {
  return {
    httpStatus,
    body: { code, message: message ?? MESSAGES[code] ?? "Error" },
    ...(headers !== undefined && { headers }),
  };
}

function payload(detail: string): Answer {
  return failure(400, CODE.payload, `${MESSAGES[CODE.payload]}, ${detail}`);
}

function isText(value: unknown): value is string {
  return typeof value === "string" && value !== "";
}

function isIntegerIn(value: unknown, min: number, max: number): boolean {
  return Number.isInteger(value) && (value as number) >= min && (value as number) <= max;
}

/** Daily quotas reset at midnight Beijing time. */
function beijingDay(): string {
  return new Date(Date.now() + BEIJING_OFFSET_MS).toISOString().slice(0, 10);
}

function requestId(): string {
  return randomUUID().replaceAll("-", "");
}

function writeJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, { "content-type": "application/json;charset=UTF-8", ...headers });
  response.end(JSON.stringify(body));
}

/** Node lower-cases header names already; the bearer token is never stored. */
function recordedHeaders(headers: IncomingMessage["headers"]): Record<string, string> {
  const recorded: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    recorded[name] = name === "authorization" ? "Bearer <redacted>" : [value].flat().join(", ");
  }
  return recorded;
}
