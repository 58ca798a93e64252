import type { DeliveryTarget, Notification, Outcome, Vendor } from "../model/index.js";

export interface SendResult {
  target: DeliveryTarget;
  outcome: Outcome;
  /** The vendor's HTTP status (or its own code), for logs and the replay report. */
  status?: number;
}

/**
 * Sends one notification to many devices of one vendor. Results come back one per target, in the
 * order of `targets`; a failure of one target never fails the others. Implementations pick the
 * credential each target names (`certificateId`, else the vendor's default), keep connections and
 * auth tokens across calls, and refresh an expired auth token once before giving up on a target.
 */
export interface VendorSender {
  readonly vendor: Vendor;
  send(notification: Notification, targets: DeliveryTarget[]): Promise<SendResult[]>;
  /** Closes connections so a process can exit (tests, the local runtime). */
  close(): Promise<void>;
}
