import fc from "fast-check";
import { afterEach, describe, expect, it, vi } from "vitest";
import { TokenBucket } from "../../../lib/delivery/rate-limiter.js";

afterEach(() => {
  vi.useRealTimers();
});

/** Most requests let go in any window of `windowMs` (sliding, half-open). */
function busiestWindow(times: readonly number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; j < sorted.length; j += 1) {
    while (sorted[j]! - sorted[i]! >= windowMs) i += 1;
    most = Math.max(most, j - i + 1);
  }
  return most;
}

describe("TokenBucket", () => {
  it("never lets go more than burst + rate × T in a window of T, however requests arrive", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 1, max: 5 }),
        fc.array(fc.integer({ min: 0, max: 3_000 }), { minLength: 1, maxLength: 120 }),
        async (perSecond, burst, arrivals) => {
          vi.useFakeTimers({ now: 0 });
          const bucket = new TokenBucket({ perSecond, burst });
          const granted: number[] = [];
          for (const at of [...arrivals].sort((a, b) => a - b)) {
            await vi.advanceTimersByTimeAsync(at - Date.now());
            void bucket.acquire(1).then(() => granted.push(Date.now()));
          }
          await vi.advanceTimersByTimeAsync(((arrivals.length + burst) * 1000) / perSecond + 1000);
          vi.useRealTimers();
          expect(granted).toHaveLength(arrivals.length);
          expect(busiestWindow(granted, 1000)).toBeLessThanOrEqual(burst + perSecond);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("serves waiters first come, first served, and says how long a newcomer would wait", async () => {
    vi.useFakeTimers({ now: 0 });
    const bucket = new TokenBucket({ perSecond: 10, burst: 1 });
    const order: string[] = [];
    expect(bucket.tryTake(1)).toBe(true);
    void bucket.acquire(1).then(() => order.push("a"));
    void bucket.acquire(1).then(() => order.push("b"));
    expect(bucket.tryTake(1)).toBe(false);
    expect(bucket.waitMs(1)).toBe(300);
    await vi.advanceTimersByTimeAsync(250);
    expect(order).toEqual(["a", "b"]);
  });

  it("lets a request costlier than the bucket go once it is full, then owes the difference", async () => {
    vi.useFakeTimers({ now: 0 });
    const bucket = new TokenBucket({ perSecond: 100, burst: 100 });
    const granted: number[] = [];
    void bucket.acquire(500).then(() => granted.push(Date.now()));
    void bucket.acquire(1).then(() => granted.push(Date.now()));
    await vi.advanceTimersByTimeAsync(6_000);
    expect(granted).toEqual([0, 4_010]);
  });

  it("is not fooled by a stalled clock: what waited is let go one at a time when time resumes", async () => {
    vi.useFakeTimers({ now: 0 });
    const bucket = new TokenBucket({ perSecond: 10, burst: 1 });
    const granted: number[] = [];
    for (let i = 0; i < 5; i += 1) void bucket.acquire(1).then(() => granted.push(Date.now()));
    vi.setSystemTime(2_000); // the event loop was blocked for two seconds
    await vi.advanceTimersByTimeAsync(1_000);
    expect(busiestWindow(granted, 1000)).toBeLessThanOrEqual(11);
    expect(granted.filter((t) => t === granted[1]!)).toHaveLength(1);
  });
});
