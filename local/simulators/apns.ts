import {
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  randomInt,
  randomUUID,
  verify,
} from "node:crypto";
import { STATUS_CODES } from "node:http";
import {
  createSecureServer,
  type Http2SecureServer,
  type Http2Session,
  type IncomingHttpHeaders,
  type ServerHttp2Stream,
} from "node:http2";
import type { AddressInfo } from "node:net";
import forge from "node-forge";
import type { ApnsEnvironment } from "../../lib/model/index.js";
import type { ApnsCredential, HostPort } from "../../lib/vendors/credentials.js";
import { retryAfterHeader, takeFaultAndWait } from "./faults.js";
import type { SimulatorHub } from "./hub.js";
import { bearerToken, decodeJwtPart, isObject, parseOrRaw, readBody, recordedHeaders } from "./wire.js";

export interface ApnsSimulatorOptions {
  hub: SimulatorHub;
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 or absent = any free port. */
  port?: { production?: number; sandbox?: number };
}

export interface ApnsSimulator {
  production: HostPort;
  sandbox: HostPort;
  /** PEM of the self-signed server certificate: the `ca` a client needs to trust it. */
  ca: string;
  /** Registers a .p8 key's public half, as creating the key in Apple's console does. */
  addKey(key: { keyId: string; teamId: string; publicKey: string }): void;
  /** Until one topic is allowed, any topic is accepted. */
  allowTopic(bundleId: string): void;
  close(): Promise<void>;
}

/** vendors.md §1 "Request headers". */
const PUSH_TYPES = new Set([
  "alert",
  "background",
  "voip",
  "location",
  "complication",
  "fileprovider",
  "mdm",
  "liveactivity",
  "pushtotalk",
]);
const PRIORITIES = new Set(["1", "5", "10"]);
const PAYLOAD_LIMIT = 4096;
const COLLAPSE_ID_LIMIT = 64;
/** Apple refuses provider tokens issued more than an hour ago. */
const TOKEN_LIFETIME_SECONDS = 60 * 60;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** APNs' own ceiling on one connection (vendors.md §1); beyond it node's server resets streams. */
const MAX_CONCURRENT_STREAMS = 1000;
/** HTTP/2 sends lower-cased names only; pseudo-headers are kept, the JWT is never stored. */
const REDACTED_HEADERS = { authorization: "bearer <redacted>" };

/** What a fault answers when its rule names no reason. */
const FAULT_REASONS: Readonly<Record<number, string>> = {
  400: "BadDeviceToken",
  403: "ExpiredProviderToken",
  410: "Unregistered",
  429: "TooManyRequests",
  500: "InternalServerError",
  503: "ServiceUnavailable",
};

interface Answer {
  status: number;
  reason?: string;
  retryAfter?: number;
}

interface RegisteredKey {
  teamId: string;
  publicKey: KeyObject;
}

/**
 * A local APNs: the HTTP/2 provider API on two TLS ports (production and sandbox) that checks requests
 * the way Apple does, answers with Apple's JSON reasons and records every request in the hub. The hub's
 * faults apply to requests that pass the checks, so a fault never hides a malformed request.
 */
export async function startApnsSimulator(opts: ApnsSimulatorOptions): Promise<ApnsSimulator> {
  const host = opts.host ?? "127.0.0.1";
  const { key, cert } = selfSignedCertificate();
  const keys = new Map<string, RegisteredKey>();
  const topics = new Set<string>();
  const sessions = new Set<Http2Session>();

  const listen = async (environment: ApnsEnvironment, port: number): Promise<Http2SecureServer> => {
    const server = createSecureServer({
      key,
      cert,
      settings: { maxConcurrentStreams: MAX_CONCURRENT_STREAMS },
    });
    server.on("session", (session) => {
      sessions.add(session);
      session.on("close", () => sessions.delete(session));
    });
    server.on("stream", (stream, headers) => {
      // The only failure is the client resetting the stream while its body is read.
      answer({ stream, headers, environment, hub: opts.hub, keys, topics }).catch(() => stream.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => resolve());
    });
    return server;
  };

  const production = await listen("production", opts.port?.production ?? 0);
  const sandbox = await listen("sandbox", opts.port?.sandbox ?? 0);
  const hostPort = (server: Http2SecureServer): HostPort => ({
    host,
    port: (server.address() as AddressInfo).port,
  });

  return {
    production: hostPort(production),
    sandbox: hostPort(sandbox),
    ca: cert,
    addKey({ keyId, teamId, publicKey }) {
      keys.set(keyId, { teamId, publicKey: createPublicKey(publicKey) });
    },
    allowTopic(bundleId) {
      topics.add(bundleId);
    },
    async close() {
      const closed = [production, sandbox].map(
        (server) => new Promise<void>((resolve) => server.close(() => resolve())),
      );
      // Clients keep their connection open (as they should with APNs); close() waits for them otherwise.
      for (const session of sessions) session.close();
      await Promise.all(closed);
    },
  };
}

