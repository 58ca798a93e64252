import { Logger } from "@aws-lambda-powertools/logger";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import middy from "@middy/core";
import type { Context } from "aws-lambda";
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
export const metrics = new Metrics({ namespace: "chatpush", serviceName });

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

/** What a vendor worker did with a job, as CloudWatch metrics (EMF) with the vendor as dimension. */
export function recordJobMetrics(vendor: Vendor, report: JobReport): void {
  const vendorMetrics = metrics.singleMetric();
  vendorMetrics.addDimension("vendor", vendor);
  vendorMetrics.addMetric("Delivered", MetricUnit.Count, report.delivered);
  vendorMetrics.addMetric("TokensRemoved", MetricUnit.Count, report.tokensRemoved);
  vendorMetrics.addMetric("Retried", MetricUnit.Count, report.retried);
  vendorMetrics.addMetric("QuotaDelayed", MetricUnit.Count, report.quotaDelayed);
  vendorMetrics.addMetric("DeadLettered", MetricUnit.Count, report.deadLettered);
}

/**
 * The Lambda entry point around a handler: request context in every log line and metrics flushed
 * after each invocation come from middleware, not from code in each handler.
 */
export function lambdaEntry<E, R>(handler: (event: E, context: Context) => Promise<R>) {
  return middy(handler).use(injectLambdaContext(logger)).use(logMetrics(metrics));
}
