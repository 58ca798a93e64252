import type { ClientHttp2Session, ClientHttp2Stream, IncomingHttpHeaders } from "node:http2";
import apn, { type Provider, type ResponseFailure } from "@parse/node-apn";

/** What APNs said about one request; status 0 = no HTTP answer. */
export interface ApnsAnswer {
  status: number;
  reason?: string;
  apnsId?: string;
  /** The 410 body's `timestamp` (epoch ms). */
  timestamp?: number;
  /** The request never left this process (node refused to build it): never worth a retry. */
  local?: boolean;
}

/**
 * Our own ceiling on streams per HTTP/2 session. Apple: "don't assume a specific number of streams"
 * (https://developer.apple.com/documentation/usernotifications/establishing-a-connection-to-apns), so
 * the server's SETTINGS_MAX_CONCURRENT_STREAMS decides; this only caps a server that advertises none
 * (HTTP/2's default is unlimited). Observed values: 500 (2016, https://developer.apple.com/forums/thread/54407,
 * http://www.openradar.me/27870881), about 1,000 today (vendors.md §1, UNCONFIRMED).
 */
export const APNS_MAX_STREAMS_PER_SESSION = 1000;
/**
 * Sessions per credential × environment. Apple: "you can establish multiple connections to these
 * servers to improve performance". Eight sessions of 1,000 streams carry one Lambda batch (10 jobs ×
 * 500 targets) at once with room for a server that allows only 500.
 */
export const APNS_MAX_SESSIONS = 8;
/**
 * Requests in flight across every session of one sender: the memory cap. Each in-flight HTTP/2
 * stream holds about 20 KB of heap in node (bench/senders-apns.ts: ~185 MB peak at 5,000), and the
 * garbage collector's share of the CPU grows with it; 2,000 keeps ≥ 10,000 sends/s possible at a
 * 200 ms round trip (2,000 / 0.2 s), more than a worker's CPU delivers, at about half the heap.
 */
export const APNS_MAX_IN_FLIGHT = 2000;
/**
 * node-apn's own default request timeout (lib/config.js `requestTimeout: 5000`), used when its config
 * says nothing; its timeout answer reads "apn write timeout" (lib/client.js request()).
 */
const DEFAULT_REQUEST_TIMEOUT_MS = 5000;
/**
 * node-apn refreshes its JWT when it is this old (lib/client.js request(): `isExpired(3300)`); Apple
 * refuses a token older than one hour and one refreshed more often than every 20 minutes
 * (https://developer.apple.com/documentation/usernotifications/establishing-a-token-based-connection-to-apns).
 */
const TOKEN_REFRESH_SECONDS = 3300;
/** A request HTTP/2 says was not processed (refused stream, closed session) is sent again this often. */
const MAX_UNPROCESSED_RESENDS = 3;

/**
 * One kind of request of one job, shared by every target of that kind (alerts with one badge, or
 * VoIP pushes): the headers but `apns-id`, and the payload serialised once.
 */
export interface WireTemplate {
  topic: string;
  pushType: string;
  priority: string;
  expiration: string;
  collapseId?: string;
  /** The payload's JSON. */
  body: string;
  /** The same, as UTF-8 bytes: written as they are, never encoded again per request. */
  bytes: Buffer;
}

export function wireTemplate(
  headers: Readonly<Record<string, string | undefined>>,
  body: string,
): WireTemplate {
  const collapseId = headers["apns-collapse-id"];
  return {
    topic: headers["apns-topic"] ?? "",
    pushType: headers["apns-push-type"] ?? "alert",
    priority: headers["apns-priority"] ?? "10",
    expiration: headers["apns-expiration"] ?? "0",
    ...(collapseId !== undefined && { collapseId }),
    body,
    bytes: Buffer.from(body, "utf8"),
  };
}

/** The HTTP/2 session node-apn keeps for one Provider, as far as the pool reads it. */
interface SessionView {
  closed: boolean;
  destroyed: boolean;
  remoteSettings: { maxConcurrentStreams?: number };
  on?(event: "remoteSettings", listener: () => void): unknown;
}

