import { createHash } from "node:crypto";
import apn, {
  type Notification as ApnNotification,
  type Provider,
  type ProviderOptions,
  type ResponseFailure,
  type ResponseSent,
} from "@parse/node-apn";
import type { ApnsEnvironment, DeliveryTarget, Notification } from "../model/index.js";
import { type Clock, type SendResult, systemClock, type VendorSender } from "../ports/index.js";
import { classifyApns } from "./apns-outcomes.js";
import { type ApnsCredential, pickCredential } from "./credentials.js";

/** Apple: 4096 bytes for every push type but VoIP (5120). */
export const APNS_PAYLOAD_LIMIT = 4096;
/** Apple: `apns-collapse-id` must not exceed 64 bytes. */
const COLLAPSE_ID_LIMIT = 64;
/** Tencent Cloud Chat keeps offline messages 7 days; a push announcing one is pointless after that. */
const OFFLINE_TTL_SECONDS = 7 * 24 * 60 * 60;
const ELLIPSIS = "…";

/** The headers chatpush sets on every APNs request, as they go on the wire. */
export interface ApnsHeaders {
  "apns-topic": string;
  "apns-push-type": "alert";
  "apns-priority": "10";
  "apns-expiration": string;
  "apns-collapse-id": string;
}

export interface ApnsPayload {
  aps: {
    alert: { title: string; body: string };
    badge?: number;
    sound: string;
    "thread-id": string;
  };
  /** Top level and still a JSON string, where Tencent's own APNs pushes put it for the plugin. */
  ext: string;
}

export interface ApnsRequest {
  headers: ApnsHeaders;
  payload: ApnsPayload;
}

/**
 * The APNs request for one notification. An IM message is an alert at priority 10 (vendors.md §10);
 * the body, then the title, are cut so the payload fits APNs' limit.
 */
export function buildApnsRequest(
  notification: Notification,
  credential: ApnsCredential,
  now: number,
): ApnsRequest {
  const expiresAt = Math.floor(notification.sentAt / 1000) + OFFLINE_TTL_SECONDS;
  const payload: ApnsPayload = {
    aps: {
      alert: { title: notification.title, body: notification.body },
      ...(notification.badge !== undefined && { badge: notification.badge }),
      sound: notification.ios?.sound ?? "default",
      "thread-id": notification.conversationId,
    },
    ext: notification.ext,
  };
  return {
    headers: {
      "apns-topic": credential.bundleId,
      "apns-push-type": "alert",
      "apns-priority": "10",
      // Past Tencent's window (a retry that waited long), 0 = "deliver now if the device is online,
      // never store" rather than a date APNs would have to interpret.
      "apns-expiration": String(expiresAt > Math.floor(now / 1000) ? expiresAt : 0),
      "apns-collapse-id": collapseId(notification.conversationId),
    },
    payload: fitPayload(payload),
  };
}

/** Group ids run long ("group_@TGS#…" with custom ids); a hash keeps one collapse id per conversation. */
function collapseId(conversationId: string): string {
  if (Buffer.byteLength(conversationId) <= COLLAPSE_ID_LIMIT) return conversationId;
  return createHash("sha256").update(conversationId).digest("hex");
}

function payloadBytes(payload: ApnsPayload): number {
  return Buffer.byteLength(JSON.stringify(payload));
}

function withAlert(payload: ApnsPayload, title: string, body: string): ApnsPayload {
  return { ...payload, aps: { ...payload.aps, alert: { title, body } } };
}

function fitPayload(payload: ApnsPayload): ApnsPayload {
  if (payloadBytes(payload) <= APNS_PAYLOAD_LIMIT) return payload;
  const { title, body } = payload.aps.alert;
  const fits = (p: ApnsPayload) => payloadBytes(p) <= APNS_PAYLOAD_LIMIT;
  const cutBody = longestFitting(body, (b) => fits(withAlert(payload, title, b)));
  if (cutBody !== undefined) return withAlert(payload, title, cutBody);
  const shortestBody = cut(Array.from(body), body, 0);
  const cutTitle = longestFitting(title, (t) => fits(withAlert(payload, t, shortestBody)));
  // Still too large means `ext` alone is: left whole (cutting it would break the app's JSON), so APNs
  // answers 413 PayloadTooLarge and the target is dead-lettered with that reason.
  return withAlert(payload, cutTitle ?? cut(Array.from(title), title, 0), shortestBody);
}

