import type { ApnsEnvironment, DevicePlatform } from "./device.js";
import type { Notification } from "./notification.js";
import type { Vendor } from "./vendor.js";

/** One device a job delivers to: everything the worker needs, so it never reads the device table. */
export interface DeliveryTarget {
  userId: string;
  deviceId: string;
  token: string;
  certificateId?: number;
  appId?: string;
  environment?: ApnsEnvironment;
  /** "voip": a PushKit token (APNs), which only ever gets call invitations. */
  pushType?: "voip";
  platform?: DevicePlatform;
  /** The recipient's badge for this push (wins over the notification's); absent = as the notification says. */
  badge?: number;
}

/**
 * The body of one message on a vendor queue: one notification for many targets, so a group message
 * costs one SQS message per vendor per few hundred recipients rather than one per recipient.
 */
export interface DeliveryJob {
  version: 1;
  vendor: Vendor;
  notification: Notification;
  targets: DeliveryTarget[];
  /** How many times this job (or the job it was split from) has already been tried. */
  attempt: number;
  /** Epoch ms the callback that caused it was accepted. */
  acceptedAt: number;
  /** How many times a vendor quota has held it back (these do not count as attempts). */
  quotaDelays?: number;
  /**
   * How many times the worker's own gates held it back unsent (its share of the vendor's rate, an
   * open circuit, too little time left in the invocation): no attempt spent, no vendor asked.
   */
  deferrals?: number;
  /**
   * The job's identity for the send guard (lib/delivery/job-identity.ts). Set by the worker on every
   * job it re-enqueues or parks, so a parked job that is redriven with fresh attempts is not mistaken
   * for the job it came from; absent on the router's jobs, whose identity is derived from the content.
   */
  id?: string;
  /**
   * The server push task (Tencent REST `timpush/*`, `im_push`) the job belongs to: its outcomes are
   * added to the task's counts once per job, and a revoked task's jobs are not sent.
   */
  taskId?: string;
}

/**
 * Several small jobs of one vendor in one vendor-queue message. A one-to-one message's job is one
 * target; carried alone it costs an SQS send, receive and delete and a share of a worker invocation
 * for one push. The router packs such jobs into bundles of at most 500 targets and one billed SQS
 * request's 64 KiB, so ten messages a Lambda batch hold as many pushes as before at most, and the
 * queue hop costs per bundle. Each job keeps its own identity, send guard and record: a bundle that
 * comes back (one of its jobs failed to settle) re-sends none of the jobs that were sent.
 */
export interface JobBundle {
  version: 1;
  vendor: Vendor;
  jobs: DeliveryJob[];
}

/** The parsed vendor-queue body's jobs: a bundle's, or the body itself (one job, or not a job at all). */
export function bodyJobs(parsed: unknown): unknown[] {
  if (typeof parsed === "object" && parsed !== null && Array.isArray((parsed as Partial<JobBundle>).jobs)) {
    return (parsed as JobBundle).jobs;
  }
  return [parsed];
}