/** node-apn's JWT (lib/credentials/token/prepare.js): the current token, its generation, renewal. */
interface TokenView {
  current: string;
  generation: number;
  regenerate(generation: number): void;
  isExpired(validSeconds: number): boolean;
}

/**
 * node-apn 8.1's Client, as far as the pool uses it: the session it keeps (`client.session`, made by
 * `connect()` with the credential's TLS options, proxy and heartbeat, destroyed on GOAWAY or error,
 * lib/client.js) and its config (`address`, the JWT in `token`, `requestTimeout`).
 */
interface ClientView {
  session?: SessionView & ClientHttp2Session;
  connect(): Promise<void>;
  config: { address: string; token?: TokenView | null; requestTimeout?: number };
  write?(request: unknown, token: string, type: "device", method: "post"): Promise<Record<string, unknown>>;
}

function clientOf(provider: Provider): ClientView | undefined {
  return (provider as unknown as { client?: ClientView }).client;
}

/**
 * The session node-apn keeps for this Provider (lib/provider.js: `this.client = new Client(options)`;
 * lib/client.js connect(): `this.session = http2.connect(…)`), when it is open. If a later node-apn
 * moves it, the pool falls back on node-apn's own Client.write, one stream per session at a time
 * (slow, never a flood).
 */
function sessionOf(provider: Provider): (SessionView & ClientHttp2Session) | undefined {
  const session = clientOf(provider)?.session;
  return session !== undefined && !session.closed && !session.destroyed ? session : undefined;
}

/** The pool writes its own streams on node-apn's session when node-apn exposes what that takes. */
function leanClientOf(provider: Provider): ClientView | undefined {
  const client = clientOf(provider);
  return typeof client?.connect === "function" && typeof client.config?.address === "string"
    ? client
    : undefined;
}

/** Requests in flight across pools: a count with waiters, shared by every pool of a sender. */
export class InFlightGate {
  private inFlight = 0;
  private readonly waiting = new Set<() => void>();

  constructor(readonly max: number) {}

  tryAcquire(): boolean {
    if (this.inFlight >= this.max) return false;
    this.inFlight += 1;
    return true;
  }

  release(): void {
    this.inFlight -= 1;
    if (this.waiting.size === 0) return;
    const waiting = [...this.waiting];
    this.waiting.clear();
    for (const wake of waiting) wake();
  }

  /** Calls `wake` once at the next release (a pool waiting for room). */
  onRelease(wake: () => void): void {
    this.waiting.add(wake);
  }
}

/** One request to one token, from the queue to APNs' answer; one object per attempt. */
class Pending {
  status = 0;
  body = "";
  /** The apns-id APNs answered with. */
  answerId: string | undefined = undefined;
  error: Error | undefined = undefined;
  /** The JWT generation it was signed with (node-apn renews only once per generation). */
  generation = -1;
  startedAt = 0;
  stream: ClientHttp2Stream | undefined = undefined;
  session: PooledSession | undefined = undefined;

  constructor(
    readonly template: WireTemplate,
    /** The apns-id sent. */
    readonly id: string,
    readonly token: string,
    readonly done: (answer: ApnsAnswer) => void,
    readonly resends: number,
  ) {}
}

/** One node-apn Provider (one HTTP/2 session) and what the pool knows about it. */
class PooledSession {
  inFlight = 0;
  /** Requests on the wire, for the timeout sweep. */
  readonly pending = new Set<Pending>();
  /** The session whose SETTINGS were read, and its stream limit. */
  private known?: { session: SessionView; limit: number };
  /** The server sent SETTINGS since they were last read. */
  private settingsChanged = false;
  connecting = false;

  constructor(
    readonly provider: Provider,
    readonly client: ClientView | undefined,
    private readonly streamCap: number,
  ) {}

