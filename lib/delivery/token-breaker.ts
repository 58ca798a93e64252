import type { Vendor } from "../model/index.js";
import type { AnswerCounts, AnswerWindowStore, Clock } from "../ports/index.js";

export interface TokenBreakerSettings {
  /** Above this share of dead-token answers (0..1) the credential's token removals stop. */
  share: number;
  /** Fewer answers than this in the window say nothing either way. */
  minAnswers: number;
  windowSeconds: number;
}

/**
 * Issue 7.5's defaults: more than half of at least 100 answers in 10 minutes. A healthy app sees a
 * few percent of dead tokens (uninstalls); a wrong project or app id makes every answer look like one.
 */
export const DEFAULT_TOKEN_BREAKER: TokenBreakerSettings = {
  share: 0.5,
  minAnswers: 100,
  windowSeconds: 600,
};

/** The shared counts live in one-minute buckets. */
export const ANSWER_BUCKET_MS = 60_000;
/** A container without dead-token answers still adds its answers (the denominator) once a minute. */
const FLUSH_EVERY_MS = 60_000;

/** The rule: too many of the credential's recent answers said "dead token" to trust any of them. */
export function tokenRemovalsHeld(window: AnswerCounts, settings: TokenBreakerSettings): boolean {
  return window.answers >= settings.minAnswers && window.dropTokens / window.answers > settings.share;
}

export type TokenVerdict =
  | { hold: false; window?: AnswerCounts }
  | { hold: true; window?: AnswerCounts; reason: string };

/**
 * The breaker per credential. Counts are shared by every container in DynamoDB (AnswerWindowStore),
 * because a container only sees its share of the answers: with 50 containers judging alone, a
 * misconfiguration could remove 50 × 100 devices before each had seen enough. Writing every job's
 * counts would cost a write per one-to-one push, so a container keeps its counts and adds them when a
 * job has a dead-token answer to act on (then it needs the verdict) and otherwise at most once a
 * minute. Only jobs with dead-token answers read the window: a few percent of jobs.
 */
export class TokenBreaker {
  private readonly pending = new Map<string, AnswerCounts & { lastFlush: number }>();

  constructor(
    private readonly vendor: Vendor,
    private readonly store: AnswerWindowStore,
    private readonly settings: TokenBreakerSettings,
    private readonly clock: Clock,
  ) {}

  /**
   * Counts one job's answers for `credential`. When some said "dead token", resolves whether those
   * tokens may be removed: not while the breaker holds, and not when the counts cannot be read (a
   * delay is cheaper than a wrongly emptied device table).
   */
  async judge(credential: string, counts: AnswerCounts): Promise<TokenVerdict> {
    const now = this.clock.now();
    const pending = this.pending.get(credential) ?? { answers: 0, dropTokens: 0, lastFlush: now };
    pending.answers += counts.answers;
    pending.dropTokens += counts.dropTokens;
    this.pending.set(credential, pending);
    const due = now - pending.lastFlush >= FLUSH_EVERY_MS;
    if (counts.dropTokens === 0 && !due) return { hold: false };

    const flushed = { answers: pending.answers, dropTokens: pending.dropTokens };
    pending.answers = 0;
    pending.dropTokens = 0;
    pending.lastFlush = now;
    const bucketStart = Math.floor(now / ANSWER_BUCKET_MS) * ANSWER_BUCKET_MS;
    const windowStart =
      bucketStart -
      (Math.ceil((this.settings.windowSeconds * 1000) / ANSWER_BUCKET_MS) - 1) * ANSWER_BUCKET_MS;
    let window: AnswerCounts;
    try {
      window = await this.store.add(this.vendor, credential, bucketStart, flushed, windowStart);
    } catch (error) {
      pending.answers += flushed.answers;
      pending.dropTokens += flushed.dropTokens;
      if (counts.dropTokens === 0) return { hold: false };
      return {
        hold: true,
        reason: `token removal held: the breaker's counts cannot be read (${(error as Error).message})`,
      };
    }
    if (counts.dropTokens === 0 || !tokenRemovalsHeld(window, this.settings)) return { hold: false, window };
    const percent = Math.round((window.dropTokens / window.answers) * 100);
    return {
      hold: true,
      window,
      reason:
        `token removal held: ${window.dropTokens} of ${window.answers} ${this.vendor} answers for credential ` +
        `${credential} in ${this.settings.windowSeconds / 60} min said the token is dead (${percent}% > ` +
        `${Math.round(this.settings.share * 100)}%): check the credential, then redrive`,
    };
  }
}

/** The counts in this process only: tests, and a worker wired without DynamoDB. */
export class MemoryAnswerWindow implements AnswerWindowStore {
  private readonly buckets = new Map<string, Map<number, AnswerCounts>>();

  async add(
    vendor: Vendor,
    credential: string,
    bucketStart: number,
    counts: AnswerCounts,
    windowStart: number,
  ): Promise<AnswerCounts> {
    const key = `${vendor}#${credential}`;
    const buckets = this.buckets.get(key) ?? new Map<number, AnswerCounts>();
    this.buckets.set(key, buckets);
    const bucket = buckets.get(bucketStart) ?? { answers: 0, dropTokens: 0 };
    bucket.answers += counts.answers;
    bucket.dropTokens += counts.dropTokens;
    buckets.set(bucketStart, bucket);
    const sum = { answers: 0, dropTokens: 0 };
    for (const [start, b] of buckets) {
      if (start < windowStart) buckets.delete(start);
      else {
        sum.answers += b.answers;
        sum.dropTokens += b.dropTokens;
      }
    }
    return sum;
  }
}
