import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import type { CallEnd, CallEndReason, CallRing, CallStore, Clock } from "../../ports/index.js";

/**
 * The calls being rung, on chatpush's single table, one partition per invitation:
 *
 *   pk CALL#<inviteId>  sk R#<userId>  one invitee's ring: state, rungBy, content (what it said),
 *                                      devices (vendor, target, language), endedBy, endReason,
 *                                      endedAt, expiresAt
 *   pk CALL#<inviteId>  sk END         the invitation is over for everybody: by, reason, at, expiresAt
 *
 * Every write is conditional, so two callbacks racing for one invitee cannot both ring it or both end
 * it: `claimRing` puts only where no live record is, `endRing` updates only a ringing record. Items
 * expire with DynamoDB TTL (`expiresAt`, epoch seconds: the ring's end plus a margin); TTL deletes
 * lazily, so a record past its `expiresAt` is treated as absent by every read and may be overwritten.
 *
 * Cost per one-to-one call (on-demand, item sizes ~1–3 KB with the signaling envelope and tokens):
 * the invite is one PutItem (1–3 WRU) and two strongly consistent GetItems of the END item (1 RRU
 * each); its cancel is one PutItem of END, one Query and one UpdateItem of the ring (1–3 WRU).
 */

const RING_PREFIX = "R#";
const END_SK = "END";

const callKey = (inviteId: string) => `CALL#${inviteId}`;

type RingItem = CallRing & { pk: string; sk: string };
type EndItem = CallEnd & { pk: string; sk: string };

function isConditionFailure(error: unknown): boolean {
  return (
    error instanceof ConditionalCheckFailedException ||
    (error as Error)?.name === "ConditionalCheckFailedException"
  );
}

function withoutKeys<T extends { pk: string; sk: string }>(item: T): Omit<T, "pk" | "sk"> {
  const { pk: _pk, sk: _sk, ...rest } = item;
  return rest;
}

export class DynamoCallStore implements CallStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly clock: Clock,
  ) {}

  private nowSeconds(): number {
    return Math.floor(this.clock.now() / 1000);
  }

  private async get<T extends { expiresAt: number }>(pk: string, sk: string): Promise<T | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: { pk, sk }, ConsistentRead: true }),
    );
    const item = Item as T | undefined;
    return item !== undefined && item.expiresAt > this.nowSeconds() ? item : undefined;
  }

  /** Puts `item` where there is no live record; resolves with the live record when there is one. */
  private async putIfAbsent<T extends { pk: string; sk: string; expiresAt: number }>(item: T): Promise<T> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: "attribute_not_exists(pk) OR expiresAt <= :now",
          ExpressionAttributeValues: { ":now": this.nowSeconds() },
        }),
      );
      return item;
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
    const stored = await this.get<T>(item.pk, item.sk);
    // Gone between the two requests (it expired that instant): ours to write again.
    return stored ?? this.putIfAbsent(item);
  }

  async claimRing(ring: CallRing): Promise<CallRing> {
    const item: RingItem = { ...ring, pk: callKey(ring.inviteId), sk: `${RING_PREFIX}${ring.userId}` };
    return withoutKeys(await this.putIfAbsent(item));
  }

  async endRing(
    inviteId: string,
    userId: string,
    end: { by: string; reason: CallEndReason; at: number; expiresAt: number },
  ): Promise<CallRing> {
    const pk = callKey(inviteId);
    const sk = `${RING_PREFIX}${userId}`;
    try {
      const { Attributes } = await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk, sk },
          UpdateExpression: "SET #state = :ended, endedBy = :by, endReason = :reason, endedAt = :at",
          ConditionExpression: "#state = :ringing AND expiresAt > :now",
          ExpressionAttributeNames: { "#state": "state" },
          ExpressionAttributeValues: {
            ":ended": "ended",
            ":ringing": "ringing",
            ":by": end.by,
            ":reason": end.reason,
            ":at": end.at,
            ":now": this.nowSeconds(),
          },
          ReturnValues: "ALL_NEW",
        }),
      );
      return withoutKeys(Attributes as RingItem);
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
    // Not ringing: already ended (kept as it is), or never rung (recorded as ended, so a late invite
    // finds it so).
    const never: RingItem = {
      pk,
      sk,
      inviteId,
      userId,
      state: "ended",
      devices: [],
      endedBy: end.by,
      endReason: end.reason,
      endedAt: end.at,
      expiresAt: end.expiresAt,
    };
    return withoutKeys(await this.putIfAbsent(never));
  }

  async rings(inviteId: string, userIds?: readonly string[]): Promise<CallRing[]> {
    const pk = callKey(inviteId);
    if (userIds !== undefined) {
      const found = await Promise.all(
        [...new Set(userIds)].map((userId) => this.get<RingItem>(pk, `${RING_PREFIX}${userId}`)),
      );
      return found.filter((item): item is RingItem => item !== undefined).map(withoutKeys);
    }
    const now = this.nowSeconds();
    const rings: CallRing[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: "pk = :pk AND begins_with(sk, :ring)",
          ExpressionAttributeValues: { ":pk": pk, ":ring": RING_PREFIX },
          ConsistentRead: true,
          ...(start !== undefined ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of (page.Items ?? []) as RingItem[])
        if (item.expiresAt > now) rings.push(withoutKeys(item));
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    return rings;
  }

  async endCall(end: CallEnd): Promise<CallEnd> {
    return withoutKeys(await this.putIfAbsent<EndItem>({ ...end, pk: callKey(end.inviteId), sk: END_SK }));
  }

  async callEnded(inviteId: string): Promise<CallEnd | undefined> {
    const item = await this.get<EndItem>(callKey(inviteId), END_SK);
    return item === undefined ? undefined : withoutKeys(item);
  }
}
