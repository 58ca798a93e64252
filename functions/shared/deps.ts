import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SQSClient } from "@aws-sdk/client-sqs";
import { documentClient } from "../../lib/adapters/dynamodb/table.js";
import { DynamoUserStore } from "../../lib/adapters/dynamodb/user-store.js";
import { ENV } from "../../lib/config/env-names.js";
import { lazy, optionalPositiveNumber, requireEnv } from "./env.js";

/** AWS clients and the user store, built once per execution environment and shared by every handler. */
export const awsClients = lazy(() => ({
  dynamodb: new DynamoDBClient({}),
  sqs: new SQSClient({}),
}));

export const userStoreFromEnv = lazy(() => {
  const takeoverDays = optionalPositiveNumber(ENV.tokenTakeoverDays);
  return new DynamoUserStore(
    documentClient(awsClients().dynamodb),
    requireEnv(ENV.tableName),
    takeoverDays === undefined ? undefined : takeoverDays * 86_400_000,
  );
});
