import { VENDORS, type Vendor } from "../model/index.js";

/**
 * One row per vendor: how its queue and worker are sized. The CDK app and the local runtime both read
 * this table, so what runs on a laptop is what is deployed.
 */
export interface VendorSettings {
  /**
   * The send rate the vendor documents for an app (requests per second; vendors.md §0 and
   * limits-and-costs.md §3), at the smallest app tier: what we must stay under.
   */
  documentedQps: number;
  /** The vendor's most tokens per send request (1 = one request per device). */
  multicastMax: number;
  /** Lambda SQS batch size: jobs per invocation. */
  batchSize: number;
  /** Most targets packed into one job (one SQS message): the multicast size, within SQS's 256 KiB. */
  maxTargetsPerJob: number;
  /** Receives before SQS moves a job to the dead-letter queue (crash safety net). */
  maxReceiveCount: number;
  /** Attempts (first try + retries) before a retryable failure is parked in the dead-letter queue. */
  maxAttempts: number;
  /** Worker timeout in seconds; the queue's visibility timeout is six times this (AWS guidance). */
  timeoutSeconds: number;
}

/**
 * Vendor requests one worker keeps going per second: about five requests in flight at a ~100 ms round
 * trip (a job's multicast chunks are sent concurrently).
 */
export const REQUESTS_PER_WORKER_PER_SECOND = 50;

/** ESM maximum concurrency is 2..1000; we cap lower so one vendor cannot take a new account's pool. */
const MIN_CONCURRENCY = 2;
const MAX_CONCURRENCY = 50;

/** Workers allowed at once: the documented QPS divided by what one worker sends, within the ESM limits. */
export function maxConcurrency(settings: VendorSettings): number {
  const fit = Math.floor(settings.documentedQps / REQUESTS_PER_WORKER_PER_SECOND);
  return Math.max(MIN_CONCURRENCY, Math.min(MAX_CONCURRENCY, fit));
}

const common = { batchSize: 10, maxReceiveCount: 5, maxAttempts: 8, timeoutSeconds: 30 } as const;

// SQS messages are at most 256 KiB; a target is ~250 bytes with a 150-character token, so 500 targets
// (~125 KiB) leave room for the notification. Vendors that take 1000 tokens get two jobs' worth per
// 1000 recipients; the worker sends each job as one multicast request.
const JOB_TARGETS = 500;

export const VENDOR_SETTINGS: Record<Vendor, VendorSettings> = {
  // APNs publishes no rate; one request per device over HTTP/2 streams. 600/s keeps 12 workers.
  apns: { ...common, documentedQps: 600, multicastMax: 1, maxTargetsPerJob: JOB_TARGETS },
  // FCM: 600,000 messages/min per project = 10,000/s, one request per device.
  fcm: { ...common, documentedQps: 10_000, multicastMax: 1, maxTargetsPerJob: JOB_TARGETS },
  // Huawei: QPS = MAU × weight × 0.00072 with a floor of 6000; 1000 tokens per request.
  huawei: { ...common, documentedQps: 6000, multicastMax: 1000, maxTargetsPerJob: JOB_TARGETS },
  // Honor: 3000 QPS fixed; 1000 tokens per request (by analogy with Huawei, UNCONFIRMED).
  honor: { ...common, documentedQps: 3000, multicastMax: 1000, maxTargetsPerJob: JOB_TARGETS },
  // Xiaomi: 500 QPS below 100k daily active devices; 1000 regIds per request.
  xiaomi: { ...common, documentedQps: 500, multicastMax: 1000, maxTargetsPerJob: JOB_TARGETS },
  // OPPO: 5000 QPS below 10M users; unicast_batch of 1000.
  oppo: { ...common, documentedQps: 5000, multicastMax: 1000, maxTargetsPerJob: JOB_TARGETS },
  // vivo: 3000 QPS below 5M users; pushToList of 2..1000 (two requests: saveListPayload + pushToList).
  vivo: { ...common, documentedQps: 3000, multicastMax: 1000, maxTargetsPerJob: JOB_TARGETS },
  // Meizu: 200 QPS by default; 100 pushIds per request since 2023-08-21.
  meizu: { ...common, documentedQps: 200, multicastMax: 100, maxTargetsPerJob: 100 },
};

/** Vendors with a queue, a dead-letter queue and a worker: all of them. */
export const ACTIVE_VENDORS = VENDORS;
