import { randomBytes, randomInt } from "node:crypto";
import type { HuaweiCredential } from "../../lib/vendors/credentials.js";
import { REAL_URL_HEADER } from "../../lib/vendors/endpoint.js";
import { type GeneratedCredentialOptions, generatedCredential } from "./credentials.js";
import { retryAfterHeader, takeFaultsAndWait } from "./faults.js";
import { type JsonAnswer, type SimulatorOptions, startSimulatorServer, writeJson } from "./http-server.js";
import { type FaultRule, recordPerTarget } from "./hub.js";
import { AccessTokenBook } from "./tokens.js";
import { bearerToken, isObject, parseOrRaw, readBody, recordedHeaders } from "./wire.js";

export type HuaweiSimulatorOptions = SimulatorOptions;

export interface HuaweiSimulator {
  /** Plain-HTTP base URL for `HuaweiCredential.endpoint.url`: it serves both OAuth and messages:send. */
  url: string;
  /** Registers an app's id and secret, as creating the app in AppGallery Connect does. */
  addApp(credential: Pick<HuaweiCredential, "appId" | "clientSecret">): void;
  /** Makes every access token issued so far expire now, as if an hour had passed. */
  expireAccessTokens(): void;
  /** TCP connections accepted and access tokens issued so far. */
  stats(): { connections: number; tokensIssued: number };
  close(): Promise<void>;
}

/** Huawei's OAuth access tokens live an hour (vendors.md §3 "Auth"). */
const ACCESS_TOKEN_SECONDS = 3600;
const TOKEN_PATHS = new Set(["/oauth2/v3/token", "/oauth2/v2/token"]);
const SEND_PATH = /^\/v1\/([^/]+)\/messages:send$/;
/** Push Kit's own host (vendors.md §3): what a request names in REAL_URL_HEADER, or is taken to reach. */
const PUSH_HOST = "https://push-api.cloud.huawei.com";
/** Limits and values Push Kit checks (vendors.md §3 "Message JSON" and "Limits"). */
const MESSAGE_LIMIT_BYTES = 4096;
const MAX_TOKENS = 1000;
const MAX_TTL_SECONDS = 15 * 24 * 60 * 60;
const CATEGORIES = new Set([
  "IM",
  "VOIP",
  "SUBSCRIPTION",
  "TRAVEL",
  "HEALTH",
  "WORK",
  "ACCOUNT",
  "EXPRESS",
  "FINANCE",
  "DEVICE_REMINDER",
  "SYSTEM_REMINDER",
  "MAIL",
  "PLAY_VOICE",
  "MARKETING",
]);
const IMPORTANCES = new Set(["LOW", "NORMAL", "HIGH"]);
const URGENCIES = new Set(["HIGH", "NORMAL"]);
const VISIBILITIES = new Set(["VISIBILITY_UNSPECIFIED", "PRIVATE", "PUBLIC", "SECRET"]);
/** "86400s", "3.5s" or a bare number of seconds (Huawei's documented ttl pattern). */
const TTL_FORMAT = /^(\d+(\.\d{1,9})?)[sS]?$/;
/** Node lower-cases header names already; the access token is never stored. */
const REDACTED_HEADERS = { authorization: "Bearer <redacted>" };

/** Push Kit's `msg` for the codes the simulator answers (Huawei's error-code pages). */
const MESSAGES: Readonly<Record<string, string>> = {
  "80000000": "Success",
  "80100001": "Check Parameter Error.",
  "80100003": "Illegal payload",
  "80100004": "Illegal expire time.",
  "80200001": "Oauth authentication error",
  "80200003": "Oauth Token expired",
  "80300002": "No permission to send message to these tokens.",
  "80300007": "All the tokens are invalid.",
  "80300008": "Push message size is too long.",
  "80300010": `token count should within 1 and ${MAX_TOKENS}.`,
  "80300011": "No permission to send high level message.",
  "81000001": "Inner Error.",
};

interface App {
  clientSecret: string;
}

