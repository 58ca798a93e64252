import { AsyncLocalStorage } from "node:async_hooks";
import { createPrivateKey, type KeyObject, sign } from "node:crypto";
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import type { ClientRequest, IncomingMessage } from "node:http";
import { Agent, request as httpsRequest } from "node:https";
import { connect } from "node:net";
import type { Duplex } from "node:stream";
import {
  type App,
  type Credential,
  deleteApp,
  type GoogleOAuthAccessToken,
  initializeApp,
} from "firebase-admin/app";
import { getMessaging, type Messaging, type TokenMessage } from "firebase-admin/messaging";
import type { DeliveryTarget, Notification, Outcome } from "../model/index.js";
import type { SendResult, VendorSender } from "../ports/sender.js";
import { type FcmCredential, pickCredential } from "./credentials.js";
import { classifyFcm } from "./fcm-outcomes.js";

/** Tencent Chat keeps offline messages for 7 days; a push should not outlive its message. */
export const FCM_TTL_MS = 7 * 24 * 60 * 60 * 1000;
/** FCM refuses a message over 4096 bytes (vendors.md §2 "Message JSON"). */
export const FCM_MESSAGE_LIMIT_BYTES = 4096;
/**
 * On the wire firebase-admin renames restrictedPackageName, channelId and notificationCount
 * to snake_case (one or two bytes longer each) and writes ttl as "604800s"; this covers the growth.
 */
const WIRE_HEADROOM_BYTES = 32;
const ELLIPSIS = "…";

/**
 * The firebase-admin message for one Android device: a notification message (the system shows it
 * while the app is killed) that the plugin's click handler reads `ext` from. Title and body are cut to
 * keep the message within FCM's limit; an `ext` too big on its own is left for FCM to refuse.
 */
export function buildFcmMessage(
  notification: Notification,
  target: DeliveryTarget,
  credential: FcmCredential,
): TokenMessage {
  const { conversationId } = notification;
  const build = (title: string, body: string): TokenMessage => ({
    token: target.token,
    notification: { title, body },
    data: { ext: notification.ext, conversationID: conversationId },
    android: {
      // vendors.md §10: IM needs high priority to wake the device and show at once.
      priority: "high",
      // No collapse_key: FCM keeps at most 4 collapse keys per offline device and throttles
      // collapsible messages to a burst of 20 (vendors.md §2 Quotas). The tag below already makes a
      // newer message of a conversation replace the shown one.
      ttl: FCM_TTL_MS,
      ...(target.appId !== undefined && { restrictedPackageName: target.appId }),
      notification: {
        ...(credential.androidChannelId !== undefined && { channelId: credential.androidChannelId }),
        // One notification per conversation: a newer message replaces the shown one.
        tag: conversationId,
        sound: notification.android?.sound ?? "default",
        ...(notification.badge !== undefined && { notificationCount: notification.badge }),
      },
    },
  });

  const room = FCM_MESSAGE_LIMIT_BYTES - WIRE_HEADROOM_BYTES - jsonBytes(build("", ""));
  const titleBytes = textBytes(notification.title);
  const bodyBytes = textBytes(notification.body);
  if (titleBytes + bodyBytes <= room) return build(notification.title, notification.body);
  // The title keeps up to half the room (more when the body is short); the body gets the rest.
  const title = truncate(notification.title, Math.max(Math.floor(room / 2), room - bodyBytes));
  return build(title, truncate(notification.body, room - textBytes(title)));
}

function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value));
}

/** Bytes `text` takes inside a JSON string, escapes included. */
function textBytes(text: string): number {
  return jsonBytes(text) - 2;
}

/** The longest whole-code-point prefix of `text` that fits in `maxBytes` with "…" appended. */
function truncate(text: string, maxBytes: number): string {
  if (textBytes(text) <= maxBytes) return text;
  let used = textBytes(ELLIPSIS);
  if (used > maxBytes) return "";
  let end = 0;
  for (const codePoint of text) {
    const size = textBytes(codePoint);
    if (used + size > maxBytes) break;
    used += size;
    end += codePoint.length;
  }
  return `${text.slice(0, end).trimEnd()}${ELLIPSIS}`;
}

export interface FcmSenderOptions {
  credentials: readonly FcmCredential[];
  /** Sends in flight at once. Default 100, the size of the connection pool. */
  concurrency?: number;
}

const DEFAULT_CONCURRENCY = 100;
const MAX_SOCKETS = 100;
const GOOGLE = "https://fcm.googleapis.com";
/**
 * Node's HTTP client announces each request here once it is written, in the async context of the call
 * that made it.
 */
const REQUEST_START = "http.client.request.start";

interface AttemptResult {
  outcome: Outcome;
  status?: number;
}

