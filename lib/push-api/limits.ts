/**
 * Tencent's limits for the server push APIs, each with the page that states it. chatpush keeps the
 * same ones, so a request Tencent would refuse is refused here too, with Tencent's code.
 */

/** `timpush/batch`: "the recipient account list contains between [1, 500] accounts" (https://trtc.io/document/67553). */
export const MAX_BATCH_ACCOUNTS = 500;
/** `DataId`: "no more than 64 bytes" (https://trtc.io/document/67553). */
export const MAX_DATA_ID_BYTES = 64;
/** `MsgRandom`: "32-bit unsigned integer, 0 - 4294967295" (https://trtc.io/document/67553). */
export const MAX_MSG_RANDOM = 4_294_967_295;
/**
 * `MsgRandom` de-duplicates pushes for 7 days: "for different push requests MsgRandom must not repeat
 * within 7 days, or they count as the same push task (retry a failed call with the same MsgRandom)"
 * (https://cloud.tencent.com/document/product/269/45934, as quoted in weblfe/tim push.go).
 */
export const MSG_RANDOM_DEDUP_SECONDS = 7 * 24 * 60 * 60;
/** `MsgLifeTime`: "at most 7 days (604800 s); default 0: online users only" (https://trtc.io/document/37166). */
export const MAX_MSG_LIFETIME_SECONDS = 604_800;

/** Condition tags: "≤ 10 tags, each ≤ 50 bytes" (https://trtc.io/document/37166; codes 90032, 90020). */
export const MAX_CONDITION_TAGS = 10;
export const MAX_TAG_BYTES = 50;
/** Tag and attribute APIs: "at most 100 accounts per request" (intl 1047/37167–37175; code 90018). */
export const MAX_ACCOUNTS_PER_TAG_CALL = 100;
/** `im_add_tag`: "at most 10 tags per user per request" (code 90032: "… or in the add tag request exceeds 10"). */
export const MAX_TAGS_PER_ADD = 10;
/** "A user has at most 100 tags; delete tags before adding more" (im_add_tag, intl 1047/37167–37175, tencent-calls-and-server-push.md §4.2). */
export const MAX_TAGS_PER_USER = 100;
/** `im_set_attr_name`: keys "0"–"9", "up to 10 push attributes", names ≤ 50 bytes (overview intl 1047/37165; im_set_attr_name, 1047/37167–37175). */
export const MAX_ATTRIBUTES = 10;
export const MAX_ATTR_NAME_BYTES = 50;
/** `im_set_attr`: attribute values ≤ 50 bytes (im_set_attr, intl 1047/37167–37175). */
export const MAX_ATTR_VALUE_BYTES = 50;

/**
 * `timpush/push` and `im_push`: "at most 100 calls a day by default, more than 1 s apart"
 * (https://cloud.tencent.com/document/product/269/100634; codes 90047, 90024). CHATPUSH_PUSH_DAILY_LIMIT
 * changes the daily number (Tencent sells more).
 */
export const DEFAULT_BROADCASTS_PER_DAY = 100;
export const MIN_BROADCAST_INTERVAL_MS = 1000;
/** Tencent counts days in Beijing time (UTC+8), as its consoles do. UNCONFIRMED for this quota. */
export const QUOTA_DAY_OFFSET_MS = 8 * 60 * 60 * 1000;

/** `timpush/revoke`: "within 24 hours of the task's start" (https://trtc.io/document/60571; code 90052). */
export const REVOKE_WINDOW_MS = 24 * 60 * 60 * 1000;
/** `all_member_push_statistics`: "TaskID ≤ 5", a range of ≤ 30 days (https://trtc.io/document/71894). */
export const MAX_STATISTICS_TASKS = 5;
export const MAX_STATISTICS_RANGE_SECONDS = 30 * 24 * 60 * 60;
/** How long a task and its counts are kept: the statistics API's 30-day range. */
export const TASK_KEEP_SECONDS = 30 * 24 * 60 * 60;

export function utf8Length(text: string): number {
  return Buffer.byteLength(text, "utf8");
}
