import type { DeliveryJob, DeliveryTarget, Notification, Outcome, Vendor } from "../../lib/model/index.js";
import type {
  Clock,
  DeliveredTo,
  DeliveryLog,
  DeliveryQueue,
  GroupInfo,
  GroupStore,
  Journal,
  JournalEntry,
  MemberPage,
  RetryQueue,
  SendResult,
  VendorSender,
} from "../../lib/ports/index.js";
import type { FanoutQueue, GroupFanoutTask } from "../../lib/routing/fanout.js";

/** Test doubles for the ports that have no local emulator stand-in in a unit test. */

export class RecordingJournal implements Journal {
  readonly entries: JournalEntry[] = [];
  record(entry: JournalEntry): void {
    this.entries.push(entry);
  }
  stages(): string[] {
    return this.entries.map((e) => e.stage);
  }
}

export class CapturingDeliveryQueue implements DeliveryQueue {
  readonly jobs: DeliveryJob[] = [];
  async enqueue(jobs: readonly DeliveryJob[]): Promise<void> {
    this.jobs.push(...jobs);
  }
}

export class CapturingRetryQueue implements RetryQueue {
  readonly retried: { job: DeliveryJob; delaySeconds: number }[] = [];
  readonly deadLettered: { job: DeliveryJob; reason: string }[] = [];
  async retry(job: DeliveryJob, delaySeconds: number): Promise<void> {
    this.retried.push({ job, delaySeconds });
  }
  async deadLetter(job: DeliveryJob, reason: string): Promise<void> {
    this.deadLettered.push({ job, reason });
  }
}

/** A sender whose answer per token is scripted; unscripted tokens are delivered. */
export class ScriptedSender implements VendorSender {
  readonly calls: { notification: Notification; targets: DeliveryTarget[] }[] = [];
  constructor(
    readonly vendor: Vendor,
    private readonly script: Record<string, Outcome> = {},
  ) {}
  async send(notification: Notification, targets: DeliveryTarget[]): Promise<SendResult[]> {
    this.calls.push({ notification, targets });
    return targets.map((target) => ({ target, outcome: this.script[target.token] ?? { kind: "delivered" } }));
  }
  async close(): Promise<void> {}
}

export class FixedClock implements Clock {
  constructor(public nowMs: number) {}
  now(): number {
    return this.nowMs;
  }
}

export class CapturingFanoutQueue implements FanoutQueue {
  readonly tasks: GroupFanoutTask[] = [];
  async publish(task: GroupFanoutTask): Promise<void> {
    this.tasks.push(task);
  }
}

/** Groups in memory, members in insertion order, pages by index: the GroupStore port's semantics. */
export class MemoryGroupStore implements GroupStore {
  private readonly groups = new Map<string, GroupInfo>();
  private readonly members = new Map<string, string[]>();
  private readonly joinedAt = new Map<string, number>();
  private readonly leftAt = new Map<string, number>();

  async putGroup(info: GroupInfo): Promise<void> {
    const current = this.groups.get(info.groupId);
    if (current !== undefined && current.updatedAt > info.updatedAt) return;
    const defined = Object.fromEntries(Object.entries(info).filter(([, v]) => v !== undefined));
    this.groups.set(info.groupId, { ...current, ...defined } as GroupInfo);
  }
  async getGroup(groupId: string): Promise<GroupInfo | undefined> {
    return this.groups.get(groupId);
  }
  async addMembers(groupId: string, userIds: readonly string[]): Promise<void> {
    const list = this.members.get(groupId) ?? [];
    for (const id of userIds) if (!list.includes(id)) list.push(id);
    this.members.set(groupId, list);
  }
  async removeMembers(groupId: string, userIds: readonly string[]): Promise<void> {
    this.members.set(
      groupId,
      (this.members.get(groupId) ?? []).filter((id) => !userIds.includes(id)),
    );
  }
  async deleteGroup(groupId: string): Promise<void> {
    this.groups.delete(groupId);
    this.members.delete(groupId);
  }
  async listMembers(groupId: string, cursor: string | undefined, limit: number): Promise<MemberPage> {
    const list = this.members.get(groupId) ?? [];
    const start = cursor === undefined ? 0 : Number(cursor);
    const members = list.slice(start, start + limit);
    return start + limit < list.length ? { members, next: String(start + limit) } : { members };
  }
}

export class MemoryDeliveryLog implements DeliveryLog {
  private readonly byMessage = new Map<string, DeliveredTo[]>();
  async recordDelivered(
    messageKey: string,
    vendor: Vendor,
    targets: readonly DeliveryTarget[],
  ): Promise<void> {
    this.byMessage.set(messageKey, [
      ...(this.byMessage.get(messageKey) ?? []),
      ...targets.map((target) => ({ vendor, target })),
    ]);
  }
  async deliveredTo(messageKey: string): Promise<DeliveredTo[]> {
    return this.byMessage.get(messageKey) ?? [];
  }
}
