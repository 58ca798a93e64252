import {
  type ClientHttp2Session,
  type ClientHttp2Stream,
  connect,
  constants,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
} from "node:http2";

/**
 * Streams a Google front end lets one HTTP/2 connection carry until its SETTINGS say otherwise:
 * firebase-admin opens its sessions with `peerMaxConcurrentStreams: 100` "to respect backend limit"
 * (Http2SessionHandler in its lib/utils/api-request.js), and FCM ends a connection that opens more
 * with GOAWAY "exceeded_max_concurrent_streams" (firebase-admin-node#2943). The server's own
 * SETTINGS_MAX_CONCURRENT_STREAMS wins once it arrives.
 */
export const FCM_STREAMS_PER_SESSION = 100;
/** Never more streams per session than this, whatever a server advertises (a memory bound). */
const MAX_STREAMS_PER_SESSION = 1000;
/**
 * A session idle this long is pinged before it carries a request: a Lambda frozen between
 * invocations finds its connection closed by the peer or a NAT, and a request written there would be
 * lost on the wire with no way to know whether FCM got it. A ping costs one round trip and proves the
 * session alive before anything is sent.
 */
const IDLE_PING_MS = 15_000;
const PING_TIMEOUT_MS = 2_000;
/** A request refused before processing is sent again on another session at most this often. */
const MAX_UNPROCESSED_RESENDS = 3;

export interface Http2PoolOptions {
  /** e.g. "https://fcm.googleapis.com". */
  origin: string;
  /** PEM of a private CA (the local simulator's). */
  ca?: string;
  /** Most sessions open at once to this origin. */
  maxSessions: number;
}

export interface Http2Request {
  method: "POST";
  path: string;
  headers: OutgoingHttpHeaders;
  body: string;
  timeoutMs: number;
}

export interface Http2Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** No answer came back. `processed` is false only when the server cannot have acted on the request. */
export class Http2TransportError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly processed: boolean,
  ) {
    super(message);
    this.name = "Http2TransportError";
  }
}

interface Slot {
  session: ClientHttp2Session;
  active: number;
  maxStreams: number;
  lastUsed: number;
  /** No new streams: GOAWAY, an error, or closed. */
  retired: boolean;
  /** The connection was made; before that, nothing a stream wrote can have reached the server. */
  connected: boolean;
  /** The session's own error (ECONNREFUSED, a TLS failure), to name a stream's failure by. */
  errorCode?: string;
  ping?: Promise<boolean>;
}

/**
 * Keep-alive HTTP/2 sessions to one origin, shared by every request and kept across calls (a warm
 * Lambda reuses them). Requests take a free stream on the busiest session that has one, a new session
 * opens only when every open one is full, and beyond `maxSessions` requests wait their turn here, so
 * no session ever carries more streams than its server allows.
 *
 * It never sends a request twice once the server may have acted on it: a request is sent again only
 * when HTTP/2 says it was not processed (REFUSED_STREAM, or a stream above a GOAWAY's last stream id:
 * RFC 9113 §8.7 and §6.8), or when it could not be written at all. Everything else comes back as an
 * `Http2TransportError` for the caller to classify.
 */
export class Http2Pool {
  private readonly slots: Slot[] = [];
  private readonly waiting: (() => void)[] = [];
  private opened = 0;
  private closed = false;

  constructor(private readonly options: Http2PoolOptions) {}

  async request(request: Http2Request): Promise<Http2Answer> {
    for (let resend = 0; ; resend += 1) {
      const slot = await this.acquire();
      try {
        return await this.exchange(slot, request);
      } catch (error) {
        const unprocessed = error instanceof Http2TransportError && !error.processed;
        if (!unprocessed || resend >= MAX_UNPROCESSED_RESENDS) throw error;
      } finally {
        this.release(slot);
      }
    }
  }

  /** Sessions opened since the pool was made. */
  sessionsOpened(): number {
    return this.opened;
  }

  async close(): Promise<void> {
    this.closed = true;
    const closing = this.slots.map(
      (slot) => new Promise<void>((resolve) => slot.session.close(() => resolve())),
    );
    for (const slot of this.slots) slot.retired = true;
    this.slots.length = 0;
    for (const wake of this.waiting.splice(0)) wake();
    await Promise.all(closing);
  }

