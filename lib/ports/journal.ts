import type { Vendor } from "../model/index.js";

/**
 * One line of what happened to a message on its way to a phone. Deployed, entries are structured log
 * lines; the local runtime also keeps them so replay can show them per device.
 */
export interface JournalEntry {
  stage:
    | "skipped"
    | "queued"
    | "delivered"
    | "retrying"
    | "dead-lettered"
    | "token-removed"
    | "presence"
    | "profile"
    | "group"
    | "ignored";
  messageKey?: string;
  userId?: string;
  deviceId?: string;
  vendor?: Vendor;
  reason?: string;
  status?: number;
  attempt?: number;
}

export interface Journal {
  record(entry: JournalEntry): void;
}
