import type { Vendor } from "../model/index.js";
import { okAnswer, type RestAnswer, refuse, TENCENT } from "./errors.js";
import { MAX_STATISTICS_RANGE_SECONDS, MAX_STATISTICS_TASKS } from "./limits.js";
import type { PushTask, PushTaskStore, TaskCounts } from "./ports.js";

/**
 * `timpush/all_member_push_statistics` (https://trtc.io/document/71894): `{StartTime, EndTime,
 * TaskID[] (≤ 5)}` → `Results[] {TaskID, TotalCount, SentCount, DeliveredCount, ClickCount,
 * PlatformStatistics[]}` in Tencent's shape, where TotalCount is the users the task reached for,
 * SentCount the devices queued, DeliveredCount the devices the vendor accepted and ClickCount 0 (chatpush
 * sees no clicks). `PushPlatform` is the vendor's name: Tencent's numeric enumeration is not documented
 * (UNCONFIRMED, tencent-calls-and-server-push.md §8). chatpush's own detail rides in `Chatpush`:
 * queued, skipped by reason, delivered, token removed, dead-lettered, retrying.
 *
 * Tencent answers "overall" statistics for an empty TaskID list; chatpush counts per task only.
 */

type Fields = Record<string, unknown>;

function seconds(value: unknown, field: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0)
    refuse(TENCENT.badFormat, field, "must be a time in seconds");
  return value;
}

function taskReport(task: PushTask): Record<string, unknown> {
  const c: TaskCounts = task.counts;
  const n = (key: keyof TaskCounts | string) => (c as Record<string, number>)[key] ?? 0;
  const vendors = new Set<Vendor>();
  const skipped: Record<string, number> = {};
  for (const key of Object.keys(c)) {
    const [kind, detail] = key.split(/:(.*)/s) as [string, string | undefined];
    if (detail === undefined) continue;
    if (kind === "skipped") skipped[detail] = n(key);
    else vendors.add(detail as Vendor);
  }
  return {
    TaskID: task.taskId,
    TotalCount: n("recipients"),
    SentCount: n("queued"),
    DeliveredCount: n("delivered"),
    ClickCount: 0,
    PlatformStatistics: [...vendors].sort().map((vendor) => ({
      PushPlatform: vendor,
      TotalCount: n(`queued:${vendor}`),
      SentCount: n(`queued:${vendor}`),
      DeliveredCount: n(`delivered:${vendor}`),
      ClickCount: 0,
    })),
    Chatpush: {
      Kind: task.kind,
      StartTime: Math.floor(task.createdAt / 1000),
      ...(task.dataId !== undefined && { DataId: task.dataId }),
      ...(task.revokedAt !== undefined && { RevokedTime: Math.floor(task.revokedAt / 1000) }),
      Recipients: n("recipients"),
      Queued: n("queued"),
      Skipped: skipped,
      Delivered: n("delivered"),
      TokenRemoved: n("tokenRemoved"),
      DeadLettered: n("deadLettered"),
      Retrying: n("retried"),
    },
  };
}

export async function statistics(body: unknown, tasks: PushTaskStore): Promise<RestAnswer> {
  const fields = (typeof body === "object" && body !== null ? body : {}) as Fields;
  const start = seconds(fields.StartTime, "StartTime");
  const end = seconds(fields.EndTime, "EndTime");
  if (start !== undefined && end !== undefined) {
    if (end < start) refuse(TENCENT.badFormat, "EndTime", "is before StartTime");
    if (end - start > MAX_STATISTICS_RANGE_SECONDS)
      refuse(TENCENT.badFormat, "EndTime", "is more than 30 days after StartTime");
  }
  const ids = fields.TaskID;
  if (!Array.isArray(ids) || ids.length === 0)
    refuse(
      TENCENT.badFormat,
      "TaskID",
      `must name 1 to ${MAX_STATISTICS_TASKS} tasks (chatpush counts per task)`,
    );
  if (ids.length > MAX_STATISTICS_TASKS)
    refuse(TENCENT.badFormat, "TaskID", `names more than ${MAX_STATISTICS_TASKS} tasks`);
  const results: Record<string, unknown>[] = [];
  for (const id of new Set(ids)) {
    if (typeof id !== "string") refuse(TENCENT.badFormat, "TaskID", "must be strings");
    const task = await tasks.get(id);
    if (task === undefined) continue;
    const at = Math.floor(task.createdAt / 1000);
    if ((start !== undefined && at < start) || (end !== undefined && at > end)) continue;
    results.push(taskReport(task));
  }
  return okAnswer({ Results: results });
}
