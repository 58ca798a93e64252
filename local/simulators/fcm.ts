import { createPublicKey, generateKeyPairSync, type KeyObject, randomBytes, verify } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import {
  createSecureServer,
  type Http2ServerRequest,
  type Http2ServerResponse,
  type Http2Session,
} from "node:http2";
import type { AddressInfo, Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import forge from "node-forge";
import type { FcmCredential } from "../../lib/vendors/credentials.js";
import { REAL_URL_HEADER } from "../../lib/vendors/endpoint.js";
import { retryAfterHeader, takeFaultAndWait } from "./faults.js";
import type { SimulatorServerOptions } from "./http-server.js";
import type { FaultRule, SimulatorHub } from "./hub.js";
import { AccessTokenBook } from "./tokens.js";
import { bearerToken, decodeJwtPart, isObject, parseOrRaw, readBody, recordedHeaders } from "./wire.js";

export interface FcmSimulatorOptions extends SimulatorServerOptions {
  hub: SimulatorHub;
  /** Added before every answer: a simulated network round trip (benchmarks). Default 0. */
  latencyMs?: number;
}

export interface FcmSimulator {
  /** HTTPS base URL for `FcmCredential.endpoint.url`, e.g. "https://127.0.0.1:43210". */
  url: string;
  /** PEM of the self-signed server certificate: `FcmCredential.endpoint.ca`. */
  ca: string;
  /** Registers a service account's public key, as creating its key in the Google console does. */
  addServiceAccount(account: { projectId: string; clientEmail: string; publicKey: string }): void;
  /** Makes every access token issued so far expire now, as if an hour had passed. */
  expireAccessTokens(): void;
  setLatency(ms: number): void;
  /**
   * TLS connections accepted, access tokens issued, and the most streams one HTTP/2 session had open
   * at once.
   */
  stats(): { connections: number; tokensIssued: number; peakStreamsPerSession: number };
  close(): Promise<void>;
}

/** The hosts the simulator stands in for: what a request names in REAL_URL_HEADER, or is taken to reach. */
const FCM_ORIGIN = "https://fcm.googleapis.com";
const TOKEN_URL = "https://oauth2.googleapis.com/token";
const JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/** Either scope lets a service account send (vendors.md §2 "Endpoint and auth"). */
const SEND_SCOPES = [
  "https://www.googleapis.com/auth/firebase.messaging",
  "https://www.googleapis.com/auth/cloud-platform",
];
/** Google refuses assertions meant to live longer than an hour. */
const ASSERTION_LIFETIME_SECONDS = 60 * 60;
const ACCESS_TOKEN_SECONDS = 3599;
/**
 * "4096 bytes for most messages … This includes both the keys and the values"
 * (https://firebase.google.com/docs/reference/fcm/rest/v1/ErrorCode, INVALID_ARGUMENT): the keys and
 * values the device receives, not the request's JSON.
 */
const PAYLOAD_LIMIT_BYTES = 4096;
/**
 * Google's front end allows 100 streams per connection (firebase-admin's Http2SessionHandler opens
 * with peerMaxConcurrentStreams 100 "to respect backend limit"; FCM ends a connection that opens more,
 * firebase-admin-node#2943). Node's server refuses streams beyond it.
 */
const MAX_CONCURRENT_STREAMS = 100;
/** android.ttl: at most four weeks. */
const MAX_TTL_SECONDS = 2_419_200;
const TOKEN_CHARACTERS = /^[A-Za-z0-9_:-]+$/;
const TTL_FORMAT = /^\d+(\.\d{1,9})?s$/;
const SEND_PATH = /^\/v1\/projects\/([^/]+)\/messages:send$/;
/**
 * REST `Message.data`: "The key should not be a reserved word ("from", "message_type", or any word
 * starting with "google" or "gcm")" (projects.messages reference; ErrorCode "Invalid data key").
 */
const RESERVED_DATA_KEY = /^(from|message_type|google|gcm)/i;
const NOTIFICATION_PRIORITIES = new Set([
  "PRIORITY_UNSPECIFIED",
  "PRIORITY_MIN",
  "PRIORITY_LOW",
  "PRIORITY_DEFAULT",
  "PRIORITY_HIGH",
  "PRIORITY_MAX",
]);
/** Google writes its JSON content type with a space before the charset. */
const JSON_HEADERS = { "content-type": "application/json; charset=UTF-8" };
/** Node lower-cases header names already; the bearer token is never stored. */
const REDACTED_HEADERS = { authorization: "Bearer <redacted>" };

const FCM_ERROR_TYPE = "type.googleapis.com/google.firebase.fcm.v1.FcmError";
const BAD_REQUEST_TYPE = "type.googleapis.com/google.rpc.BadRequest";
/** Google's answer to a missing, expired or unknown OAuth token. */
const UNAUTHENTICATED_MESSAGE =
  "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other " +
  "valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.";
const GENERIC_INVALID = "Request contains an invalid argument.";
const permissionDenied = (projectId: string) =>
  `Permission 'cloudmessaging.messages.create' denied on resource '//cloudresourcemanager.googleapis.com/projects/${projectId}' (or it may not exist).`;

/** How FCM answers one error: HTTP status, Google's RPC status, FCM's errorCode (if any), message. */
interface ErrorShape {
  httpStatus: number;
  status: string;
  /** Absent: Google's front end answered, with no FcmError detail. */
  errorCode?: string;
  message: (projectId: string) => string;
  field?: string;
}

/**
 * A fault's `reason` → FCM's answer, as FCM sends it (https://firebase.google.com/docs/reference/fcm/rest/v1/ErrorCode,
 * https://firebase.google.com/docs/cloud-messaging/error-codes; real bodies recorded by Bloomberg's
 * pushiko, https://bloomberg.github.io/pushiko/fcm_responses). The answer's HTTP status is the one FCM
 * pairs with the reason. Messages we have no record of are marked.
 */
const FAULT_ANSWERS: Readonly<Record<string, ErrorShape>> = {
  UNREGISTERED: {
    httpStatus: 404,
    status: "NOT_FOUND",
    errorCode: "UNREGISTERED",
    message: () => "Requested entity was not found.",
  },
  // A project id FCM does not know: the same 404 without FCM's detail (firebase-admin-python#180).
  NOT_FOUND: { httpStatus: 404, status: "NOT_FOUND", message: () => "Requested entity was not found." },
  INVALID_ARGUMENT: {
    httpStatus: 400,
    status: "INVALID_ARGUMENT",
    errorCode: "INVALID_ARGUMENT",
    message: () => GENERIC_INVALID,
  },
  // Firebase's example 2 of an invalid registration token (error-codes page).
  INVALID_REGISTRATION: {
    httpStatus: 400,
    status: "INVALID_ARGUMENT",
    errorCode: "INVALID_ARGUMENT",
    message: () => "The registration token is not a valid FCM registration token",
  },
  // The message text is not on record (UNCONFIRMED); the status and errorCode are documented.
  SENDER_ID_MISMATCH: {
    httpStatus: 403,
    status: "PERMISSION_DENIED",
    errorCode: "SENDER_ID_MISMATCH",
    message: () => "SenderId mismatch",
  },
  PERMISSION_DENIED: { httpStatus: 403, status: "PERMISSION_DENIED", message: permissionDenied },
  THIRD_PARTY_AUTH_ERROR: {
    httpStatus: 401,
    status: "UNAUTHENTICATED",
    errorCode: "THIRD_PARTY_AUTH_ERROR",
    message: () => "Auth error from APNS or Web Push Service",
  },
  UNAUTHENTICATED: { httpStatus: 401, status: "UNAUTHENTICATED", message: () => UNAUTHENTICATED_MESSAGE },
  QUOTA_EXCEEDED: {
    httpStatus: 429,
    status: "RESOURCE_EXHAUSTED",
    errorCode: "QUOTA_EXCEEDED",
    message: () => "Quota exceeded for quota metric 'Messages' of service 'fcm.googleapis.com'.",
  },
  INTERNAL: {
    httpStatus: 500,
    status: "INTERNAL",
    errorCode: "INTERNAL",
    message: () => "Internal error encountered.",
  },
  UNAVAILABLE: {
    httpStatus: 503,
    status: "UNAVAILABLE",
    errorCode: "UNAVAILABLE",
    message: () => "The service is currently unavailable.",
  },
};

/** A fault armed with a status only answers as FCM does for that status. 410 is every simulator's "gone". */
const REASON_BY_STATUS: Readonly<Record<number, string>> = {
  400: "INVALID_ARGUMENT",
  401: "THIRD_PARTY_AUTH_ERROR",
  403: "SENDER_ID_MISMATCH",
  404: "UNREGISTERED",
  410: "UNREGISTERED",
  429: "QUOTA_EXCEEDED",
  500: "INTERNAL",
  503: "UNAVAILABLE",
};

interface Account {
  projectId: string;
  publicKey: KeyObject;
}

/** One answer, before it is written. */
interface Answer {
  httpStatus: number;
  body: unknown;
  headers?: Record<string, string>;
}

type AnyRequest = IncomingMessage | Http2ServerRequest;
type AnyResponse = ServerResponse | Http2ServerResponse;

/**
 * A local FCM HTTP v1: Google's OAuth 2.0 token endpoint (JWT-bearer grant, RS256 checked against the
 * registered service accounts) and messages:send, on one TLS port that speaks HTTP/2 (what FCM and
 * FcmSender speak) and HTTP/1.1 (the token grant, curl), with its own CA like the APNs simulator. It
 * checks sends the way FCM does, answers in Google's error shape and records each send in the hub;
 * the hub's faults apply to sends that pass the checks, so a fault never hides a malformed request.
 */
export async function startFcmSimulator(opts: FcmSimulatorOptions): Promise<FcmSimulator> {
  const host = opts.host ?? "127.0.0.1";
  const accounts = new Map<string, Account>();
  /** Access tokens, each for its service account's project. */
  const tokens = new AccessTokenBook(ACCESS_TOKEN_SECONDS);
  let latencyMs = opts.latencyMs ?? 0;
  let connections = 0;
  let peakStreamsPerSession = 0;
  const sockets = new Set<Socket>();
  const sessions = new Set<Http2Session>();
  const { key, cert } = selfSignedCertificate();

  const server = createSecureServer({
    key,
    cert,
    allowHTTP1: true,
    settings: { maxConcurrentStreams: MAX_CONCURRENT_STREAMS },
  });
  server.on("secureConnection", (socket: Socket) => {
    connections += 1;
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  server.on("session", (session: Http2Session) => {
    sessions.add(session);
    let open = 0;
    session.on("stream", (stream) => {
      open += 1;
      peakStreamsPerSession = Math.max(peakStreamsPerSession, open);
      stream.once("close", () => {
        open -= 1;
      });
    });
    session.once("close", () => sessions.delete(session));
  });
  server.on("request", (request: AnyRequest, response: AnyResponse) => {
    route(request, response).catch(() => response.destroy());
  });

  async function route(request: AnyRequest, response: AnyResponse): Promise<void> {
    const body = await readBody(request);
    const path = request.url ?? "";
    if (latencyMs > 0) await sleep(latencyMs);
    const realUrl = header(request, REAL_URL_HEADER);
    if (request.method === "POST" && path === "/token") {
      if (realUrl !== undefined && realUrl !== TOKEN_URL) return write(response, notFound(path));
      const grant = grantToken(body, accounts);
      if ("access_token" in grant) {
        write(response, { httpStatus: 200, body: tokens.grantBearer(grant.access_token, grant.projectId) });
      } else {
        write(response, { httpStatus: 400, body: grant });
      }
      return;
    }
    const projectId = SEND_PATH.exec(path)?.[1];
    const expectedUrl = `${FCM_ORIGIN}${path}`;
    if (request.method !== "POST" || projectId === undefined || (realUrl ?? expectedUrl) !== expectedUrl) {
      return write(response, notFound(path));
    }
    await send({ request, response, body, projectId, endpoint: expectedUrl, hub: opts.hub, tokens });
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });

  return {
    url: `https://${host}:${(server.address() as AddressInfo).port}`,
    ca: cert,
    addServiceAccount({ projectId, clientEmail, publicKey }) {
      accounts.set(clientEmail, { projectId, publicKey: createPublicKey(publicKey) });
    },
    expireAccessTokens: () => tokens.expireAll(),
    setLatency(ms) {
      latencyMs = ms;
    },
    stats: () => ({ connections, tokensIssued: tokens.issued, peakStreamsPerSession }),
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Clients keep their connections open (as they should); close() would wait for them otherwise.
      for (const session of sessions) session.destroy();
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

/**
 * A service account for the simulator: RSA 2048 with the private half as PKCS#8 PEM, as a Firebase
 * service-account JSON holds it, and the public half for `addServiceAccount`.
 */
export function generateFcmCredential(opts: {
  certificateId: number;
  projectId?: string;
  androidChannelId?: string;
  quietChannelId?: string;
  endpoint?: FcmCredential["endpoint"];
}): { credential: FcmCredential; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  });
  const projectId = opts.projectId ?? "chatpush-local";
  const credential: FcmCredential = {
    certificateId: opts.certificateId,
    projectId,
    clientEmail: `firebase-adminsdk-${opts.certificateId}@${projectId}.iam.gserviceaccount.com`,
    privateKey,
    ...(opts.androidChannelId !== undefined && { androidChannelId: opts.androidChannelId }),
    ...(opts.quietChannelId !== undefined && { quietChannelId: opts.quietChannelId }),
    ...(opts.endpoint !== undefined && { endpoint: opts.endpoint }),
  };
  return { credential, publicKey };
}

type Grant = { access_token: string; projectId: string } | { error: string; error_description: string };

/** The OAuth 2.0 JWT-bearer grant as Google's token endpoint checks it. */
function grantToken(body: string, accounts: ReadonlyMap<string, Account>): Grant {
  const form = new URLSearchParams(body);
  const refuse = (error: string, description: string): Grant => ({ error, error_description: description });
  if (form.get("grant_type") !== JWT_BEARER_GRANT) {
    return refuse("unsupported_grant_type", `Invalid grant_type: ${form.get("grant_type") ?? ""}`);
  }
  const [headerPart, claimsPart, signature, ...rest] = (form.get("assertion") ?? "").split(".");
  const jwtHeader = decodeJwtPart(headerPart);
  const claims = decodeJwtPart(claimsPart);
  if (jwtHeader === undefined || claims === undefined || signature === undefined || rest.length > 0) {
    return refuse("invalid_grant", "Invalid JWT: malformed assertion.");
  }
  const account = typeof claims.iss === "string" ? accounts.get(claims.iss) : undefined;
  if (account === undefined) return refuse("invalid_grant", "Invalid grant: account not found");
  const signed =
    jwtHeader.alg === "RS256" &&
    verify(
      "RSA-SHA256",
      Buffer.from(`${headerPart}.${claimsPart}`),
      account.publicKey,
      Buffer.from(signature, "base64url"),
    );
  if (!signed) return refuse("invalid_grant", "Invalid JWT Signature.");
  if (claims.aud !== TOKEN_URL)
    return refuse("invalid_grant", "Invalid JWT: audience must be the token URL.");
  const { iat, exp } = claims;
  const now = Date.now() / 1000;
  if (
    typeof iat !== "number" ||
    typeof exp !== "number" ||
    exp - iat > ASSERTION_LIFETIME_SECONDS ||
    exp < now
  ) {
    return refuse(
      "invalid_grant",
      "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.",
    );
  }
  const scopes = typeof claims.scope === "string" ? claims.scope.split(" ") : [];
  if (!scopes.some((scope) => SEND_SCOPES.includes(scope))) {
    return refuse("invalid_scope", "Invalid OAuth scope or ID token audience provided.");
  }
  return {
    access_token: `ya29.local-${randomBytes(24).toString("base64url")}`,
    projectId: account.projectId,
  };
}

async function send(args: {
  request: AnyRequest;
  response: AnyResponse;
  body: string;
  projectId: string;
  endpoint: string;
  hub: SimulatorHub;
  tokens: AccessTokenBook;
}): Promise<void> {
  const { request, response, body, projectId, endpoint, hub } = args;
  const at = new Date().toISOString();
  const parsed = parseOrRaw(body);
  const message = isObject(parsed) && isObject(parsed.message) ? parsed.message : undefined;
  const token = typeof message?.token === "string" ? message.token : "";

  let answer = authorize(header(request, "authorization"), projectId, args.tokens) ?? validate(parsed);
  // `validate_only`: "Flag for testing the request without actually delivering the message"
  // (https://firebase.google.com/docs/reference/fcm/rest/v1/projects.messages/send). Checked like a
  // send (auth, project, body), answered with a message name, and delivered to nobody: not recorded.
  if (isObject(parsed) && parsed.validate_only === true) {
    write(
      response,
      answer ?? { httpStatus: 200, body: { name: `projects/${projectId}/messages/${messageId()}` } },
    );
    return;
  }
  let fault: FaultRule | undefined;
  if (answer === undefined) {
    answer = { httpStatus: 200, body: { name: `projects/${projectId}/messages/${messageId()}` } };
    fault = await takeFaultAndWait(hub, "fcm", token);
    if (fault !== undefined && fault.status !== 200) answer = faultAnswer(fault, projectId);
  }

  hub.record(
    {
      vendor: "fcm",
      token,
      at,
      status: answer.httpStatus,
      endpoint,
      request: { headers: recordedHeaders(request.headers, REDACTED_HEADERS), body: parsed },
    },
    fault,
  );
  write(response, answer);
}

/** An armed fault as FCM would answer it: by its reason when FCM has one, else by its status. */
function faultAnswer(fault: FaultRule, projectId: string): Answer {
  const reason = fault.reason ?? REASON_BY_STATUS[fault.status];
  const known = reason !== undefined ? FAULT_ANSWERS[reason] : undefined;
  const headers = retryAfterHeader(fault.retryAfter);
  if (known !== undefined) {
    const { httpStatus, status, errorCode, message, field } = known;
    return {
      httpStatus,
      body: googleError(httpStatus, status, message(projectId), errorCode, field),
      headers,
    };
  }
  // A reason FCM has no shape for here: the fault's status, with the reason as FCM's errorCode.
  const errorCode = fault.reason ?? "UNSPECIFIED_ERROR";
  return {
    httpStatus: fault.status,
    body: googleError(fault.status, "UNKNOWN", "Unknown error.", errorCode),
    headers,
  };
}

/**
 * Google's front end checks the bearer token before FCM sees the request, so these answers carry no
 * FcmError detail. Undefined when the token is one this simulator issued, unexpired, for the project.
 */
function authorize(
  authorization: string | undefined,
  projectId: string,
  tokens: AccessTokenBook,
): Answer | undefined {
  const issued = tokens.lookup(bearerToken(authorization));
  if (issued === undefined || issued.expired) {
    return {
      httpStatus: 401,
      body: googleError(401, "UNAUTHENTICATED", UNAUTHENTICATED_MESSAGE),
      headers: { "www-authenticate": 'Bearer realm="https://accounts.google.com/"' },
    };
  }
  if (issued.owner !== projectId) {
    return { httpStatus: 403, body: googleError(403, "PERMISSION_DENIED", permissionDenied(projectId)) };
  }
  return undefined;
}

/** FCM's checks of a send body; undefined when FCM would accept it. */
function validate(body: unknown): Answer | undefined {
  if (!isObject(body)) return invalid("Invalid JSON payload received.", "");
  for (const key of Object.keys(body)) {
    if (key !== "message" && key !== "validate_only") {
      return invalid(`Invalid JSON payload received. Unknown name "${key}": Cannot find field.`, key);
    }
  }
  const message = body.message;
  if (!isObject(message)) return invalid("Invalid value at 'message': a message is required.", "message");
  const recipients = ["token", "topic", "condition"].filter((key) => message[key] !== undefined);
  if (recipients.length !== 1) {
    return invalid(
      "Exactly one of message.token, message.topic or message.condition must be set.",
      recipients.length === 0 ? "message.token" : `message.${recipients[1]}`,
    );
  }
  if (
    message.token !== undefined &&
    (typeof message.token !== "string" || !TOKEN_CHARACTERS.test(message.token))
  ) {
    // Firebase's example 2 (error-codes page): FcmError only, the token named in the message.
    return {
      httpStatus: 400,
      body: googleError(
        400,
        "INVALID_ARGUMENT",
        "The registration token is not a valid FCM registration token",
        "INVALID_ARGUMENT",
      ),
    };
  }
  const data = checkData(message.data, "message.data");
  if (data !== undefined) return data;

  const android = message.android;
  if (android !== undefined) {
    if (!isObject(android)) return invalid("Invalid value at 'message.android'.", "message.android");
    const androidData = checkData(android.data, "message.android.data");
    if (androidData !== undefined) return androidData;
    // Google's JSON parser takes enum names in any case; firebase-admin sends "high" / "normal".
    const priority = android.priority;
    if (priority !== undefined && !/^(normal|high)$/i.test(String(priority))) {
      return invalid(
        `Invalid value at 'message.android.priority' (type.googleapis.com/google.firebase.fcm.v1.AndroidMessagePriority), "${priority}"`,
        "message.android.priority",
      );
    }
    const ttl = android.ttl;
    if (ttl !== undefined) {
      if (typeof ttl !== "string" || !TTL_FORMAT.test(ttl)) {
        return invalid(
          `Invalid value at 'message.android.ttl' (type.googleapis.com/google.protobuf.Duration), "${ttl}"`,
          "message.android.ttl",
        );
      }
      if (Number.parseFloat(ttl) > MAX_TTL_SECONDS) {
        return invalid(
          `Invalid value at 'message.android.ttl': must be at most ${MAX_TTL_SECONDS}s.`,
          "message.android.ttl",
        );
      }
    }
    const shown = android.notification;
    if (shown !== undefined) {
      if (!isObject(shown)) {
        return invalid("Invalid value at 'message.android.notification'.", "message.android.notification");
      }
      const level = shown.notification_priority;
      if (level !== undefined && !NOTIFICATION_PRIORITIES.has(String(level))) {
        return invalid(
          `Invalid value at 'message.android.notification.notification_priority' (type.googleapis.com/google.firebase.fcm.v1.AndroidNotification.NotificationPriority), "${level}"`,
          "message.android.notification.notification_priority",
        );
      }
      const count = shown.notification_count;
      if (count !== undefined && !(Number.isInteger(count) && (count as number) >= 0)) {
        return invalid(
          `Invalid value at 'message.android.notification.notification_count' (TYPE_INT32), ${JSON.stringify(count)}`,
          "message.android.notification.notification_count",
        );
      }
    }
  }
  if (payloadBytes(message) > PAYLOAD_LIMIT_BYTES) {
    // FCM's answer to a payload over the limit: the generic message, no detail (pushiko's record).
    return { httpStatus: 400, body: googleError(400, "INVALID_ARGUMENT", GENERIC_INVALID) };
  }
  return undefined;
}

/** The keys and values of what the device receives: data, notification and the Android overrides. */
function payloadBytes(message: Record<string, unknown>): number {
  let bytes = 0;
  const count = (map: unknown) => {
    if (!isObject(map)) return;
    for (const [key, value] of Object.entries(map)) {
      if (value === undefined || value === null || typeof value === "object") continue;
      bytes += Buffer.byteLength(key) + Buffer.byteLength(String(value));
    }
  };
  count(message.data);
  count(message.notification);
  const android = isObject(message.android) ? message.android : {};
  count(android.data);
  count(android.notification);
  return bytes;
}

/** data maps hold strings only, under keys FCM does not keep for itself; entries are named by index. */
function checkData(map: unknown, field: string): Answer | undefined {
  if (map === undefined) return undefined;
  if (!isObject(map)) return invalid(`Invalid value at '${field}'.`, field);
  const entries = Object.entries(map);
  const reserved = entries.findIndex(([key]) => RESERVED_DATA_KEY.test(key));
  if (reserved >= 0) {
    return invalid(`Invalid data key: "${entries[reserved]?.[0]}" is reserved.`, `${field}[${reserved}].key`);
  }
  const index = entries.findIndex(([, value]) => typeof value !== "string");
  if (index < 0) return undefined;
  return invalid(
    `Invalid value at '${field}[${index}].value' (TYPE_STRING), ${JSON.stringify(entries[index]?.[1])}`,
    `${field}[${index}].value`,
  );
}

/** A field FCM refuses: a BadRequest detail names it (error-codes page, example 1). */
function invalid(message: string, field: string): Answer {
  return { httpStatus: 400, body: googleError(400, "INVALID_ARGUMENT", message, undefined, field) };
}

function notFound(path: string): Answer {
  return { httpStatus: 404, body: googleError(404, "NOT_FOUND", `The requested URL ${path} was not found.`) };
}

/**
 * Google's error shape. FCM adds an FcmError detail with its own errorCode, and a BadRequest detail
 * naming the field when a field is wrong.
 */
function googleError(
  code: number,
  status: string,
  message: string,
  errorCode?: string,
  field?: string,
): unknown {
  const details: unknown[] = [];
  if (errorCode !== undefined) details.push({ "@type": FCM_ERROR_TYPE, errorCode });
  if (field) details.push({ "@type": BAD_REQUEST_TYPE, fieldViolations: [{ field, description: message }] });
  return { error: { code, message, status, ...(details.length > 0 && { details }) } };
}

function write(response: AnyResponse, answer: Answer): void {
  (response as ServerResponse).writeHead(answer.httpStatus, { ...JSON_HEADERS, ...answer.headers });
  response.end(JSON.stringify(answer.body));
}

function header(request: AnyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** FCM message ids are 0: followed by digits and a hex suffix. */
function messageId(): string {
  return `0:${Date.now()}${randomBytes(8).toString("hex")}`;
}

/**
 * A throwaway server certificate for localhost and 127.0.0.1, its own issuer so clients can pass it as
 * `ca` (as the APNs simulator makes its own). The RSA key comes from node:crypto (forge's pure-JS key
 * generation takes seconds).
 */
function selfSignedCertificate(): { key: string; cert: string } {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  });
  const certificate = forge.pki.createCertificate();
  certificate.publicKey = forge.pki.publicKeyFromPem(publicKey);
  // A leading 01 keeps the DER integer positive.
  certificate.serialNumber = `01${randomBytes(8).toString("hex")}`;
  certificate.validity.notBefore = new Date(Date.now() - 60 * 60 * 1000);
  certificate.validity.notAfter = new Date(Date.now() + 7 * 24 * 60 * 60 * 1000);
  const name = [{ name: "commonName", value: "chatpush local FCM" }];
  certificate.setSubject(name);
  certificate.setIssuer(name);
  certificate.setExtensions([
    { name: "basicConstraints", cA: true },
    { name: "keyUsage", digitalSignature: true, keyEncipherment: true, keyCertSign: true },
    { name: "extKeyUsage", serverAuth: true },
    {
      name: "subjectAltName",
      altNames: [
        { type: 2, value: "localhost" },
        { type: 7, ip: "127.0.0.1" },
      ],
    },
  ]);
  certificate.sign(forge.pki.privateKeyFromPem(privateKey), forge.md.sha256.create());
  return { key: privateKey, cert: forge.pki.certificateToPem(certificate) };
}