/**
 * A .p8-style key for the simulator: EC P-256, the private half as PKCS#8 PEM in the credential and the
 * public half for `addKey`.
 */
export function generateApnsCredential(opts: {
  certificateId: number;
  bundleId: string;
  teamId?: string;
  keyId?: string;
  endpoint?: ApnsCredential["endpoint"];
}): { credential: ApnsCredential; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync("ec", {
    namedCurve: "prime256v1",
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  });
  const credential: ApnsCredential = {
    certificateId: opts.certificateId,
    bundleId: opts.bundleId,
    teamId: opts.teamId ?? appleId(),
    keyId: opts.keyId ?? appleId(),
    privateKey,
    ...(opts.endpoint !== undefined && { endpoint: opts.endpoint }),
  };
  return { credential, publicKey };
}

/** Team and key IDs are 10 upper-case letters and digits. */
function appleId(): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  return Array.from({ length: 10 }, () => alphabet[randomInt(alphabet.length)]).join("");
}

/**
 * A throwaway server certificate for localhost and 127.0.0.1, its own issuer so clients can pass it as
 * `ca`. The RSA key comes from node:crypto (forge's pure-JS key generation takes seconds).
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
  const name = [{ name: "commonName", value: "chatpush local APNs" }];
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

async function answer(args: {
  stream: ServerHttp2Stream;
  headers: IncomingHttpHeaders;
  environment: ApnsEnvironment;
  hub: SimulatorHub;
  keys: ReadonlyMap<string, RegisteredKey>;
  topics: ReadonlySet<string>;
}): Promise<void> {
  const { stream, headers, environment, hub } = args;
  // A client that gives up (node-apn's request timeout) resets the stream: nothing left to answer.
  stream.on("error", () => {});
  const at = new Date().toISOString();
  const body = await readBody(stream);
  const token = /^\/3\/device\/([^/?]*)$/.exec(headers[":path"] ?? "")?.[1];

  let result = validate({ ...args, method: headers[":method"] ?? "", token, body });
  if (result.status === 200 && token !== undefined) {
    const fault = await takeFaultAndWait(hub, "apns", token);
    if (fault !== undefined && fault.status !== 200) {
      result = {
        status: fault.status,
        reason: fault.reason ?? FAULT_REASONS[fault.status] ?? reasonFromStatus(fault.status),
        ...(fault.retryAfter !== undefined && { retryAfter: fault.retryAfter }),
      };
    }
  }

  hub.record({
    vendor: "apns",
    token: token ?? "",
    at,
    status: result.status,
    request: { headers: recordedHeaders(headers, REDACTED_HEADERS), body: parseOrRaw(body) },
    environment,
  });
  if (stream.destroyed) return;

  const requestedId = headers["apns-id"];
  const apnsId = typeof requestedId === "string" && UUID.test(requestedId) ? requestedId : randomUUID();
  // Apple's sandbox also returns apns-unique-id, for looking a push up in the delivery log.
  const ids = { "apns-id": apnsId, ...(environment === "sandbox" && { "apns-unique-id": randomUUID() }) };
  if (result.status === 200) {
    stream.respond({ ":status": 200, ...ids }, { endStream: true });
    return;
  }
  stream.respond({
    ":status": result.status,
    "content-type": "application/json",
    ...ids,
    ...retryAfterHeader(result.retryAfter),
  });
  // Only 410 carries `timestamp`: when APNs last knew the token to be invalid (ms).
  const timestamp = result.status === 410 ? { timestamp: Date.now() } : {};
  stream.end(JSON.stringify({ reason: result.reason, ...timestamp }));
}

/** APNs' checks, in the order a request meets them; 200 when it would be accepted. */
function validate(args: {
  method: string;
  token: string | undefined;
  headers: IncomingHttpHeaders;
  body: string;
  keys: ReadonlyMap<string, RegisteredKey>;
  topics: ReadonlySet<string>;
}): Answer {
  const { method, token, headers, body, keys, topics } = args;
  const header = (name: string): string | undefined => {
    const value = headers[name];
    return Array.isArray(value) ? value.join(", ") : value;
  };
  if (method !== "POST") return { status: 405, reason: "MethodNotAllowed" };
  if (token === undefined) return { status: 404, reason: "BadPath" };
  if (token === "") return { status: 400, reason: "MissingDeviceToken" };
  if (!/^[0-9a-f]{64,}$/i.test(token)) return { status: 400, reason: "BadDeviceToken" };

  const authProblem = checkProviderToken(header("authorization"), keys);
  if (authProblem !== undefined) return { status: 403, reason: authProblem };

  const topic = header("apns-topic");
  if (topic === undefined) return { status: 400, reason: "MissingTopic" };
  if (topics.size > 0 && !topics.has(topic)) return { status: 400, reason: "TopicDisallowed" };
  const pushType = header("apns-push-type");
  if (pushType !== undefined && !PUSH_TYPES.has(pushType)) return { status: 400, reason: "InvalidPushType" };
  const priority = header("apns-priority");
  if (priority !== undefined && !PRIORITIES.has(priority)) return { status: 400, reason: "BadPriority" };
  const collapseId = header("apns-collapse-id");
  if (collapseId !== undefined && Buffer.byteLength(collapseId) > COLLAPSE_ID_LIMIT) {
    return { status: 400, reason: "BadCollapseId" };
  }
  const expiration = header("apns-expiration");
  if (expiration !== undefined && !/^\d+$/.test(expiration))
    return { status: 400, reason: "BadExpirationDate" };
  const apnsId = header("apns-id");
  if (apnsId !== undefined && !UUID.test(apnsId)) return { status: 400, reason: "BadMessageId" };

  if (Buffer.byteLength(body) > PAYLOAD_LIMIT) return { status: 413, reason: "PayloadTooLarge" };
  if (body.trim() === "") return { status: 400, reason: "PayloadEmpty" };
  const payload = parseOrRaw(body);
  // Apple documents no reason for JSON it cannot read; "BadPayload" is the simulator's (any unknown 400
  // is bad-request to chatpush).
  if (!isObject(payload)) return { status: 400, reason: "BadPayload" };
  if (!isObject(payload.aps)) return { status: 400, reason: "PayloadEmpty" };
  return { status: 200 };
}

