import type { DeliveryJob } from "../model/index.js";
import type { DeliveryQueue, Journal, JournalEntry } from "../ports/index.js";
import type { TaskCounts } from "./ports.js";

/**
 * A task's counts are added once per fan-out page and once per delivery job, never per device: the
 * page's journal lines and jobs are tallied in memory and written as one UpdateItem (ADD) on the
 * task's item. What a skip counts under is its reason up to the first ":" or "(" (the detail after it
 * names a device or a time): "online in the foreground", "logged out", "no registered device",
 * "do not disturb", "declined by the device", "push task revoked".
 */
export function skipCounter(reason: string | undefined): `skipped:${string}` {
  const head = (reason ?? "unknown").split(/[:(]/)[0]!.trim();
  return `skipped:${head === "" ? "unknown" : head.slice(0, 64)}`;
}

export function addCount(counts: TaskCounts, key: keyof TaskCounts | `skipped:${string}`, n = 1): void {
  if (n === 0) return;
  const record = counts as Record<string, number>;
  record[key] = (record[key] ?? 0) + n;
}

/** The page's journal and delivery queue, counting for `taskId` on the way and stamping its jobs. */
export class TaskTally {
  readonly counts: TaskCounts = {};

  constructor(readonly taskId: string) {}

  journal(inner: Journal): Journal {
    return {
      record: (entry: JournalEntry) => {
        if (entry.stage === "skipped" && entry.messageKey === this.taskId)
          addCount(this.counts, skipCounter(entry.reason));
        inner.record(entry);
      },
    };
  }

  queue(inner: DeliveryQueue): DeliveryQueue {
    return {
      enqueue: async (jobs: readonly DeliveryJob[]) => {
        const stamped = jobs.map((job) => ({ ...job, taskId: this.taskId }));
        await inner.enqueue(stamped);
        for (const job of stamped) {
          addCount(this.counts, "queued", job.targets.length);
          addCount(this.counts, `queued:${job.vendor}`, job.targets.length);
        }
      },
    };
  }
}
