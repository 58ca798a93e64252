import type { Context, SQSEvent, SQSRecord } from "aws-lambda";
import type { JobOptions, JobReport } from "../../lib/delivery/worker.js";
import type { DeliveryJob, Vendor } from "../../lib/model/index.js";
import { makeSqsBatchHandler } from "./sqs-batch.js";

export class MalformedJobError extends Error {
  override name = "MalformedJobError";
}

export function parseJob(body: string, vendor: Vendor): DeliveryJob {
  const job = JSON.parse(body) as Partial<DeliveryJob>;
  if (
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
 * `onReports` receives the reports of one invocation's jobs together, once the batch is settled (a
 * record that failed has none): the workers publish one metrics line per invocation, not per job.
 */
export function makeDeliverHandler(
  vendor: Vendor,
  worker: () => Worker | Promise<Worker>,
  onReports?: (reports: JobReport[]) => void,
) {
  return async (event: SQSEvent, context?: Context) => {
    const reports: JobReport[] = [];
    const handle = makeSqsBatchHandler(async (record: SQSRecord, context?: Context) => {
      const deliver = await worker();
      // The worker starts no send that could outlast the invocation (Lambda would cut it mid-job).
      const deadline = context === undefined ? undefined : Date.now() + context.getRemainingTimeInMillis();
      reports.push(await deliver(parseJob(record.body, vendor), deadline === undefined ? {} : { deadline }));
    });
    try {
      return await handle(event, context);
    } finally {
      if (reports.length > 0) onReports?.(reports);
    }
  };
}
