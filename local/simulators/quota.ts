const DAY_MS = 24 * 60 * 60 * 1000;
const BEIJING_OFFSET_MS = 8 * 60 * 60 * 1000;

/** Today's number in Beijing time (UTC+8, no daylight saving): the Chinese vendors' quota day. */
function beijingDay(): number {
  return Math.floor((Date.now() + BEIJING_OFFSET_MS) / DAY_MS);
}

/**
 * A daily push quota as the Chinese vendors keep it: accepted targets are counted per key (an app, or
 * "" for a simulator with one count) and every count starts from zero at midnight Beijing time.
 */
export class BeijingDailyQuota {
  /** Accepted targets allowed per key per day; undefined = no limit (counting goes on). */
  limit: number | undefined;
  private readonly counts = new Map<string, { day: number; used: number }>();

  /** Sets the limit and starts every count afresh, as if the day had just begun. */
  restart(limit: number | undefined): void {
    this.limit = limit;
    this.reset();
  }

  /** Forgets the counts of `key`, or of every key, as if its day had just begun. */
  reset(key?: string): void {
    if (key === undefined) this.counts.clear();
    else this.counts.delete(key);
  }

  /** Targets of `key` accepted today. */
  used(key = ""): number {
    return this.usedOn(beijingDay(), key);
  }

  /** How many more targets `key` may have accepted today; Infinity without a limit. */
  remaining(key = ""): number {
    return this.limit === undefined ? Number.POSITIVE_INFINITY : this.limit - this.used(key);
  }

  /** Counts `count` accepted targets of `key`, whether or not they fit. */
  charge(count: number, key = ""): void {
    const day = beijingDay();
    this.counts.set(key, { day, used: this.usedOn(day, key) + count });
  }

  /** Counts `count` targets of `key` when they fit in today's limit; false (nothing counted) when not. */
  tryCharge(count: number, key = ""): boolean {
    if (count > this.remaining(key)) return false;
    this.charge(count, key);
    return true;
  }

  private usedOn(day: number, key: string): number {
    const count = this.counts.get(key);
    return count !== undefined && count.day === day ? count.used : 0;
  }
}
