import type { DeliveryTarget, Vendor } from "../model/index.js";

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
