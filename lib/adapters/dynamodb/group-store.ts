import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import {
  BatchGetCommand,
  BatchWriteCommand,
  type BatchWriteCommandInput,
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  type QueryCommandOutput,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import type { GroupInfo, GroupStore, MemberPage } from "../../ports/index.js";

/**
 * The mirror of a group's membership on chatpush's single table, one partition per group:
 *
 *   pk GROUP#<groupId>  sk INFO          groupId, type, name, ownerId, updatedAt
 *   pk GROUP#<groupId>  sk M#<userId>    joinedAt
 *   pk GROUP#<groupId>  sk L#<userId>    leftAt, expiresAt   (departure marker)
 *
 * Tencent's callbacks can arrive out of order. A departure marker remembers when a member left, so a
 * join callback older than the exit does not bring them back; an exit older than the member's join
 * does not remove them. Markers expire (DynamoDB TTL) after a week, longer than any callback delay.
 *
 * Member items hold nothing but their key and `joinedAt` (about 30 bytes of names and number plus the
 * two ids), because DynamoDB cuts a Query page at 1 MB of items *read*, before any projection: small
 * items are what keep a page at the full `Limit`. With a 30-byte group id and a 32-byte user id an item
 * is about 90 bytes, so a page of 1,000 members reads about 90 KB (about 11 read request units,
 * eventually consistent), far below the 1 MB cut; the key-only projection keeps the response as small.
 *
 * Request counts, measured against dynalite (test/integration/group-store.test.ts asserts the first
 * three; the 100,000-member figures come from a one-off run with 32-byte user ids):
 * - `listMembers` is exactly one Query per call, and a call returns `limit` members (at most 1,000)
 *   unless it is the last page: 1 Query per 1,000 members. 2,500 members: 3 Queries; 100,000: 100.
 *   The Query asks for `limit + 1` items so that the last page knows it is the last: a group of
 *   exactly 2,000 members takes 2 Queries, not 2 plus an empty third. Reads are eventually consistent
 *   (half the read units; a member added within the last second may miss one fan-out).
 * - `addMembers` / `removeMembers`: one BatchWriteItem per 25 members (plus retries of unprocessed
 *   items); 100 members = 4 requests.
 * - `deleteGroup`: one Query per 1 MB page of the partition (about 10,000 members) plus one
 *   BatchWriteItem per 25 items: 100,000 members = 11 Queries + 4,001 BatchWriteItems.
 */

const INFO_SK = "INFO";
const MEMBER_PREFIX = "M#";
const LEFT_PREFIX = "L#";
const LEFT_MARKER_SECONDS = 7 * 24 * 60 * 60;
const BATCH_GET_LIMIT = 100;
/** Conditional single deletes in flight for an exit callback (exits name few members). */
const DELETE_CONCURRENCY = 8;
/** BatchWriteItem's documented maximum of 25 put or delete requests per call. */
const BATCH_WRITE_LIMIT = 25;
/** The GroupStore contract's page size cap. */
export const MAX_MEMBER_PAGE = 1000;
/** BatchWriteItems in flight at once when a group is written or deleted in bulk. */
const WRITE_CONCURRENCY = 4;
const MAX_UNPROCESSED_ROUNDS = 8;

/** A `listMembers` cursor that this store did not issue for this group. */
export class InvalidCursorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InvalidCursorError";
  }
}

interface MemberKey {
  pk: string;
  sk: string;
}

interface InfoItem {
  pk: string;
  sk: string;
  groupId: string;
  type?: string;
  name?: string;
  ownerId?: string;
  updatedAt: number;
}

type WriteRequest = NonNullable<BatchWriteCommandInput["RequestItems"]>[string][number];

const groupPk = (groupId: string) => `GROUP#${groupId}`;
const infoKey = (groupId: string): MemberKey => ({ pk: groupPk(groupId), sk: INFO_SK });
const leftKey = (groupId: string, userId: string): MemberKey => ({
  pk: groupPk(groupId),
  sk: `${LEFT_PREFIX}${userId}`,
});
const memberKey = (groupId: string, userId: string): MemberKey => ({
  pk: groupPk(groupId),
  sk: `${MEMBER_PREFIX}${userId}`,
});

function isConditionFailure(error: unknown): boolean {
  return (
    error instanceof ConditionalCheckFailedException ||
    (error as Error)?.name === "ConditionalCheckFailedException"
  );
}

