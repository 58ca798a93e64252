import type { DeliveryJob, DeliveryTarget, Outcome, Vendor } from "../model/index.js";
import type {
  AnswerCounts,
  AnswerWindowStore,
  Clock,
  DeliveryEvent,
  DeliveryEventPublisher,
  DeviceStore,
  JobLedger,
  JobRecord,
  Journal,
  PlannedSettlement,
  QuotaGateStore,
  RetryQueue,
  SendResult,
  TargetAnswer,
  VendorSender,
} from "../ports/index.js";
import { systemClock } from "../ports/index.js";
import { type CircuitBreakerSettings, CircuitBreakers, DEFAULT_CIRCUIT_BREAKER } from "./circuit-breaker.js";
import { childIdentity, jobIdentity, sortedTargets } from "./job-identity.js";
import { CachedQuotaGates, MemoryQuotaGates } from "./quota-gates.js";
import { type Pacing, RateLimiters } from "./rate-limiter.js";
import {
  DEFAULT_TOKEN_BREAKER,
  MemoryAnswerWindow,
  TokenBreaker,
  type TokenBreakerSettings,
} from "./token-breaker.js";

export interface WorkerDeps {
  sender: VendorSender;
  devices: DeviceStore;
  retries: RetryQueue;
  journal: Journal;
  /**
   * The send guard and recall record: one record per job. A job found there was sent already and is
   * only settled again as recorded. Without a ledger every receive sends (and nothing is recalled).
   */
  ledger?: JobLedger;
  /**
   * The app's delivery events (delivered, token removed, dead-lettered): one publish per job, after it
   * settled; a failure is journalled and never fails the job. Absent = no events.
   */
  events?: DeliveryEventPublisher;
  /** Daily-quota gates shared by the vendor's containers (DynamoDB); default: this worker's memory. */
  quotaGates?: QuotaGateStore;
  /** The token-removal breaker's counts, shared by the vendor's containers; default: this worker's memory. */
  answers?: AnswerWindowStore;
  tokenBreaker?: TokenBreakerSettings;
  circuitBreaker?: CircuitBreakerSettings;
  /** This container's share of each credential's vendor rate (lib/vendors/settings.ts); absent = unpaced. */
  pacing?: Pacing;
  /**
   * The credential that serves a target, as the sender picks it: keys the gates, breakers and rates.
   * Default: its certificateId, or "default".
   */
  credentialOf?: (target: DeliveryTarget) => string;
  /** Attempts (first try included) before a retryable failure is dead-lettered. */
  maxAttempts: number;
  /** Longest a job may wait out vendor quotas, counted from when its callback was accepted. */
  maxQuotaWaitSeconds?: number;
  /** Longest a job waits in the invocation for its share of the rate before it is re-queued instead. */
  maxPaceWaitMs?: number;
  clock?: Clock;
  /** 0..1, for jitter; injectable so tests are deterministic. */
  random?: () => number;
}

export interface JobOptions {
  /** Epoch ms the invocation ends (Lambda's deadline): no send is started that could outlast it. */
  deadline?: number;
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
  /** Dead-token answers parked instead of removed: the credential's token-removal breaker holds. */
  tokenRemovalsHeld: number;
  /** Targets re-queued unsent by our own gates (rate share, open circuit, invocation deadline). */
  deferred: number;
  /** Targets of a job that was sent before (an SQS redelivery, a copy): not sent again. */
  alreadySent: number;
  /**
   * For each delivered target, the milliseconds from the callback's acceptance (`job.acceptedAt`) to the
   * vendor's answer accepting the push: what a user waited, retries and queue time included. Absent
   * when nothing was delivered or the job carries no acceptance time.
   */
  latencyMs?: number[];
}

/** SQS DelaySeconds maximum. */
export const MAX_DELAY_SECONDS = 900;
/** A chat notification a day late is worth less than none: past this, quota-held jobs are parked. */
export const DEFAULT_MAX_QUOTA_WAIT_SECONDS = 24 * 60 * 60;
/** A quota answer that asks us to wait longer than this (a daily quota) closes the credential's gate. */
const GATE_THRESHOLD_SECONDS = 60;
/** A job waits this long at most for its rate share inside an invocation; longer, and it is re-queued. */
export const DEFAULT_MAX_PACE_WAIT_MS = 10_000;
/**
 * Time a send needs before the invocation ends: a vendor request may take the senders' request timeout
 * (10 s), then the job is recorded and settled. A send that cannot finish in time is not started, so a
 * Lambda timeout never cuts a job between the vendor's answer and its record.
 */
