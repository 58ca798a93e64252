import {
  type AttributeValue,
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceNotFoundException,
  ScanCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";

/** The document client every adapter shares: undefined fields are left out, not rejected. */
export function documentClient(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

export interface TableKeys {
  partitionKey: string;
  sortKey?: string;
}

/** chatpush's table: the keys the CDK stack declares. */
export const MAIN_TABLE_KEYS: TableKeys = { partitionKey: "pk", sortKey: "sk" };
/** The router's event-claims table (Powertools idempotency's layout: key `id`). */
export const IDEMPOTENCY_TABLE_KEYS: TableKeys = { partitionKey: "id" };

/**
 * Creates a table with the keys the CDK stack declares when it does not exist: for the local runtime
 * and tests. Deployed, CloudFormation owns the tables.
 */
export async function ensureTable(
  client: DynamoDBClient,
  tableName: string,
  keys: TableKeys = MAIN_TABLE_KEYS,
): Promise<void> {
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
    return;
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
  }
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: [keys.partitionKey, ...(keys.sortKey ? [keys.sortKey] : [])].map((name) => ({
        AttributeName: name,
        AttributeType: "S",
      })),
      KeySchema: [
        { AttributeName: keys.partitionKey, KeyType: "HASH" },
        ...(keys.sortKey ? [{ AttributeName: keys.sortKey, KeyType: "RANGE" as const }] : []),
      ],
    }),
  );
  for (let i = 0; i < 100; i += 1) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (Table?.TableStatus === "ACTIVE") return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`table ${tableName} did not become ACTIVE`);
}

/**
 * Idempotency records left "in progress" by invocations that died with the process (the local
 * runtime's start only: nothing of the last process still runs). Each one expires `graceMs` from now
 * instead of at its dead invocation's deadline: time for the jobs that invocation had already queued
 * to be sent and recorded, so routing the event again finds them in the worker's send guard rather
 * than racing them. Deployed, Lambda's own in-progress expiry and the visibility timeout do this.
 */
export async function expireInProgressRecords(
  client: DynamoDBClient,
  tableName: string,
  nowMs: number,
  graceMs: number,
): Promise<number> {
  let changed = 0;
  let start: Record<string, AttributeValue> | undefined;
  const inProgress = { ":inProgress": { S: "INPROGRESS" } };
  do {
    const page = await client.send(
      new ScanCommand({
        TableName: tableName,
        FilterExpression: "#status = :inProgress",
        ExpressionAttributeNames: { "#status": "status" },
        ExpressionAttributeValues: inProgress,
        ProjectionExpression: "id",
        ...(start !== undefined ? { ExclusiveStartKey: start } : {}),
      }),
    );
    for (const item of page.Items ?? []) {
      if (item.id === undefined) continue;
      await client
        .send(
          new UpdateItemCommand({
            TableName: tableName,
            Key: { id: item.id },
            // Powertools' attribute for an in-progress record's expiry, in epoch ms (constants.js).
            UpdateExpression: "SET in_progress_expiration = :at",
            ConditionExpression: "#status = :inProgress",
            ExpressionAttributeNames: { "#status": "status" },
            ExpressionAttributeValues: { ...inProgress, ":at": { N: String(nowMs + graceMs) } },
          }),
        )
        .catch(() => undefined);
      changed += 1;
    }
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
  return changed;
}