export class DynamoGroupStore implements GroupStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async putGroup(info: GroupInfo): Promise<void> {
    requireId("groupId", info.groupId);
    const fields = Object.entries({ type: info.type, name: info.name, ownerId: info.ownerId }).filter(
      (entry): entry is [string, string] => entry[1] !== undefined,
    );
    const names = Object.fromEntries(fields.map(([field], i) => [`#f${i}`, field]));
    const values = Object.fromEntries(fields.map(([, value], i) => [`:f${i}`, value]));
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: infoKey(info.groupId),
          UpdateExpression: `SET ${["groupId = :g", "updatedAt = :at", ...fields.map((_, i) => `#f${i} = :f${i}`)].join(", ")}`,
          // Callbacks can arrive out of order: an older one must not overwrite what a newer one set.
          ConditionExpression: "attribute_not_exists(updatedAt) OR updatedAt <= :at",
          ...(fields.length > 0 ? { ExpressionAttributeNames: names } : {}),
          ExpressionAttributeValues: { ...values, ":g": info.groupId, ":at": info.updatedAt },
        }),
      );
      return;
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
    if (fields.length === 0) return;
    // A newer update won. The older one may still know fields the newer left undefined (a late
    // CallbackAfterCreateGroup carries the name and owner a member-join callback did not): fill only
    // those, never overwrite.
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: infoKey(info.groupId),
        UpdateExpression: `SET ${fields.map((_, i) => `#f${i} = if_not_exists(#f${i}, :f${i})`).join(", ")}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
  }

  async getGroup(groupId: string): Promise<GroupInfo | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: infoKey(groupId), ConsistentRead: true }),
    );
    if (Item === undefined) return undefined;
    const item = Item as InfoItem;
    return {
      groupId,
      ...(item.type !== undefined ? { type: item.type } : {}),
      ...(item.name !== undefined ? { name: item.name } : {}),
      ...(item.ownerId !== undefined ? { ownerId: item.ownerId } : {}),
      updatedAt: item.updatedAt,
    };
  }

  async addMembers(groupId: string, userIds: readonly string[], at: number): Promise<void> {
    requireId("groupId", groupId);
    const ids = uniqueIds(userIds);
    const leftAt = await this.departures(groupId, ids);
    // A member who left after this join happened stays out: the join callback came late.
    const joining = ids.filter((userId) => (leftAt.get(userId) ?? Number.NEGATIVE_INFINITY) <= at);
    await this.batchWrite(
      joining.map((userId) => ({ PutRequest: { Item: { ...memberKey(groupId, userId), joinedAt: at } } })),
    );
  }

  async removeMembers(groupId: string, userIds: readonly string[], at: number): Promise<void> {
    requireId("groupId", groupId);
    const ids = uniqueIds(userIds);
    const expiresAt = Math.floor(Date.now() / 1000) + LEFT_MARKER_SECONDS;
    await this.batchWrite(
      ids.map((userId) => ({ PutRequest: { Item: { ...leftKey(groupId, userId), leftAt: at, expiresAt } } })),
    );
    // Conditional deletes: a member whose (re)join is newer than this exit stays.
    let next = 0;
    const worker = async () => {
      while (next < ids.length) {
        const userId = ids[next]!;
        next += 1;
        try {
          await this.db.send(
            new DeleteCommand({
              TableName: this.tableName,
              Key: memberKey(groupId, userId),
              ConditionExpression: "attribute_not_exists(joinedAt) OR joinedAt <= :at",
              ExpressionAttributeValues: { ":at": at },
            }),
          );
        } catch (error) {
          if (!isConditionFailure(error)) throw error;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(DELETE_CONCURRENCY, ids.length) }, worker));
  }

  /** When each of these users last left the group (departure markers), read 100 per BatchGetItem. */
  private async departures(groupId: string, userIds: readonly string[]): Promise<Map<string, number>> {
    const found = new Map<string, number>();
    for (let i = 0; i < userIds.length; i += BATCH_GET_LIMIT) {
      let keys: Record<string, unknown>[] = userIds
        .slice(i, i + BATCH_GET_LIMIT)
        .map((id): Record<string, unknown> => ({ ...leftKey(groupId, id) }));
      for (let round = 0; keys.length > 0; round += 1) {
        if (round > MAX_UNPROCESSED_ROUNDS)
          throw new Error(`BatchGetItem left ${keys.length} keys unprocessed`);
        if (round > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 25 * 2 ** round)));
        const result = await this.db.send(
          new BatchGetCommand({
            RequestItems: { [this.tableName]: { Keys: keys, ProjectionExpression: "sk, leftAt" } },
          }),
        );
        for (const item of result.Responses?.[this.tableName] ?? []) {
          found.set(String(item.sk).slice(LEFT_PREFIX.length), Number(item.leftAt));
        }
        keys = (result.UnprocessedKeys?.[this.tableName]?.Keys ?? []) as Record<string, unknown>[];
      }
    }
    return found;
  }

  async deleteGroup(groupId: string): Promise<void> {
    requireId("groupId", groupId);
    // Every item of the partition (members and INFO), one 1 MB page at a time: deletes of one page
    // never move the next page's start, which is the last key read, not an offset.
    let startKey: Record<string, unknown> | undefined;
    do {
      const page: QueryCommandOutput = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: "pk = :pk",
          ExpressionAttributeValues: { ":pk": groupPk(groupId) },
          ProjectionExpression: "pk, sk",
          ...(startKey !== undefined ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      const keys = (page.Items ?? []) as MemberKey[];
      await this.batchWrite(keys.map(({ pk, sk }) => ({ DeleteRequest: { Key: { pk, sk } } })));
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
  }

  async listMembers(groupId: string, cursor: string | undefined, limit: number): Promise<MemberPage> {
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_MEMBER_PAGE) {
      throw new RangeError(`limit must be an integer from 1 to ${MAX_MEMBER_PAGE}, got ${limit}`);
    }
    const startKey = cursor === undefined ? undefined : decodeCursor(groupId, cursor);
    // One Query, key only. `limit + 1` tells whether another page follows without a second request.
    const { Items, LastEvaluatedKey } = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: "pk = :pk AND begins_with(sk, :m)",
        ExpressionAttributeValues: { ":pk": groupPk(groupId), ":m": MEMBER_PREFIX },
        ProjectionExpression: "sk",
        Limit: limit + 1,
        ...(startKey !== undefined ? { ExclusiveStartKey: startKey } : {}),
      }),
    );
    const keys = (Items ?? []) as Pick<MemberKey, "sk">[];
    const page = keys.slice(0, limit);
    const members = page.map(({ sk }) => sk.slice(MEMBER_PREFIX.length));
    const last = page.at(-1);
    if (keys.length > limit && last !== undefined) {
      return { members, next: encodeCursor({ pk: groupPk(groupId), sk: last.sk }) };
    }
    // Fewer than asked: either the end of the group, or DynamoDB's 1 MB cut (then it says where it stopped).
    if (LastEvaluatedKey !== undefined) {
      return { members, next: encodeCursor(LastEvaluatedKey as unknown as MemberKey) };
    }
    return { members };
  }

  /** BatchWriteItem in 25s, a few in flight, each retrying its unprocessed items with backoff. */
  private async batchWrite(requests: WriteRequest[]): Promise<void> {
    const batches: WriteRequest[][] = [];
    for (let i = 0; i < requests.length; i += BATCH_WRITE_LIMIT) {
      batches.push(requests.slice(i, i + BATCH_WRITE_LIMIT));
    }
    let next = 0;
    const worker = async () => {
      while (next < batches.length) {
        const batch = batches[next]!;
        next += 1;
        await this.writeBatch(batch);
      }
    };
    await Promise.all(Array.from({ length: Math.min(WRITE_CONCURRENCY, batches.length) }, worker));
  }

  private async writeBatch(batch: WriteRequest[]): Promise<void> {
    let pending = batch;
    for (let round = 0; pending.length > 0; round += 1) {
      if (round > MAX_UNPROCESSED_ROUNDS) {
        throw new Error(`BatchWriteItem left ${pending.length} items unprocessed`);
      }
      // Unprocessed items mean the partition is throttled: back off (with jitter) before retrying them.
      if (round > 0) await sleep(Math.min(1000, 25 * 2 ** round) * (0.5 + Math.random() / 2));
      const result = await this.db.send(
        new BatchWriteCommand({ RequestItems: { [this.tableName]: pending } }),
      );
      pending = result.UnprocessedItems?.[this.tableName] ?? [];
    }
  }
}

