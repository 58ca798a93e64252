import { DynamoPushProfiles } from "../../lib/adapters/dynamodb/push-profiles.js";
import { DynamoPushTasks } from "../../lib/adapters/dynamodb/push-tasks.js";
import { documentClient } from "../../lib/adapters/dynamodb/table.js";
import { SqsServerPushQueue } from "../../lib/adapters/sqs/push-queue.js";
import { ENV } from "../../lib/config/env-names.js";
import type { ServerPushDeps } from "../../lib/push-api/ports.js";
import { awsClients } from "./deps.js";
import { lazy, optionalPositiveNumber, requireEnv } from "./env.js";

/** Tencent's default app admin account (tencent-chat.md §5.1: `identifier` must be an app admin). */
export const DEFAULT_ADMIN_IDENTIFIER = "administrator";

/**
 * The stores and queue behind Tencent's REST push API, as the HTTP function (the API), the router (the
 * fan-out) and the vendor workers (task counts) build them: the table and the ingest queue.
 */
export const serverPushFromEnv = lazy((): ServerPushDeps => {
  const db = documentClient(awsClients().dynamodb);
  const table = requireEnv(ENV.tableName);
  const profiles = new DynamoPushProfiles(db, table);
  return {
    profiles,
    audience: profiles,
    tasks: new DynamoPushTasks(db, table),
    queue: new SqsServerPushQueue(awsClients().sqs, requireEnv(ENV.ingestQueueUrl)),
  };
});

/** CHATPUSH_ADMIN_IDENTIFIER and CHATPUSH_ADMIN_DISPLAY_NAME. */
export function adminFromEnv(env: NodeJS.ProcessEnv = process.env): {
  identifier: string;
  displayName?: string;
} {
  const identifier = env[ENV.adminIdentifier]?.trim() || DEFAULT_ADMIN_IDENTIFIER;
  const displayName = env[ENV.adminDisplayName]?.trim();
  return displayName ? { identifier, displayName } : { identifier };
}

/** CHATPUSH_PUSH_DAILY_LIMIT, when set. */
export function broadcastsPerDayFromEnv(): number | undefined {
  return optionalPositiveNumber(ENV.pushDailyLimit);
}
