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
import { setTimeout as sleep } from "node:timers/promises";
import type { TLSSocket } from "node:tls";
import forge from "node-forge";
import type { ApnsEnvironment } from "../../lib/model/index.js";
import { apnsDeviceUrl } from "../../lib/vendors/apns.js";
import type {
  ApnsCertificateCredential,
  ApnsCredential,
  ApnsTokenCredential,
  HostPort,
} from "../../lib/vendors/credentials.js";
import { retryAfterHeader, takeFaults } from "./faults.js";
import type { FaultRule, SimulatorHub } from "./hub.js";
import { bearerToken, decodeJwtPart, isObject, parseOrRaw, recordedHeaders } from "./wire.js";

export interface ApnsSimulatorOptions {
  hub: SimulatorHub;
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 or absent = any free port. */
  port?: { production?: number; sandbox?: number };
  /**
   * A simulated network round trip (ms): every answer waits this long, and a new connection's first
   * answers wait two more (TCP and TLS handshakes) — so opening sessions is not free.
   */
  latencyMs?: number;
  /** SETTINGS_MAX_CONCURRENT_STREAMS once a connection is authenticated (default `APNS_OBSERVED_MAX_STREAMS`). */
  maxConcurrentStreams?: number;
}

export interface ApnsSimulatorStats {
  /** Connections accepted since the simulator started (or `resetStats`). */
  sessionsOpened: number;
  /** Most streams open at one instant, over all connections. */
  peakStreams: number;
  /** Most streams open at one instant on a single connection. */
  peakStreamsPerSession: number;
}

export interface IssuedCertificate {
  /** A certificate credential (the `.p12`, base64, and its passphrase). */
  credential: ApnsCertificateCredential;
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
  /**
   * A push certificate signed by this simulator's "Apple" CA, as the developer portal issues one:
   * for `bundleId` (and `<bundleId>.voip` unless `topics` says otherwise), valid in the given
   * environments (default both, like Apple's "Sandbox & Production" certificate).
   */
  issueCertificate(opts: {
    certificateId: number;
    bundleId: string;
    topics?: string[];
    environments?: ApnsEnvironment[];
    passphrase?: string;
    /** Signed by another CA: APNs does not trust it. */
    untrusted?: boolean;
    endpoint?: ApnsCredential["endpoint"];
  }): IssuedCertificate;
  /** Changes the simulated round trip (ms). */
  setLatency(ms: number): void;
  stats(): ApnsSimulatorStats;
  resetStats(): void;
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
/**
 * Apple, "Generating a remote notification": 5120 bytes for VoIP notifications, 4096 for every other.
 */
const PAYLOAD_LIMIT = 4096;
const VOIP_PAYLOAD_LIMIT = 5120;
const COLLAPSE_ID_LIMIT = 64;
/** Apple refuses provider tokens issued more than an hour ago. */
const TOKEN_LIFETIME_SECONDS = 60 * 60;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/**
 * The stream limit of an authenticated connection. Apple publishes none ("don't assume a specific
 * number of streams", Establishing a connection to APNs); 500 was observed in 2016
 * (https://developer.apple.com/forums/thread/54407, http://www.openradar.me/27870881) and about
 * 1,000 is reported today (vendors.md §1, UNCONFIRMED).
 */
export const APNS_OBSERVED_MAX_STREAMS = 1000;
/**
 * Apple: "when using an authentication token, APNs allows only one stream until you post a request
 * with a valid authentication token"
 * (https://developer.apple.com/documentation/usernotifications/establishing-a-connection-to-apns).
 */
const UNAUTHENTICATED_MAX_STREAMS = 1;
/** HTTP/2 sends lower-cased names only; pseudo-headers are kept, the JWT is never stored. */
const REDACTED_HEADERS = { authorization: "bearer <redacted>" };
/**
 * Apple's push certificates mark their environments with these extensions (node-apn reads the same:
 * lib/credentials/certificate/oids.js) and list their topics in 1.2.840.113635.100.6.3.6 (Apple,
 * apns-push-type "voip": "the topic is then part of the 1.2.840.113635.100.6.3.4 or
 * 1.2.840.113635.100.6.3.6 extension"). The topic list's inner layout here is the simulator's own
 * (a SEQUENCE of UTF8String), not Apple's.
 */
const OID_DEVELOPMENT = "1.2.840.113635.100.6.3.1";
const OID_PRODUCTION = "1.2.840.113635.100.6.3.2";
const OID_TOPICS = "1.2.840.113635.100.6.3.6";
/** The subject's UID attribute: the bundle id in Apple's push certificates. */
const OID_UID = "0.9.2342.19200300.100.1.1";

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
  /** The request's credentials checked out (whatever else was wrong with it). */
  authenticated?: boolean;
  /** The body, parsed (once) when the checks got that far. */
  payload?: unknown;
}

