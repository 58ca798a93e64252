import { randomBytes, randomInt, randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { HonorCredential } from "../../lib/vendors/credentials.js";
import { REAL_URL_HEADER } from "../../lib/vendors/endpoint.js";
import { HONOR_DAILY_QUOTA_CODE } from "../../lib/vendors/honor-outcomes.js";
import { type GeneratedCredentialOptions, generatedCredential } from "./credentials.js";
import { retryAfterHeader, takeFaultsAndWait } from "./faults.js";
import { type JsonAnswer, type SimulatorOptions, startSimulatorServer, writeJson } from "./http-server.js";
import { type FaultRule, recordPerTarget } from "./hub.js";
import { BeijingDailyQuota } from "./quota.js";
import { AccessTokenBook } from "./tokens.js";
import { bearerToken, isObject, parseOrRaw, readBody, recordedHeaders } from "./wire.js";

export type HonorSimulatorOptions = SimulatorOptions;

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
/** Honor Push's own host (vendors.md §8): what a request names in REAL_URL_HEADER, or is taken to reach. */
const PUSH_HOST = "https://push-api.cloud.honor.com";
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
/** Node lower-cases header names already; the bearer token is never stored. */
const REDACTED_HEADERS = { authorization: "Bearer <redacted>" };

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

/** One sendMessage answer before it is written. */
type Answer = JsonAnswer;

/**
 * A local Honor Push: the IAM token endpoint (client credentials) and sendMessage, on one plain HTTP/1.1
 * keep-alive port, routed by path so one base URL serves both. It checks sends the way Honor does as
 * far as vendors.md knows it, answers `{code, message, data}` and records one hub entry per token of
 * each send. The hub's faults apply to sends that pass the checks, so a fault never hides a bad request.
 */
export async function startHonorSimulator(opts: HonorSimulatorOptions): Promise<HonorSimulator> {
  const apps = new Map<string, App>();
  /** Access tokens, each for the app (appId) whose client credentials got it. */
  const tokens = new AccessTokenBook(ACCESS_TOKEN_SECONDS);
  /** One count for the simulator; daily quotas reset at midnight Beijing time. */
  const quota = new BeijingDailyQuota();
  let sendRequests = 0;

  const server = await startSimulatorServer(opts, async (request, response) => {
    const body = await readBody(request);
    const path = request.url ?? "";
    if (request.method === "POST" && path === "/auth/token") {
      const grant = grantToken(body, apps);
      if ("access_token" in grant) {
        writeJson(response, 200, tokens.grantBearer(grant.access_token, grant.appId));
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

    const named = request.headers[REAL_URL_HEADER];
    const endpoint = typeof named === "string" ? named : `${PUSH_HOST}${path}`;
    let answer =
      wrongHost(endpoint, path) ??
      authorize(request.headers, decodeURIComponent(appId), tokens) ??
      checkTimestamp(request.headers.timestamp) ??
      validate(parsed);
    let faults: (FaultRule | undefined)[] = [];
    if (answer === undefined) {
      faults = await takeFaultsAndWait(opts.hub, "honor", targets);
      const whole = faults.map((fault) => fault && wholeRequestAnswer(fault)).find(Boolean);
      const failTokens = targets.filter((_, index) => isTokenFault(faults[index], 404));
      const expireTokens = targets.filter((_, index) => isTokenFault(faults[index], 410));
      const accepted = targets.length - failTokens.length - expireTokens.length;
      if (whole !== undefined) {
        answer = whole;
      } else if (!quota.tryCharge(accepted)) {
        answer = failure(429, CODE.dailyQuota);
      } else {
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

    recordPerTarget(
      opts.hub,
      targets,
      {
        vendor: "honor",
        at,
        status: answer.httpStatus,
        request: { headers: recordedHeaders(request.headers, REDACTED_HEADERS), body: parsed },
        endpoint,
      },
      faults,
    );
    writeJson(response, answer.httpStatus, answer.body, answer.headers);
  });

  return {
    url: server.url,
    addApp({ appId, clientId, clientSecret }) {
      apps.set(clientId, { appId, clientSecret });
    },
    expireAccessTokens: () => tokens.expireAll(),
    setDailyQuota: (tokensPerDay) => quota.restart(tokensPerDay),
    stats: () => ({ connections: server.connections(), tokensIssued: tokens.issued, sendRequests }),
    close: () => server.close(),
  };
}

/**
 * An app for the simulator, with random ids and secret in Honor's shapes (numeric app and client ids,
 * a hex client secret).
 */
export function generateHonorCredential(opts: GeneratedCredentialOptions): HonorCredential {
  return generatedCredential(opts, {
    appId: String(randomInt(100_000_000, 1_000_000_000)),
    clientId: String(randomInt(100_000_000, 1_000_000_000)),
    clientSecret: randomBytes(32).toString("hex"),
  });
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

/**
 * A request whose real URL is not Honor's push host and the path it was sent to (the older hihonor host,
 * a Huawei-style path) would never have reached Honor Push: answered as a front end answers an unknown
 * address.
 */
function wrongHost(endpoint: string, path: string): Answer | undefined {
  if (endpoint === `${PUSH_HOST}${path}`) return undefined;
  return {
    httpStatus: 404,
    body: { code: 404, message: `Not Found: Honor Push is ${PUSH_HOST}, not ${endpoint}` },
  };
}

/** Undefined when the bearer token is one this simulator issued, unexpired, for the path's app. */
function authorize(
  headers: IncomingMessage["headers"],
  appId: string,
  tokens: AccessTokenBook,
): Answer | undefined {
  const issued = tokens.lookup(bearerToken(headers.authorization));
  // Huawei answers a token of another app with the authentication error, not "expired" (vendors.md §3).
  if (issued === undefined || issued.owner !== appId) return failure(401, CODE.authError);
  if (issued.expired) return failure(401, CODE.authExpired);
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
  if (n.group !== undefined && typeof n.group !== "string")
    return payload("android.notification.group must be a string");
  // model.go `Image`: "the URL must use HTTPS".
  if (n.image !== undefined && !(typeof n.image === "string" && n.image.startsWith("https://"))) {
    return payload("android.notification.image must be an https URL");
  }
  return undefined;
}

/**
 * The answer a fault makes for the whole request, or undefined for a per-token fault: Honor names dead
 * tokens one by one (404 → data.failTokens, 410 → data.expireTokens) in an otherwise successful answer.
 */
function wholeRequestAnswer(fault: FaultRule): Answer | undefined {
  const retryAfter = retryAfterHeader(fault.retryAfter);
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

function requestId(): string {
  return randomUUID().replaceAll("-", "");
}
