import { createHash } from "node:crypto";
import { MIN_BROADCAST_INTERVAL_MS, MSG_RANDOM_DEDUP_SECONDS } from "../../../lib/push-api/limits.js";
import type {
  AudienceIndex,
  ClaimResult,
  PushProfile,
  PushProfileStore,
  PushTask,
  PushTaskStore,
  Segment,
  SegmentPage,
  ServerPushEvent,
  ServerPushQueue,
  TaskCounts,
} from "../../../lib/push-api/ports.js";

/** The push ports in memory, with their documented semantics (copies in and out). */

const segmentKey = (segment: Segment) =>
  segment.kind === "all"
    ? "all"
    : segment.kind === "tag"
      ? `tag\u0000${segment.tag}`
      : `attr\u0000${segment.name}\u0000${segment.value}`;

export class MemoryPushProfiles implements PushProfileStore, AudienceIndex {
  readonly profiles = new Map<string, PushProfile>();
  /** segment → shard → sorted user ids. */
  private readonly index = new Map<string, Map<string, number>>();
  private names: Record<string, string> = {};
  readonly pageCalls: { segment: Segment; shard: number; cursor?: string }[] = [];
  readonly dropped: string[] = [];

  constructor(readonly shards = 4) {}

  shardOf(userId: string): number {
    return createHash("sha256").update(userId).digest().readUInt32BE(0) % this.shards;
  }

  private members(segment: Segment): Map<string, number> {
    const key = segmentKey(segment);
    let members = this.index.get(key);
    if (members === undefined) {
      members = new Map();
      this.index.set(key, members);
    }
    return members;
  }

  async getProfiles(userIds: readonly string[]): Promise<Map<string, PushProfile>> {
    return new Map(
      userIds.map((id) => {
        const p = this.profiles.get(id);
        return [id, { tags: [...(p?.tags ?? [])], attrs: { ...(p?.attrs ?? {}) } }];
      }),
    );
  }

  async updateProfile(userId: string, decide: (current: PushProfile) => PushProfile | undefined) {
    const current = (await this.getProfiles([userId])).get(userId)!;
    const next = decide(current);
    if (next === undefined) return current;
    for (const tag of current.tags) this.members({ kind: "tag", tag }).delete(userId);
    for (const [name, value] of Object.entries(current.attrs))
      this.members({ kind: "attr", name, value }).delete(userId);
    for (const tag of next.tags) this.members({ kind: "tag", tag }).set(userId, 0);
    for (const [name, value] of Object.entries(next.attrs))
      this.members({ kind: "attr", name, value }).set(userId, 0);
    this.profiles.set(userId, { tags: [...next.tags], attrs: { ...next.attrs } });
    return next;
  }

  async getAttrNames(): Promise<Record<string, string>> {
    return { ...this.names };
  }

  async setAttrNames(names: Record<string, string>): Promise<void> {
    this.names = { ...names };
  }

  async page(
    segment: Segment,
    shard: number,
    cursor: string | undefined,
    limit: number,
  ): Promise<SegmentPage> {
    this.pageCalls.push({ segment, shard, ...(cursor !== undefined && { cursor }) });
    const ids = [...this.members(segment).keys()].filter((id) => this.shardOf(id) === shard).sort();
    const from = cursor === undefined ? 0 : ids.findIndex((id) => id > cursor);
    const start = from < 0 ? ids.length : from;
    const userIds = ids.slice(start, start + limit);
    return start + limit < ids.length ? { userIds, next: userIds.at(-1)! } : { userIds };
  }

  async addUser(userId: string, at: number): Promise<void> {
    this.members({ kind: "all" }).set(userId, at);
  }

  async dropUser(userId: string, addedBefore: number): Promise<void> {
    const all = this.members({ kind: "all" });
    const at = all.get(userId);
    if (at !== undefined && at <= addedBefore) {
      all.delete(userId);
      this.dropped.push(userId);
    }
  }

  allUsers(): string[] {
    return [...this.members({ kind: "all" }).keys()].sort();
  }
}

export class MemoryPushTasks implements PushTaskStore {
  readonly tasks = new Map<string, PushTask>();
  private readonly claims = new Map<
    string,
    { taskId: string; createdAt: number; queued: boolean; expiresAt: number }
  >();
  private readonly days = new Map<number, { n: number; lastAt: number }>();
  readonly countWrites: { taskId: string; counts: TaskCounts }[] = [];

  async claim(scope: string, msgRandom: number, task: PushTask, nowMs: number): Promise<ClaimResult> {
    const key = `${scope}#${msgRandom}`;
    const held = this.claims.get(key);
    if (held !== undefined && held.expiresAt >= nowMs) {
      if (!this.tasks.has(held.taskId))
        this.tasks.set(held.taskId, { ...task, taskId: held.taskId, createdAt: held.createdAt });
      return { created: false, taskId: held.taskId, createdAt: held.createdAt, queued: held.queued };
    }
    this.claims.set(key, {
      taskId: task.taskId,
      createdAt: task.createdAt,
      queued: false,
      expiresAt: nowMs + MSG_RANDOM_DEDUP_SECONDS * 1000,
    });
    this.tasks.set(task.taskId, { ...task, counts: {} });
    return { created: true };
  }

  async markQueued(scope: string, msgRandom: number): Promise<void> {
    const held = this.claims.get(`${scope}#${msgRandom}`);
    if (held !== undefined) held.queued = true;
  }

  async release(scope: string, msgRandom: number, taskId: string): Promise<void> {
    const key = `${scope}#${msgRandom}`;
    if (this.claims.get(key)?.taskId === taskId) {
      this.claims.delete(key);
      this.tasks.delete(taskId);
    }
  }

  async get(taskId: string): Promise<PushTask | undefined> {
    const task = this.tasks.get(taskId);
    return task === undefined ? undefined : { ...task, counts: { ...task.counts } };
  }

  async revoke(taskId: string, at: number): Promise<PushTask | undefined> {
    const task = this.tasks.get(taskId);
    if (task === undefined || task.revokedAt !== undefined) return undefined;
    const before = { ...task, counts: { ...task.counts } };
    task.revokedAt = at;
    return before;
  }

  async count(taskId: string, counts: TaskCounts): Promise<void> {
    this.countWrites.push({ taskId, counts: { ...counts } });
    const task = this.tasks.get(taskId);
    if (task === undefined) return;
    const record = task.counts as Record<string, number>;
    for (const [key, n] of Object.entries(counts)) record[key] = (record[key] ?? 0) + (n ?? 0);
  }

  async takeBroadcast(nowMs: number, perDay: number): Promise<"ok" | "interval" | "quota"> {
    const day = Math.floor(nowMs / 86_400_000);
    const current = this.days.get(day) ?? { n: 0, lastAt: Number.NEGATIVE_INFINITY };
    if (current.n >= perDay) return "quota";
    if (current.lastAt > nowMs - MIN_BROADCAST_INTERVAL_MS) return "interval";
    this.days.set(day, { n: current.n + 1, lastAt: nowMs });
    return "ok";
  }
}

export class CapturingPushQueue implements ServerPushQueue {
  readonly events: ServerPushEvent[] = [];
  failNext?: Error;
  async publish(events: readonly ServerPushEvent[]): Promise<void> {
    if (this.failNext !== undefined) {
      const error = this.failNext;
      this.failNext = undefined;
      throw error;
    }
    this.events.push(...structuredClone(events));
  }
}
