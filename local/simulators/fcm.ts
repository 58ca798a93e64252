import { createPublicKey, generateKeyPairSync, type KeyObject, randomBytes, verify } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { FcmCredential } from "../../lib/vendors/credentials.js";
import { retryAfterHeader, takeFaultAndWait } from "./faults.js";
import { type JsonAnswer, type SimulatorOptions, startSimulatorServer, writeJson } from "./http-server.js";
import type { SimulatorHub } from "./hub.js";
import { AccessTokenBook } from "./tokens.js";
import { bearerToken, decodeJwtPart, isObject, parseOrRaw, readBody, recordedHeaders } from "./wire.js";

export type FcmSimulatorOptions = SimulatorOptions;

export interface FcmSimulator {
  /** Plain-HTTP base URL for `FcmCredential.endpoint.url`, e.g. "http://127.0.0.1:43210". */
  url: string;
  /** Registers a service account's public key, as creating its key in the Google console does. */
  addServiceAccount(account: { projectId: string; clientEmail: string; publicKey: string }): void;
  /** Makes every access token issued so far expire now, as if an hour had passed. */
  expireAccessTokens(): void;
  /** TCP connections accepted and access tokens issued so far. */
  stats(): { connections: number; tokensIssued: number };
  close(): Promise<void>;
}

const TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token";
const JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/** Either scope lets a service account send (vendors.md §2 "Endpoint and auth"). */
const SEND_SCOPES = [
  "https://www.googleapis.com/auth/firebase.messaging",
  "https://www.googleapis.com/auth/cloud-platform",
];
/** Google refuses assertions meant to live longer than an hour. */
const ASSERTION_LIFETIME_SECONDS = 60 * 60;
const ACCESS_TOKEN_SECONDS = 3599;
/** FCM's payload limit (vendors.md §2 "Message JSON"). */
const MESSAGE_LIMIT_BYTES = 4096;
/** android.ttl: at most four weeks. */
const MAX_TTL_SECONDS = 2_419_200;
const TOKEN_CHARACTERS = /^[A-Za-z0-9_:-]+$/;
const TTL_FORMAT = /^\d+(\.\d{1,9})?s$/;
const SEND_PATH = /^\/v1\/projects\/([^/]+)\/messages:send$/;
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

/** A fault's HTTP status → Google's RPC status, FCM's errorCode and the message FCM sends with it. */
const FAULTS: Readonly<Record<number, { status: string; errorCode: string; message: string }>> = {
  400: {
    status: "INVALID_ARGUMENT",
    errorCode: "INVALID_ARGUMENT",
    message: "Request contains an invalid argument.",
  },
  401: {
    status: "UNAUTHENTICATED",
    errorCode: "THIRD_PARTY_AUTH_ERROR",
    message: "Auth error from APNS or Web Push Service",
  },
  403: { status: "PERMISSION_DENIED", errorCode: "SENDER_ID_MISMATCH", message: "SenderId mismatch" },
  404: { status: "NOT_FOUND", errorCode: "UNREGISTERED", message: "Requested entity was not found." },
  429: {
    status: "RESOURCE_EXHAUSTED",
    errorCode: "QUOTA_EXCEEDED",
    message: "Quota exceeded for quota metric 'Messages' of service 'fcm.googleapis.com'.",
  },
  500: { status: "INTERNAL", errorCode: "INTERNAL", message: "Internal error encountered." },
  503: { status: "UNAVAILABLE", errorCode: "UNAVAILABLE", message: "The service is currently unavailable." },
};

interface Account {
  projectId: string;
  publicKey: KeyObject;
}

/** One answer of messages:send, before it is written. */
type Answer = JsonAnswer;

/**
 * A local FCM HTTP v1: Google's OAuth 2.0 token endpoint (JWT-bearer grant, RS256 checked against the
 * registered service accounts) and messages:send, on one plain HTTP/1.1 port with keep-alive. It routes
 * by path, so a client whose every request is sent here (FcmSender's agent) needs no other change. It
 * checks sends the way FCM does, answers in Google's error shape and records each send in the hub; the
 * hub's faults apply to sends that pass the checks, so a fault never hides a malformed request.
 */