  /** How many more requests this session may carry now. */
  capacity(): number {
    if (this.connecting) return 0;
    const session = sessionOf(this.provider);
    if (this.known !== undefined && session === this.known.session) return this.known.limit - this.inFlight;
    // Not connected yet, or node-apn reconnected: one request first. Apple: "when using an
    // authentication token, APNs allows only one stream until you post a request with a valid
    // authentication token"; its answer comes after the server's SETTINGS, which the pool then reads.
    return this.inFlight === 0 ? 1 : 0;
  }

  established(): boolean {
    return this.known !== undefined && sessionOf(this.provider) === this.known.session;
  }

  limit(): number | undefined {
    return this.established() ? this.known?.limit : undefined;
  }

  /**
   * Reads the server's SETTINGS_MAX_CONCURRENT_STREAMS after an answer: on a new session, and again
   * whenever the server sends SETTINGS (APNs changes the limit: 1 until a valid token, lower under
   * load), never on every answer (node builds a new settings object per read).
   */
  learn(): void {
    if (
      this.known !== undefined &&
      !this.settingsChanged &&
      sessionOf(this.provider) === this.known.session
    ) {
      return;
    }
    const session = sessionOf(this.provider);
    if (session === undefined) {
      this.known = undefined;
      return;
    }
    if (this.known?.session !== session) {
      session.on?.("remoteSettings", () => {
        this.settingsChanged = true;
      });
    }
    this.settingsChanged = false;
    const advertised = session.remoteSettings?.maxConcurrentStreams;
    const limit = Math.max(1, Math.min(advertised ?? 1, this.streamCap));
    this.known = { session, limit };
  }
}

export interface ApnsPoolOptions {
  /** Opens one more session (a node-apn Provider with the credential's options). */
  open: () => Provider;
  gate: InFlightGate;
  maxSessions: number;
  streamCap: number;
}

/** The pool a stream belongs to, read by the stream's (shared, closure-free) listeners. */
const PENDING = Symbol("apns pending request");
type TaggedStream = ClientHttp2Stream & { [PENDING]?: Pending; [POOL]?: ApnsSessionPool };
const POOL = Symbol("apns pool");

/** Node refused to build the request: the same request fails the same way on any session. */
const LOCAL_CODES = new Set([
  "ERR_HTTP2_INVALID_HEADER_VALUE",
  "ERR_HTTP2_INVALID_PSEUDOHEADER",
  "ERR_HTTP2_INVALID_CONNECTION_HEADERS",
  "ERR_HTTP2_HEADER_SINGLE_VALUE",
  "ERR_INVALID_CHAR",
  "ERR_INVALID_HTTP_TOKEN",
  "ERR_INVALID_ARG_TYPE",
]);

/**
 * The HTTP/2 sessions of one credential × environment, shared by every send of the sender: each
 * request goes to a session with room under the server's stream limit, more sessions open when the
 * queued requests need them (up to `maxSessions`), and nothing waits inside a session — so concurrent
 * jobs never pile thousands of streams onto a session that allows 1,000, and every chunk of a job is
 * in flight at once.
 *
 * The sessions are node-apn's (one Provider each: its TLS options, certificate or JWT, proxy,
 * heartbeat and reconnection), and so is the JWT, but the pool writes each request's stream itself.
 * node-apn's Client.write costs an async function, three promise layers, eight listeners and a
 * timer per request, spreads the answer into new objects twice, and resends 408/429/5xx at once on
 * its own (it reads `Retry-After` by a capitalised name HTTP/2 never delivers); at the rates a
 * Lambda batch reaches that is more CPU than the HTTP/2 stream itself (bench/senders-apns.ts). Here
 * a request is one stream with three listeners shared by every request, the headers one literal,
 * the payload bytes shared by the job, and one timeout sweep per session instead of a timer each.
 */
export class ApnsSessionPool {
  private readonly sessions: PooledSession[] = [];
  private readonly queue: Pending[] = [];
  private waitingForGate = false;
  private sweeper: NodeJS.Timeout | undefined;
  private closed = false;
  /** The authorization header of the current JWT, built once per token. */
  private bearer: { jwt: string; header: string } | undefined;

  constructor(private readonly options: ApnsPoolOptions) {}