/** One answer of messages:send, before it is written. */
type Answer = JsonAnswer<Record<string, unknown>>;

/**
 * A local Huawei Push Kit: the OAuth 2.0 token endpoint (client_credentials, checked against the apps
 * added) and v1 messages:send, on one plain HTTP/1.1 port with keep-alive, routed by path. It checks
 * sends the way Push Kit does, answers with Huawei's codes and records one delivery per token in the
 * hub; the hub's faults apply to sends that pass the checks, so a fault never hides a malformed request.
 */
export async function startHuaweiSimulator(opts: HuaweiSimulatorOptions): Promise<HuaweiSimulator> {
  const apps = new Map<string, App>();
  /** Access tokens, each for the app whose credentials got it. */
  const tokens = new AccessTokenBook(ACCESS_TOKEN_SECONDS);

  const server = await startSimulatorServer(opts, async (request, response) => {
    const body = await readBody(request);
    const path = request.url ?? "";
    if (request.method === "POST" && TOKEN_PATHS.has(path)) {
      const grant = grantToken(body, apps);
      if ("access_token" in grant) {
        writeJson(response, 200, tokens.grantBearer(grant.access_token, grant.appId));
      } else {
        writeJson(response, 400, grant);
      }
      return;
    }
    const pathAppId = SEND_PATH.exec(path)?.[1];
    if (request.method !== "POST" || pathAppId === undefined) {
      writeJson(response, 404, { error: "Not Found", path });
      return;
    }
    const appId = decodeURIComponent(pathAppId);

    const at = new Date().toISOString();
    const parsed = parseOrRaw(body);
    const targets = tokensOf(parsed);
    const named = request.headers[REAL_URL_HEADER];
    const endpoint = typeof named === "string" ? named : `${PUSH_HOST}${path}`;
    let rules: (FaultRule | undefined)[] = [];
    let answer =
      wrongHost(endpoint, path) ??
      authorize(request.headers.authorization, appId, tokens) ??
      validate(parsed);
    if (answer === undefined) {
      rules = await takeFaultsAndWait(opts.hub, "huawei", targets);
      answer = answerWithFaults(targets, rules);
    }

    recordPerTarget(
      opts.hub,
      targets,
      {
        vendor: "huawei",
        at,
        status: answer.httpStatus,
        request: { headers: recordedHeaders(request.headers, REDACTED_HEADERS), body: parsed },
        endpoint,
      },
      rules,
    );
    writeJson(response, answer.httpStatus, { ...answer.body, requestId: requestId() }, answer.headers);
  });

  return {
    url: server.url,
    addApp({ appId, clientSecret }) {
      apps.set(appId, { clientSecret });
    },
    expireAccessTokens: () => tokens.expireAll(),
    stats: () => ({ connections: server.connections(), tokensIssued: tokens.issued }),
    close: () => server.close(),
  };
}

/**
 * An app for the simulator: a 9-digit AppGallery Connect app id and a 64-hex-digit app secret, as the
 * console shows them.
 */
export function generateHuaweiCredential(opts: GeneratedCredentialOptions): HuaweiCredential {
  return generatedCredential(opts, {
    appId: String(100_000_000 + randomInt(900_000_000)),
    clientSecret: randomBytes(32).toString("hex"),
  });
}

type Grant =
  | { access_token: string; appId: string }
  | { error: number; error_description: string; sub_error: number };

/**
 * The client_credentials grant as Huawei's OAuth endpoint checks it. Its refusals are HTTP 400 with
 * {error, error_description, sub_error}; an unknown client id gets the wrong-secret answer, since there
 * is no secret it could match. client_credentials carries no timestamp, so nothing can be stale.
 */
