import type { Vendor } from "../model/index.js";

/**
 * One row per vendor: how its queue and worker are sized. The CDK app and the local runtime both read
 * this table, so what runs on a laptop is what is deployed.
 */
export interface VendorSettings {
  /** Lambda SQS batch size: jobs per invocation. */
  batchSize: number;
  /** ESM maximum concurrency (2–1000): caps parallel workers so we stay under the vendor's QPS. */
  maxConcurrency: number;
  /** Most targets packed into one job (one SQS message); bounded by the vendor's multicast size. */
  maxTargetsPerJob: number;
  /** Receives before SQS moves a job to the dead-letter queue (crash safety net). */
  maxReceiveCount: number;
  /** Attempts (first try + retries) before a retryable failure is parked in the dead-letter queue. */
  maxAttempts: number;
  /** Worker timeout in seconds; the queue's visibility timeout is six times this (AWS guidance). */
  timeoutSeconds: number;
}

export const VENDOR_SETTINGS: Record<Vendor, VendorSettings> = {
  // APNs publishes no QPS; one HTTP/2 connection carries ~1000 streams. 10 workers x 500 in flight.
  apns: {
    batchSize: 10,
    maxConcurrency: 10,
    maxTargetsPerJob: 500,
    maxReceiveCount: 5,
    maxAttempts: 8,
    timeoutSeconds: 30,
  },
  // FCM: 600k messages/min per project (~10k/s); one request per message.
  fcm: {
    batchSize: 10,
    maxConcurrency: 10,
    maxTargetsPerJob: 500,
    maxReceiveCount: 5,
    maxAttempts: 8,
    timeoutSeconds: 30,
  },
  // Chinese vendors (issue 3 sizes them from their documented QPS and multicast limits).
  huawei: {
    batchSize: 10,
    maxConcurrency: 5,
    maxTargetsPerJob: 1000,
    maxReceiveCount: 5,
    maxAttempts: 8,
    timeoutSeconds: 30,
  },
  honor: {
    batchSize: 10,
    maxConcurrency: 5,
    maxTargetsPerJob: 1000,
    maxReceiveCount: 5,
    maxAttempts: 8,
    timeoutSeconds: 30,
  },
  xiaomi: {
    batchSize: 10,
    maxConcurrency: 5,
    maxTargetsPerJob: 1000,
    maxReceiveCount: 5,
    maxAttempts: 8,
    timeoutSeconds: 30,
  },
  oppo: {
    batchSize: 10,
    maxConcurrency: 5,
    maxTargetsPerJob: 1000,
    maxReceiveCount: 5,
    maxAttempts: 8,
    timeoutSeconds: 30,
  },
  vivo: {
    batchSize: 10,
    maxConcurrency: 5,
    maxTargetsPerJob: 1000,
    maxReceiveCount: 5,
    maxAttempts: 8,
    timeoutSeconds: 30,
  },
  meizu: {
    batchSize: 10,
    maxConcurrency: 2,
    maxTargetsPerJob: 100,
    maxReceiveCount: 5,
    maxAttempts: 8,
    timeoutSeconds: 30,
  },
};

/** Vendors with a sender and worker today; the others follow in the vendor-channels issue. */
export const ACTIVE_VENDORS = ["apns", "fcm"] as const satisfies readonly Vendor[];