/**
 * FCM through firebase-admin's `send()`, one request per target and up to `concurrency` in flight, over
 * a keep-alive agent kept for the life of the process so a warm Lambda reuses its connections (not
 * `sendEach`, which opens and closes an HTTP/2 session per call). The OAuth token grant uses the same
 * agent; with `credential.endpoint.url` the agent takes both to that plain-HTTP simulator.
 *
 * firebase-admin's errors carry only its own code and FCM's message: no HTTP status, no Retry-After,
 * and its mapping folds REST errors that need opposite handling into one code (NOT_FOUND, as for a
 * wrong project id, becomes registration-token-not-registered; PERMISSION_DENIED becomes
 * mismatched-credential; an expired access token becomes third-party-auth-error). Trusting those would
 * drop every token of a misconfigured project, so the sender reads FCM's answer itself: Node's
 * diagnostics channel shows each request, and AsyncLocalStorage ties it to the `send()` that made it.
 */
export class FcmSender implements VendorSender {
  readonly vendor = "fcm";
  private readonly credentials: readonly FcmCredential[];
  private readonly concurrency: number;
  private readonly channels = new Map<number, FcmChannel>();
  private readonly agents = new Map<string, Agent>();
  private readonly exchanges = new AsyncLocalStorage<FcmExchange>();
  private readonly onRequestStart = (message: unknown): void => {
    this.exchanges.getStore()?.watch((message as { request: ClientRequest }).request);
  };

  constructor(options: FcmSenderOptions) {
    this.credentials = options.credentials;
    this.concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
    subscribe(REQUEST_START, this.onRequestStart);
  }

  send(notification: Notification, targets: DeliveryTarget[]): Promise<SendResult[]> {
    return mapConcurrently(targets, this.concurrency, (target) => this.deliver(notification, target));
  }

  async close(): Promise<void> {
    unsubscribe(REQUEST_START, this.onRequestStart);
    await Promise.all([...this.channels.values()].map((channel) => channel.close()));
    this.channels.clear();
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
  }

  private async deliver(notification: Notification, target: DeliveryTarget): Promise<SendResult> {
    const credential = pickCredential(this.credentials, target.certificateId);
    if (credential === undefined) {
      const reason = `FCM no credential for certificateId ${target.certificateId ?? "(default)"}`;
      return { target, outcome: { kind: "bad-request", reason } };
    }
    let channel: FcmChannel;
    try {
      channel = this.channelFor(credential);
    } catch (error) {
      const reason = `FCM credential ${credential.certificateId} unusable: ${(error as Error).message}`;
      return { target, outcome: { kind: "bad-request", reason } };
    }
    const message = buildFcmMessage(notification, target, credential);
    const generation = channel.generation;
    const first = await this.attempt(channel, message);
    if (first.outcome.kind !== "refresh-credential") return { target, ...first };
    // FCM refused the access token (revoked, or expired early): a new App fetches a new one.
    channel.renew(generation);
    return { target, ...(await this.attempt(channel, message)) };
  }

  private attempt(channel: FcmChannel, message: TokenMessage): Promise<AttemptResult> {
    return channel.use((messaging) => {
      const exchange = new FcmExchange();
      const sent = this.exchanges.run(exchange, async () => messaging.send(message));
      return Promise.race([
        sent.then(
          (name): AttemptResult => ({ outcome: { kind: "delivered", vendorId: name }, status: 200 }),
          (error: unknown) => exchange.failed(error),
        ),
        exchange.abandoned,
      ]);
    });
  }

  private channelFor(credential: FcmCredential): FcmChannel {
    let channel = this.channels.get(credential.certificateId);
    if (channel === undefined) {
      channel = new FcmChannel(credential, this.agentFor(credential.endpoint?.url));
      this.channels.set(credential.certificateId, channel);
    }
    return channel;
  }

  private agentFor(endpointUrl: string | undefined): Agent {
    const key = endpointUrl ?? GOOGLE;
    let agent = this.agents.get(key);
    if (agent === undefined) {
      agent =
        endpointUrl === undefined
          ? new Agent({ keepAlive: true, maxSockets: MAX_SOCKETS })
          : new SimulatorAgent(new URL(endpointUrl));
      this.agents.set(key, agent);
    }
    return agent;
  }
}

/**
 * Connects every request addressed to Google (oauth2.googleapis.com, fcm.googleapis.com) to the local
 * simulator instead, in plain HTTP: firebase-admin has no endpoint option for FCM (local-tooling.md §6),
 * but it sends messages:send through the app's `httpAgent`, and ServiceAccountCredential uses it too.
 */
class SimulatorAgent extends Agent {
  constructor(private readonly endpoint: URL) {
    super({ keepAlive: true, maxSockets: MAX_SOCKETS });
  }

  override createConnection(): Duplex {
    return connect(Number(this.endpoint.port || 80), this.endpoint.hostname);
  }
}