export async function startFcmSimulator(opts: FcmSimulatorOptions): Promise<FcmSimulator> {
  const accounts = new Map<string, Account>();
  /** Access tokens, each for its service account's project. */
  const tokens = new AccessTokenBook(ACCESS_TOKEN_SECONDS);

  const server = await startSimulatorServer(opts, async (request, response) => {
    const body = await readBody(request);
    const path = request.url ?? "";
    if (request.method === "POST" && path === "/token") {
      const grant = grantToken(body, accounts);
      if ("access_token" in grant) {
        writeJson(response, 200, tokens.grantBearer(grant.access_token, grant.projectId), JSON_HEADERS);
      } else {
        writeJson(response, 400, grant, JSON_HEADERS);
      }
      return;
    }
    const projectId = SEND_PATH.exec(path)?.[1];
    if (request.method !== "POST" || projectId === undefined) {
      const notFound = googleError(404, "NOT_FOUND", `Unknown path ${request.method} ${path}.`);
      writeJson(response, 404, notFound, JSON_HEADERS);
      return;
    }
    await send({ request, response, body, projectId, hub: opts.hub, tokens });
  });

  return {
    url: server.url,
    addServiceAccount({ projectId, clientEmail, publicKey }) {
      accounts.set(clientEmail, { projectId, publicKey: createPublicKey(publicKey) });
    },
    expireAccessTokens: () => tokens.expireAll(),
    stats: () => ({ connections: server.connections(), tokensIssued: tokens.issued }),
    close: () => server.close(),
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
  endpointUrl?: string;
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
    ...(opts.endpointUrl !== undefined && { endpoint: { url: opts.endpointUrl } }),
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
  const header = decodeJwtPart(headerPart);
  const claims = decodeJwtPart(claimsPart);
  if (header === undefined || claims === undefined || signature === undefined || rest.length > 0) {
    return refuse("invalid_grant", "Invalid JWT: malformed assertion.");
  }
  const account = typeof claims.iss === "string" ? accounts.get(claims.iss) : undefined;
  if (account === undefined) return refuse("invalid_grant", "Invalid grant: account not found");
  const signed =
    header.alg === "RS256" &&
    verify(
      "RSA-SHA256",
      Buffer.from(`${headerPart}.${claimsPart}`),
      account.publicKey,
      Buffer.from(signature, "base64url"),
    );
  if (!signed) return refuse("invalid_grant", "Invalid JWT Signature.");
  if (claims.aud !== TOKEN_AUDIENCE)
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
  request: IncomingMessage;
  response: ServerResponse;
  body: string;
  projectId: string;
  hub: SimulatorHub;
  tokens: AccessTokenBook;
}): Promise<void> {
  const { request, response, body, projectId, hub } = args;
  const at = new Date().toISOString();
  const parsed = parseOrRaw(body);
  const message = isObject(parsed) && isObject(parsed.message) ? parsed.message : undefined;
  const token = typeof message?.token === "string" ? message.token : "";

  let answer = authorize(request.headers.authorization, projectId, args.tokens) ?? validate(parsed);
  if (answer === undefined) {
    answer = { httpStatus: 200, body: { name: `projects/${projectId}/messages/${messageId()}` } };
    const fault = await takeFaultAndWait(hub, "fcm", token);
    if (fault !== undefined && fault.status !== 200) {
      // 410 is every simulator's "this token is gone" fault; FCM says that with 404 UNREGISTERED.
      const status = fault.status === 410 ? 404 : fault.status;
      const known = FAULTS[status] ?? {
        status: "UNKNOWN",
        errorCode: "UNSPECIFIED_ERROR",
        message: "Unknown error.",
      };
      answer = {
        httpStatus: status,
        body: googleError(status, known.status, known.message, fault.reason ?? known.errorCode),
        headers: retryAfterHeader(fault.retryAfter),
      };
    }
  }

  hub.record({
    vendor: "fcm",
    token,
    at,
    status: answer.httpStatus,
    request: { headers: recordedHeaders(request.headers, REDACTED_HEADERS), body: parsed },
  });
  writeJson(response, answer.httpStatus, answer.body, { ...JSON_HEADERS, ...answer.headers });
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
    return {
      httpStatus: 403,
      body: googleError(
        403,
        "PERMISSION_DENIED",
        `Permission 'cloudmessaging.messages.create' denied on resource '//cloudresourcemanager.googleapis.com/projects/${projectId}' (or it may not exist).`,
      ),
    };
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
    return invalid("The registration token is not a valid FCM registration token", "message.token");
  }
  const data = checkStringMap(message.data, "message.data");
  if (data !== undefined) return data;

  const android = message.android;
  if (android !== undefined) {
    if (!isObject(android)) return invalid("Invalid value at 'message.android'.", "message.android");
    const androidData = checkStringMap(android.data, "message.android.data");
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
  }
  if (Buffer.byteLength(JSON.stringify(message)) > MESSAGE_LIMIT_BYTES) {
    return invalid(`Message is too big: more than ${MESSAGE_LIMIT_BYTES} bytes.`, "message");
  }
  return undefined;
}

/** data maps hold strings only; FCM names the offending entry by its index. */
function checkStringMap(map: unknown, field: string): Answer | undefined {
  if (map === undefined) return undefined;
  if (!isObject(map)) return invalid(`Invalid value at '${field}'.`, field);
  const entries = Object.entries(map);
  const index = entries.findIndex(([, value]) => typeof value !== "string");
  if (index < 0) return undefined;
  return invalid(
    `Invalid value at '${field}[${index}].value' (TYPE_STRING), ${JSON.stringify(entries[index]?.[1])}`,
    `${field}[${index}].value`,
  );
}

function invalid(message: string, field: string): Answer {
  return {
    httpStatus: 400,
    body: googleError(400, "INVALID_ARGUMENT", message, "INVALID_ARGUMENT", field),
  };
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

/** FCM message ids are 0: followed by digits and a hex suffix. */
function messageId(): string {
  return `0:${Date.now()}${randomBytes(8).toString("hex")}`;
}
