import { DynamoDBPersistenceLayer } from "@aws-lambda-powertools/idempotency/dynamodb";
import { DynamoDeliveryLog } from "../lib/adapters/dynamodb/delivery-log.js";
import { DynamoGroupStore } from "../lib/adapters/dynamodb/group-store.js";
import { documentClient } from "../lib/adapters/dynamodb/table.js";
import { SqsDeliveryQueue, SqsFanoutQueue } from "../lib/adapters/sqs/queues.js";
import { ENV, vendorQueueEnv } from "../lib/config/env-names.js";
import { systemClock } from "../lib/ports/index.js";
import { makeRouter } from "../lib/routing/router.js";
import { ACTIVE_VENDORS, VENDOR_SETTINGS } from "../lib/vendors/settings.js";
import { awsClients, userStoreFromEnv } from "./shared/deps.js";
import { lazy, requireEnv } from "./shared/env.js";
import { lambdaEntry, logJournal } from "./shared/powertools.js";
import { makeRouteEventsHandler } from "./shared/route-events.js";

/** Ingest queue → presence, profiles, and per-vendor delivery jobs. */
export const handler = lambdaEntry(
  makeRouteEventsHandler(
    lazy(() => {
      const users = userStoreFromEnv();
      const queueUrls = Object.fromEntries(ACTIVE_VENDORS.map((v) => [v, requireEnv(vendorQueueEnv(v))]));
      const db = documentClient(awsClients().dynamodb);
      const table = requireEnv(ENV.tableName);
      return makeRouter({
        users,
        presence: users,
        profiles: users,
        groups: new DynamoGroupStore(db, table),
        deliveries: new DynamoDeliveryLog(db, table, systemClock),
        queue: new SqsDeliveryQueue(awsClients().sqs, queueUrls),
        // Fan-out pages go back onto the ingest queue this function consumes.
        fanout: new SqsFanoutQueue(awsClients().sqs, requireEnv(ENV.ingestQueueUrl)),
        journal: logJournal,
        clock: systemClock,
        maxTargetsPerJob: (vendor) => VENDOR_SETTINGS[vendor].maxTargetsPerJob,
        pushOnlineOnlyGroups: process.env[ENV.pushOnlineOnlyGroups] === "true",
      });
    }),
    lazy(
      () =>
        new DynamoDBPersistenceLayer({
          tableName: requireEnv(ENV.idempotencyTableName),
          awsSdkV3Client: awsClients().dynamodb,
        }),
    ),
  ),
);
