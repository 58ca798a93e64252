import { type DynamoDBDocumentClient, QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { Vendor } from "../../model/index.js";
import type { AnswerCounts, AnswerWindowStore } from "../../ports/index.js";

/**
 * The token-removal breaker's counts, shared by every worker container of a vendor: one item per
 * credential and minute.
 *
 *   pk ANSWERS#<vendor>#<credential>  sk M#<bucket start, epoch ms, 13 digits>  answers, dropTokens, expiresAt
 *
 * A flush is one UpdateItem (ADD) and one strongly consistent Query of the window's ≤ 10 small items
 * (1 RRU): only for jobs with a dead-token answer, and once a minute per container otherwise.
 */

/** Buckets are kept a little longer than any window we read, then DynamoDB's TTL removes them. */
const KEEP_SECONDS = 2 * 60 * 60;

const partition = (vendor: Vendor, credential: string) => `ANSWERS#${vendor}#${credential}`;
const sortKey = (bucketStart: number) => `M#${String(bucketStart).padStart(13, "0")}`;

export class DynamoAnswerWindow implements AnswerWindowStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async add(
    vendor: Vendor,
    credential: string,
    bucketStart: number,
    counts: AnswerCounts,
    windowStart: number,
  ): Promise<AnswerCounts> {
    const pk = partition(vendor, credential);
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk, sk: sortKey(bucketStart) },
        UpdateExpression: "ADD answers :a, dropTokens :d SET expiresAt = :e",
        ExpressionAttributeValues: {
          ":a": counts.answers,
          ":d": counts.dropTokens,
          ":e": Math.floor(bucketStart / 1000) + KEEP_SECONDS,
        },
      }),
    );
    const { Items = [] } = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: "pk = :pk AND sk >= :from",
        ExpressionAttributeValues: { ":pk": pk, ":from": sortKey(windowStart) },
        ConsistentRead: true,
      }),
    );
    const sum = { answers: 0, dropTokens: 0 };
    for (const item of Items) {
      sum.answers += Number(item.answers ?? 0);
      sum.dropTokens += Number(item.dropTokens ?? 0);
    }
    return sum;
  }
}
