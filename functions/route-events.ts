import { DynamoCallStore } from "../lib/adapters/dynamodb/call-store.js";
import { DynamoDeliveryLog } from "../lib/adapters/dynamodb/delivery-log.js";
import { DynamoEventClaims } from "../lib/adapters/dynamodb/event-claims.js";
import { DynamoGroupStore } from "../lib/adapters/dynamodb/group-store.js";
import { documentClient } from "../lib/adapters/dynamodb/table.js";
import { DEFAULT_TRACE_SECONDS, DynamoTraceRecords } from "../lib/adapters/dynamodb/trace-records.js";
import { SqsCallExpiryQueue } from "../lib/adapters/sqs/call-expiry-queue.js";
import { SqsDeliveryQueue, SqsFanoutQueue } from "../lib/adapters/sqs/queues.js";
import { ENV, vendorQueueEnv } from "../lib/config/env-names.js";
import { type ProfileDirectory, systemClock } from "../lib/ports/index.js";
import { makeRouter } from "../lib/routing/router.js";
import { parseLanguage } from "../lib/routing/texts.js";
import { TencentRestClient } from "../lib/tencent/rest-client.js";
import { tracingJournal } from "../lib/trace/routing-trace.js";
import { ACTIVE_VENDORS, VENDOR_SETTINGS } from "../lib/vendors/settings.js";
import { awsClients, userStoreFromEnv } from "./shared/deps.js";
import {
  ConfigError,
  lazy,
  lazyAsync,
  optionalPositiveNumber,
  readSecret,
  requireEnv,
} from "./shared/env.js";
import { lambdaEntry, logger, logJournal } from "./shared/powertools.js";
import { CoalescedDeliveryQueue, makeRouteEventsHandler } from "./shared/route-events.js";
import { adminFromEnv, DEFAULT_ADMIN_IDENTIFIER, serverPushFromEnv } from "./shared/server-push.js";

/**
 * Tencent's directory for senders whose nickname chatpush never saw, when CHATPUSH_TENCENT_API is set:
 * REST portrait_get as the admin account, its UserSig made from the app's secret key (read from
 * Secrets Manager on first use).
 */
function directoryFromEnv(): ProfileDirectory | undefined {
  const baseUrl = process.env[ENV.tencentApi]?.trim();
  if (!baseUrl) return undefined;
  const client = lazyAsync(
    async () =>
      new TencentRestClient({
        baseUrl,
        sdkAppId: Number(requireEnv(ENV.sdkAppId)),
        adminIdentifier: process.env[ENV.adminIdentifier]?.trim() || DEFAULT_ADMIN_IDENTIFIER,
        secretKey: await readSecret(requireEnv(ENV.userSigKeySecret)),
      }),
  );
  return { nicknames: async (userIds) => (await client()).nicknames(userIds) };
}

function defaultLanguageFromEnv() {
  const locale = process.env[ENV.defaultLocale]?.trim();
  if (!locale) return undefined;
  const language = parseLanguage(locale);
  if (language === undefined)
    throw new ConfigError(`${ENV.defaultLocale} must be a zh or en locale, got ${locale}`);
  return language;
}

/**
 * The router's journal: log lines, and the routing trace `npm run why` reads (one packed item per
 * message and batch, kept CHATPUSH_TRACE_HOURS, default 72), written after each batch.
 */
const journal = lazy(() => {
  const hours = optionalPositiveNumber(ENV.traceHours);
  const records = new DynamoTraceRecords(
    documentClient(awsClients().dynamodb),
    requireEnv(ENV.tableName),
    systemClock,
    hours === undefined ? DEFAULT_TRACE_SECONDS : Math.round(hours * 3600),
  );
  return tracingJournal(logJournal, records, systemClock, (error) =>
    logger.warn("routing trace not written", { error }),
  );
});

/** The vendor queues; the jobs of the records a batch routes at the same time go out together. */
const vendorQueues = lazy(
  () =>
    new SqsDeliveryQueue(
      awsClients().sqs,
      Object.fromEntries(ACTIVE_VENDORS.map((v) => [v, requireEnv(vendorQueueEnv(v))])),
    ),
);
const deliveries = new CoalescedDeliveryQueue({ enqueue: (jobs) => vendorQueues().enqueue(jobs) });

/** Ingest queue → presence, profiles, and per-vendor delivery jobs. */
export const handler = lambdaEntry(
  makeRouteEventsHandler(
    lazy(() => {
      const users = userStoreFromEnv();
      const db = documentClient(awsClients().dynamodb);
      const table = requireEnv(ENV.tableName);
      return makeRouter({
        users,
        presence: users,
        profiles: users,
        badges: users,
        directory: directoryFromEnv(),
        defaultLanguage: defaultLanguageFromEnv(),
        groups: new DynamoGroupStore(db, table),
        deliveries: new DynamoDeliveryLog(db, table, systemClock),
        queue: deliveries,
        // Fan-out pages go back onto the ingest queue this function consumes.
        fanout: new SqsFanoutQueue(awsClients().sqs, requireEnv(ENV.ingestQueueUrl)),
        // Calls ring once per invitee and end on cancel / answer / timeout; the ring's own expiry is
        // a delayed message on the same ingest queue.
        calls: {
          store: new DynamoCallStore(db, table, systemClock),
          expiry: new SqsCallExpiryQueue(awsClients().sqs, requireEnv(ENV.ingestQueueUrl)),
        },
        journal: journal(),
        clock: systemClock,
        maxTargetsPerJob: (vendor) => VENDOR_SETTINGS[vendor].maxTargetsPerJob,
        pushOnlineOnlyGroups: process.env[ENV.pushOnlineOnlyGroups] === "true",
        serverPush: serverPushFromEnv(),
        admin: adminFromEnv(),
      });
    }),
    () => journal().flush(),
    {
      deliveries,
      // Events are claimed (one write each) rather than wrapped in Powertools idempotency (two).
      claims: lazy(() => new DynamoEventClaims(awsClients().dynamodb, requireEnv(ENV.idempotencyTableName))),
    },
  ),
);