  /**
   * Sends `template` with `apnsId` to `token` on a session with room and calls `done` with APNs'
   * answer (exactly once, never with an error). A callback, not a promise: at thousands of sends per
   * second each promise hop per request costs as much CPU as a tenth of the request itself.
   */
  post(template: WireTemplate, apnsId: string, token: string, done: (answer: ApnsAnswer) => void): void {
    this.queue.push(new Pending(template, apnsId, token, done, 0));
    this.pump();
  }

  get sessionCount(): number {
    return this.sessions.length;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.sweeper !== undefined) clearInterval(this.sweeper);
    this.sweeper = undefined;
    const providers = this.sessions.map((s) => s.provider);
    this.sessions.length = 0;
    for (const provider of providers) {
      // A session still connecting (a host that never finishes the handshake) would hold node-apn's
      // graceful close forever (node's close() of a destroyed session never calls back, and one still
      // connecting waits for the connection): nothing was ever sent on it, so it goes at once.
      const client = clientOf(provider);
      const session = client?.session;
      if (client !== undefined && session !== undefined && (session.connecting || session.destroyed)) {
        session.destroy();
        client.session = undefined;
      }
    }
    // Provider.shutdown() returns nothing (its typings say Promise): the callback is the only signal.
    await Promise.all(
      providers.map((provider) => new Promise<void>((resolve) => provider.shutdown(resolve))),
    );
  }

  private pump(): void {
    while (this.queue.length > 0) {
      const session = this.roomiest();
      if (session === undefined) break;
      if (!this.options.gate.tryAcquire()) {
        this.waitForGate();
        return;
      }
      this.dispatch(session, this.queue.shift()!);
    }
    if (this.grow()) this.pump();
  }

  private dispatch(session: PooledSession, pending: Pending): void {
    session.inFlight += 1;
    pending.session = session;
    const client = session.client;
    if (client === undefined) {
      viaNodeApn(session.provider, pending, (answer) => this.answered(pending, answer));
      return;
    }
    const live = sessionOf(session.provider);
    if (live !== undefined) {
      this.write(session, client, live, pending);
      return;
    }
    // node-apn connects on its first write; the pool asks it to, then writes the probe request.
    session.connecting = true;
    client.connect().then(
      () => {
        session.connecting = false;
        const opened = sessionOf(session.provider);
        if (opened === undefined) {
          this.answered(pending, { status: 0, reason: "apn write failed: the session closed at once" });
        } else this.write(session, client, opened, pending);
      },
      (error: unknown) => {
        session.connecting = false;
        this.answered(pending, { status: 0, reason: `apn write failed: ${messageOf(error)}` });
      },
    );
  }

  /** One stream: the request as node-apn's Client writes it (lib/client.js request()). */
  private write(
    session: PooledSession,
    client: ClientView,
    live: ClientHttp2Session,
    pending: Pending,
  ): void {
    const { template } = pending;
    const token = client.config.token ?? undefined;
    let authorization: string | undefined;
    if (token !== undefined) {
      if (token.isExpired(TOKEN_REFRESH_SECONDS)) token.regenerate(token.generation);
      if (this.bearer?.jwt !== token.current)
        this.bearer = { jwt: token.current, header: `bearer ${token.current}` };
      authorization = this.bearer.header;
      pending.generation = token.generation;
    }
    let stream: TaggedStream;
    try {
      stream = live.request({
        ":scheme": "https",
        ":method": "POST",
        ":authority": client.config.address,
        ":path": `/3/device/${pending.token}`,
        "apns-topic": template.topic,
        "apns-push-type": template.pushType,
        "apns-priority": template.priority,
        "apns-expiration": template.expiration,
        "apns-id": pending.id,
        "apns-collapse-id": template.collapseId,
        authorization,
      });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== undefined && LOCAL_CODES.has(code)) {
        this.answered(pending, { status: 0, reason: code, local: true });
      } else {
        // The session was closing (GOAWAY, an error) or out of stream ids: nothing was written.
        this.answered(pending, { status: 0, reason: `apn write failed: ${messageOf(error)}` }, true);
      }
      return;
    }
    pending.stream = stream;
    pending.startedAt = Date.now();
    session.pending.add(pending);
    this.sweep();
    stream[PENDING] = pending;
    stream[POOL] = this;
    stream.on("response", onResponse);
    stream.on("error", onError);
    stream.on("close", onClose);
    stream.end(template.bytes);
  }

  /** The stream closed: APNs' answer, or why there is none. */
  streamClosed(pending: Pending, rstCode: number | undefined): void {
    pending.session?.pending.delete(pending);
    const status = pending.status;
    if (status === 200) {
      this.answered(
        pending,
        pending.answerId !== undefined ? { status, apnsId: pending.answerId } : { status },
      );
      return;
    }
    if (status > 0) {
      let reason: string | undefined;
      let timestamp: number | undefined;
      try {
        const parsed = JSON.parse(pending.body) as { reason?: unknown; timestamp?: unknown };
        if (typeof parsed.reason === "string") reason = parsed.reason;
        const at = Number(parsed.timestamp);
        if (parsed.timestamp !== undefined && Number.isFinite(at)) timestamp = at;
      } catch {
        // No JSON body: the status alone is the answer.
      }
      if (status === 403 && reason === "ExpiredProviderToken") {
        // What node-apn does on this answer (lib/client.js request(): token.regenerate): a new JWT,
        // once per generation however many streams report the expiry.
        pending.session?.client?.config.token?.regenerate(pending.generation);
      }
      this.answered(pending, {
        status,
        ...(reason !== undefined && { reason }),
        ...(timestamp !== undefined && { timestamp }),
        ...(pending.answerId !== undefined && { apnsId: pending.answerId }),
      });
      return;
    }
    // RFC 9113 §8.7: a stream refused (REFUSED_STREAM, or above a GOAWAY's last stream id) was not
    // processed and may be sent again.
    const refused = rstCode === REFUSED_STREAM;
    const message = pending.error !== undefined ? messageOf(pending.error) : `stream closed (RST ${rstCode})`;
    const reason = `apn write failed: ${message}`;
    this.answered(
      pending,
      PROTOCOL_ERROR.test(reason) ? { status: 0, reason, local: true } : { status: 0, reason },
      refused,
    );
  }

  /** Settles one attempt: frees its stream, learns the session's limit, answers or resends. */
  private answered(pending: Pending, answer: ApnsAnswer, unprocessed = false): void {
    const session = pending.session!;
    const probing = !session.established();
    pending.session = undefined;
    pending.stream = undefined;
    session.inFlight -= 1;
    session.learn();
    this.options.gate.release();
    if (unprocessed && pending.resends < MAX_UNPROCESSED_RESENDS && !this.closed) {
      const again = new Pending(
        pending.template,
        pending.id,
        pending.token,
        pending.done,
        pending.resends + 1,
      );
      this.queue.unshift(again);
      this.pump();
      return;
    }
    pending.done(answer);
    if (probing && !session.established() && answer.status === 0) {
      // The first request on a session got no HTTP answer and there is no session: the host is
      // unreachable. Everything queued would wait a request timeout each, one at a time.
      this.settleQueued(answer);
    } else if (answer.status === 403 && answer.reason !== "ExpiredProviderToken") {
      // A refused key or certificate refuses every request alike; APNs keeps such a connection at
      // one stream, so the rest would go one round trip each for the same answer.
      this.settleQueued(answer);
    }
    this.pump();
  }

  private settleQueued(answer: ApnsAnswer): void {
    for (const queued of this.queue.splice(0)) queued.done(answer);
  }

  /** One timer per pool while anything is on the wire: requests past node-apn's timeout are cancelled. */
  private sweep(): void {
    if (this.sweeper !== undefined) return;
    const timeoutMs = this.sessions[0]?.client?.config.requestTimeout ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.sweeper = setInterval(
      () => {
        const now = Date.now();
        let onTheWire = 0;
        for (const session of this.sessions) {
          for (const pending of session.pending) {
            onTheWire += 1;
            if (now - pending.startedAt < timeoutMs) continue;
            // Answered now, not when the stream closes: a stream still waiting for its connection
            // (a host that never answers the handshake) closes only once that connection does.
            session.pending.delete(pending);
            const stream = pending.stream as TaggedStream | undefined;
            if (stream !== undefined) {
              stream[PENDING] = undefined;
              stream[POOL] = undefined;
              stream.close(CANCEL);
            }
            this.answered(pending, { status: 0, reason: "apn write timeout" });
          }
        }
        if (onTheWire === 0 && this.sweeper !== undefined) {
          clearInterval(this.sweeper);
          this.sweeper = undefined;
        }
      },
      Math.max(10, Math.min(1000, timeoutMs / 4)),
    );
    this.sweeper.unref();
  }

  /** The session with the most room, if any has room. */
  private roomiest(): PooledSession | undefined {
    let best: PooledSession | undefined;
    let room = 0;
    for (const session of this.sessions) {
      const capacity = session.capacity();
      if (capacity > room) {
        best = session;
        room = capacity;
      }
    }
    return best;
  }

  /**
   * Opens the sessions the queue needs: the first one alone (its limit is unknown until it answers),
   * then as many as the queue fills at the limit its siblings advertise. True when it opened any.
   */
  private grow(): boolean {
    if (this.queue.length === 0 || this.sessions.length >= this.options.maxSessions) return false;
    const limits = this.sessions.map((s) => s.limit()).filter((l): l is number => l !== undefined);
    let wanted: number;
    if (this.sessions.length === 0) wanted = 1;
    else if (limits.length === 0) wanted = 0;
    else {
      // What this pool could have in flight under the sender's memory cap, over the largest limit
      // its servers advertise: sessions beyond that would only cost handshakes and memory.
      const inFlight = this.sessions.reduce((sum, s) => sum + s.inFlight, 0);
      const demand = Math.min(this.queue.length + inFlight, this.options.gate.max);
      wanted = Math.ceil(demand / Math.max(...limits)) - this.sessions.length;
    }
    const opening = Math.min(wanted, this.options.maxSessions - this.sessions.length);
    for (let i = 0; i < opening; i += 1) {
      try {
        const provider = this.options.open();
        this.sessions.push(new PooledSession(provider, leanClientOf(provider), this.options.streamCap));
      } catch (error) {
        // The sender checks the options before making a pool; if node-apn still refuses them, every
        // queued request fails the same way, now, instead of hanging.
        this.settleQueued({ status: 0, reason: (error as Error).message, local: true });
        return false;
      }
    }
    return opening > 0;
  }

  private waitForGate(): void {
    if (this.waitingForGate) return;
    this.waitingForGate = true;
    this.options.gate.onRelease(() => {
      this.waitingForGate = false;
      this.pump();
    });
  }
}

