import type {
  CallEnd,
  CallEndReason,
  CallExpiryQueue,
  CallExpiryTask,
  CallRing,
  CallStore,
  Clock,
} from "../../lib/ports/index.js";

/**
 * The CallStore port's semantics in memory, for unit tests: a claim puts only where no live record
 * is, an end updates only a ringing record, records past `expiresAt` read as absent. Values are copied
 * in and out, as DynamoDB would.
 */
export class MemoryCallStore implements CallStore {
  private readonly rows = new Map<string, CallRing>();
  private readonly ends = new Map<string, CallEnd>();

  constructor(private readonly clock: Clock) {}

  private live<T extends { expiresAt: number }>(value: T | undefined): T | undefined {
    return value !== undefined && value.expiresAt > Math.floor(this.clock.now() / 1000)
      ? structuredClone(value)
      : undefined;
  }

  async claimRing(ring: CallRing): Promise<CallRing> {
    const key = `${ring.inviteId}\u0000${ring.userId}`;
    const held = this.live(this.rows.get(key));
    if (held !== undefined) return held;
    this.rows.set(key, structuredClone(ring));
    return structuredClone(ring);
  }

  async endRing(
    inviteId: string,
    userId: string,
    end: { by: string; reason: CallEndReason; at: number; expiresAt: number },
  ): Promise<CallRing> {
    const key = `${inviteId}\u0000${userId}`;
    const held = this.live(this.rows.get(key));
    if (held?.state === "ended") return held;
    const next: CallRing =
      held === undefined
        ? { inviteId, userId, state: "ended", devices: [], expiresAt: end.expiresAt }
        : { ...held, state: "ended" };
    Object.assign(next, { endedBy: end.by, endReason: end.reason, endedAt: end.at });
    this.rows.set(key, structuredClone(next));
    return next;
  }

  async rings(inviteId: string, userIds?: readonly string[]): Promise<CallRing[]> {
    return [...this.rows.values()]
      .filter((r) => r.inviteId === inviteId && (userIds === undefined || userIds.includes(r.userId)))
      .map((r) => this.live(r))
      .filter((r): r is CallRing => r !== undefined);
  }

  async endCall(end: CallEnd): Promise<CallEnd> {
    const held = this.live(this.ends.get(end.inviteId));
    if (held !== undefined) return held;
    this.ends.set(end.inviteId, structuredClone(end));
    return structuredClone(end);
  }

  async callEnded(inviteId: string): Promise<CallEnd | undefined> {
    return this.live(this.ends.get(inviteId));
  }

  /** Test helper: every ring record, live or not. */
  all(): CallRing[] {
    return [...this.rows.values()].map((r) => structuredClone(r));
  }
}

/** Captures what the router scheduled, with the delay it asked for. */
export class CapturingExpiryQueue implements CallExpiryQueue {
  readonly scheduled: { task: CallExpiryTask; delaySeconds: number }[] = [];
  async schedule(task: CallExpiryTask, delaySeconds: number): Promise<void> {
    this.scheduled.push({ task: { ...task }, delaySeconds });
  }
}
