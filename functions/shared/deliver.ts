import type { Context, SQSEvent, SQSRecord } from "aws-lambda";
import type { JobOptions, JobReport } from "../../lib/delivery/worker.js";
import { bodyJobs, type DeliveryJob, type JobBundle, type Vendor } from "../../lib/model/index.js";
import { makeSqsBatchHandler } from "./sqs-batch.js";

export class MalformedJobError extends Error {
  override name = "MalformedJobError";
}

/** A vendor-queue body's jobs: one job, or the jobs of a bundle (lib/model/delivery.ts JobBundle). */
export function parseJobs(body: string, vendor: Vendor): DeliveryJob[] {
  const parsed: unknown = JSON.parse(body);
  const jobs = bodyJobs(parsed);
  const bundle = parsed as Partial<JobBundle>;
  if (jobs.length === 0 || (jobs[0] !== parsed && (bundle.version !== 1 || bundle.vendor !== vendor))) {
    throw new MalformedJobError(`not a version-1 ${vendor} job bundle`);
  }
  return jobs.map((job) => checkedJob(job as Partial<DeliveryJob>, vendor));
}

function checkedJob(job: Partial<DeliveryJob>, vendor: Vendor): DeliveryJob {
  if (
    typeof job !== "object" ||
    job === null ||
    job.version !== 1 ||
    job.vendor !== vendor ||
    !Array.isArray(job.targets) ||
    job.notification === undefined
  ) {
    throw new MalformedJobError(`not a version-1 ${vendor} delivery job`);
  }
  return job as DeliveryJob;
}

/**
 * Vendor queue consumer. The worker settles each target itself (delivered, token removed, re-enqueued
 * with a delay, or dead-lettered with its reason); a record fails only when settling fails, and then
 * SQS redelivers it and, after maxReceiveCount, moves it to the dead-letter queue.
 */
export type Worker = (job: DeliveryJob, options?: JobOptions) => Promise<JobReport>;

/**
 * How long before the invocation's deadline the jobs finished so far have their metrics published. A
 * Lambda cut at its timeout runs no more code (https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html),
 * so without this an invocation that hung on its last job would leave no line for the others — nor
 * their `CredentialProblem` count, which is alarmed. The line is one synchronous stdout write.
 */
export const METRICS_DEADLINE_MARGIN_MS = 500;

/**
 * `onReports` receives the reports of one invocation's jobs together, once the batch is settled (a
 * job that failed to settle has none; the other jobs of its bundle have theirs): the workers publish
 * one metrics line per invocation, not per job. An invocation still running
 * `METRICS_DEADLINE_MARGIN_MS` before its deadline publishes what has finished then, and the rest at
 * the end.
 */
export function makeDeliverHandler(
  vendor: Vendor,
  worker: () => Worker | Promise<Worker>,
  onReports?: (reports: JobReport[]) => void,
) {
  return async (event: SQSEvent, context?: Context) => {
    let reports: JobReport[] = [];
    const publish = () => {
      if (reports.length === 0) return;
      const finished = reports;
      reports = [];
      onReports?.(finished);
    };
    const remainingMs = context?.getRemainingTimeInMillis();
    const beforeDeadline =
      onReports === undefined || remainingMs === undefined
        ? undefined
        : setTimeout(publish, Math.max(0, remainingMs - METRICS_DEADLINE_MARGIN_MS));
    const handle = makeSqsBatchHandler(async (record: SQSRecord, context?: Context) => {
      const deliver = await worker();
      // The worker starts no send that could outlast the invocation (Lambda would cut it mid-job).
      const deadline = context === undefined ? undefined : Date.now() + context.getRemainingTimeInMillis();
      const options = deadline === undefined ? {} : { deadline };
      // A bundle's jobs run together; the record fails if any of them failed to settle, once all have
      // run: SQS brings the bundle back, and the send guard settles the others as they were recorded.
      const outcomes = await Promise.allSettled(
        parseJobs(record.body, vendor).map((job) => deliver(job, options)),
      );
      for (const outcome of outcomes) if (outcome.status === "fulfilled") reports.push(outcome.value);
      const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === "rejected");
      if (failed !== undefined) throw failed.reason;
    });
    try {
      return await handle(event, context);
    } finally {
      clearTimeout(beforeDeadline);
      publish();
    }
  };
}
