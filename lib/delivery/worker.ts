import type { DeliveryJob, DeliveryTarget, Outcome } from "../model/index.js";
import type {
  Clock,
  DeliveryLog,
  DeviceStore,
  Journal,
  RetryQueue,
  SendResult,
  VendorSender,
} from "../ports/index.js";
import { systemClock } from "../ports/index.js";

export interface WorkerDeps {
  sender: VendorSender;
  devices: DeviceStore;
  retries: RetryQueue;
  journal: Journal;
  /** Where delivered targets are recorded, so a recall reaches exactly them. */
  deliveries?: DeliveryLog;
  /** Attempts (first try included) before a retryable failure is dead-lettered. */
  maxAttempts: number;
  /** Longest a job may wait out vendor quotas, counted from when its callback was accepted. */
  maxQuotaWaitSeconds?: number;
  clock?: Clock;
  /** 0..1, for jitter; injectable so tests are deterministic. */
  random?: () => number;
}

export interface JobReport {
  delivered: number;
  tokensRemoved: number;
  retried: number;
  /** Targets held back by a vendor quota (not counted as attempts). */
  quotaDelayed: number;
  deadLettered: number;
  /** Targets parked because the vendor said our credential or configuration is wrong. */
  credentialProblems: number;
  /** Targets whose user switched notifications off at the vendor (kept, not retried, not parked). */
  declined: number;
}

/** SQS DelaySeconds maximum. */
export const MAX_DELAY_SECONDS = 900;
/** A chat notification a day late is worth less than none: past this, quota-held jobs are parked. */
export const DEFAULT_MAX_QUOTA_WAIT_SECONDS = 24 * 60 * 60;
/** A quota answer that asks us to wait longer than this (a daily quota) closes the credential's gate. */
const GATE_THRESHOLD_SECONDS = 60;

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

type Settlement = { kind: "retry" | "quota"; delaySeconds: number } | { kind: "dead"; reason: string };

/**
 * Delivers one job and settles every target: delivered, token removed, re-enqueued with a delay, or
 * parked in the dead-letter queue with its reason. It only throws when settling itself fails (the
 * queue or table is unreachable); the caller then reports the record as failed so SQS redelivers it.
 *
 * Quotas are not failures of ours: a quota answer re-enqueues the target without spending an attempt,
 * and a daily quota (a wait of more than a minute) closes that credential's gate in this worker until
 * the quota resets, so later jobs are delayed without asking the vendor again — no hot loop, at most
 * one vendor request per job per 15-minute SQS delay.
 */
