import type { JobReport } from "./worker.js";

/**
 * The names of the metrics a vendor worker writes for each job (functions/shared/powertools.ts), in one
 * place so the stack's alarms and dashboard (infra/) graph exactly what the workers publish.
 */
export const JOB_METRICS_NAMESPACE = "chatpush";

/** The counts of a JobReport (every field but the latencies). */
export type JobCount = Exclude<keyof JobReport, "latencyMs">;

/** The metric each JobReport count is published as (namespace chatpush, dimensions service and vendor). */
export const JOB_METRICS: Readonly<Record<JobCount, string>> = {
  delivered: "Delivered",
  tokensRemoved: "TokensRemoved",
  retried: "Retried",
  quotaDelayed: "QuotaDelayed",
  deadLettered: "DeadLettered",
  credentialProblems: "CredentialProblem",
  declined: "Declined",
  tokenRemovalsHeld: "TokenRemovalsHeld",
  deferred: "Deferred",
  alreadySent: "AlreadySent",
};

/** The callback → vendor answer latencies of a job's delivered targets (milliseconds, a list of values). */
export const LATENCY_METRIC = "LatencyMs";
