/**
 * Routing each event once with one write per event instead of Powertools idempotency's two (an
 * in-progress record, then its completion: 2 WRU, $1.25 per 1M callbacks, more than the rest of a
 * one-to-one push's DynamoDB work). The first SQS message carrying an event claims its identity
 * (lib/ingest/event-identity.ts) for an hour; that message, not the claim, is what makes the event
 * routed in the end, so no completion needs writing:
 *
 * - another message carrying the same event (Tencent's retry, a replay, a fan-out page queued twice)
 *   finds the claim and is dropped: the claiming message is on the queue until it was routed, and is
 *   retried by SQS (then parked in the dead-letter queue) if its routing fails;
 * - the claiming message itself, seen again (SQS delivering it twice, or again after an invocation
 *   died or timed out before deleting it), may route again once the claiming invocation's deadline has
 *   passed; before that it fails and SQS retries it later (another invocation is routing it now).
 *   Routing it again makes the same jobs (a job's identity is what it is), which the workers' send
 *   guard does not send twice;
 * - a routing that fails releases the claim, so the retry (or a copy) can claim again.
 */
export type ClaimAnswer =
  /** This message may route the event now. */
  | "claimed"
  /** Another message claimed the event: this one is a copy, done without routing. */
  | "copy"
  /** This very message is being routed by another invocation until its deadline: try again later. */
  | "in-progress";

export interface EventClaims {
  /** Claims `identity` for SQS message `messageId`, whose routing ends by `untilMs` (epoch ms). */
  claim(identity: string, messageId: string, untilMs: number): Promise<ClaimAnswer>;
  /** Gives up this message's claim after its routing failed. */
  release(identity: string, messageId: string): Promise<void>;
}

export class EventInProgressError extends Error {
  override name = "EventInProgressError";
}

/** An in-memory EventClaims (tests, and a runtime without a table). */
export class MemoryEventClaims implements EventClaims {
  private readonly claims = new Map<string, { messageId: string; untilMs: number; expiresMs: number }>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly keepMs = 3_600_000,
  ) {}

  async claim(identity: string, messageId: string, untilMs: number): Promise<ClaimAnswer> {
    const now = this.now();
    const held = this.claims.get(identity);
    if (held !== undefined && held.expiresMs > now) {
      if (held.messageId !== messageId) return "copy";
      if (held.untilMs > now) return "in-progress";
    }
    this.claims.set(identity, { messageId, untilMs, expiresMs: now + this.keepMs });
    return "claimed";
  }

  async release(identity: string, messageId: string): Promise<void> {
    if (this.claims.get(identity)?.messageId === messageId) this.claims.delete(identity);
  }
}
