import type { DeliveryJob, DeliveryTarget, Notification, Outcome, Vendor } from "../../lib/model/index.js";
import type {
  Clock,
  DeliveryQueue,
  Journal,
  JournalEntry,
  RetryQueue,
  SendResult,
  VendorSender,
} from "../../lib/ports/index.js";

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