function grantToken(body: string, apps: ReadonlyMap<string, App>): Grant {
  const form = new URLSearchParams(body);
  const clientId = form.get("client_id");
  const clientSecret = form.get("client_secret");
  if (form.get("grant_type") !== "client_credentials" || !clientId || !clientSecret) {
    return { error: 1101, error_description: "parameter invalid", sub_error: 20003 };
  }
  if (apps.get(clientId)?.clientSecret !== clientSecret) {
    return { error: 1101, error_description: "invalid client_secret", sub_error: 12304 };
  }
  return { access_token: `CgB6e3x9${randomBytes(48).toString("base64")}`, appId: clientId };
}

/**
 * A request whose real URL is not Push Kit's host and the path it was sent to (an old or mistyped host)
 * would never have reached Push Kit: answered as a front end answers an unknown address.
 */
function wrongHost(endpoint: string, path: string): Answer | undefined {
  if (endpoint === `${PUSH_HOST}${path}`) return undefined;
  return { httpStatus: 404, body: { msg: `Not Found: Push Kit is ${PUSH_HOST}, not ${endpoint}` } };
}

/** Push Kit checks the access token before the body: an unknown or foreign token is 80200001. */
function authorize(
  authorization: string | undefined,
  appId: string,
  tokens: AccessTokenBook,
): Answer | undefined {
  const issued = tokens.lookup(bearerToken(authorization));
  if (issued === undefined || issued.owner !== appId) return huawei(401, "80200001");
  if (issued.expired) return huawei(401, "80200003");
  return undefined;
}

/** The tokens a send names, as far as they can be read (for faults and the record). */
function tokensOf(body: unknown): string[] {
  const token = isObject(body) && isObject(body.message) ? body.message.token : undefined;
  return Array.isArray(token) ? token.filter((t): t is string => typeof t === "string") : [];
}

/** Push Kit's checks of a send body, in the order a request meets them; undefined when it would pass. */
function validate(body: unknown): Answer | undefined {
  if (!isObject(body)) return huawei(400, "80100003", "Illegal payload, the body is not a JSON object.");
  if (body.validate_only !== undefined && typeof body.validate_only !== "boolean") {
    return huawei(400, "80100003", "Illegal payload, validate_only must be a boolean.");
  }
  const message = body.message;
  if (!isObject(message)) return huawei(400, "80100003", "Illegal payload, message is required.");
  const targets = ["token", "topic", "condition"].filter((key) => message[key] !== undefined);
  if (targets.length > 1) {
    return huawei(400, "80100003", "Illegal payload, only one of token, topic and condition may be set.");
  }
  if (targets.length === 0) return huawei(400, "80300010");
  if (message.token !== undefined) {
    if (!Array.isArray(message.token))
      return huawei(400, "80100003", "Illegal payload, token must be an array.");
    if (message.token.length === 0 || message.token.length > MAX_TOKENS) return huawei(400, "80300010");
    if (message.token.some((token) => typeof token !== "string" || token === "")) {
      return huawei(400, "80100001", "Check Parameter Error. token must be non-empty strings.");
    }
  }
  // Huawei counts the message without its tokens (code 80300008).
  const size = Buffer.byteLength(JSON.stringify({ ...body, message: { ...message, token: [] } }));
  if (size > MESSAGE_LIMIT_BYTES) return huawei(400, "80300008");

  const android = message.android;
  if (android !== undefined && !isObject(android)) {
    return huawei(400, "80100003", "Illegal payload, android must be an object.");
  }
  const androidNotification = android?.notification;
  if (androidNotification !== undefined && !isObject(androidNotification)) {
    return huawei(400, "80100003", "Illegal payload, android.notification must be an object.");
  }
  const notification = message.notification;
  if (notification !== undefined && !isObject(notification)) {
    return huawei(400, "80100003", "Illegal payload, notification must be an object.");
  }
  const isNotification = notification !== undefined || androidNotification !== undefined;

  if (message.data !== undefined) {
    if (typeof message.data !== "string")
      return huawei(400, "80100003", "Illegal payload, data must be a string.");
    // A notification message's data must be a JSON object string; a data message's may be any text.
    if (isNotification && !isObject(parseOrRaw(message.data))) {
      return huawei(
        400,
        "80100003",
        "Illegal payload, data must be a JSON string for notification messages.",
      );
    }
  }
  if (!isNotification && message.data === undefined) {
    return huawei(400, "80100003", "Illegal payload, no notification and no data.");
  }
  if (android !== undefined) {
    const problem = checkAndroid(android);
    if (problem !== undefined) return problem;
  }
  if (isNotification) {
    const title = androidNotification?.title ?? notification?.title;
    const text = androidNotification?.body ?? notification?.body;
    if (typeof title !== "string" || title === "" || typeof text !== "string" || text === "") {
      return huawei(400, "80100003", "Illegal payload, a notification needs a title and a body.");
    }
    const problem = checkAndroidNotification(androidNotification ?? {});
    if (problem !== undefined) return problem;
  }
  return undefined;
}

