import { BatchWriteCommand, type DynamoDBDocumentClient, QueryCommand } from "@aws-sdk/lib-dynamodb";
import type { DeliveryTarget, Vendor } from "../../model/index.js";
import type { Clock, DeliveredTo, DeliveryLog } from "../../ports/index.js";

/**
 * Who got each message's notification, for recalls: one item per delivered device under the message,
 * expiring (DynamoDB TTL) once a recall can no longer happen.
 *
 *   pk MSG#<messageKey>  sk D#<vendor>#<userId>#<deviceId>  target fields, expiresAt
 */

/** Tencent's recall limit is 2 minutes by default and configurable; a day covers any setting we know of. */
export const DELIVERY_RECORD_SECONDS = 24 * 60 * 60;
const BATCH_WRITE_LIMIT = 25;

export class DynamoDeliveryLog implements DeliveryLog {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly clock: Clock,
  ) {}

  async recordDelivered(
    messageKey: string,
    vendor: Vendor,
    targets: readonly DeliveryTarget[],
  ): Promise<void> {
    const expiresAt = Math.floor(this.clock.now() / 1000) + DELIVERY_RECORD_SECONDS;
    const items = targets.map((target) => ({
      pk: `MSG#${messageKey}`,
      sk: `D#${vendor}#${target.userId}#${target.deviceId}`,
      vendor,
      target,
      expiresAt,
    }));
    for (let i = 0; i < items.length; i += BATCH_WRITE_LIMIT) {
      let requests: Record<string, unknown>[] = items
        .slice(i, i + BATCH_WRITE_LIMIT)
        .map((Item) => ({ PutRequest: { Item } }));
      for (let round = 0; requests.length > 0; round += 1) {
        if (round > 8) throw new Error(`BatchWriteItem left ${requests.length} delivery records unwritten`);
        if (round > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 25 * 2 ** round)));
        const result = await this.db.send(
          new BatchWriteCommand({ RequestItems: { [this.tableName]: requests as never } }),
        );
        requests = (result.UnprocessedItems?.[this.tableName] ?? []) as Record<string, unknown>[];
      }
    }
  }

  async deliveredTo(messageKey: string): Promise<DeliveredTo[]> {
    const now = Math.floor(this.clock.now() / 1000);
    const found: DeliveredTo[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: "pk = :pk AND begins_with(sk, :d)",
          ExpressionAttributeValues: { ":pk": `MSG#${messageKey}`, ":d": "D#" },
          ...(start !== undefined ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of page.Items ?? []) {
        // DynamoDB deletes expired items lazily: an expired record no longer counts.
        if ((item.expiresAt as number) > now)
          found.push({ vendor: item.vendor as Vendor, target: item.target as DeliveryTarget });
      }
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    return found;
  }
}
