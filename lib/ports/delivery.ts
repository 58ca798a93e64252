import type { DeliveryTarget, OutcomeKind, Vendor } from "../model/index.js";

/**
 * How one run of a job settled the targets the vendor did not accept, by their position in the job's
 * targets sorted by identity (`sortedTargets` in lib/delivery/job-identity.ts), so a redelivery of the
 * same job settles them the same way instead of sending them again.
 */
export type PlannedSettlement =
  /** Re-enqueued: `retry` spends an attempt, `quota` counts a quota delay, `hold` a deferral. */
  | { kind: "retry" | "quota" | "hold"; delaySeconds: number; targets: number[] }
  | { kind: "dead"; reason: string; targets: number[] }
  /** Token cleanup: the device is removed if it still has the token and was not registered after `since`. */
  | { kind: "remove"; targets: number[]; since?: number };

/** What the send guard keeps per job: who got it (recall reads this back) and how the rest was settled. */
export interface JobRecord {
  /** The job's identity (lib/delivery/job-identity.ts). */
  jobId: string;
  messageKey: string;
  vendor: Vendor;
  /** The targets the vendor accepted. */
  delivered: DeliveryTarget[];
  plan: PlannedSettlement[];
  /** What this run saw, for `npm run why` (lib/trace): packed into the same item, no extra request. */
  trace?: JobTrace;
}

/**
 * What the vendor answered one target the job did not deliver, or why the worker did not ask it
 * ("held": a quota gate, an open circuit, its rate share, the invocation's deadline).
 */
export interface TargetAnswer {
  /** The target's position in the job's sorted targets: the plan's positions. */
  position: number;
  userId: string;
  deviceId: string;
  outcome: OutcomeKind | "held";
  /** The vendor's HTTP status (or its own code), when it answered. */
  status?: number;
  reason?: string;
}

/** One run of a job as `npm run why` shows it: when, which attempt, and each answer that was not "delivered". */
export interface JobTrace {
  /** The attempt this run spent (1 = the first try). */
  attempt: number;
  /** Epoch ms the callback was accepted: the latency of each answer is counted from it. */
  acceptedAt: number;
  /** Epoch ms the run started and the vendor's last answer came. */
  startedAt: number;
  answeredAt: number;
  /** The status the delivered targets got (the first one's; the vendors answer a success alike). */
  deliveredStatus?: number;
  answers: TargetAnswer[];
}

/** What `JobLedger.find` gives back of a job sent before: enough to settle it again. */
export interface RecordedJob {
  /** How many targets the vendor accepted. */
  delivered: number;
  plan: PlannedSettlement[];
}

/**
 * The send guard: one record per job, written once after the vendor answered and before the job is
 * settled. A job found here was sent already (an SQS redelivery, a duplicate copy): it is not sent
 * again, only settled as its record says. The same records tell a recall who got the message
 * (`DeliveryLog.deliveredTo`).
 */
export interface JobLedger {
  /** The record of an earlier run of the job (a strongly consistent read), if any. */
  find(messageKey: string, jobId: string): Promise<RecordedJob | undefined>;
  put(record: JobRecord): Promise<void>;
}

/** A credential's daily quota is used up until `until` (epoch ms). */
export interface QuotaGate {
  until: number;
  reason: string;
}

/**
 * Daily-quota gates shared by every worker container of a vendor, keyed by credential: written when a
 * gate closes, read through a short per-container cache (lib/delivery/quota-gates.ts).
 */
export interface QuotaGateStore {
  get(vendor: Vendor, credential: string): Promise<QuotaGate | undefined>;
  /** Closes the gate until `gate.until`, unless it is already closed until then or later. */
  close(vendor: Vendor, credential: string, gate: QuotaGate): Promise<void>;
}

/** Vendor answers about tokens, and how many of them said "this token is dead". */
export interface AnswerCounts {
  answers: number;
  dropTokens: number;
}

/**
 * Per-credential answer counts in time buckets, shared by every worker container of a vendor: what
 * the token-removal breaker (lib/delivery/token-breaker.ts) judges a credential by.
 */
export interface AnswerWindowStore {
  /**
   * Adds `counts` to the bucket starting at `bucketStart` (epoch ms) and resolves with the sums of all
   * buckets starting at or after `windowStart`, the new counts included.
   */
  add(
    vendor: Vendor,
    credential: string,
    bucketStart: number,
    counts: AnswerCounts,
    windowStart: number,
  ): Promise<AnswerCounts>;
}

/**
 * What the app's own backend is told about a device (the optional delivery-events SNS topic): the
 * vendor accepted the push, the device's dead token was removed, or its job was parked. Ids only,
 * never a token.
 */
export interface DeliveryEvent {
  type: "delivered" | "token-removed" | "dead-lettered";
  messageKey: string;
  userId: string;
  deviceId: string;
  vendor: Vendor;
  /** The job run that settled it, and the attempt it spent (1 = the first try). */
  jobId: string;
  attempt: number;
  /** Epoch ms the callback was accepted, and of the event (the vendor's answer, the removal, the parking). */
  acceptedAt: number;
  at: number;
  /** The vendor's HTTP status (or its own code). */
  status?: number;
  reason?: string;
  /** The server push task (Tencent REST timpush/*) the job belongs to. */
  taskId?: string;
}

/**
 * Publishes a job's delivery events (one call per job); may throw, and the worker then only logs
 * and counts it: a delivery never fails because its events could not be told.
 */
export interface DeliveryEventPublisher {
  publish(events: readonly DeliveryEvent[]): Promise<void>;
}