/** The 403 reason for this `authorization` header, or undefined when the ES256 JWT checks out. */
function checkProviderToken(
  authorization: string | undefined,
  keys: ReadonlyMap<string, RegisteredKey>,
): string | undefined {
  if (authorization === undefined) return "MissingProviderToken";
  const [headerPart, claimsPart, signature, ...rest] = bearerToken(authorization)?.split(".") ?? [];
  if (headerPart === undefined || claimsPart === undefined || signature === undefined || rest.length > 0) {
    return "InvalidProviderToken";
  }
  const jwtHeader = decodeJwtPart(headerPart);
  const claims = decodeJwtPart(claimsPart);
  const key = typeof jwtHeader?.kid === "string" ? keys.get(jwtHeader.kid) : undefined;
  if (jwtHeader?.alg !== "ES256" || key === undefined || claims === undefined) return "InvalidProviderToken";
  const signed = verify(
    "sha256",
    Buffer.from(`${headerPart}.${claimsPart}`),
    { key: key.publicKey, dsaEncoding: "ieee-p1363" },
    Buffer.from(signature, "base64url"),
  );
  if (!signed || claims.iss !== key.teamId || typeof claims.iat !== "number") return "InvalidProviderToken";
  if (Date.now() / 1000 - claims.iat > TOKEN_LIFETIME_SECONDS) return "ExpiredProviderToken";
  return undefined;
}

/** "Bad Gateway" → "BadGateway", for a fault on a status APNs has no documented reason for. */
function reasonFromStatus(status: number): string {
  return (STATUS_CODES[status] ?? "Unknown").replace(/\W/g, "");
}
