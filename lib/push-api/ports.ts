import type { Vendor } from "../model/index.js";
import type { MessageContent } from "../routing/compose.js";

/**
 * The stores behind Tencent's server push API (tags, attributes, who has a device, push tasks) and the
 * queue its fan-out pages travel on. Adapters store and load; the rules (limits, conditions, paging)
 * live in lib/push-api and lib/routing/server-push.ts.
 */

/** What the tag and attribute APIs keep about one user. */
export interface PushProfile {
  tags: string[];
  /** Attribute name → value. */
  attrs: Record<string, string>;
}

/** One index the fan-out reads user ids from. */
export type Segment =
  /** Every user who registered a device (the index a push to all reads). */
  { kind: "all" } | { kind: "tag"; tag: string } | { kind: "attr"; name: string; value: string };

export interface SegmentPage {
  userIds: string[];
  /** Where the next page of this shard starts; absent on its last page. */
  next?: string;
}

/** Tags and attributes per user, with the index from each tag / attribute value to its users. */
export interface PushProfileStore {
  /** Users without tags or attributes come back with empty ones. */
  getProfiles(userIds: readonly string[]): Promise<Map<string, PushProfile>>;
  /**
   * Reads the user's profile, lets `decide` compute the next one (undefined = no change), writes it
   * and the index entries that changed in one step that fails if anybody wrote in between (then reads
   * and decides again). Resolves with what is stored afterwards.
   */
  updateProfile(
    userId: string,
    decide: (current: PushProfile) => PushProfile | undefined,
  ): Promise<PushProfile>;
  /** `im_set_attr_name`'s names by key ("0"–"9"). */
  getAttrNames(): Promise<Record<string, string>>;
  setAttrNames(names: Record<string, string>): Promise<void>;
}

/**
 * The index of users by segment, sharded so that a big segment is read (and written) in parallel. A
 * user is in the `all` segment once they registered a device.
 */
export interface AudienceIndex {
  /** How many shards each segment is spread over. */
  readonly shards: number;
  /** Up to `limit` user ids of one shard of a segment, from `cursor` on. */
  page(segment: Segment, shard: number, cursor: string | undefined, limit: number): Promise<SegmentPage>;
  /** Puts the user in the `all` segment (idempotent); `at` is when their device registered. */
  addUser(userId: string, at: number): Promise<void>;
  /**
   * Takes the user out of the `all` segment, unless they were (re)added after `addedBefore` (epoch
   * ms): a user found without devices during a push, whose registration may be racing the push.
   */
  dropUser(userId: string, addedBefore: number): Promise<void>;
}

/** Counts of a push task, as the statistics API reports them. Keys are added to, never set. */
export type TaskCounts = Partial<Record<TaskCounter, number>>;
export type TaskCounter =
  | "recipients"
  | "queued"
  | "delivered"
  | "tokenRemoved"
  | "deadLettered"
  | "retried"
  | `skipped:${string}`
  | `queued:${Vendor}`
  | `delivered:${Vendor}`;

export type TaskKind = "batch" | "push" | "im_push";

/** One push an admin asked for, as stored under its TaskId. */
export interface PushTask {
  taskId: string;
  kind: TaskKind;
  /** The account shown as sender (From_Account): a revoke's replacement belongs to its conversation. */
  from: string;
  /** Epoch ms it was accepted. */
  createdAt: number;
  /** `MsgLifeTime` (im_push): jobs not sent by `createdAt + lifetime` are dropped. */
  lifetimeSeconds?: number;
  /** `DataId` (batch), echoed by the statistics API. */
  dataId?: string;
  /** Epoch ms `timpush/revoke` stopped it. */
  revokedAt?: number;
  counts: TaskCounts;
}

export type ClaimResult =
  | { created: true }
  /** The MsgRandom named a task within 7 days: `queued` tells whether its fan-out was handed on. */
  | { created: false; taskId: string; createdAt: number; queued: boolean };

export interface PushTaskStore {
  /**
   * Claims `msgRandom` for `task` for 7 days (one conditional write); a claim already held (and not
   * expired) is answered with its task.
   */
  claim(scope: string, msgRandom: number, task: PushTask, nowMs: number): Promise<ClaimResult>;
  /** Marks the claim's fan-out as handed on (the retry of a call that crashed before must redo it). */
  markQueued(scope: string, msgRandom: number): Promise<void>;
  /** Gives the claim up again (the call was refused after claiming), if it is still `taskId`'s. */
  release(scope: string, msgRandom: number, taskId: string): Promise<void>;
  get(taskId: string): Promise<PushTask | undefined>;
  /** Sets `revokedAt` unless the task is unknown or revoked already; resolves with the task before. */
  revoke(taskId: string, at: number): Promise<PushTask | undefined>;
  /** Adds to the task's counts (one write per fan-out page or delivery job, never per device). */
  count(taskId: string, counts: TaskCounts): Promise<void>;
  /**
   * Counts one broadcast against the day's quota and the 1-second interval (one conditional write):
   * "ok", or which of the two refused it.
   */
  takeBroadcast(nowMs: number, perDay: number): Promise<"ok" | "interval" | "quota">;
}

/** One page of a server push's fan-out, on the ingest queue (JSON). */
export interface ServerPushTask {
  taskId: string;
  /** Who: a list of accounts (batch), or the segments a condition reads (push to all, tags, attributes). */
  audience:
    | { kind: "accounts"; accounts: string[] }
    | {
        kind: "segments";
        condition?: PushCondition;
        /** Which of the condition's driving segments this page reads, and where (absent on page 0). */
        at?: { driver: number; shard: number; cursor?: string };
      };
  /** The notification, decided once for the whole task; `title` "" = the sender's name, resolved on page 0. */
  content: MessageContent;
  /** The account shown as sender (`From_Account`). */
  from: string;
  page: number;
  acceptedAt: number;
}

/** `Condition` of timpush/push and im_push, validated (tags and attributes never mixed). */
export interface PushCondition {
  tagsAnd?: string[];
  tagsOr?: string[];
  tagsNot?: string[];
  attrsAnd?: Record<string, string>;
  attrsOr?: Record<string, string>;
}

/** `timpush/revoke`: stop the task and overwrite what was shown (when a text is given). */
export interface ServerPushRevoke {
  taskId: string;
  title?: string;
  desc?: string;
  ext?: string;
}

export const SERVER_PUSH_PAGE = "chatpush.ServerPushPage";
export const SERVER_PUSH_REVOKE = "chatpush.ServerPushRevoke";

export type ServerPushEvent =
  | { command: typeof SERVER_PUSH_PAGE; acceptedAt: number; body: ServerPushTask }
  | { command: typeof SERVER_PUSH_REVOKE; acceptedAt: number; body: ServerPushRevoke };

/** Server push pages and revokes ride the ingest queue, under commands HTTP ingest never accepts. */
export interface ServerPushQueue {
  /** Queues the events in as few requests as the queue allows (SendMessageBatch: 10 a request). */
  publish(events: readonly ServerPushEvent[]): Promise<void>;
}

/** What the router's server push family needs besides the router's own ports. */
export interface ServerPushDeps {
  profiles: PushProfileStore;
  audience: AudienceIndex;
  tasks: PushTaskStore;
  queue: ServerPushQueue;
}
