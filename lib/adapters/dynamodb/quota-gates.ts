import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import type { Vendor } from "../../model/index.js";
import type { QuotaGate, QuotaGateStore } from "../../ports/index.js";

/**
 * Daily-quota gates shared by every worker container of a vendor, one item per credential:
 *
 *   pk GATE#<vendor>#<credential>  sk GATE  until (epoch ms), reason, expiresAt
 *
 * Written when a gate closes (conditionally, so a later reset time wins and an earlier one is a
 * no-op), read by each container at most every few seconds (lib/delivery/quota-gates.ts caches).
 */

/** The item outlives its gate by a day, then DynamoDB's TTL removes it. */
const KEEP_AFTER_SECONDS = 24 * 60 * 60;

const gateKey = (vendor: Vendor, credential: string) => ({ pk: `GATE#${vendor}#${credential}`, sk: "GATE" });

export class DynamoQuotaGates implements QuotaGateStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(vendor: Vendor, credential: string): Promise<QuotaGate | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: gateKey(vendor, credential) }),
    );
    if (Item === undefined || typeof Item.until !== "number") return undefined;
    return { until: Item.until, reason: String(Item.reason ?? "daily quota") };
  }

  async close(vendor: Vendor, credential: string, gate: QuotaGate): Promise<void> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...gateKey(vendor, credential),
            until: gate.until,
            reason: gate.reason.slice(0, 500),
            expiresAt: Math.floor(gate.until / 1000) + KEEP_AFTER_SECONDS,
          },
          ConditionExpression: "attribute_not_exists(#u) OR #u < :u",
          ExpressionAttributeNames: { "#u": "until" },
          ExpressionAttributeValues: { ":u": gate.until },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return;
      if ((error as Error)?.name === "ConditionalCheckFailedException") return;
      throw error;
    }
  }
}