const REFUSED_STREAM = 0x7;
/** HTTP/2 frame flag END_STREAM (RFC 9113 §6.2). */
const END_STREAM = 0x1;
const CANCEL = 0x8;

// The stream listeners: module functions, the same for every request (`this` is the stream).
function onResponse(this: TaggedStream, headers: IncomingHttpHeaders, flags: number): void {
  const pending = this[PENDING];
  if (pending === undefined) return;
  pending.status = Number(headers[":status"]);
  const id = headers["apns-id"];
  if (typeof id === "string") pending.answerId = id;
  // A 200 ends with its HEADERS frame (Apple: "the body of the response is empty"); node then ends
  // and closes the unread stream itself (onStreamClose: read(0)). Anything with a body is read, so
  // the stream can end.
  if (pending.status === 200 && (flags & END_STREAM) !== 0) return;
  if (pending.status !== 200) this.setEncoding("utf8");
  this.on("data", onData);
}

function onData(this: TaggedStream, chunk: string | Buffer): void {
  const pending = this[PENDING];
  if (pending !== undefined && pending.status !== 200) pending.body += String(chunk);
}

function onError(this: TaggedStream, error: Error): void {
  const pending = this[PENDING];
  if (pending !== undefined) pending.error ??= error;
}

function onClose(this: TaggedStream): void {
  const pending = this[PENDING];
  const pool = this[POOL];
  this[PENDING] = undefined;
  this[POOL] = undefined;
  if (pending !== undefined) pool?.streamClosed(pending, this.rstCode);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * One request through node-apn's own Client.write, for a node-apn that no longer exposes its session:
 * what Provider.send does per token (lib/provider.js). Client.write resolves with APNs' 200 answer and
 * rejects with the failure (lib/client.js write()); a resolved value with a status or an error is a
 * failure too (Provider.send's own reading). Should that Client be gone too, Provider.send.
 */
function viaNodeApn(provider: Provider, pending: Pending, done: (answer: ApnsAnswer) => void): void {
  const { template } = pending;
  const headers: Record<string, string> = {
    "apns-topic": template.topic,
    "apns-push-type": template.pushType,
    "apns-priority": template.priority,
    "apns-expiration": template.expiration,
    "apns-id": pending.id,
    ...(template.collapseId !== undefined && { "apns-collapse-id": template.collapseId }),
  };
  const onValue = (value: ResponseFailure & { "apns-id"?: string }) => {
    if (value.status === undefined && value.error === undefined) {
      done(value["apns-id"] !== undefined ? { status: 200, apnsId: value["apns-id"] } : { status: 200 });
    } else done(answerOf(value));
  };
  const onFailure = (failure: unknown) => {
    done(
      typeof failure === "object" && failure !== null
        ? answerOf(failure as ResponseFailure)
        : { status: 0, reason: messageOf(failure), local: true },
    );
  };
  try {
    const client = clientOf(provider);
    if (typeof client?.write === "function") {
      client
        .write({ headers, body: template.body }, pending.token, "device", "post")
        .then(onValue as (value: unknown) => void, onFailure);
      return;
    }
    const note = new apn.Notification();
    note.rawPayload = JSON.parse(template.body);
    note.topic = template.topic;
    note.pushType = template.pushType as never;
    note.priority = Number(template.priority);
    note.expiry = Number(template.expiration);
    note.id = pending.id;
    if (template.collapseId !== undefined) note.collapseId = template.collapseId;
    provider.send(note, pending.token).then(({ sent, failed }) => {
      if (sent[0] !== undefined) onValue(sent[0] as never);
      else onFailure(failed[0] ?? { error: new Error("no answer from node-apn") });
    }, onFailure);
  } catch (error) {
    done({ status: 0, reason: messageOf(error), local: true });
  }
}

/** A stream reset for a malformed request: deterministic, so never worth a retry. */
const PROTOCOL_ERROR = /NGHTTP2_PROTOCOL_ERROR|ERR_HTTP2_INVALID|ERR_INVALID_CHAR|ERR_INVALID_HTTP_TOKEN/;

/**
 * node-apn's failures: APNs' JSON in `response`, except 403 ExpiredProviderToken and 500
 * InternalServerError, which it turns into an `error` (the reason then is its message); no status at
 * all for timeouts and broken streams; neither `status` nor `error` when node threw while building
 * the request (node-apn spreads the thrown error into the failure, lib/client.js write()).
 */
function answerOf(failure: ResponseFailure & { code?: unknown }): ApnsAnswer {
  const status = typeof failure.status === "number" ? failure.status : 0;
  const reason = failure.response?.reason ?? failure.error?.message;
  const timestamp = Number(failure.response?.timestamp);
  const answer: ApnsAnswer = {
    status,
    ...(reason !== undefined && { reason }),
    ...(Number.isFinite(timestamp) && { timestamp }),
  };
  if (status === 0 && failure.error === undefined) {
    return { ...answer, reason: reason ?? String(failure.code ?? "request not sent"), local: true };
  }
  if (status === 0 && reason !== undefined && PROTOCOL_ERROR.test(reason)) return { ...answer, local: true };
  return answer;
}