interface RegisteredKey {
  teamId: string;
  publicKey: KeyObject;
}

/** What a client certificate allows, read once per connection. */
interface ClientCertificate {
  trusted: boolean;
  environments: Set<ApnsEnvironment>;
  topics: string[];
}

interface SessionState {
  /** When the simulated handshakes are over (ms). */
  readyAt: number;
  active: number;
  authenticated: boolean;
  certificate?: ClientCertificate;
}

interface Context {
  hub: SimulatorHub;
  keys: ReadonlyMap<string, RegisteredKey>;
  topics: ReadonlySet<string>;
  verifiedJwts: Map<string, { teamId: string; iat: number }>;
  maxConcurrentStreams: number;
  latency: () => number;
}

/**
 * A local APNs: the HTTP/2 provider API on two TLS ports (production and sandbox) that checks requests
 * the way Apple does — token (ES256 JWT) or certificate (TLS client certificate) auth, one stream per
 * token connection until a valid JWT, VoIP only on `.voip` topics, 4096 / 5120 bytes — answers with
 * Apple's JSON reasons and records every request in the hub with the URL it was addressed to. The
 * hub's faults apply to requests that pass the checks, so a fault never hides a malformed request.
 */
export async function startApnsSimulator(opts: ApnsSimulatorOptions): Promise<ApnsSimulator> {
  const host = opts.host ?? "127.0.0.1";
  const server = selfSignedCertificate("chatpush local APNs", { serverAuth: true });
  const clientCa = selfSignedCertificate("chatpush local Apple Worldwide Developer Relations CA", {});
  const keys = new Map<string, RegisteredKey>();
  const topics = new Set<string>();
  const sessions = new Map<Http2Session, SessionState>();
  let latency = opts.latencyMs ?? 0;
  let stats: ApnsSimulatorStats = { sessionsOpened: 0, peakStreams: 0, peakStreamsPerSession: 0 };
  let activeStreams = 0;
  const context: Context = {
    hub: opts.hub,
    keys,
    topics,
    verifiedJwts: new Map(),
    maxConcurrentStreams: opts.maxConcurrentStreams ?? APNS_OBSERVED_MAX_STREAMS,
    latency: () => latency,
  };

  const listen = async (environment: ApnsEnvironment, port: number): Promise<Http2SecureServer> => {
    const http2 = createSecureServer({
      key: server.key,
      cert: server.cert,
      // Certificate auth: the client certificate is checked per request (with Apple's reasons), so an
      // untrusted one still connects rather than failing the handshake.
      ca: [clientCa.cert],
      requestCert: true,
      rejectUnauthorized: false,
      settings: { maxConcurrentStreams: UNAUTHENTICATED_MAX_STREAMS },
    });
    http2.on("session", (session) => {
      const state: SessionState = { readyAt: Date.now() + 2 * latency, active: 0, authenticated: false };
      const certificate = clientCertificateOf(session.socket as TLSSocket);
      if (certificate !== undefined) state.certificate = certificate;
      sessions.set(session, state);
      stats.sessionsOpened += 1;
      // A certificate authenticates the connection itself; a token connection waits for its first JWT.
      if (certificate?.trusted) authenticate(session, state, context);
      session.on("close", () => sessions.delete(session));
      session.on("error", () => {});
    });
    http2.on("stream", (stream, headers) => {
      const state = sessions.get(stream.session as Http2Session);
      activeStreams += 1;
      stats.peakStreams = Math.max(stats.peakStreams, activeStreams);
      if (state !== undefined) {
        state.active += 1;
        stats.peakStreamsPerSession = Math.max(stats.peakStreamsPerSession, state.active);
      }
      stream.on("close", () => {
        activeStreams -= 1;
        if (state !== undefined) state.active -= 1;
      });
      // The only failure is the client resetting the stream while its body is read.
      answer({ stream, headers, environment, state, context }).catch(() => stream.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      http2.once("error", reject);
      http2.listen(port, host, () => resolve());
    });
    return http2;
  };

  const production = await listen("production", opts.port?.production ?? 0);
  const sandbox = await listen("sandbox", opts.port?.sandbox ?? 0);
  const hostPort = (s: Http2SecureServer): HostPort => ({ host, port: (s.address() as AddressInfo).port });

  return {
    production: hostPort(production),
    sandbox: hostPort(sandbox),
    ca: server.cert,
    addKey({ keyId, teamId, publicKey }) {
      keys.set(keyId, { teamId, publicKey: createPublicKey(publicKey) });
    },
    allowTopic(bundleId) {
      topics.add(bundleId);
    },
    issueCertificate({
      certificateId,
      bundleId,
      topics: certTopics,
      environments,
      passphrase,
      untrusted,
      endpoint,
    }) {
      const issuer = untrusted === true ? selfSignedCertificate("not Apple", {}) : clientCa;
      const p12 = pushCertificateP12({
        issuer,
        bundleId,
        topics: certTopics ?? [bundleId, `${bundleId}.voip`],
        environments: environments ?? ["sandbox", "production"],
        passphrase: passphrase ?? "chatpush",
      });
      return {
        credential: {
          certificateId,
          bundleId,
          p12,
          passphrase: passphrase ?? "chatpush",
          ...(endpoint !== undefined && { endpoint }),
        },
      };
    },
    setLatency(ms) {
      latency = ms;
    },
    stats: () => ({ ...stats }),
    resetStats() {
      stats = { sessionsOpened: 0, peakStreams: activeStreams, peakStreamsPerSession: 0 };
    },
    async close() {
      const closed = [production, sandbox].map(
        (s) => new Promise<void>((resolve) => s.close(() => resolve())),
      );
      // Clients keep their connection open (as they should with APNs); close() waits for them otherwise.
      for (const session of sessions.keys()) session.close();
      await Promise.all(closed);
    },
  };
}

/** Lifts the connection's stream limit, as APNs does once it has seen valid credentials. */
function authenticate(session: Http2Session, state: SessionState, context: Context): void {
  if (state.authenticated) return;
  state.authenticated = true;
  if (!session.destroyed) session.settings({ maxConcurrentStreams: context.maxConcurrentStreams });
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
}): { credential: ApnsTokenCredential; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync("ec", {
    namedCurve: "prime256v1",
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  });
  const credential: ApnsTokenCredential = {
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

interface Pem {
  key: string;
  cert: string;
}

/** An RSA key pair from node:crypto (forge's pure-JS key generation takes seconds). */
function rsaKeyPair(): { privateKey: string; publicKey: string } {
  return generateKeyPairSync("rsa", {
    modulusLength: 2048,
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  });
}

function newCertificate(publicKey: string, commonName: string): forge.pki.Certificate {
  const certificate = forge.pki.createCertificate();
  certificate.publicKey = forge.pki.publicKeyFromPem(publicKey);
  // A leading 01 keeps the DER integer positive.
  certificate.serialNumber = `01${randomBytes(8).toString("hex")}`;
  certificate.validity.notBefore = new Date(Date.now() - 60 * 60 * 1000);
  certificate.validity.notAfter = new Date(Date.now() + 7 * 24 * 60 * 60 * 1000);
  certificate.setSubject([{ name: "commonName", value: commonName }]);
  return certificate;
}

/**
 * A throwaway certificate that is its own issuer (clients pass it as `ca`): the server's, for
 * localhost and 127.0.0.1, or the CA that signs client push certificates.
 */
function selfSignedCertificate(commonName: string, use: { serverAuth?: boolean }): Pem {
  const { privateKey, publicKey } = rsaKeyPair();
  const certificate = newCertificate(publicKey, commonName);
  certificate.setIssuer([{ name: "commonName", value: commonName }]);
  certificate.setExtensions([
    { name: "basicConstraints", cA: true },
    { name: "keyUsage", digitalSignature: true, keyEncipherment: true, keyCertSign: true },
    ...(use.serverAuth === true
      ? [
          { name: "extKeyUsage", serverAuth: true },
          {
            name: "subjectAltName",
            altNames: [
              { type: 2, value: "localhost" },
              { type: 7, ip: "127.0.0.1" },
            ],
          },
        ]
      : []),
  ]);
  certificate.sign(forge.pki.privateKeyFromPem(privateKey), forge.md.sha256.create());
  return { key: privateKey, cert: forge.pki.certificateToPem(certificate) };
}

/** A push certificate for `bundleId` signed by `issuer`, exported as a .p12 (base64). */
function pushCertificateP12(opts: {
  issuer: Pem;
  bundleId: string;
  topics: string[];
  environments: ApnsEnvironment[];
  passphrase: string;
}): string {
  const { privateKey, publicKey } = rsaKeyPair();
  const certificate = newCertificate(publicKey, `Apple Push Services: ${opts.bundleId}`);
  certificate.setSubject([
    { type: OID_UID, value: opts.bundleId },
    { name: "commonName", value: `Apple Push Services: ${opts.bundleId}` },
  ]);
  certificate.setIssuer(forge.pki.certificateFromPem(opts.issuer.cert).subject.attributes);
  const asn1 = forge.asn1;
  const derNull = asn1.toDer(asn1.create(asn1.Class.UNIVERSAL, asn1.Type.NULL, false, "")).getBytes();
  const topicList = asn1.create(
    asn1.Class.UNIVERSAL,
    asn1.Type.SEQUENCE,
    true,
    opts.topics.map((t) =>
      asn1.create(asn1.Class.UNIVERSAL, asn1.Type.UTF8, false, forge.util.encodeUtf8(t)),
    ),
  );
  certificate.setExtensions([
    { name: "extKeyUsage", clientAuth: true },
    ...(opts.environments.includes("sandbox") ? [{ id: OID_DEVELOPMENT, value: derNull }] : []),
    ...(opts.environments.includes("production") ? [{ id: OID_PRODUCTION, value: derNull }] : []),
    { id: OID_TOPICS, value: asn1.toDer(topicList).getBytes() },
  ]);
  certificate.sign(forge.pki.privateKeyFromPem(opts.issuer.key), forge.md.sha256.create());
  const p12 = forge.pkcs12.toPkcs12Asn1(
    forge.pki.privateKeyFromPem(privateKey),
    [certificate],
    opts.passphrase,
    {
      algorithm: "aes256",
    },
  );
  return Buffer.from(asn1.toDer(p12).getBytes(), "binary").toString("base64");
}

/** The client certificate a connection presented, if any: trusted by the CA, environments, topics. */
function clientCertificateOf(socket: TLSSocket): ClientCertificate | undefined {
  const presented = socket.getPeerX509Certificate?.();
  if (presented === undefined) return undefined;
  const certificate = forge.pki.certificateFromAsn1(forge.asn1.fromDer(presented.raw.toString("binary")));
  // forge's typings want a numeric id; it matches extensions by their dotted OID string.
  const extension = (id: string) =>
    (certificate.getExtension({ id } as never) as { value?: string } | null) ?? undefined;
  const environments = new Set<ApnsEnvironment>();
  if (extension(OID_DEVELOPMENT) !== undefined) environments.add("sandbox");
  if (extension(OID_PRODUCTION) !== undefined) environments.add("production");
  const topicsExtension = extension(OID_TOPICS);
  const uid = certificate.subject.getField({ type: OID_UID })?.value as string | undefined;
  const topics =
    topicsExtension?.value !== undefined
      ? (forge.asn1.fromDer(topicsExtension.value).value as forge.asn1.Asn1[]).map((t) =>
          forge.util.decodeUtf8(t.value as string),
        )
      : uid !== undefined
        ? [uid]
        : [];
  // The server trusts only the simulator's client CA, so `authorized` means "issued by our Apple".
  return { trusted: socket.authorized, environments, topics };
}

async function answer(args: {
  stream: ServerHttp2Stream;
  headers: IncomingHttpHeaders;
  environment: ApnsEnvironment;
  state: SessionState | undefined;
  context: Context;
}): Promise<void> {
  const { stream, headers, environment, state, context } = args;
  const { hub } = context;
  // A client that gives up (node-apn's request timeout) resets the stream: nothing left to answer.
  stream.on("error", () => {});
  const at = new Date().toISOString();
  const body = await bodyOf(stream);
  const token = /^\/3\/device\/([^/?]*)$/.exec(headers[":path"] ?? "")?.[1];

  let result: Answer = validate({
    method: headers[":method"] ?? "",
    token,
    headers,
    body,
    environment,
    state,
    context,
  });
  if (result.authenticated === true && state !== undefined && stream.session !== undefined) {
    authenticate(stream.session, state, context);
  }
  let fault: FaultRule | undefined;
  if (result.status === 200 && token !== undefined) {
    const { rules, delayMs } = takeFaults(hub, "apns", [token]);
    if (delayMs > 0) await sleep(delayMs);
    fault = rules[0];
    if (fault !== undefined && fault.status !== 200) {
      result = {
        status: fault.status,
        reason: fault.reason ?? FAULT_REASONS[fault.status] ?? reasonFromStatus(fault.status),
        ...(fault.retryAfter !== undefined && { retryAfter: fault.retryAfter }),
      };
    }
  }

  hub.record(
    {
      vendor: "apns",
      token: token ?? "",
      at,
      status: result.status,
      request: {
        headers: recordedHeaders(headers, REDACTED_HEADERS),
        body: result.payload ?? parseOrRaw(body),
      },
      environment,
      endpoint: apnsDeviceUrl(environment, token ?? ""),
    },
    fault,
  );
  const latency = context.latency();
  if (latency > 0) await delay(Math.max(0, (state?.readyAt ?? 0) - Date.now()) + latency);
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
  environment: ApnsEnvironment;
  state: SessionState | undefined;
  context: Context;
}): Answer {
  const { method, token, headers, body, environment, state, context } = args;
  const header = (name: string): string | undefined => {
    const value = headers[name];
    return Array.isArray(value) ? value.join(", ") : value;
  };
  if (method !== "POST") return { status: 405, reason: "MethodNotAllowed" };
  if (token === undefined) return { status: 404, reason: "BadPath" };
  if (token === "") return { status: 400, reason: "MissingDeviceToken" };

  const certificate = state?.certificate;
  // Past the auth checks below, the connection has shown valid credentials (APNs then lifts its
  // one-stream limit), whatever else is wrong with the request.
  const refuse = (status: number, reason: string): Answer => ({ status, reason, authenticated: true });
  let topic = header("apns-topic");
  // APNs checks the provider's credential before the device token: a request whose JWT or
  // certificate it refuses gets the 403 whatever the token (an FCM token, not even hex, sent to APNs
  // with a key Apple did not accept came back 403 InvalidProviderToken,
  // https://github.com/firebase/firebase-ios-sdk/issues/4042). So a 400 BadDeviceToken for an
  // obviously invalid token says the credential was accepted: what `npm run doctor` relies on.
  if (certificate !== undefined) {
    if (!certificate.trusted) return { status: 403, reason: "BadCertificate" };
    if (!certificate.environments.has(environment))
      return { status: 403, reason: "BadCertificateEnvironment" };
  } else {
    const authProblem = checkProviderToken(header("authorization"), context);
    if (authProblem !== undefined) return { status: 403, reason: authProblem };
  }
  if (!/^[0-9a-f]{64,}$/i.test(token)) return refuse(400, "BadDeviceToken");

  if (certificate !== undefined) {
    // Certificate auth: no authorization header; the certificate decides environment and topics.
    // Apple: "The apns-topic header is mandatory when the client is connected using a certificate that
    // supports multiple topics"; with a single-topic certificate it is optional.
    if (topic === undefined) {
      if (certificate.topics.length !== 1) return { status: 400, reason: "MissingTopic" };
      topic = certificate.topics[0]!;
    }
    if (!certificate.topics.includes(topic)) return refuse(400, "TopicDisallowed");
  } else if (topic === undefined) {
    return refuse(400, "MissingTopic");
  }
  if (context.topics.size > 0 && !context.topics.has(topic)) return refuse(400, "TopicDisallowed");

  const pushType = header("apns-push-type");
  if (pushType !== undefined && !PUSH_TYPES.has(pushType)) return refuse(400, "InvalidPushType");
  // Apple (apns-push-type "voip"): "the apns-topic header field must use your app's bundle ID with
  // .voip appended to the end" (Sending notification requests to APNs). A PushKit token belongs to
  // the .voip topic and an alert token to the bundle's, so a mismatch is Apple's 400
  // DeviceTokenNotForTopic, "The device token doesn't match the specified topic" (Handling
  // notification responses from APNs); that is what APNs answers a VoIP token pushed on the bundle
  // topic and an alert token pushed on the .voip one (github.com/Pr0Ger/PyAPNs2/issues/134,
  // github.com/QuickBlox/quickblox-ios-sdk/issues/1020). The simulator keeps no token registry and
  // reads the push type as the token's kind (chatpush sends voip only to PushKit tokens).
  const voip = pushType === "voip";
  if (voip !== topic.endsWith(".voip")) return refuse(400, "DeviceTokenNotForTopic");
  const priority = header("apns-priority");
  if (priority !== undefined && !PRIORITIES.has(priority)) return refuse(400, "BadPriority");
  const collapseId = header("apns-collapse-id");
  if (collapseId !== undefined && Buffer.byteLength(collapseId) > COLLAPSE_ID_LIMIT) {
    return refuse(400, "BadCollapseId");
  }
  const expiration = header("apns-expiration");
  if (expiration !== undefined && !/^\d+$/.test(expiration)) return refuse(400, "BadExpirationDate");
  const apnsId = header("apns-id");
  if (apnsId !== undefined && !UUID.test(apnsId)) return refuse(400, "BadMessageId");

  if (Buffer.byteLength(body) > (voip ? VOIP_PAYLOAD_LIMIT : PAYLOAD_LIMIT)) {
    return refuse(413, "PayloadTooLarge");
  }
  if (body.trim() === "") return refuse(400, "PayloadEmpty");
  const payload = parseOrRaw(body);
  // Apple documents no reason for JSON it cannot read; "BadPayload" is the simulator's (any unknown 400
  // is bad-request to chatpush).
  if (!isObject(payload)) return refuse(400, "BadPayload");
  // PushKit hands the whole dictionary to the app (PKPushPayload.dictionaryPayload); only notifications
  // the system shows need `aps`.
  if (!voip && !isObject(payload.aps)) return refuse(400, "PayloadEmpty");
  return { status: 200, authenticated: true, payload };
}

/** The whole body of a stream as UTF-8 (events rather than async iteration: this is the hot path). */
function bodyOf(stream: ServerHttp2Stream): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.once("end", () =>
      resolve(chunks.length === 1 ? chunks[0]!.toString("utf8") : Buffer.concat(chunks).toString("utf8")),
    );
    stream.once("aborted", () => reject(new Error("aborted")));
    stream.once("close", () => reject(new Error("closed")));
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The 403 reason for this `authorization` header, or undefined when the ES256 JWT checks out. */
function checkProviderToken(authorization: string | undefined, context: Context): string | undefined {
  if (authorization === undefined) return "MissingProviderToken";
  const jwt = bearerToken(authorization);
  if (jwt === undefined) return "InvalidProviderToken";
  // APNs verifies a token once per connection, not per request; the simulator remembers verified ones
  // so a benchmark measures the sender, not ECDSA in the fake.
  let verified = context.verifiedJwts.get(jwt);
  if (verified === undefined) {
    const checked = verifyJwt(jwt, context.keys);
    if (typeof checked === "string") return checked;
    verified = checked;
    if (context.verifiedJwts.size > 1000) context.verifiedJwts.clear();
    context.verifiedJwts.set(jwt, verified);
  }
  if (Date.now() / 1000 - verified.iat > TOKEN_LIFETIME_SECONDS) return "ExpiredProviderToken";
  return undefined;
}

function verifyJwt(
  jwt: string,
  keys: ReadonlyMap<string, RegisteredKey>,
): { teamId: string; iat: number } | "InvalidProviderToken" {
  const [headerPart, claimsPart, signature, ...rest] = jwt.split(".");
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
  return { teamId: key.teamId, iat: claims.iat };
}

/** "Bad Gateway" → "BadGateway", for a fault on a status APNs has no documented reason for. */
function reasonFromStatus(status: number): string {
  return (STATUS_CODES[status] ?? "Unknown").replace(/\W/g, "");
}
