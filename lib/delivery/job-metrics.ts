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

/** Several jobs' reports as one: counts added, latencies joined (one metrics line per invocation). */
export function sumJobReports(reports: readonly JobReport[]): JobReport {
  const sum = Object.fromEntries(Object.keys(JOB_METRICS).map((count) => [count, 0])) as Record<
    JobCount,
    number
  >;
  const latencyMs: number[] = [];
  for (const report of reports) {
    for (const count of Object.keys(JOB_METRICS) as JobCount[]) sum[count] += report[count];
    if (report.latencyMs !== undefined) latencyMs.push(...report.latencyMs);
  }
  return latencyMs.length > 0 ? { ...sum, latencyMs } : sum;
}
