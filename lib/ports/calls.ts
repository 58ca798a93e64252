import type { CallInfo, DeliveryTarget, Vendor } from "../model/index.js";

/** Why an invitee's ringing stopped (tencent-calls-and-server-push.md §6 item 6). */
export type CallEndReason = "cancelled" | "answered" | "declined" | "busy" | "timeout" | "hangup";

/** One device an invitee's ring went to, as the job targeted it, and the language it reads. */
export interface RungDevice {
  vendor: Vendor;
  target: DeliveryTarget;
  /** The catalogue language its notification was written in (lib/routing/texts.ts). */
  language: string;
}

/** What an invitee's ring said, which its end repeats with `call.action: "ended"`. */
export interface RingContent {
  call: CallInfo;
  /** The caller's name. */
  title: string;
  conversationId: string;
  ext: string;
}

/**
 * One invitee of one invitation: claimed once (so nobody is rung twice for an inviteID, however many
 * callbacks name them), with the devices the ring went to, until some event ends it. An invitee whose
 * ring was ended before it was claimed (an accept routed before its invite) is recorded without
 * `rungBy` and `content`, already ended, so the late invite does not ring them.
 */
export interface CallRing {
  inviteId: string;
  userId: string;
  state: "ringing" | "ended";
  /** The message key of the callback that rang (a retry of that callback may queue the ring again). */
  rungBy?: string;
  content?: RingContent;
  /** The devices the ring was queued for. */
  devices: RungDevice[];
  /** The message key of the event that ended it (a retry of that event may queue the end again). */
  endedBy?: string;
  endReason?: CallEndReason;
  /** Epoch ms it ended. */
  endedAt?: number;
  /** Epoch seconds the record may be forgotten (DynamoDB TTL): the ring's end plus a margin. */
  expiresAt: number;
}

/** That an invitation is over for everybody (cancelled, timed out, hung up), so a late invite rings nobody. */
export interface CallEnd {
  inviteId: string;
  by: string;
  reason: CallEndReason;
  at: number;
  expiresAt: number;
}

/**
 * Per inviteID: one ring record per invitee and an end marker. Each write is conditional, so of two
 * callbacks racing for the same invitee exactly one rings it and exactly one ends it. The rules (who
 * rings, what ends what) live in lib/routing/calls.ts; this stores and loads. Records past their
 * `expiresAt` are never returned.
 */
export interface CallStore {
  /** Stores `ring` unless the invitee already has one for this invitation; resolves with what is stored. */
  claimRing(ring: CallRing): Promise<CallRing>;
  /**
   * Ends the invitee's ring if it is still ringing (or records it as ended if it never rang, so a
   * late invite does not ring them); resolves with what is stored afterwards.
   */
  endRing(
    inviteId: string,
    userId: string,
    end: { by: string; reason: CallEndReason; at: number; expiresAt: number },
  ): Promise<CallRing>;
  /** The invitation's rings (only those of `userIds` when given). */
  rings(inviteId: string, userIds?: readonly string[]): Promise<CallRing[]>;
  /** Marks the invitation over for everybody, unless it already is; resolves with the stored end. */
  endCall(end: CallEnd): Promise<CallEnd>;
  /** The invitation's end, when it is over for everybody. */
  callEnded(inviteId: string): Promise<CallEnd | undefined>;
}

/** chatpush's own end of a ring at the invitation's `timeout` (§6 item 6): a delayed task. */
export interface CallExpiryTask {
  inviteId: string;
  /** Epoch ms the ringing ends. */
  endsAt: number;
  /** How often it was put back because SQS cannot delay it that long at once. */
  hop: number;
}

/** The internal command a ring's expiry travels under on the ingest queue (never accepted over HTTP). */
export const CALL_EXPIRY_COMMAND = "chatpush.CallExpiry";

export interface CallExpiryEvent {
  command: typeof CALL_EXPIRY_COMMAND;
  acceptedAt: number;
  body: CallExpiryTask;
}

export interface CallExpiryQueue {
  /** Delivers `task` to the router after `delaySeconds` (SQS delays at most 900 s). */
  schedule(task: CallExpiryTask, delaySeconds: number): Promise<void>;
}
