import type { DeliveryJob } from "../model/index.js";
import type { AcceptedCallback } from "../tencent/callback.schema.js";

/** Ingest → router: the store-and-forward step; once publish resolves, the callback may be answered OK. */
export interface IngestQueue {
  publish(callback: AcceptedCallback): Promise<void>;
}

/** Router → workers: one queue per vendor. */
export interface DeliveryQueue {
  enqueue(jobs: readonly DeliveryJob[]): Promise<void>;
}

/** A worker's own queue and dead-letter queue. */
export interface RetryQueue {
  /** Puts the job back on its vendor queue, invisible for `delaySeconds` (SQS caps this at 900). */
  retry(job: DeliveryJob, delaySeconds: number): Promise<void>;
  /** Parks the job in the vendor's dead-letter queue with the reason it cannot be delivered. */
  deadLetter(job: DeliveryJob, reason: string): Promise<void>;
}