/** firebase-admin App names are process-wide; several senders may hold the same credential. */
let appSerial = 0;

interface AppSlot {
  app: App;
  messaging: Messaging;
  inFlight: number;
}

/**
 * One credential's firebase-admin App, made on first use and kept. firebase-admin refreshes the access
 * token itself before it expires; when FCM refuses one anyway, `renew` swaps in a new App (whose
 * credential fetches a new token) and deletes the old one once its sends are done.
 */
class FcmChannel {
  /** Counts renewals, so that the many sends refused with one token renew it once. */
  generation = 0;
  private slot: AppSlot;
  private readonly deletions: Promise<void>[] = [];

  constructor(
    private readonly credential: FcmCredential,
    private readonly agent: Agent,
  ) {
    this.slot = this.open();
  }

  async use<T>(work: (messaging: Messaging) => Promise<T>): Promise<T> {
    const slot = this.slot;
    slot.inFlight += 1;
    try {
      return await work(slot.messaging);
    } finally {
      slot.inFlight -= 1;
      if (slot !== this.slot && slot.inFlight === 0) this.deletions.push(deleteApp(slot.app));
    }
  }

  renew(generation: number): void {
    if (generation !== this.generation) return;
    const retired = this.slot;
    this.slot = this.open();
    this.generation += 1;
    if (retired.inFlight === 0) this.deletions.push(deleteApp(retired.app));
  }

  async close(): Promise<void> {
    await Promise.all([...this.deletions, deleteApp(this.slot.app)]);
  }

  private open(): AppSlot {
    const { certificateId, projectId } = this.credential;
    appSerial += 1;
    const app = initializeApp(
      {
        credential: new ServiceAccountCredential(this.credential, this.agent),
        projectId,
        httpAgent: this.agent,
      },
      `chatpush-fcm-${certificateId}-${appSerial}`,
    );
    return { app, messaging: getMessaging(app), inFlight: 0 };
  }
}

const TOKEN_URL = "https://oauth2.googleapis.com/token";
const JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/** Sending needs only this scope (firebase-admin's own credential asks for five, cloud-platform among them). */
const FCM_SCOPE = "https://www.googleapis.com/auth/firebase.messaging";
/** Google takes assertions that live at most an hour. */
const ASSERTION_SECONDS = 60 * 60;
const TOKEN_TIMEOUT_MS = 10_000;

/**
 * A service account's OAuth 2.0 JWT-bearer grant (RFC 7523), as google-auth-library makes it, but over
 * our agent. firebase-admin 13.10's `cert(serviceAccount, httpAgent)` loses the agent for a service
 * account given as an object (populateGoogleAuth calls GoogleAuth.fromJSON without its clientOptions),
 * so the token request would bypass both the keep-alive pool and the simulator. firebase-admin caches
 * the token this returns and asks again five minutes before it expires.
 */
class ServiceAccountCredential implements Credential {
  private readonly key: KeyObject;

  constructor(
    private readonly account: FcmCredential,
    private readonly agent: Agent,
  ) {
    // Parsed once, so a malformed key fails when the App is made, not on every token request.
    this.key = createPrivateKey(account.privateKey);
  }

  async getAccessToken(): Promise<GoogleOAuthAccessToken> {
    const iat = Math.floor(Date.now() / 1000);
    const assertion = signJwt(
      { iss: this.account.clientEmail, scope: FCM_SCOPE, aud: TOKEN_URL, iat, exp: iat + ASSERTION_SECONDS },
      this.key,
    );
    const { status, body } = await postForm(
      TOKEN_URL,
      { grant_type: JWT_BEARER_GRANT, assertion },
      this.agent,
    );
    const answer = parseJson(body) as Partial<Record<string, unknown>> | undefined;
    const { access_token, expires_in } = answer ?? {};
    if (status !== 200 || typeof access_token !== "string" || typeof expires_in !== "number") {
      // firebase-admin wraps this into app/invalid-credential, keeping Google's "invalid_grant" text.
      throw new Error(
        `token endpoint answered ${status}: ${answer?.error ?? ""} ${answer?.error_description ?? body}`,
      );
    }
    return { access_token, expires_in };
  }
}

function signJwt(claims: Record<string, unknown>, key: KeyObject): string {
  const encode = (part: unknown) => Buffer.from(JSON.stringify(part)).toString("base64url");
  const unsigned = `${encode({ alg: "RS256", typ: "JWT" })}.${encode(claims)}`;
  return `${unsigned}.${sign("RSA-SHA256", Buffer.from(unsigned), key).toString("base64url")}`;
}

