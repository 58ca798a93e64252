import { Logger } from "@aws-lambda-powertools/logger";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import middy from "@middy/core";
import type { Context } from "aws-lambda";
import {
  JOB_METRICS,
  JOB_METRICS_NAMESPACE,
  type JobCount,
  LATENCY_METRIC,
} from "../../lib/delivery/job-metrics.js";
import { evenSample } from "../../lib/delivery/latency.js";
import type { JobReport } from "../../lib/delivery/worker.js";
import { logReplacer } from "../../lib/http/log-safety.js";
import type { Vendor } from "../../lib/model/index.js";
import type { Journal } from "../../lib/ports/index.js";

const serviceName = process.env.POWERTOOLS_SERVICE_NAME ?? "chatpush";

/**
 * One logger and one metrics buffer for the whole process (Powertools singletons). Every value of
 * every line passes `logReplacer`: no control character raw (a user id cannot forge a line), no
 * token, UserSig, key or OAuth token whole (lib/http/log-safety.ts).
 */
export const logger = new Logger({ serviceName, jsonReplacerFn: logReplacer });
/**
 * Powertools warns on every flush of an empty buffer ("No application metrics to publish…", 169
 * bytes): the HTTP function and the router flush after each invocation and mostly have none, so that
 * line alone was ~$0.08 of CloudWatch Logs per 1M callbacks (npm run bench:cost). Its other warnings
 * still go to the logger.
 */
const metricsLogger = {
  trace: (...args: unknown[]) => logger.trace(String(args[0] ?? "")),
  debug: (...args: unknown[]) => logger.debug(String(args[0] ?? "")),
  info: (...args: unknown[]) => logger.info(String(args[0] ?? "")),
  warn: (...args: unknown[]) => {
    const message = String(args[0] ?? "");
    if (!message.startsWith("No application metrics to publish")) logger.warn(message);
  },
  error: (...args: unknown[]) => logger.error(String(args[0] ?? "")),
};
export const metrics = new Metrics({ namespace: "chatpush", serviceName, logger: metricsLogger });

/**
 * The routine per-device stages: one line per member of a 100,000-member group would cost more in
 * CloudWatch Logs than the pushes themselves, so they are DEBUG (LOG_LEVEL=DEBUG, or a sampled share
 * with POWERTOOLS_LOGGER_SAMPLE_RATE); the metrics count them all.
 */
const ROUTINE_STAGES = new Set(["queued", "skipped", "delivered"]);

/** Deployed, the journal is structured log lines (searchable by messageKey / userId in Logs Insights). */
export const logJournal: Journal = {
  record(entry) {
    if (ROUTINE_STAGES.has(entry.stage)) logger.debug(entry.stage, { journal: entry });
    else logger.info(entry.stage, { journal: entry });
  },
};

export { JOB_METRICS, LATENCY_METRIC };

/**
 * Job metrics have their own buffer, flushed once per job: one EMF line carrying every count with the
 * `vendor` dimension (a single-metric instance flushes on every addMetric and keeps its dimension for
 * the first line only). Its console is the same stdout the shared buffer writes to.
 */
const jobMetrics = new Metrics({ namespace: JOB_METRICS_NAMESPACE, serviceName });

/**
 * Latency values one job's line carries. An EMF metric holds at most 100 values
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html;
 * Powertools' MAX_METRIC_VALUES_SIZE, @aws-lambda-powertools/metrics lib/esm/constants.js), and Powertools
 * flushes the buffer the moment a metric reaches 100 values (Metrics.storeMetric), so more values would
 * split the job over several lines: 99 keeps it one line.
 */
export const LATENCY_VALUES_PER_LINE = 99;

/**
 * What a vendor worker did with a job, as one EMF line of CloudWatch metrics with the vendor as
 * dimension: every count, and the latency of each delivered target as a list of values, from which
 * CloudWatch computes p50 / p99 per vendor. A job that delivered to more than 99 devices sends 99 of
 * its latencies spread evenly over their range (the job weighs as 99 devices in the percentiles).
 */
export function recordJobMetrics(vendor: Vendor, report: JobReport): void {
  jobMetrics.addDimension("vendor", vendor);
  for (const [count, name] of Object.entries(JOB_METRICS) as [JobCount, string][]) {
    jobMetrics.addMetric(name, MetricUnit.Count, report[count]);
  }
  for (const ms of evenSample(report.latencyMs ?? [], LATENCY_VALUES_PER_LINE)) {
    jobMetrics.addMetric(LATENCY_METRIC, MetricUnit.Milliseconds, ms);
  }
  jobMetrics.publishStoredMetrics();
}

/**
 * The Lambda entry point around a handler: request context in every log line and metrics flushed
 * after each invocation come from middleware, not from code in each handler.
 */
export function lambdaEntry<E, R>(handler: (event: E, context: Context) => Promise<R>) {
  return middy(handler).use(injectLambdaContext(logger)).use(logMetrics(metrics));
}