function checkAndroid(android: Record<string, unknown>): Answer | undefined {
  const invalid = (field: string) =>
    huawei(400, "80100001", `Check Parameter Error. Invalid android.${field}.`);
  if (android.category !== undefined && !CATEGORIES.has(String(android.category))) return invalid("category");
  if (android.urgency !== undefined && !URGENCIES.has(String(android.urgency))) return invalid("urgency");
  if (android.collapse_key !== undefined && !isIntegerIn(android.collapse_key, -1, 100)) {
    return huawei(400, "80100013", "collapse_key is invalid.");
  }
  if (android.target_user_type !== undefined && !isIntegerIn(android.target_user_type, 0, 1)) {
    return invalid("target_user_type");
  }
  if (android.ttl !== undefined) {
    const seconds = TTL_FORMAT.exec(String(android.ttl))?.[1];
    if (typeof android.ttl !== "string" || seconds === undefined) return invalid("ttl");
    if (Number(seconds) <= 0) return huawei(400, "80100004");
    if (Number(seconds) > MAX_TTL_SECONDS) return invalid("ttl");
  }
  return undefined;
}

function checkAndroidNotification(notification: Record<string, unknown>): Answer | undefined {
  const invalid = (field: string) =>
    huawei(400, "80100001", `Check Parameter Error. Invalid android.notification.${field}.`);
  // click_action is required for an Android notification message (vendors.md §3).
  const click = notification.click_action;
  if (!isObject(click)) return huawei(400, "80100003", "Illegal payload, click_action is required.");
  if (click.type === 1) {
    const hasIntent = typeof click.intent === "string" && click.intent !== "";
    const hasAction = typeof click.action === "string" && click.action !== "";
    if (!hasIntent && !hasAction) return invalid("click_action.intent");
  } else if (click.type === 2) {
    if (typeof click.url !== "string" || !click.url.startsWith("https://"))
      return invalid("click_action.url");
  } else if (click.type !== 3) {
    return invalid("click_action.type");
  }
  if (notification.importance !== undefined && !IMPORTANCES.has(String(notification.importance))) {
    return invalid("importance");
  }
  if (notification.visibility !== undefined && !VISIBILITIES.has(String(notification.visibility))) {
    return invalid("visibility");
  }
  // Huawei's SDK refuses an image that is not HTTPS (hms-push-serverdemo-java AndroidNotification.check).
  if (
    notification.image !== undefined &&
    !(typeof notification.image === "string" && notification.image.startsWith("https://"))
  ) {
    return invalid("image");
  }
  for (const field of ["channel_id", "tag", "sound", "group", "icon"]) {
    if (notification[field] !== undefined && typeof notification[field] !== "string") return invalid(field);
  }
  if (notification.default_sound !== undefined && typeof notification.default_sound !== "boolean") {
    return invalid("default_sound");
  }
  if (notification.notify_id !== undefined && !isIntegerIn(notification.notify_id, -1, 2 ** 31 - 1)) {
    return invalid("notify_id");
  }
  if (notification.style !== undefined && ![0, 1, 3].includes(notification.style as number)) {
    return invalid("style");
  }
  const badge = notification.badge;
  if (badge !== undefined) {
    if (!isObject(badge) || typeof badge.class !== "string" || badge.class === "")
      return invalid("badge.class");
    if (badge.set_num !== undefined && !isIntegerIn(badge.set_num, 0, 99)) return invalid("badge.set_num");
    if (badge.add_num !== undefined && !isIntegerIn(badge.add_num, 1, 99)) return invalid("badge.add_num");
  }
  return undefined;
}

