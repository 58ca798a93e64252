import type { Vendor } from "../model/index.js";
import type { Clock, QuotaGate, QuotaGateStore } from "../ports/index.js";

/**
 * How long a container trusts what it read of a credential's gate while it is open: another container
 * that hits the daily quota is heard of within this, for one read per credential and container.
 */
export const GATE_CACHE_MS = 10_000;

interface Cached {
  gate: QuotaGate | undefined;
  readAt: number;
}

/**
 * The daily-quota gates as one container sees them: the shared store (DynamoDB) read through a short
 * cache. A gate known to be closed is not read again until it reopens (gates only ever close for
 * longer), and closing writes only when it extends what is known (a transition, not every answer).
 * A store that cannot be read counts as open: the vendor then answers with its quota again.
 */
export class CachedQuotaGates {
  private readonly cache = new Map<string, Cached>();
  /** Reads under way: the jobs of a bundle run at once, and all of them wait for one read. */
  private readonly reading = new Map<string, Promise<Cached>>();

  constructor(
    private readonly vendor: Vendor,
    private readonly store: QuotaGateStore,
    private readonly clock: Clock,
    private readonly cacheMs = GATE_CACHE_MS,
  ) {}

  /** The credential's gate if it is closed now. */
  async closed(credential: string): Promise<QuotaGate | undefined> {
    const now = this.clock.now();
    let cached = this.cache.get(credential);
    const known = cached?.gate !== undefined && cached.gate.until > now;
    if (cached === undefined || (!known && now - cached.readAt >= this.cacheMs)) {
      let read = this.reading.get(credential);
      if (read === undefined) {
        read = this.store
          .get(this.vendor, credential)
          .catch(() => undefined)
          .then((gate) => {
            const fresh = { gate, readAt: now };
            this.cache.set(credential, fresh);
            this.reading.delete(credential);
            return fresh;
          });
        this.reading.set(credential, read);
      }
      cached = await read;
    }
    return cached.gate !== undefined && cached.gate.until > now ? cached.gate : undefined;
  }

  async close(credential: string, gate: QuotaGate): Promise<void> {
    const known = this.cache.get(credential)?.gate;
    if (known !== undefined && known.until >= gate.until) return;
    this.cache.set(credential, { gate, readAt: this.clock.now() });
    await this.store.close(this.vendor, credential, gate);
  }
}

/** Gates in this process only: tests, and a worker wired without DynamoDB. */
export class MemoryQuotaGates implements QuotaGateStore {
  private readonly gates = new Map<string, QuotaGate>();
  reads = 0;
  writes = 0;

  async get(vendor: Vendor, credential: string): Promise<QuotaGate | undefined> {
    this.reads += 1;
    return this.gates.get(`${vendor}#${credential}`);
  }

  async close(vendor: Vendor, credential: string, gate: QuotaGate): Promise<void> {
    const key = `${vendor}#${credential}`;
    const current = this.gates.get(key);
    if (current !== undefined && current.until >= gate.until) return;
    this.writes += 1;
    this.gates.set(key, { ...gate });
  }
}
