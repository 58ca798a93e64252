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

/** The HTTP/2 session node-apn keeps for one Provider, as far as the pool reads it. */
interface SessionView {
  closed: boolean;
  destroyed: boolean;
  remoteSettings: { maxConcurrentStreams?: number };
  on?(event: "remoteSettings", listener: () => void): unknown;
}

/**
 * node-apn 8.1 keeps one HTTP/2 session per Provider at `provider.client.session`
 * (lib/provider.js: `this.client = new Client(options)`; lib/client.js connect(): `this.session =
 * http2.connect(…)`), reconnecting on its own after a GOAWAY or an error. It does not expose the
 * server's stream limit, so the pool reads it there; if a later node-apn moves it, the pool falls
 * back on one stream per session at a time (slow, never a flood).
 */
function sessionOf(provider: Provider): SessionView | undefined {
  const session = (provider as unknown as { client?: { session?: SessionView } }).client?.session;
  return session !== undefined && !session.closed && !session.destroyed ? session : undefined;
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

/** One node-apn Provider (one HTTP/2 session) and what the pool knows about it. */
class PooledSession {
  inFlight = 0;
  /** The session whose SETTINGS were read, and its stream limit. */
  private known?: { session: SessionView; limit: number };
  /** The server sent SETTINGS since they were last read. */
  private settingsChanged = false;

  constructor(
    readonly provider: Provider,
    private readonly streamCap: number,
  ) {}

  /** How many more requests this session may carry now. */
  capacity(): number {
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
    const session = sessionOf(this.provider);
    if (session === undefined) {
      this.known = undefined;
      return;
    }
    if (this.known?.session === session && !this.settingsChanged) return;
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

/**
 * One request as node-apn's Client writes it (lib/provider.js send(): `{ headers: notification.headers(),
 * body: notification.compile() }`): headers and the payload's JSON, built once per payload and shared
 * by every target but for its apns-id.
 */
export interface WireRequest {
  headers: Readonly<Record<string, string>>;
  body: string;
}

interface Queued {
  request: WireRequest;
  token: string;
  done: (answer: ApnsAnswer) => void;
}

export interface ApnsPoolOptions {
  /** Opens one more session (a node-apn Provider with the credential's options). */
  open: () => Provider;
  gate: InFlightGate;
  maxSessions: number;
  streamCap: number;
}

/**
 * The HTTP/2 sessions of one credential × environment, shared by every send of the sender: each
 * request goes to a session with room under the server's stream limit, more sessions open when the
 * queued requests need them (up to `maxSessions`), and nothing waits inside a session — so concurrent
 * jobs never pile thousands of streams onto a session that allows 1,000, and every chunk of a job is
 * in flight at once.
 */
export class ApnsSessionPool {
  private readonly sessions: PooledSession[] = [];
  private readonly queue: Queued[] = [];
  private waitingForGate = false;

  constructor(private readonly options: ApnsPoolOptions) {}

  /**
   * Sends `request` to `token` on a session with room and calls `done` with APNs' answer (exactly
   * once, never with an error). A callback, not a promise: at thousands of sends per second each
   * promise hop per request costs as much CPU as a tenth of the request itself.
   */
  post(request: WireRequest, token: string, done: (answer: ApnsAnswer) => void): void {
    this.queue.push({ request, token, done });
    this.pump();
  }

  get sessionCount(): number {
    return this.sessions.length;
  }

  async close(): Promise<void> {
    const providers = this.sessions.map((s) => s.provider);
    this.sessions.length = 0;
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

  private dispatch(session: PooledSession, queued: Queued): void {
    const probing = !session.established();
    session.inFlight += 1;
    sendOne(session.provider, queued.request, queued.token, (answer) => {
      session.inFlight -= 1;
      session.learn();
      this.options.gate.release();
      queued.done(answer);
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
    });
  }

  private settleQueued(answer: ApnsAnswer): void {
    for (const queued of this.queue.splice(0)) queued.done(answer);
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
        this.sessions.push(new PooledSession(this.options.open(), this.options.streamCap));
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

/** node-apn's Client, as far as the pool calls it (lib/client.js write(notification, subDirectory, type, method)). */
interface ClientView {
  write(
    request: WireRequest,
    token: string,
    type: "device",
    method: "post",
  ): Promise<Record<string, unknown>>;
}

function clientOf(provider: Provider): ClientView | undefined {
  const client = (provider as unknown as { client?: Partial<ClientView> }).client;
  return typeof client?.write === "function" ? (client as ClientView) : undefined;
}

/**
 * One request through node-apn; `done` gets the answer. It goes to the Provider's Client directly with
 * the shared, already serialised request — what Provider.send does per token (lib/provider.js), minus
 * a Notification, its headers() and compile(), and two promise layers per target. node-apn's
 * Client.write resolves with APNs' 200 answer and rejects with the failure (lib/client.js write());
 * a resolved value with a status or an error is a failure too (Provider.send's own reading). Should
 * a later node-apn hide its Client, the request goes through Provider.send.
 */
function sendOne(
  provider: Provider,
  request: WireRequest,
  token: string,
  done: (answer: ApnsAnswer) => void,
): void {
  const onValue = (value: ResponseFailure & { "apns-id"?: string }) => {
    if (value.status === undefined && value.error === undefined) {
      done(value["apns-id"] !== undefined ? { status: 200, apnsId: value["apns-id"] } : { status: 200 });
    } else done(answerOf(value));
  };
  const onFailure = (failure: unknown) => {
    done(
      typeof failure === "object" && failure !== null
        ? answerOf(failure as ResponseFailure)
        : localFailure(failure),
    );
  };
  try {
    const client = clientOf(provider);
    if (client === undefined) {
      viaProvider(provider, request, token).then(
        (v) => (v.ok ? onValue(v.value as never) : onFailure(v.value)),
        onFailure,
      );
    } else {
      client.write(request, token, "device", "post").then(onValue as (value: unknown) => void, onFailure);
    }
  } catch (error) {
    done(localFailure(error));
  }
}

function localFailure(error: unknown): ApnsAnswer {
  return { status: 0, reason: error instanceof Error ? error.message : String(error), local: true };
}

async function viaProvider(
  provider: Provider,
  request: WireRequest,
  token: string,
): Promise<{ ok: boolean; value: unknown }> {
  const headers = request.headers;
  const note = new apn.Notification();
  note.rawPayload = JSON.parse(request.body);
  if (headers["apns-topic"] !== undefined) note.topic = headers["apns-topic"];
  if (headers["apns-push-type"] !== undefined) note.pushType = headers["apns-push-type"] as never;
  if (headers["apns-priority"] !== undefined) note.priority = Number(headers["apns-priority"]);
  if (headers["apns-expiration"] !== undefined) note.expiry = Number(headers["apns-expiration"]);
  if (headers["apns-id"] !== undefined) note.id = headers["apns-id"];
  if (headers["apns-collapse-id"] !== undefined) note.collapseId = headers["apns-collapse-id"];
  const { sent, failed } = await provider.send(note, token);
  return sent[0] !== undefined
    ? { ok: true, value: sent[0] }
    : { ok: false, value: failed[0] ?? { error: new Error("no answer from node-apn") } };
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
