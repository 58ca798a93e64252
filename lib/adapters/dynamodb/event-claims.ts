import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from "@aws-sdk/client-dynamodb";
import type { ClaimAnswer, EventClaims } from "../../ingest/event-claims.js";

/** How long a claim is kept: longer than Tencent's retries and SQS's redeliveries (as the Powertools records were). */
export const CLAIM_SECONDS = 3600;

/**
 * Event claims in the router's idempotency table (key `id`, TTL attribute `expiration`), one
 * conditional PutItem per event (1 WRU for items this small); a copy's refused put is paid as a write
 * too and returns the claim with it (ReturnValuesOnConditionCheckFailure, DynamoDB 2023-06-30; the
 * ConditionalCheckFailedException's `Item`: https://github.com/aws-powertools/powertools-lambda-typescript/issues/1573,
 * https://docs.aws.amazon.com/botocore/latest/reference/services/dynamodb/client/exceptions/ConditionalCheckFailedException.html),
 * so no read is needed. Attribute
 * names are Powertools' (`status` INPROGRESS, `in_progress_expiration` in ms), so the local runtime's
 * restart grace (lib/adapters/dynamodb/table.ts expireInProgressRecords) applies to claims too.
 */
export class DynamoEventClaims implements EventClaims {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    private readonly now: () => number = Date.now,
  ) {}

  async claim(identity: string, messageId: string, untilMs: number): Promise<ClaimAnswer> {
    const now = this.now();
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: {
            id: { S: identity },
            messageId: { S: messageId },
            status: { S: "INPROGRESS" },
            in_progress_expiration: { N: String(untilMs) },
            expiration: { N: String(Math.floor(now / 1000) + CLAIM_SECONDS) },
          },
          // Free, expired (TTL deletes lazily), or this message's own claim whose invocation is over.
          ConditionExpression:
            "attribute_not_exists(id) OR expiration < :nowSeconds OR (messageId = :messageId AND in_progress_expiration < :now)",
          ExpressionAttributeValues: {
            ":nowSeconds": { N: String(Math.floor(now / 1000)) },
            ":now": { N: String(now) },
            ":messageId": { S: messageId },
          },
          ReturnValuesOnConditionCheckFailure: "ALL_OLD",
        }),
      );
      return "claimed";
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      // DynamoDB returns the claim with the refusal; an emulator that does not is asked (1 RRU, copies only).
      const holder = error.Item ?? (await this.read(identity));
      return holder?.messageId?.S === messageId ? "in-progress" : "copy";
    }
  }

  private async read(identity: string) {
    const { Item } = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: { id: { S: identity } }, ConsistentRead: true }),
    );
    return Item;
  }

  async release(identity: string, messageId: string): Promise<void> {
    await this.client
      .send(
        new DeleteItemCommand({
          TableName: this.tableName,
          Key: { id: { S: identity } },
          ConditionExpression: "messageId = :messageId",
          ExpressionAttributeValues: { ":messageId": { S: messageId } },
        }),
      )
      .catch((error: unknown) => {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      });
  }
}
