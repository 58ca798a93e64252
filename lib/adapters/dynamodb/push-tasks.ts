import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import {
  MIN_BROADCAST_INTERVAL_MS,
  MSG_RANDOM_DEDUP_SECONDS,
  QUOTA_DAY_OFFSET_MS,
  TASK_KEEP_SECONDS,
} from "../../push-api/limits.js";
import type { ClaimResult, PushTask, PushTaskStore, TaskCounts, TaskKind } from "../../push-api/ports.js";

/**
 * Push tasks, their MsgRandom claims and the broadcast quota (keys in push-keys.ts). A task's counts
 * are attributes of its one small item (`c:<counter>`), added to with one UpdateItem (ADD) per fan-out
 * page or delivery job: 1 WRU each while the item stays under 1 KB.
 */

const randomKey = (scope: string, msgRandom: number) => ({
  pk: `PUSHRANDOM#${scope}#${msgRandom}`,
  sk: "RANDOM",
});
const taskKey = (taskId: string) => ({ pk: `PUSHTASK#${taskId}`, sk: "TASK" });
const quotaKey = (day: number) => ({ pk: "PUSHQUOTA", sk: `D#${day}` });
const COUNT_PREFIX = "c:";

interface TaskItem {
  kind?: TaskKind;
  from?: string;
  createdAt?: number;
  lifetimeSeconds?: number;
  dataId?: string;
  revokedAt?: number;
  [count: string]: unknown;
}

function isConditionFailure(error: unknown): boolean {
  return (
    error instanceof ConditionalCheckFailedException ||
    (error as Error)?.name === "ConditionalCheckFailedException"
  );
}

function toTask(taskId: string, item: TaskItem | undefined): PushTask | undefined {
  // Counts can arrive before (or without) the task item itself; without its kind it is not a task.
  if (item?.kind === undefined || item.createdAt === undefined) return undefined;
  const counts: Record<string, number> = {};
  for (const [name, value] of Object.entries(item)) {
    if (name.startsWith(COUNT_PREFIX) && typeof value === "number")
      counts[name.slice(COUNT_PREFIX.length)] = value;
  }
  return {
    taskId,
    kind: item.kind,
    from: item.from ?? "",
    createdAt: item.createdAt,
    ...(item.lifetimeSeconds !== undefined && { lifetimeSeconds: item.lifetimeSeconds }),
    ...(item.dataId !== undefined && { dataId: item.dataId }),
    ...(item.revokedAt !== undefined && { revokedAt: item.revokedAt }),
    counts: counts as TaskCounts,
  };
}

export class DynamoPushTasks implements PushTaskStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async claim(scope: string, msgRandom: number, task: PushTask, nowMs: number): Promise<ClaimResult> {
    const nowSeconds = Math.floor(nowMs / 1000);
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...randomKey(scope, msgRandom),
            taskId: task.taskId,
            createdAt: task.createdAt,
            queued: false,
            expiresAt: nowSeconds + MSG_RANDOM_DEDUP_SECONDS,
          },
          // DynamoDB's TTL deletes expired items up to days late: an expired claim counts as free.
          ConditionExpression: "attribute_not_exists(pk) OR expiresAt < :now",
          ExpressionAttributeValues: { ":now": nowSeconds },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const { Item } = await this.db.send(
        new GetCommand({ TableName: this.tableName, Key: randomKey(scope, msgRandom), ConsistentRead: true }),
      );
      const held = Item as { taskId: string; createdAt: number; queued?: boolean } | undefined;
      if (held === undefined) return this.claim(scope, msgRandom, task, nowMs); // released in between
      // A call that claimed and failed before its task item was written is repaired by its retry.
      if (held.queued !== true)
        await this.putTask({ ...task, taskId: held.taskId, createdAt: held.createdAt }, true);
      return { created: false, taskId: held.taskId, createdAt: held.createdAt, queued: held.queued === true };
    }
    await this.putTask(task, false);
    return { created: true };
  }

  private async putTask(task: PushTask, onlyIfAbsent: boolean): Promise<void> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...taskKey(task.taskId),
            kind: task.kind,
            from: task.from,
            createdAt: task.createdAt,
            ...(task.lifetimeSeconds !== undefined && { lifetimeSeconds: task.lifetimeSeconds }),
            ...(task.dataId !== undefined && { dataId: task.dataId }),
            expiresAt: Math.floor(task.createdAt / 1000) + TASK_KEEP_SECONDS,
          },
          ...(onlyIfAbsent && { ConditionExpression: "attribute_not_exists(kind)" }),
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  async markQueued(scope: string, msgRandom: number): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: randomKey(scope, msgRandom),
        UpdateExpression: "SET queued = :yes",
        ExpressionAttributeValues: { ":yes": true },
      }),
    );
  }

  async release(scope: string, msgRandom: number, taskId: string): Promise<void> {
    try {
      await this.db.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: randomKey(scope, msgRandom),
          ConditionExpression: "taskId = :t",
          ExpressionAttributeValues: { ":t": taskId },
        }),
      );
      await this.db.send(new DeleteCommand({ TableName: this.tableName, Key: taskKey(taskId) }));
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  async get(taskId: string): Promise<PushTask | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: taskKey(taskId), ConsistentRead: true }),
    );
    return toTask(taskId, Item as TaskItem | undefined);
  }

  async revoke(taskId: string, at: number): Promise<PushTask | undefined> {
    try {
      const { Attributes } = await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: taskKey(taskId),
          UpdateExpression: "SET revokedAt = :at",
          ConditionExpression: "attribute_exists(kind) AND attribute_not_exists(revokedAt)",
          ExpressionAttributeValues: { ":at": at },
          ReturnValues: "ALL_OLD",
        }),
      );
      return toTask(taskId, Attributes as TaskItem | undefined);
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }

  async count(taskId: string, counts: TaskCounts): Promise<void> {
    const entries = Object.entries(counts).filter(([, n]) => typeof n === "number" && n !== 0);
    if (entries.length === 0) return;
    const names = Object.fromEntries(entries.map(([name], i) => [`#c${i}`, `${COUNT_PREFIX}${name}`]));
    const values = Object.fromEntries(entries.map(([, n], i) => [`:c${i}`, n]));
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: taskKey(taskId),
        // A count arriving after the task expired must not leave an item that never expires.
        UpdateExpression: `ADD ${entries.map((_, i) => `#c${i} :c${i}`).join(", ")} SET expiresAt = if_not_exists(expiresAt, :e)`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: { ...values, ":e": Math.floor(Date.now() / 1000) + TASK_KEEP_SECONDS },
      }),
    );
  }

  async takeBroadcast(nowMs: number, perDay: number): Promise<"ok" | "interval" | "quota"> {
    const day = Math.floor((nowMs + QUOTA_DAY_OFFSET_MS) / 86_400_000);
    const key = quotaKey(day);
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: "ADD n :one SET lastAt = :now, expiresAt = :e",
          ConditionExpression:
            "(attribute_not_exists(n) OR n < :max) AND (attribute_not_exists(lastAt) OR lastAt <= :gap)",
          ExpressionAttributeValues: {
            ":one": 1,
            ":now": nowMs,
            ":max": perDay,
            ":gap": nowMs - MIN_BROADCAST_INTERVAL_MS,
            ":e": Math.floor(nowMs / 1000) + 2 * 86_400,
          },
        }),
      );
      return "ok";
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const { Item } = await this.db.send(
        new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }),
      );
      return Number(Item?.n ?? 0) >= perDay ? "quota" : "interval";
    }
  }
}
