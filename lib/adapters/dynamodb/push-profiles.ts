import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import type {
  AudienceIndex,
  PushProfile,
  PushProfileStore,
  Segment,
  SegmentPage,
} from "../../push-api/ports.js";
import {
  ATTR_NAMES_KEY,
  postingKey,
  profileKey,
  SHARDS,
  segmentPartition,
  userOfSortKey,
  userSortKey,
} from "./push-keys.js";

/**
 * Tags and attributes per user and the index from each to its users (push-keys.ts), and the "every
 * user with a device" index. A profile change writes the index items it changes first (BatchWriteItem,
 * 25 a request), then the profile conditionally on its revision: a call that fails in between is
 * retried by the app server (REST answers a 5xx), and the retry computes the same change again, so the
 * index converges on the profile.
 */

const BATCH_GET_LIMIT = 100;
const BATCH_WRITE_LIMIT = 25;
const UPDATE_ATTEMPTS = 10;

interface ProfileItem {
  userId?: string;
  tags?: string[];
  attrs?: Record<string, string>;
  rev?: number;
}

function isConditionFailure(error: unknown): boolean {
  return (
    error instanceof ConditionalCheckFailedException ||
    (error as Error)?.name === "ConditionalCheckFailedException"
  );
}

const toProfile = (item: ProfileItem | undefined): PushProfile => ({
  tags: item?.tags ?? [],
  attrs: item?.attrs ?? {},
});

function segmentsOf(profile: PushProfile): Map<string, Segment> {
  const segments = new Map<string, Segment>();
  for (const tag of profile.tags) segments.set(`t\u0000${tag}`, { kind: "tag", tag });
  for (const [name, value] of Object.entries(profile.attrs))
    segments.set(`a\u0000${name}\u0000${value}`, { kind: "attr", name, value });
  return segments;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class DynamoPushProfiles implements PushProfileStore, AudienceIndex {
  readonly shards = SHARDS;

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async getProfiles(userIds: readonly string[]): Promise<Map<string, PushProfile>> {
    const unique = [...new Set(userIds)];
    const found = new Map<string, ProfileItem>();
    const chunks: string[][] = [];
    for (let i = 0; i < unique.length; i += BATCH_GET_LIMIT)
      chunks.push(unique.slice(i, i + BATCH_GET_LIMIT));
    await Promise.all(
      chunks.map(async (chunk) => {
        let keys: Record<string, unknown>[] = chunk.map(profileKey);
        for (let round = 0; keys.length > 0; round += 1) {
          if (round > 8) throw new Error(`BatchGetItem left ${keys.length} keys unprocessed`);
          if (round > 0) await sleep(Math.min(1000, 25 * 2 ** round));
          const result = await this.db.send(
            new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: true } } }),
          );
          for (const item of (result.Responses?.[this.tableName] ?? []) as ProfileItem[])
            if (item.userId !== undefined) found.set(item.userId, item);
          keys = (result.UnprocessedKeys?.[this.tableName]?.Keys ?? []) as Record<string, unknown>[];
        }
      }),
    );
    return new Map(unique.map((id) => [id, toProfile(found.get(id))]));
  }

  async updateProfile(
    userId: string,
    decide: (current: PushProfile) => PushProfile | undefined,
  ): Promise<PushProfile> {
    for (let attempt = 0; attempt < UPDATE_ATTEMPTS; attempt += 1) {
      if (attempt > 0) await sleep(Math.random() * 10 * 2 ** Math.min(attempt, 5));
      const { Item } = await this.db.send(
        new GetCommand({ TableName: this.tableName, Key: profileKey(userId), ConsistentRead: true }),
      );
      const item = Item as ProfileItem | undefined;
      const current = toProfile(item);
      const next = decide(current);
      if (next === undefined) return current;
      const before = segmentsOf(current);
      const after = segmentsOf(next);
      await this.writeIndex(
        userId,
        [...after].filter(([key]) => !before.has(key)).map(([, s]) => s),
        [...before].filter(([key]) => !after.has(key)).map(([, s]) => s),
      );
      try {
        await this.db.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: profileKey(userId),
            UpdateExpression: "SET userId = :u, tags = :t, attrs = :a, rev = :next",
            ConditionExpression: item?.rev === undefined ? "attribute_not_exists(rev)" : "rev = :prev",
            ExpressionAttributeValues: {
              ":u": userId,
              ":t": next.tags,
              ":a": next.attrs,
              ":next": (item?.rev ?? 0) + 1,
              ...(item?.rev !== undefined && { ":prev": item.rev }),
            },
          }),
        );
        return next;
      } catch (error) {
        if (!isConditionFailure(error)) throw error; // written in between: decide again
      }
    }
    throw new Error(`push profile of ${userId} kept changing under us`);
  }

  private async writeIndex(userId: string, added: Segment[], removed: Segment[]): Promise<void> {
    const requests = [
      ...added.map((segment) => ({ PutRequest: { Item: postingKey(segment, userId) } })),
      ...removed.map((segment) => ({ DeleteRequest: { Key: postingKey(segment, userId) } })),
    ];
    for (let i = 0; i < requests.length; i += BATCH_WRITE_LIMIT) {
      let batch: Record<string, unknown>[] = requests.slice(i, i + BATCH_WRITE_LIMIT);
      for (let round = 0; batch.length > 0; round += 1) {
        if (round > 8) throw new Error(`BatchWriteItem left ${batch.length} writes unprocessed`);
        if (round > 0) await sleep(Math.min(1000, 25 * 2 ** round));
        const result = await this.db.send(
          new BatchWriteCommand({ RequestItems: { [this.tableName]: batch as never } }),
        );
        batch = (result.UnprocessedItems?.[this.tableName] ?? []) as Record<string, unknown>[];
      }
    }
  }

  async getAttrNames(): Promise<Record<string, string>> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: ATTR_NAMES_KEY, ConsistentRead: true }),
    );
    return ((Item as { names?: Record<string, string> } | undefined)?.names ?? {}) as Record<string, string>;
  }

  async setAttrNames(names: Record<string, string>): Promise<void> {
    await this.db.send(new PutCommand({ TableName: this.tableName, Item: { ...ATTR_NAMES_KEY, names } }));
  }

  async page(
    segment: Segment,
    shard: number,
    cursor: string | undefined,
    limit: number,
  ): Promise<SegmentPage> {
    const pk = segmentPartition(segment, shard);
    const { Items = [], LastEvaluatedKey } = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: "pk = :pk",
        ExpressionAttributeValues: { ":pk": pk },
        ProjectionExpression: "sk",
        Limit: limit,
        ...(cursor !== undefined && { ExclusiveStartKey: { pk, sk: userSortKey(cursor) } }),
      }),
    );
    const userIds = Items.map((item) => userOfSortKey(String(item.sk)));
    const last = LastEvaluatedKey?.sk;
    return last === undefined ? { userIds } : { userIds, next: userOfSortKey(String(last)) };
  }

  async addUser(userId: string, at: number): Promise<void> {
    await this.db.send(
      new PutCommand({ TableName: this.tableName, Item: { ...postingKey({ kind: "all" }, userId), at } }),
    );
  }

  async dropUser(userId: string, addedBefore: number): Promise<void> {
    try {
      await this.db.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: postingKey({ kind: "all" }, userId),
          ConditionExpression: "#at <= :before",
          ExpressionAttributeNames: { "#at": "at" },
          ExpressionAttributeValues: { ":before": addedBefore },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error; // registered again since: stays
    }
  }
}