/** The first `keep` code points plus an ellipsis, or the text itself when nothing is cut. */
function cut(codePoints: string[], text: string, keep: number): string {
  return keep >= codePoints.length ? text : `${codePoints.slice(0, keep).join("")}${ELLIPSIS}`;
}

/**
 * The longest cut of `text` (on a code-point boundary, so no emoji is split into a lone surrogate)
 * that `fits`; undefined when even the bare ellipsis does not. Callers only ask when the whole text
 * does not fit, so fitting is monotonic in `keep` and a binary search finds the boundary.
 */
function longestFitting(text: string, fits: (candidate: string) => boolean): string | undefined {
  const codePoints = Array.from(text);
  if (!fits(cut(codePoints, text, 0))) return undefined;
  let low = 0;
  let high = codePoints.length;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (fits(cut(codePoints, text, middle))) low = middle;
    else high = middle - 1;
  }
  return cut(codePoints, text, low);
}

/**
 * node-apn opens one stream per token, all at once: 10,000 in one send() all failed with
 * ENHANCE_YOUR_CALM, while chunks of 500 were the fastest (local-tooling.md §5).
 */
const TOKENS_PER_SEND = 500;

/** What APNs said about one token; status 0 = no HTTP answer. */
interface ApnsAnswer {
  status: number;
  reason?: string;
  apnsId?: string;
}

type TokenResult = Omit<SendResult, "target">;

interface Group {
  credential: ApnsCredential;
  environment: ApnsEnvironment;
  tokens: Set<string>;
}

export interface ApnsSenderOptions {
  credentials: readonly ApnsCredential[];
  clock?: Clock;
}

/**
 * Sends over node-apn with token (.p8) auth. Built once at module scope by the worker, so its HTTP/2
 * connections (one per credential and environment) live as long as the Lambda container: Apple treats
 * connect-per-request as a DoS pattern.
 */
export class ApnsSender implements VendorSender {
  readonly vendor = "apns";
  private readonly credentials: readonly ApnsCredential[];
  private readonly clock: Clock;
  private readonly providers = new Map<string, Provider>();

  constructor({ credentials, clock = systemClock }: ApnsSenderOptions) {
    this.credentials = credentials;
    this.clock = clock;
  }

  async send(notification: Notification, targets: DeliveryTarget[]): Promise<SendResult[]> {
    const groups = new Map<string, Group>();
    const groupKeys = targets.map((target) => {
      const credential = pickCredential(this.credentials, target.certificateId);
      if (credential === undefined) return undefined;
      const environment = target.environment ?? "production";
      const key = providerKey(credential, environment);
      const group = groups.get(key) ?? { credential, environment, tokens: new Set<string>() };
      group.tokens.add(target.token);
      groups.set(key, group);
      return key;
    });

    const results = new Map<string, Map<string, TokenResult>>();
    await Promise.all(
      [...groups].map(async ([key, group]) => results.set(key, await this.sendGroup(notification, group))),
    );

    return targets.map((target, index): SendResult => {
      const key = groupKeys[index];
      if (key === undefined) {
        return {
          target,
          outcome: { kind: "bad-request", reason: `no APNs credential ${target.certificateId}` },
        };
      }
      return { target, ...results.get(key)!.get(target.token)! };
    });
  }

  async close(): Promise<void> {
    const providers = [...this.providers.values()];
    this.providers.clear();
    // Provider.shutdown() returns nothing (its typings say Promise): the callback is the only signal.
    await Promise.all(
      providers.map((provider) => new Promise<void>((resolve) => provider.shutdown(resolve))),
    );
  }

