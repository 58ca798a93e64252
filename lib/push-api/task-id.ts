import { randomBytes } from "node:crypto";
import type { TaskKind } from "./ports.js";

/**
 * A TaskId in the style of Tencent's (`batch_667015d4_537529d8_…`, https://trtc.io/document/67553):
 * the kind, the start time in hex seconds and 64 random bits. It is the task's messageKey too, so it
 * stays within the 64 bytes an APNs `apns-collapse-id` takes (lib/tencent/ids.ts MAX_MSG_KEY_BYTES),
 * and holds only `[a-z0-9_]`: safe in every key and header it becomes.
 */
const PREFIX: Record<TaskKind, string> = { batch: "batch", push: "push", im_push: "impush" };
const TASK_ID = /^(batch|push|impush)_[0-9a-f]{8}_[0-9a-f]{16}$/;

export function newTaskId(
  kind: TaskKind,
  nowMs: number,
  random: () => Buffer = () => randomBytes(8),
): string {
  const seconds = Math.floor(nowMs / 1000)
    .toString(16)
    .padStart(8, "0");
  return `${PREFIX[kind]}_${seconds}_${random().toString("hex").slice(0, 16).padStart(16, "0")}`;
}

/** Whether `value` can be one of our TaskIds (anything else has "no push record", 90049). */
export function isTaskId(value: unknown): value is string {
  return typeof value === "string" && TASK_ID.test(value);
}
