/**
 * A vendor rate, as one worker container spends it: its share of the credential's documented rate
 * (lib/vendors/settings.ts divides the rate among the event source's maximum concurrency, so the
 * containers together never exceed it without talking to each other).
 */
export interface RateLimit {
  /** Units (requests, or devices where the vendor counts devices) per second. */
  perSecond: number;
  /** Units that may be spent at once; at least 1. */
  burst: number;
}

interface Waiter {
  cost: number;
  resolve: () => void;
}

/**
 * A token bucket evaluated on the clock at the moment a request is let go, not at the moment it was
 * scheduled: a stalled event loop that wakes late cannot release a pile of requests at once. Waiters
 * are served first come, first served. In any window of T seconds it lets go at most
 * `burst + perSecond × T` units, plus one request's cost beyond `burst` (a request costlier than the
 * bucket is let go once the bucket is full, and the bucket then owes the difference).
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;
  private readonly waiters: Waiter[] = [];
  private queued = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly limit: RateLimit,
    private readonly now: () => number = Date.now,
  ) {
    if (!(limit.perSecond > 0)) throw new RangeError(`a rate must be positive, got ${limit.perSecond}`);
    this.tokens = Math.max(1, limit.burst);
    this.updatedAt = now();
  }

  private get capacity(): number {
    return Math.max(1, this.limit.burst);
  }

  private refill(): void {
    const at = this.now();
    this.tokens = Math.min(
      this.capacity,
      this.tokens + ((at - this.updatedAt) * this.limit.perSecond) / 1000,
    );
    this.updatedAt = at;
  }

  /** What must be in the bucket before `cost` is let go. */
  private threshold(cost: number): number {
    return Math.min(cost, this.capacity);
  }

  /** Takes `cost` now if nobody waits and the bucket holds it; false (nothing taken) otherwise. */
  tryTake(cost: number): boolean {
    this.refill();
    if (this.waiters.length > 0 || this.tokens < this.threshold(cost)) return false;
    this.tokens -= cost;
    return true;
  }

  /** About how long (ms) `cost` would wait behind the requests already waiting. */
  waitMs(cost: number): number {
    this.refill();
    const deficit = this.queued + this.threshold(cost) - this.tokens;
    return deficit <= 0 ? 0 : Math.ceil((deficit * 1000) / this.limit.perSecond);
  }

  /** Resolves when `cost` has been taken. */
  acquire(cost: number): Promise<void> {
    if (this.tryTake(cost)) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiters.push({ cost, resolve });
      this.queued += cost;
      this.pump();
    });
  }

  private pump(): void {
    if (this.timer !== undefined) return;
    this.refill();
    for (let head = this.waiters[0]; head !== undefined; head = this.waiters[0]) {
      if (this.tokens < this.threshold(head.cost)) {
        const ms = Math.ceil(((this.threshold(head.cost) - this.tokens) * 1000) / this.limit.perSecond);
        this.timer = setTimeout(
          () => {
            this.timer = undefined;
            this.pump();
          },
          Math.max(1, ms),
        );
        return;
      }
      this.waiters.shift();
      this.queued -= head.cost;
      this.tokens -= head.cost;
      head.resolve();
    }
  }
}

/** One bucket per credential, made on first use from the credential's limit (undefined = unpaced). */
export class RateLimiters {
  private readonly buckets = new Map<string, TokenBucket | null>();

  constructor(
    private readonly limitOf: (credential: string) => RateLimit | undefined,
    private readonly now: () => number = Date.now,
  ) {}

  for(credential: string): TokenBucket | undefined {
    let bucket = this.buckets.get(credential);
    if (bucket === undefined) {
      const limit = this.limitOf(credential);
      bucket = limit === undefined ? null : new TokenBucket(limit, this.now);
      this.buckets.set(credential, bucket);
    }
    return bucket ?? undefined;
  }
}

/** How a worker paces one vendor (built from lib/vendors/settings.ts by `pacingFor`). */
export interface Pacing {
  /** Tokens the sender puts in one request (the vendor's multicast size; 1 = a request per device). */
  chunkSize: number;
  /** What one request carrying `tokens` tokens costs against the vendor's rate. */
  costOf(tokens: number): number;
  /** This container's share of the credential's rate; undefined = not paced. */
  limitOf(credential: string): RateLimit | undefined;
}