export const SEND_BUDGET_MS = 15_000;

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

type Settlement =
  | { kind: "retry" | "quota" | "hold"; delaySeconds: number }
  | { kind: "dead"; reason: string }
  | { kind: "remove"; since?: number };

const settlementKey = (s: Settlement) =>
  s.kind === "dead"
    ? `dead:${s.reason}`
    : s.kind === "remove"
      ? `remove:${s.since ?? ""}`
      : `${s.kind}:${s.delaySeconds}`;

/** Answers that say something about the token (transient failures and quotas say nothing). */
const TOKEN_VERDICTS = new Set<Outcome["kind"]>([
  "delivered",
  "drop-token",
  "declined",
  "bad-request",
  "credential-problem",
]);

const emptyReport = (): JobReport => ({
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

/** What every journal line about one target of a job says. */
type EntryOf = (target: DeliveryTarget) => {
  messageKey: string;
  vendor: Vendor;
  userId: string;
  deviceId: string;
  attempt: number;
};

const targetKey = (t: DeliveryTarget) => `${t.userId}\u0001${t.deviceId}`;

/**
 * Delivers one job and settles every target: delivered, token removed, re-enqueued with a delay, or
 * parked in the dead-letter queue with its reason. It only throws when settling itself fails (the
 * queue or table is unreachable); the caller then reports the record as failed so SQS redelivers it.
 *
 * Exactly one send per job: the job's record (who got it, how the rest was settled) is written after
 * the vendor answered and before anything is settled, and a job whose record exists is never sent
 * again, only settled as recorded (an SQS redelivery after a crash or a timeout, a second copy).
 * Re-enqueued jobs get identities derived from their parent, so settling twice makes the same jobs
 * and their own records catch the copies.
 *
 * Before sending, the worker's own gates hold targets back without spending attempts: a credential's
 * daily quota (shared by all containers), its open circuit (this container saw only 5xx/timeouts), its
 * share of the vendor's rate (waited out in the invocation, or re-queued when that would take too
 * long), and a deadline too close for a send to finish. After sending, a dead-token answer removes
 * the device only while the credential's token-removal breaker trusts such answers.
 */
export function makeDeliveryWorker(
  deps: WorkerDeps,
): (job: DeliveryJob, options?: JobOptions) => Promise<JobReport> {
  const random = deps.random ?? Math.random;
  const clock = deps.clock ?? systemClock;
  const maxQuotaWait = deps.maxQuotaWaitSeconds ?? DEFAULT_MAX_QUOTA_WAIT_SECONDS;
  const maxPaceWait = deps.maxPaceWaitMs ?? DEFAULT_MAX_PACE_WAIT_MS;
  const credentialOf = deps.credentialOf ?? ((t: DeliveryTarget) => String(t.certificateId ?? "default"));
  const { journal, sender } = deps;
  const vendor = sender.vendor;
  const gates = new CachedQuotaGates(vendor, deps.quotaGates ?? new MemoryQuotaGates(), clock);
  const circuits = new CircuitBreakers(deps.circuitBreaker ?? DEFAULT_CIRCUIT_BREAKER, clock);
  const tokenBreaker = new TokenBreaker(
    vendor,
    deps.answers ?? new MemoryAnswerWindow(),
    deps.tokenBreaker ?? DEFAULT_TOKEN_BREAKER,
    clock,
  );
  const pacing = deps.pacing;
  const limiters = pacing === undefined ? undefined : new RateLimiters(pacing.limitOf, () => clock.now());

  /**
   * Sends with each credential's share of the rate: requests the bucket holds now go together in one
   * call, the rest wait their turn (several calls in flight at once), and what would wait longer than
   * `maxWaitMs` comes back as deferred with the wait.
   */
  async function sendPaced(
    job: DeliveryJob,
    targets: DeliveryTarget[],
    maxWaitMs: number,
  ): Promise<{
    results: SendResult[];
    deferred: { targets: DeliveryTarget[]; waitMs: number }[];
    answeredAt: Map<SendResult, number>;
  }> {
    const calls: Promise<SendResult[]>[] = [];
    const deferred: { targets: DeliveryTarget[]; waitMs: number }[] = [];
    // When each call's answer came back: the end of the callback → vendor answer latency.
    const answeredAt = new Map<SendResult, number>();
    const call = (batch: DeliveryTarget[]) => {
      if (batch.length === 0) return;
      calls.push(
        sender.send(job.notification, batch).then((results) => {
          const at = clock.now();
          for (const result of results) answeredAt.set(result, at);
          return results;
        }),
      );
    };
    const byCredential = new Map<string, DeliveryTarget[]>();
    for (const target of targets) {
      const credential = credentialOf(target);
      // Appended, not copied: a spread per target copies a 500-target job 500 times.
      const group = byCredential.get(credential);
      if (group === undefined) byCredential.set(credential, [target]);
      else group.push(target);
    }
    const unpaced: DeliveryTarget[] = [];
    const paced: Promise<void>[] = [];
    for (const [credential, group] of byCredential) {
      const bucket = limiters?.for(credential);
      if (pacing === undefined || bucket === undefined) {
        unpaced.push(...group);
        continue;
      }
      // The sender's requests: its unique tokens in order, `chunkSize` at a time; a target sharing a
      // token rides with the token's first target.
      const chunks: DeliveryTarget[][] = [];
      const chunkOf = new Map<string, DeliveryTarget[]>();
      for (const target of group) {
        const joined = chunkOf.get(target.token);
        if (joined !== undefined) {
          joined.push(target);
          continue;
        }
        let last = chunks.at(-1);
        if (last === undefined || new Set(last.map((t) => t.token)).size >= pacing.chunkSize) {
          last = [];
          chunks.push(last);
        }
        last.push(target);
        chunkOf.set(target.token, last);
      }
      paced.push(
        (async () => {
          let batch: DeliveryTarget[] = [];
          for (const [index, chunk] of chunks.entries()) {
            const cost = pacing.costOf(new Set(chunk.map((t) => t.token)).size);
            if (bucket.tryTake(cost)) {
              batch.push(...chunk);
              continue;
            }
            call(batch);
            batch = [];
            const waitMs = bucket.waitMs(cost);
            if (waitMs > maxWaitMs) {
              deferred.push({ targets: chunks.slice(index).flat(), waitMs });
              return;
            }
            await bucket.acquire(cost);
            batch.push(...chunk);
          }
          call(batch);
        })(),
      );
    }
    call(unpaced);
    await Promise.all(paced);
    return { results: (await Promise.all(calls)).flat(), deferred, answeredAt };
  }

  return async (job, options = {}) => {
    const now = clock.now();
    const report = emptyReport();
    const messageKey = job.notification.messageKey;
    const attempt = job.attempt + 1;
    const jobId = jobIdentity(job);
    const canonical = sortedTargets(job.targets);
    const byObject = new Map(canonical.map((target, index) => [target, index]));
    const byKey = new Map(canonical.map((target, index) => [targetKey(target), index]));
    // A sender hands back the targets it was given; by identity when it can, else by device.
    const positionOf = (target: DeliveryTarget) => byObject.get(target) ?? byKey.get(targetKey(target)) ?? -1;
    const entry: EntryOf = (target) => ({
      messageKey,
      vendor,
      userId: target.userId,
      deviceId: target.deviceId,
      attempt,
    });

    // The send guard: a job that has a record was sent already.
    if (deps.ledger !== undefined) {
      const previous = await deps.ledger.find(messageKey, jobId);
      if (previous !== undefined) {
        report.alreadySent = job.targets.length;
        journal.record({
          stage: "ignored",
          messageKey,
          vendor,
          reason: `job ${jobId} was sent before (a redelivery): not sent again, settled as recorded`,
        });
        await execute(job, jobId, canonical, previous.plan, undefined);
        return report;
      }
    }

    // Targets that settle the same way (same delay, or same dead-letter reason) travel together in
    // one new job: the fewest SQS messages.
    const groups = new Map<
      string,
      { settlement: Settlement; targets: DeliveryTarget[]; reasons: Set<string> }
    >();
    const settle = (settlement: Settlement, target: DeliveryTarget, reason: string) => {
      const key = settlementKey(settlement);
      const group = groups.get(key) ?? { settlement, targets: [], reasons: new Set<string>() };
      group.targets.push(target);
      group.reasons.add(reason);
      groups.set(key, group);
    };
    // Targets our own gates kept unsent, with why: the trace's "held" answers.
    const heldBack = new Map<DeliveryTarget, string>();
    const hold = (targets: readonly DeliveryTarget[], waitMs: number, reason: string) => {
      const delaySeconds = Math.max(1, Math.min(MAX_DELAY_SECONDS, Math.ceil(waitMs / 1000)));
      for (const target of targets) {
        settle({ kind: "hold", delaySeconds }, target, reason);
        heldBack.set(target, reason);
      }
    };

    // Our own gates, per credential.
    const held: SendResult[] = [];
    const heldByGate = new Set<DeliveryTarget>();
    const toSend: DeliveryTarget[] = [];
    const admitted = new Map<string, number>();
    const budgetMs =
      options.deadline === undefined ? Number.POSITIVE_INFINITY : options.deadline - now - SEND_BUDGET_MS;
    for (const target of job.targets) {
      const credential = credentialOf(target);
      const gate = await gates.closed(credential);
      if (gate !== undefined) {
        const retryAfterSeconds = Math.ceil((gate.until - now) / 1000);
        held.push({ target, outcome: { kind: "quota", reason: `${gate.reason} (held)`, retryAfterSeconds } });
        heldByGate.add(target);
        continue;
      }
      if (!admitted.has(credential)) admitted.set(credential, circuits.admit(credential));
      const openMs = admitted.get(credential)!;
      if (openMs > 0) {
        hold(
          [target],
          openMs,
          `circuit open for credential ${credential}: the vendor answered only 5xx/timeouts`,
        );
      } else if (budgetMs < 0) {
        hold([target], 1000, "too little time left in this invocation to send");
      } else {
        toSend.push(target);
      }
    }

    const {
      results: sent,
      deferred,
      answeredAt,
    } = await sendPaced(job, toSend, Math.min(maxPaceWait, budgetMs));
    for (const { targets, waitMs } of deferred) {
      hold(
        targets,
        waitMs,
        `paced: this worker's share of the ${vendor} rate is spent for ${Math.ceil(waitMs / 1000)}s`,
      );
    }

    // What the vendor said, per credential: the circuit and the token-removal breaker judge by it.
    const byCredential = new Map<string, SendResult[]>();
    for (const result of sent) {
      const credential = credentialOf(result.target);
      const group = byCredential.get(credential);
      if (group === undefined) byCredential.set(credential, [result]);
      else group.push(result);
    }
    const removalHeld = new Map<string, string>();
    for (const [credential, results] of byCredential) {
      circuits.record(
        credential,
        results.some((r) => r.outcome.kind !== "retry"),
      );
      const counts: AnswerCounts = { answers: 0, dropTokens: 0 };
      for (const { outcome } of results) {
        if (TOKEN_VERDICTS.has(outcome.kind)) counts.answers += 1;
        if (outcome.kind === "drop-token") counts.dropTokens += 1;
      }
      const verdict = await tokenBreaker.judge(credential, counts);
      if (verdict.hold) removalHeld.set(credential, verdict.reason);
    }

    const waitedSeconds = Math.max(0, (now - job.acceptedAt) / 1000);
    const latencyMs: number[] = [];
    const delivered: DeliveryTarget[] = [];
    const events: DeliveryEvent[] = [];
    const eventOf = (
      type: DeliveryEvent["type"],
      target: DeliveryTarget,
      at: number,
      detail: { status?: number | undefined; reason?: string | undefined },
    ): DeliveryEvent => ({
      type,
      messageKey,
      userId: target.userId,
      deviceId: target.deviceId,
      vendor,
      jobId,
      attempt,
      acceptedAt: job.acceptedAt,
      at,
      ...(detail.status !== undefined ? { status: detail.status } : {}),
      ...(detail.reason !== undefined ? { reason: detail.reason } : {}),
      ...(job.taskId !== undefined ? { taskId: job.taskId } : {}),
    });
    // The trace: every answer that was not "delivered", and what the gates held back.
    const answers: TargetAnswer[] = [];
    let deliveredStatus: number | undefined;
    let lastAnswerAt = now;
    for (const at of answeredAt.values()) lastAnswerAt = Math.max(lastAnswerAt, at);
    const removals: { target: DeliveryTarget; reason: string; status?: number }[] = [];
    for (const result of [...sent, ...held]) {
      const { target, outcome, status } = result;
      switch (outcome.kind) {
        case "delivered": {
          report.delivered += 1;
          delivered.push(target);
          const at = answeredAt.get(result);
          // Jobs queued before acceptedAt existed (or hand-made ones) carry no time: no figure.
          if (at !== undefined && Number.isFinite(job.acceptedAt)) {
            latencyMs.push(Math.max(0, at - job.acceptedAt));
          }
          deliveredStatus ??= status;
          if (deps.events !== undefined)
            events.push(eventOf("delivered", target, at ?? lastAnswerAt, { status }));
          journal.record({
            stage: "delivered",
            ...entry(target),
            ...(status !== undefined ? { status } : {}),
          });
          break;
        }
        case "drop-token": {
          const heldBy = removalHeld.get(credentialOf(target));
          if (heldBy !== undefined) {
            report.tokenRemovalsHeld += 1;
            settle({ kind: "dead", reason: heldBy }, target, heldBy);
          } else {
            settle(
              { kind: "remove", ...(outcome.since !== undefined ? { since: outcome.since } : {}) },
              target,
              outcome.reason,
            );
            removals.push({ target, reason: outcome.reason, ...(status !== undefined ? { status } : {}) });
          }
          break;
        }
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
          // A target held by a closed gate must not close it again (that would be a write per job).
          if (wait > GATE_THRESHOLD_SECONDS && !heldByGate.has(target)) {
            await gates
              .close(credentialOf(target), { until: now + wait * 1000, reason: outcome.reason })
              .catch((error: unknown) =>
                journal.record({
                  stage: "ignored",
                  messageKey,
                  vendor,
                  reason: `quota gate: ${(error as Error).message}`,
                }),
              );
          }
          if (waitedSeconds + wait > maxQuotaWait) {
            const reason = `quota not available within ${maxQuotaWait}s: ${outcome.reason}`;
            settle({ kind: "dead", reason }, target, reason);
          } else {
            settle(
              { kind: "quota", delaySeconds: Math.min(MAX_DELAY_SECONDS, Math.ceil(wait)) },
              target,
              outcome.reason,
            );
          }
          break;
        }
        default:
          // retry, refresh-credential: the sender already refreshed once; wait and try again.
          if (attempt >= deps.maxAttempts) {
            const reason = `gave up after ${attempt} attempts: ${outcome.reason}`;
            settle({ kind: "dead", reason }, target, reason);
          } else {
            settle(
              { kind: "retry", delaySeconds: retryDelaySeconds(outcome, job.attempt, random) },
              target,
              outcome.reason,
            );
          }
      }
    }

    if (latencyMs.length > 0) report.latencyMs = latencyMs;
    for (const { target, outcome, status } of [...sent, ...held]) {
      if (outcome.kind === "delivered") continue;
      answers.push({
        position: positionOf(target),
        userId: target.userId,
        deviceId: target.deviceId,
        outcome: outcome.kind,
        ...(status !== undefined ? { status } : {}),
        reason: outcome.reason,
      });
    }
    for (const [target, reason] of heldBack) {
      answers.push({
        position: positionOf(target),
        userId: target.userId,
        deviceId: target.deviceId,
        outcome: "held",
        reason,
      });
    }

    const plan: PlannedSettlement[] = [...groups.values()].map(({ settlement, targets }) => {
      const positions = targets.map(positionOf).filter((i) => i >= 0);
      return settlement.kind === "dead"
        ? { kind: "dead", reason: settlement.reason, targets: positions }
        : settlement.kind === "remove"
          ? {
              kind: "remove",
              targets: positions,
              ...(settlement.since !== undefined ? { since: settlement.since } : {}),
            }
          : { kind: settlement.kind, delaySeconds: settlement.delaySeconds, targets: positions };
    });
    // Written whenever the job settles anything, held jobs too: their re-queue delays depend on the
    // clock (and jitter), so only the record makes a redelivery re-create the very same jobs.
    if (deps.ledger !== undefined && job.targets.length > 0) {
      const record: JobRecord = {
        jobId,
        messageKey,
        vendor,
        delivered,
        plan,
        trace: {
          attempt,
          acceptedAt: job.acceptedAt,
          startedAt: now,
          answeredAt: lastAnswerAt,
          ...(deliveredStatus !== undefined ? { deliveredStatus } : {}),
          answers,
        },
      };
      try {
        await deps.ledger.put(record);
      } catch (error) {
        // The pushes went out; failing the record would send them twice. A recall just misses them,
        // and only a crash before this job is deleted from its queue could send it again.
        journal.record({
          stage: "ignored",
          messageKey,
          vendor,
          reason: `delivery record: ${(error as Error).message}`,
        });
      }
    }

    const reasonsOf = new Map([...groups.values()].map((g) => [settlementKey(g.settlement), g.reasons]));
    await execute(job, jobId, canonical, plan, { report, reasonsOf, removals, entry, events, eventOf });
    if (deps.events !== undefined && events.length > 0) {
      try {
        await deps.events.publish(events);
      } catch (error) {
        // The pushes are settled; the app's backend just misses these events (logged and counted).
        journal.record({
          stage: "ignored",
          messageKey,
          vendor,
          reason: `delivery events: ${events.length} not published: ${(error as Error).message}`,
        });
      }
    }
    return report;
  };

  /**
   * Carries out a plan: the first time with journal lines and counts (`first`), again for a
   * redelivered job without them.
   */
  async function execute(
    job: DeliveryJob,
    jobId: string,
    canonical: readonly DeliveryTarget[],
    plan: readonly PlannedSettlement[],
    first:
      | {
          report: JobReport;
          reasonsOf: Map<string, Set<string>>;
          removals: { target: DeliveryTarget; reason: string; status?: number }[];
          entry: EntryOf;
          /** Where the delivery events of what settles go (when the worker publishes them). */
          events: DeliveryEvent[];
          eventOf: (
            type: DeliveryEvent["type"],
            target: DeliveryTarget,
            at: number,
            detail: { status?: number | undefined; reason?: string | undefined },
          ) => DeliveryEvent;
        }
      | undefined,
  ): Promise<void> {
    const attempt = job.attempt + 1;
    for (const step of plan) {
      const targets = step.targets
        .map((i) => canonical[i])
        .filter((t): t is DeliveryTarget => t !== undefined);
      if (targets.length === 0) continue;
      const settlement: Settlement =
        step.kind === "dead"
          ? { kind: "dead", reason: step.reason }
          : step.kind === "remove"
            ? { kind: "remove", ...(step.since !== undefined ? { since: step.since } : {}) }
            : { kind: step.kind, delaySeconds: step.delaySeconds };
      const key = settlementKey(settlement);
      const id = childIdentity(jobId, key, targets);

      if (step.kind === "remove") {
        for (const target of targets) {
          const removed = await deps.devices.remove(target.userId, target.deviceId, target.token, step.since);
          if (first === undefined) continue;
          if (removed) first.report.tokensRemoved += 1;
          const why = first.removals.find((r) => r.target === target);
          journal.record({
            stage: "token-removed",
            ...first.entry(target),
            reason: removed
              ? (why?.reason ?? "dead token")
              : `${why?.reason ?? "dead token"} (device kept: its token changed or it registered again since)`,
            ...(why?.status !== undefined ? { status: why.status } : {}),
          });
          if (removed && deps.events !== undefined)
            first.events.push(
              first.eventOf("token-removed", target, clock.now(), {
                status: why?.status,
                reason: why?.reason ?? "dead token",
              }),
            );
        }
        continue;
      }
      if (step.kind === "dead") {
        await deps.retries.deadLetter({ ...job, targets, attempt, id }, step.reason);
        if (first === undefined) continue;
        first.report.deadLettered += targets.length;
        for (const target of targets) {
          journal.record({ stage: "dead-lettered", ...first.entry(target), reason: step.reason });
          if (deps.events !== undefined)
            first.events.push(first.eventOf("dead-lettered", target, clock.now(), { reason: step.reason }));
        }
        continue;
      }
      const next: DeliveryJob =
        step.kind === "quota"
          ? { ...job, targets, quotaDelays: (job.quotaDelays ?? 0) + 1, id }
          : step.kind === "hold"
            ? { ...job, targets, deferrals: (job.deferrals ?? 0) + 1, id }
            : { ...job, targets, attempt, id };
      await deps.retries.retry(next, step.delaySeconds);
      if (first === undefined) continue;
      if (step.kind === "quota") first.report.quotaDelayed += targets.length;
      else if (step.kind === "hold") first.report.deferred += targets.length;
      else first.report.retried += targets.length;
      const reasons = [...(first.reasonsOf.get(key) ?? [])].join("; ");
      for (const target of targets) {
        journal.record({
          stage: "retrying",
          ...first.entry(target),
          reason: `${step.kind === "quota" ? "quota: " : ""}${reasons} (again in ${step.delaySeconds}s)`,
        });
      }
    }
  }
}
