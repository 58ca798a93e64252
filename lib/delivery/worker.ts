import type { DeliveryJob, DeliveryTarget, Outcome } from "../model/index.js";
import type { DeviceStore, Journal, RetryQueue, SendResult, VendorSender } from "../ports/index.js";

export interface WorkerDeps {
  sender: VendorSender;
  devices: DeviceStore;
  retries: RetryQueue;
  journal: Journal;
  /** Attempts (first try included) before a retryable failure is dead-lettered. */
  maxAttempts: number;
  /** 0..1, for jitter; injectable so tests are deterministic. */
  random?: () => number;
}

export interface JobReport {
  delivered: number;
  tokensRemoved: number;
  retried: number;
  deadLettered: number;
}

/** SQS DelaySeconds maximum. */
export const MAX_DELAY_SECONDS = 900;

/** Exponential backoff with full jitter on top of a floor: 5 s, 10 s, 20 s … capped at 15 min. */
export function backoffSeconds(attempt: number, random: () => number): number {
  const ceiling = Math.min(MAX_DELAY_SECONDS, 5 * 2 ** attempt);
  return Math.ceil(ceiling / 2 + (random() * ceiling) / 2);
}

/** When to try again after a retryable outcome: the vendor's Retry-After wins over our backoff. */
export function retryDelaySeconds(outcome: Outcome, attempt: number, random: () => number): number {
  const hinted = "retryAfterSeconds" in outcome ? outcome.retryAfterSeconds : undefined;
  const delay = hinted !== undefined && hinted > 0 ? hinted : backoffSeconds(attempt, random);
  return Math.min(MAX_DELAY_SECONDS, Math.ceil(delay));
}

/**
 * Delivers one job and settles every target: delivered, token removed, re-enqueued with a delay, or
 * parked in the dead-letter queue with its reason. It only throws when settling itself fails (the
 * queue or table is unreachable); the caller then reports the record as failed so SQS redelivers it.
 */
export function makeDeliveryWorker(deps: WorkerDeps): (job: DeliveryJob) => Promise<JobReport> {
  const random = deps.random ?? Math.random;
  const { journal } = deps;

  return async (job) => {
    const results: SendResult[] = await deps.sender.send(job.notification, job.targets);
    const report: JobReport = { delivered: 0, tokensRemoved: 0, retried: 0, deadLettered: 0 };
    const messageKey = job.notification.messageKey;
    const attempt = job.attempt + 1;
    const note = (r: SendResult, stage: "delivered" | "token-removed", reason?: string) =>
      journal.record({
        stage,
        messageKey,
        vendor: job.vendor,
        userId: r.target.userId,
        deviceId: r.target.deviceId,
        attempt,
        ...(r.status !== undefined ? { status: r.status } : {}),
        ...(reason !== undefined ? { reason } : {}),
      });

    // Retryable targets that share a delay travel together in one new job.
    const retryGroups = new Map<number, { targets: DeliveryTarget[]; reasons: Set<string> }>();
    const deadGroups = new Map<string, DeliveryTarget[]>();

    for (const result of results) {
      const { outcome } = result;
      switch (outcome.kind) {
        case "delivered":
          report.delivered += 1;
          note(result, "delivered");
          break;
        case "drop-token":
          if (await deps.devices.remove(result.target.userId, result.target.deviceId, result.target.token)) {
            report.tokensRemoved += 1;
          }
          note(result, "token-removed", outcome.reason);
          break;
        case "bad-request":
          push(deadGroups, outcome.reason, result.target);
          break;
        default: {
          // retry, quota, refresh-credential: the sender already refreshed once; wait and try again.
          if (attempt >= deps.maxAttempts) {
            push(deadGroups, `gave up after ${attempt} attempts: ${outcome.reason}`, result.target);
            break;
          }
          const delay = retryDelaySeconds(outcome, job.attempt, random);
          const group = retryGroups.get(delay) ?? { targets: [], reasons: new Set<string>() };
          group.targets.push(result.target);
          group.reasons.add(outcome.reason);
          retryGroups.set(delay, group);
        }
      }
    }

    for (const [delay, group] of retryGroups) {
      await deps.retries.retry({ ...job, targets: group.targets, attempt }, delay);
      report.retried += group.targets.length;
      for (const target of group.targets) {
        journal.record({
          stage: "retrying",
          messageKey,
          vendor: job.vendor,
          userId: target.userId,
          deviceId: target.deviceId,
          attempt,
          reason: `${[...group.reasons].join("; ")} (again in ${delay}s)`,
        });
      }
    }
    for (const [reason, targets] of deadGroups) {
      await deps.retries.deadLetter({ ...job, targets, attempt }, reason);
      report.deadLettered += targets.length;
      for (const target of targets) {
        journal.record({
          stage: "dead-lettered",
          messageKey,
          vendor: job.vendor,
          userId: target.userId,
          deviceId: target.deviceId,
          attempt,
          reason,
        });
      }
    }
    return report;
  };
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key) ?? [];
  list.push(value);
  map.set(key, list);
}