function isIntegerIn(value: unknown, min: number, max: number): boolean {
  return typeof value === "number" && Number.isInteger(value) && value >= min && value <= max;
}

/**
 * Huawei's answer to a multicast whose tokens took these faults, one per token. A 404/410 fault without
 * a Push Kit code makes only that token illegal (listed in an 80100000 answer; every token of the
 * request illegal is Huawei's 80300007); any other fault, an explicit code such as "80300007"
 * included, answers for the whole request.
 */
function answerWithFaults(targets: readonly string[], rules: readonly (FaultRule | undefined)[]): Answer {
  const faults = targets.map((token, index) => ({ token, fault: rules[index] }));

  const illegal = faults
    .filter(({ fault }) => fault !== undefined && isTokenFault(fault))
    .map((f) => f.token);
  const whole = faults.find(
    ({ fault }) => fault !== undefined && fault.status !== 200 && !isTokenFault(fault),
  );
  if (whole?.fault !== undefined) return faultAnswer(whole.fault);
  if (illegal.length === 0) return huawei(200, "80000000");
  if (illegal.length === targets.length) return huawei(400, "80300007");
  // The partial-success answer: msg is a JSON *string* (vendors.md §3).
  const msg = JSON.stringify({
    success: targets.length - illegal.length,
    failure: illegal.length,
    illegal_tokens: illegal,
  });
  return { httpStatus: 200, body: { code: "80100000", msg } };
}

function isTokenFault(fault: FaultRule): boolean {
  if (fault.reason !== undefined && /^\d{8}$/.test(fault.reason)) return false;
  return fault.status === 404 || fault.status === 410;
}

function faultAnswer(fault: FaultRule): Answer {
  const withRetryAfter = (answer: Answer): Answer => ({
    ...answer,
    headers: { ...answer.headers, ...retryAfterHeader(fault.retryAfter) },
  });
  if (fault.reason !== undefined && /^\d{8}$/.test(fault.reason)) {
    return withRetryAfter(huawei(statusOfCode(fault.reason), fault.reason));
  }
  switch (fault.status) {
    case 401:
      return huawei(401, "80200003");
    case 429:
      // Huawei documents no 429 (its flow control is 503): what a front end would send, without a code.
      return withRetryAfter({ httpStatus: 429, body: { msg: "Too Many Requests" } });
    case 400:
      return huawei(400, "80100003", "Illegal payload, rejected by a simulated fault.");
    case 500:
      return withRetryAfter(huawei(500, "81000001"));
    default:
      // 503 is Huawei's flow control (QPS exceeded); like other gateway answers it carries no Push Kit code.
      return withRetryAfter({
        httpStatus: fault.status,
        body: { msg: fault.status === 503 ? "Flow control" : (fault.reason ?? "Simulated fault") },
      });
  }
}

/**
 * The HTTP status Huawei pairs with a code. UNCONFIRMED per code: Huawei documents "HTTP 200 in most
 * cases" with 400/401/500 also used; auth codes go with 401 and the internal error with 500.
 */
function statusOfCode(code: string): number {
  if (code === "80000000" || code === "80100000") return 200;
  if (code.startsWith("802")) return 401;
  if (code === "81000001") return 500;
  return 400;
}

function huawei(httpStatus: number, code: string, msg?: string): Answer {
  return { httpStatus, body: { code, msg: msg ?? MESSAGES[code] ?? "Simulated fault" } };
}

/** Huawei's requestIds are long digit strings. */
function requestId(): string {
  return `${Date.now()}${String(randomInt(1_000_000)).padStart(6, "0")}`;
}
