import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { documentClient } from "../adapters/dynamodb/table.js";
import { DynamoTraceRecords } from "../adapters/dynamodb/trace-records.js";
import { DynamoUserStore } from "../adapters/dynamodb/user-store.js";
import type { OpsTarget } from "./targets.js";
import type { WhySources } from "./why.js";

const LOCAL_CREDENTIALS = { accessKeyId: "local", secretAccessKey: "local" };

/**
 * What `why` reads, in the target's table: the local runtime's dynalite (its endpoint from
 * `GET /_local/ops`) or the deployed stack's table (its `TableName` output, your AWS credentials).
 */
export function whySources(target: OpsTarget): WhySources & { close(): void } {
  const tableName = target.outputs.TableName;
  if (tableName === undefined) throw new Error(`${target.description} names no TableName`);
  const client =
    target.kind === "local"
      ? new DynamoDBClient({
          endpoint: target.outputs.DynamoDbEndpoint,
          region: "us-east-1",
          credentials: LOCAL_CREDENTIALS,
        })
      : new DynamoDBClient({});
  const db = documentClient(client);
  return {
    users: new DynamoUserStore(db, tableName),
    trace: new DynamoTraceRecords(db, tableName, { now: () => Date.now() }),
    close: () => client.destroy(),
  };
}