export function makeDeliveryWorker(deps: WorkerDeps): (job: DeliveryJob) => Promise<JobReport> {
  const random = deps.random ?? Math.random;
  const clock = deps.clock ?? systemClock;
  const maxQuotaWait = deps.maxQuotaWaitSeconds ?? DEFAULT_MAX_QUOTA_WAIT_SECONDS;
  const { journal } = deps;
  /** Per credential (certificateId), when its vendor quota reopens (epoch ms). */
  const quotaGates = new Map<string, { until: number; reason: string }>();
  const gateKey = (target: DeliveryTarget) => String(target.certificateId ?? "default");

  return async (job) => {
    const now = clock.now();
    const report: JobReport = {
      delivered: 0,
      tokensRemoved: 0,
      retried: 0,
      quotaDelayed: 0,
      deadLettered: 0,
      credentialProblems: 0,
      declined: 0,
    };
    const messageKey = job.notification.messageKey;
    const attempt = job.attempt + 1;
    const entry = (target: DeliveryTarget) => ({
      messageKey,
      vendor: job.vendor,
      userId: target.userId,
      deviceId: target.deviceId,
      attempt,
    });

    const held: SendResult[] = [];
    const toSend: DeliveryTarget[] = [];
    for (const target of job.targets) {
      const gate = quotaGates.get(gateKey(target));
      if (gate !== undefined && gate.until > now) {
        const retryAfterSeconds = Math.ceil((gate.until - now) / 1000);
        held.push({ target, outcome: { kind: "quota", reason: `${gate.reason} (held)`, retryAfterSeconds } });
      } else {
        toSend.push(target);
      }
    }
    const results = [...(toSend.length > 0 ? await deps.sender.send(job.notification, toSend) : []), ...held];

    // Targets that settle the same way (same delay, or same dead-letter reason) travel together in
    // one new job: the fewest SQS messages.
    const groups = new Map<
      string,
      { settlement: Settlement; targets: DeliveryTarget[]; reasons: Set<string> }
    >();
    const settle = (settlement: Settlement, target: DeliveryTarget, reason: string) => {
      const key = JSON.stringify(settlement);
      const group = groups.get(key) ?? { settlement, targets: [], reasons: new Set<string>() };
      group.targets.push(target);
      group.reasons.add(reason);
      groups.set(key, group);
    };
    const waitedSeconds = Math.max(0, (now - job.acceptedAt) / 1000);

    const delivered: DeliveryTarget[] = [];
    for (const { target, outcome, status } of results) {
      switch (outcome.kind) {
        case "delivered":
          report.delivered += 1;
          delivered.push(target);
          journal.record({
            stage: "delivered",
            ...entry(target),
            ...(status !== undefined ? { status } : {}),
          });
          break;
        case "drop-token":
          if (await deps.devices.remove(target.userId, target.deviceId, target.token))
            report.tokensRemoved += 1;
          journal.record({
            stage: "token-removed",
            ...entry(target),
            reason: outcome.reason,
            ...(status !== undefined ? { status } : {}),
          });
          break;
        case "bad-request":
          settle({ kind: "dead", reason: outcome.reason }, target, outcome.reason);
          break;
        case "declined":
          report.declined += 1;
          journal.record({
            stage: "skipped",
            ...entry(target),
            reason: `declined by the device: ${outcome.reason}`,
            ...(status !== undefined ? { status } : {}),
          });
          break;
        case "credential-problem": {
          // The vendor refused our credential or configuration, not the device: park, never remove.
          const reason = `credential problem: ${outcome.reason}`;
          report.credentialProblems += 1;
          settle({ kind: "dead", reason }, target, reason);
          break;
        }
        case "quota": {
          const wait = outcome.retryAfterSeconds ?? backoffSeconds(job.quotaDelays ?? 0, random);
          if (wait > GATE_THRESHOLD_SECONDS) {
            quotaGates.set(gateKey(target), { until: now + wait * 1000, reason: outcome.reason });
          }
          if (waitedSeconds + wait > maxQuotaWait) {
            const reason = `quota not available within ${maxQuotaWait}s: ${outcome.reason}`;
            settle({ kind: "dead", reason }, target, reason);
          } else {
            const delaySeconds = Math.min(MAX_DELAY_SECONDS, Math.ceil(wait));
            settle({ kind: "quota", delaySeconds }, target, outcome.reason);
          }
          break;
        }
        default:
          // retry, refresh-credential: the sender already refreshed once; wait and try again.
          if (attempt >= deps.maxAttempts) {
            const reason = `gave up after ${attempt} attempts: ${outcome.reason}`;
            settle({ kind: "dead", reason }, target, reason);
          } else {
            const delaySeconds = retryDelaySeconds(outcome, job.attempt, random);
            settle({ kind: "retry", delaySeconds }, target, outcome.reason);
          }
      }
    }

    if (deps.deliveries !== undefined && delivered.length > 0) {
      try {
        await deps.deliveries.recordDelivered(messageKey, job.vendor, delivered);
      } catch (error) {
        // The pushes went out; failing the record would send them twice. A recall just misses them.
        journal.record({
          stage: "ignored",
          messageKey,
          vendor: job.vendor,
          reason: `delivery record: ${(error as Error).message}`,
        });
      }
    }

    for (const { settlement, targets, reasons } of groups.values()) {
      if (settlement.kind === "dead") {
        await deps.retries.deadLetter({ ...job, targets, attempt }, settlement.reason);
        report.deadLettered += targets.length;
        for (const target of targets) {
          journal.record({ stage: "dead-lettered", ...entry(target), reason: settlement.reason });
        }
        continue;
      }
      const quota = settlement.kind === "quota";
      const next: DeliveryJob = quota
        ? { ...job, targets, quotaDelays: (job.quotaDelays ?? 0) + 1 }
        : { ...job, targets, attempt };
      await deps.retries.retry(next, settlement.delaySeconds);
      if (quota) report.quotaDelayed += targets.length;
      else report.retried += targets.length;
      for (const target of targets) {
        journal.record({
          stage: "retrying",
          ...entry(target),
          reason: `${quota ? "quota: " : ""}${[...reasons].join("; ")} (again in ${settlement.delaySeconds}s)`,
        });
      }
    }
    return report;
  };
}