/** The cursor is the Query's LastEvaluatedKey as base64url JSON; it only ever names a member of its group. */
function encodeCursor(key: MemberKey): string {
  return Buffer.from(JSON.stringify({ pk: key.pk, sk: key.sk }), "utf8").toString("base64url");
}

function decodeCursor(groupId: string, cursor: string): MemberKey {
  const invalid = (why: string) =>
    new InvalidCursorError(`invalid member cursor for group ${groupId}: ${why}`);
  if (!/^[A-Za-z0-9_-]{1,2048}$/.test(cursor)) throw invalid("not base64url");
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    throw invalid("not JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw invalid("not a key");
  const { pk, sk, ...rest } = value as Record<string, unknown>;
  if (Object.keys(rest).length > 0 || typeof pk !== "string" || typeof sk !== "string") {
    throw invalid("not a key");
  }
  if (pk !== groupPk(groupId)) throw invalid("issued for another group");
  if (!sk.startsWith(MEMBER_PREFIX) || sk.length === MEMBER_PREFIX.length) throw invalid("not a member key");
  return { pk, sk };
}

/** BatchWriteItem rejects a request naming the same key twice; Tencent callbacks can repeat a member. */
function uniqueIds(userIds: readonly string[]): string[] {
  for (const id of userIds) requireId("userId", id);
  return [...new Set(userIds)];
}

function requireId(what: string, id: string): void {
  if (typeof id !== "string" || id === "") throw new TypeError(`${what} must be a non-empty string`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