function postForm(
  url: string,
  form: Record<string, string>,
  agent: Agent,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpsRequest(
      url,
      {
        method: "POST",
        agent,
        headers: { "content-type": "application/x-www-form-urlencoded" },
        timeout: TOKEN_TIMEOUT_MS,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.once("error", reject);
        response.once("end", () =>
          resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }),
        );
      },
    );
    request.once("timeout", () => request.destroy(new Error(`no answer within ${TOKEN_TIMEOUT_MS} ms`)));
    request.once("error", reject);
    request.end(new URLSearchParams(form).toString());
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** What FCM answered to one request, as far as it could be read. */
interface FcmAnswer {
  httpStatus?: number;
  errorCode?: string;
  message?: string;
  retryAfterSeconds?: number;
}

/** What Node's HTTP client saw of one `messaging.send()`, firebase-admin's own retries included. */
class FcmExchange {
  private attempts = 0;
  private answer: FcmAnswer | undefined;
  private abandon: (result: AttemptResult) => void = () => {};
  /** Settles when firebase-admin is about to sleep before retrying (see `afterFailure`). */
  readonly abandoned = new Promise<AttemptResult>((resolve) => {
    this.abandon = resolve;
  });

  watch(request: ClientRequest): void {
    // The OAuth token request runs inside the first send too.
    if (!request.path.endsWith("/messages:send")) return;
    this.attempts += 1;
    this.answer = undefined;
    request.once("response", (response: IncomingMessage) => this.read(response));
    request.once("error", (error: NodeJS.ErrnoException) =>
      this.afterFailure({ errorCode: error.code, message: error.message }),
    );
  }

  /** The outcome of a `send()` that rejected: FCM's own answer when there was one, else the SDK's code. */
  failed(error: unknown): AttemptResult {
    const sdk = error as { code?: unknown; message?: unknown };
    const answer = this.answer;
    const outcome = classifyFcm({
      ...answer,
      errorCode: answer?.errorCode ?? (typeof sdk.code === "string" ? sdk.code : undefined),
      message: answer?.message ?? String(sdk.message ?? error),
    });
    return answer?.httpStatus === undefined ? { outcome } : { outcome, status: answer.httpStatus };
  }

  private read(response: IncomingMessage): void {
    const httpStatus = response.statusCode ?? 0;
    if (httpStatus < 400) return;
    // firebase-admin reads the body too: each 'data' listener gets every chunk.
    const chunks: Buffer[] = [];
    response.on("data", (chunk: Buffer) => chunks.push(chunk));
    response.once("end", () => {
      const retryAfterSeconds = parseRetryAfter(response.headers["retry-after"]);
      this.answer = {
        httpStatus,
        ...readGoogleError(Buffer.concat(chunks).toString("utf8")),
        ...(retryAfterSeconds !== undefined && { retryAfterSeconds }),
      };
      if (httpStatus === 503) this.afterFailure(this.answer);
    });
  }

  /**
   * firebase-admin retries a 503 and a reset or timed-out socket itself: up to 4 more attempts,
   * sleeping for the Retry-After (when at most 60 s) or 0, 1, 2 and 4 s (`defaultRetryConfig` in its
   * utils/api-request.js; no public option changes it). Its first retry without Retry-After is
   * immediate and heals a keep-alive socket FCM closed while the Lambda was frozen, so we wait for
   * that one; as soon as it would sleep we answer `retry` instead, and the queue's backoff takes over.
   * The SDK still makes the sleeping attempt in the background, which can deliver a second copy; with
   * the same tag Android shows it in place of the first.
   */
  private afterFailure(failure: FcmAnswer): void {
    if (this.attempts < 2 && failure.retryAfterSeconds === undefined) return;
    const outcome = classifyFcm(failure);
    this.abandon(failure.httpStatus === undefined ? { outcome } : { outcome, status: failure.httpStatus });
  }
}

/** FCM's errorCode from the FcmError detail, else Google's RPC status, and the message. */
function readGoogleError(text: string): Pick<FcmAnswer, "errorCode" | "message"> {
  type GoogleError = { error?: { message?: unknown; status?: unknown; details?: unknown } };
  const error = (parseJson(text) as GoogleError | null | undefined)?.error;
  const details = Array.isArray(error?.details) ? (error.details as Record<string, unknown>[]) : [];
  const fcmCode = details.find(
    (d) => d["@type"] === "type.googleapis.com/google.firebase.fcm.v1.FcmError",
  )?.errorCode;
  const errorCode = typeof fcmCode === "string" ? fcmCode : error?.status;
  return {
    ...(typeof errorCode === "string" && { errorCode }),
    ...(typeof error?.message === "string" && { message: error.message }),
  };
}

/** Retry-After is delay-seconds or an HTTP date (RFC 9110 §10.2.3). */
function parseRetryAfter(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

/** Runs `work` on every item, at most `limit` at a time; results keep the items' order. */
async function mapConcurrently<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