  private async sendGroup(notification: Notification, group: Group): Promise<Map<string, TokenResult>> {
    const tokens = [...group.tokens];
    let provider: Provider;
    try {
      provider = this.providerFor(group.credential, group.environment);
    } catch (error) {
      // An unreadable .p8 in the secret: every target of this credential fails, the others go on.
      const reason = `APNs credential ${group.credential.certificateId} unusable: ${(error as Error).message}`;
      return new Map(tokens.map((token) => [token, { outcome: { kind: "bad-request", reason } }]));
    }
    const note = toApnNotification(buildApnsRequest(notification, group.credential, this.clock.now()));
    const answers = await sendInChunks(provider, note, tokens);

    // node-apn has already minted a new JWT on this answer (lib/client.js, request(): token.regenerate),
    // so the same provider and connection resend with it; a second expiry goes back as refresh-credential.
    const expired = tokens.filter((token) => {
      const answer = answers.get(token);
      return answer?.status === 403 && answer.reason === "ExpiredProviderToken";
    });
    if (expired.length > 0) {
      for (const [token, answer] of await sendInChunks(provider, note, expired)) answers.set(token, answer);
    }
    return new Map(tokens.map((token) => [token, resultOf(answers.get(token))]));
  }

  private providerFor(credential: ApnsCredential, environment: ApnsEnvironment): Provider {
    const key = providerKey(credential, environment);
    let provider = this.providers.get(key);
    if (provider === undefined) {
      provider = new apn.Provider(providerOptions(credential, environment));
      this.providers.set(key, provider);
    }
    return provider;
  }
}

function providerKey(credential: ApnsCredential, environment: ApnsEnvironment): string {
  return `${credential.certificateId}:${environment}`;
}

function providerOptions(credential: ApnsCredential, environment: ApnsEnvironment): ProviderOptions {
  const options: ProviderOptions = {
    token: { key: credential.privateKey, keyId: credential.keyId, teamId: credential.teamId },
    production: environment === "production",
    // Retries belong to the worker's queue. node-apn would resend 408/429/5xx at once (it reads
    // `Retry-After` by a capitalised name HTTP/2 never delivers, so it always waits 0 s) and hammer a
    // device APNs just throttled.
    connectionRetryLimit: 0,
  };
  const endpoint = credential.endpoint;
  if (endpoint === undefined) return options;
  // local-tooling.md §5: `address` must be the host alone (a port in it is overridden by `port`), and
  // trust comes from the endpoint's CA, never from turning verification off.
  const { host, port } = endpoint[environment];
  return { ...options, address: host, port, ...(endpoint.ca !== undefined && { ca: [endpoint.ca] }) };
}

function toApnNotification({ headers, payload }: ApnsRequest): ApnNotification {
  const note = new apn.Notification();
  note.topic = headers["apns-topic"];
  note.pushType = headers["apns-push-type"];
  note.priority = Number(headers["apns-priority"]);
  note.expiry = Number(headers["apns-expiration"]);
  note.collapseId = headers["apns-collapse-id"];
  note.rawPayload = payload;
  return note;
}

async function sendInChunks(
  provider: Provider,
  note: ApnNotification,
  tokens: string[],
): Promise<Map<string, ApnsAnswer>> {
  const answers = new Map<string, ApnsAnswer>();
  for (let start = 0; start < tokens.length; start += TOKENS_PER_SEND) {
    const { sent, failed } = await provider.send(note, tokens.slice(start, start + TOKENS_PER_SEND));
    for (const ok of sent as (ResponseSent & { "apns-id"?: string })[]) {
      answers.set(ok.device, { status: 200, apnsId: ok["apns-id"] });
    }
    for (const failure of failed) answers.set(failure.device, answerOf(failure));
  }
  return answers;
}

/** `answer` is missing only if node-apn left a token it was given out of both `sent` and `failed`. */
function resultOf(answer: ApnsAnswer | undefined): TokenResult {
  if (answer === undefined) return { outcome: classifyApns(0, "no answer from node-apn") };
  if (answer.status === 200) return { status: 200, outcome: { kind: "delivered", vendorId: answer.apnsId } };
  const outcome = classifyApns(answer.status, answer.reason);
  return answer.status === 0 ? { outcome } : { outcome, status: answer.status };
}

/**
 * node-apn's failures: APNs' JSON in `response`, except 403 ExpiredProviderToken and 500
 * InternalServerError, which it turns into an `error` (the reason then is its message); no status at
 * all for timeouts and broken streams.
 */
function answerOf(failure: ResponseFailure): ApnsAnswer {
  const status = typeof failure.status === "number" ? failure.status : 0;
  const reason = failure.response?.reason ?? failure.error?.message;
  return reason === undefined ? { status } : { status, reason };
}