  private async acquire(): Promise<Slot> {
    for (;;) {
      if (this.closed)
        throw new Http2TransportError("the pool is closed", "ERR_HTTP2_INVALID_SESSION", false);
      const slot = this.freeSlot();
      if (slot !== undefined) {
        slot.active += 1;
        slot.session.ref();
        if (await this.alive(slot)) return slot;
        this.release(slot);
        this.retire(slot);
        slot.session.destroy();
        continue;
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
  }

  /** The busiest open session with a free stream, else a new session if allowed. */
  private freeSlot(): Slot | undefined {
    let best: Slot | undefined;
    for (const slot of this.slots) {
      if (slot.retired || slot.active >= slot.maxStreams) continue;
      if (best === undefined || slot.active > best.active) best = slot;
    }
    if (best !== undefined) return best;
    if (this.slots.length < this.options.maxSessions) return this.open();
    return undefined;
  }

  private release(slot: Slot): void {
    slot.active -= 1;
    slot.lastUsed = Date.now();
    // An idle session must not keep a finished process (a test, a script) alive.
    if (slot.active === 0) slot.session.unref();
    this.waiting.shift()?.();
  }

  private retire(slot: Slot): void {
    if (slot.retired) return;
    slot.retired = true;
    const index = this.slots.indexOf(slot);
    if (index >= 0) this.slots.splice(index, 1);
    // Whoever waits may open a session in its place.
    for (const wake of this.waiting.splice(0)) wake();
  }

  private open(): Slot {
    const { origin, ca } = this.options;
    const session = connect(origin, {
      peerMaxConcurrentStreams: FCM_STREAMS_PER_SESSION,
      ...(ca !== undefined && { ca }),
    });
    this.opened += 1;
    const slot: Slot = {
      session,
      active: 0,
      maxStreams: FCM_STREAMS_PER_SESSION,
      lastUsed: Date.now(),
      retired: false,
      connected: false,
    };
    session.once("connect", () => {
      slot.connected = true;
    });
    session.on("remoteSettings", (settings) => {
      const advertised = settings.maxConcurrentStreams ?? FCM_STREAMS_PER_SESSION;
      slot.maxStreams = Math.max(1, Math.min(advertised, MAX_STREAMS_PER_SESSION));
      for (const wake of this.waiting.splice(0)) wake();
    });
    // In-flight streams finish (or are refused) on their own; no new ones go here.
    session.on("goaway", () => this.retire(slot));
    session.on("error", (error: NodeJS.ErrnoException) => {
      slot.errorCode ??= error.code;
      this.retire(slot);
    });
    session.on("close", () => this.retire(slot));
    session.unref();
    this.slots.push(slot);
    return slot;
  }

  private alive(slot: Slot): Promise<boolean> {
    if (slot.active > 1 || Date.now() - slot.lastUsed < IDLE_PING_MS) return Promise.resolve(true);
    slot.ping ??= new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), PING_TIMEOUT_MS);
      try {
        slot.session.ping((error) => {
          clearTimeout(timer);
          resolve(error === null);
        });
      } catch {
        clearTimeout(timer);
        resolve(false);
      }
    }).finally(() => {
      slot.ping = undefined;
      slot.lastUsed = Date.now();
    });
    return slot.ping;
  }

  private exchange(slot: Slot, request: Http2Request): Promise<Http2Answer> {
    return new Promise((resolve, reject) => {
      let stream: ClientHttp2Stream;
      try {
        stream = slot.session.request({
          [constants.HTTP2_HEADER_METHOD]: request.method,
          [constants.HTTP2_HEADER_PATH]: request.path,
          ...request.headers,
        });
      } catch (error) {
        // The session was closing: nothing was written.
        this.retire(slot);
        const { code = "ERR_HTTP2_INVALID_SESSION", message } = error as NodeJS.ErrnoException;
        reject(new Http2TransportError(message, code, false));
        return;
      }
      let settled = false;
      let responded = false;
      const fail = (error: Http2TransportError) => {
        if (settled) return;
        settled = true;
        reject(error);
      };
      stream.setTimeout(request.timeoutMs, () => {
        fail(new Http2TransportError(`no answer within ${request.timeoutMs} ms`, "ETIMEDOUT", true));
        stream.close(constants.NGHTTP2_CANCEL);
      });
      const chunks: Buffer[] = [];
      let headers: IncomingHttpHeaders = {};
      stream.on("response", (received) => {
        responded = true;
        headers = received;
      });
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        if (settled) return;
        settled = true;
        resolve({
          status: Number(headers[constants.HTTP2_HEADER_STATUS] ?? 0),
          headers,
          body: Buffer.concat(chunks).toString("utf8"),
        });
      });
      // Errors are read at 'close', where the stream's RST code is known.
      stream.on("error", () => undefined);
      stream.on("close", () => {
        if (settled) return;
        if (!slot.connected) {
          const code = slot.errorCode ?? "ECONNREFUSED";
          fail(new Http2TransportError(`could not connect to ${this.options.origin}: ${code}`, code, false));
        } else if (!responded && stream.rstCode === constants.NGHTTP2_REFUSED_STREAM) {
          const message = "the server refused the stream before processing it";
          fail(new Http2TransportError(message, "REFUSED_STREAM", false));
        } else {
          const message = `the stream closed without an answer (RST ${stream.rstCode})`;
          fail(new Http2TransportError(message, slot.errorCode ?? "ECONNRESET", true));
        }
      });
      stream.end(request.body);
    });
  }
}
