import {
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceNotFoundException,
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
/** Powertools idempotency's table. */
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
