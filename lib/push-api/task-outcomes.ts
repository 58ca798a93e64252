import type { JobOptions, JobReport } from "../delivery/worker.js";
import type { DeliveryJob } from "../model/index.js";
import type { Clock, Journal } from "../ports/index.js";
import type { PushTask, PushTaskStore, TaskCounts } from "./ports.js";
import { addCount, skipCounter } from "./task-counts.js";

type Worker = (job: DeliveryJob, options?: JobOptions) => Promise<JobReport>;

export interface TaskOutcomeDeps {
  tasks: PushTaskStore;
  journal: Journal;
  clock: Clock;
  /** How long a container trusts what it read of a task (revoked? expired?). Default 5 s. */
  cacheMs?: number;
}

const DEFAULT_CACHE_MS = 5000;
/** Tasks a container remembers at once; the oldest reads are dropped beyond. */
const CACHED_TASKS = 1000;

const noReport = (): JobReport => ({
  delivered: 0,
  tokensRemoved: 0,
  retried: 0,
  quotaDelayed: 0,
  deadLettered: 0,
  credentialProblems: 0,
  declined: 0,
  tokenRemovalsHeld: 0,
  deferred: 0,
  alreadySent: 0,
});

/**
 * A vendor worker for server push jobs too: a job of a task (`job.taskId`) is not sent once the task is
 * revoked (`timpush/revoke` "terminates delivery to accounts not yet reached",
 * https://trtc.io/document/60571) or its `MsgLifeTime` has passed, and what the worker reports of each
 * job (delivered, token removed, dead-lettered, retrying, declined) is added to the task's counts in
 * one write per job. Jobs without a task go straight to the worker. The task is read once per 5 s per
 * container (0.5 RRU), so a revoke stops a task's sends within seconds.
 */
export function countTaskOutcomes(worker: Worker, deps: TaskOutcomeDeps): Worker {
  const cacheMs = deps.cacheMs ?? DEFAULT_CACHE_MS;
  const cache = new Map<string, { task: PushTask | undefined; at: number }>();

  async function taskOf(taskId: string): Promise<PushTask | undefined> {
    const now = deps.clock.now();
    const hit = cache.get(taskId);
    if (hit !== undefined && now - hit.at < cacheMs) return hit.task;
    const task = await deps.tasks.get(taskId);
    cache.delete(taskId);
    cache.set(taskId, { task, at: now });
    if (cache.size > CACHED_TASKS) cache.delete(cache.keys().next().value!);
    return task;
  }

  return async (job, options) => {
    const { taskId } = job;
    if (taskId === undefined) return worker(job, options);
    let task: PushTask | undefined;
    try {
      task = await taskOf(taskId);
    } catch (error) {
      // Unreadable task: sending is what was asked; only a revoke may be missed for this job.
      deps.journal.record({
        stage: "ignored",
        messageKey: taskId,
        reason: `push task: ${(error as Error).message}`,
      });
    }
    const now = deps.clock.now();
    const stop =
      task?.revokedAt !== undefined
        ? "push task revoked"
        : task?.lifetimeSeconds !== undefined && now > task.createdAt + task.lifetimeSeconds * 1000
          ? "MsgLifeTime passed before it was sent"
          : undefined;
    if (stop !== undefined) {
      for (const target of job.targets) {
        deps.journal.record({
          stage: "skipped",
          messageKey: job.notification.messageKey,
          userId: target.userId,
          deviceId: target.deviceId,
          vendor: job.vendor,
          reason: stop,
        });
      }
      await deps.tasks.count(taskId, { [skipCounter(stop)]: job.targets.length });
      return noReport();
    }

    const report = await worker(job, options);
    const counts: TaskCounts = {};
    addCount(counts, "delivered", report.delivered);
    addCount(counts, `delivered:${job.vendor}`, report.delivered);
    addCount(counts, "tokenRemoved", report.tokensRemoved);
    addCount(counts, "deadLettered", report.deadLettered);
    addCount(counts, "retried", report.retried);
    addCount(counts, skipCounter("declined by the device"), report.declined);
    if (Object.keys(counts).length > 0) {
      // The pushes went out; a count that cannot be written must not send them again.
      await deps.tasks.count(taskId, counts).catch((error: unknown) =>
        deps.journal.record({
          stage: "ignored",
          messageKey: taskId,
          vendor: job.vendor,
          reason: `push task counts: ${(error as Error).message}`,
        }),
      );
    }
    return report;
  };
}
