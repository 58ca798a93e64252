import { mkdirSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SNSClient } from "@aws-sdk/client-sns";
import { ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import type { LambdaFunctionURLEvent } from "aws-lambda";
import { makeDeliverHandler } from "../functions/shared/deliver.js";
import { makeHttpHandler } from "../functions/shared/http.js";
import { CoalescedDeliveryQueue, makeRouteEventsHandler } from "../functions/shared/route-events.js";
import { DynamoAnswerWindow } from "../lib/adapters/dynamodb/answer-window.js";
import { DynamoCallStore } from "../lib/adapters/dynamodb/call-store.js";
import { DynamoDeliveryLog } from "../lib/adapters/dynamodb/delivery-log.js";
import { DynamoEventClaims } from "../lib/adapters/dynamodb/event-claims.js";
import { DynamoGroupStore } from "../lib/adapters/dynamodb/group-store.js";
import { DynamoPushProfiles } from "../lib/adapters/dynamodb/push-profiles.js";
import { DynamoPushTasks } from "../lib/adapters/dynamodb/push-tasks.js";
import { DynamoQuotaGates } from "../lib/adapters/dynamodb/quota-gates.js";
import {
  documentClient,
  ensureTable,
  expireInProgressRecords,
  IDEMPOTENCY_TABLE_KEYS,
} from "../lib/adapters/dynamodb/table.js";
import { DynamoTraceRecords } from "../lib/adapters/dynamodb/trace-records.js";
import { DynamoUserStore } from "../lib/adapters/dynamodb/user-store.js";
import { SnsDeliveryEvents } from "../lib/adapters/sns/delivery-events.js";
import { SqsCallExpiryQueue } from "../lib/adapters/sqs/call-expiry-queue.js";
import { SqsServerPushQueue } from "../lib/adapters/sqs/push-queue.js";
import {
  REASON_ATTRIBUTE,
  SqsDeliveryQueue,
  SqsFanoutQueue,
  SqsIngestQueue,
  SqsRetryQueue,
} from "../lib/adapters/sqs/queues.js";
import { ENV } from "../lib/config/env-names.js";
import { parseCircuitBreaker, parseTokenBreaker } from "../lib/delivery/breaker-settings.js";
import { makeDeliveryWorker } from "../lib/delivery/worker.js";
import { loggableError, safeForLog } from "../lib/http/log-safety.js";
import type { DeliveryJob, Vendor } from "../lib/model/index.js";
import { bodyJobs, isVendor } from "../lib/model/index.js";
import type { Journal, JournalEntry, VendorSender } from "../lib/ports/index.js";
import { systemClock } from "../lib/ports/index.js";
import type { ServerPushDeps } from "../lib/push-api/ports.js";
import { countTaskOutcomes } from "../lib/push-api/task-outcomes.js";
import { makeRouter } from "../lib/routing/router.js";
import { type Language, parseLanguage } from "../lib/routing/texts.js";
import { TencentRestClient } from "../lib/tencent/rest-client.js";
import { assertCallbackToken } from "../lib/tencent/sign.js";
import { tracingJournal } from "../lib/trace/routing-trace.js";
import { ApnsSender } from "../lib/vendors/apns.js";
import type { CredentialsByVendor } from "../lib/vendors/credentials.js";
import { FcmSender } from "../lib/vendors/fcm.js";
import {
  ACTIVE_VENDORS,
  credentialKeyOf,
  pacingFor,
  parseVendorQps,
  VENDOR_SETTINGS,
  workerConcurrency,
} from "../lib/vendors/settings.js";
import { ANDROID_VENDORS, type AndroidVendor, LOCAL_ANDROID_VENDORS } from "./android-vendors.js";
import { simulatorCredentials } from "./credentials.js";
import {
  type CallCounts,
  createQueuePair,
  localClientConfig,
  type QueuePair,
  startDynamo,
  startSqs,
} from "./emulators.js";
import { pageAsset, registeredDevices } from "./page/serve.js";
import { startApnsSimulator } from "./simulators/apns.js";
import { withDisplay } from "./simulators/display.js";
import { startFcmSimulator } from "./simulators/fcm.js";
import { type FaultRule, SimulatorHub } from "./simulators/hub.js";
import { startTencentRestSimulator, type TencentRestSimulator } from "./simulators/tencent-rest.js";
import { readBody } from "./simulators/wire.js";
import { type SnsServer, startSnsServer } from "./sns-server.js";
import { type SqsEventSource, startSqsEventSource } from "./sqs-event-source.js";

export interface LocalRuntimeOptions {
  sdkAppId: string;
  /** Callback authentication token; undefined = authentication off, as in the console. */
  callbackToken?: string;
  /** The app's UserSig secret key. */
  secretKey: string;
  host?: string;
  /** 0 = any free port. */
  port?: number;
  /** Folder for DynamoDB data and generated credentials; undefined = in memory (tests). */
  dataDir?: string;
  /** Real vendor credentials; undefined = the simulators with generated credentials. */
  credentials?: CredentialsByVendor;
  /** Called for each journal entry (the CLI prints them). */
  onJournal?: (entry: TimedJournalEntry) => void;
  onError?: (error: unknown) => void;
  /** Table and queue name prefix. */
  prefix?: string;
  /** Overrides every vendor's maxAttempts (tests that exhaust retries quickly). */
  maxAttempts?: number;
  /** A file every simulated delivery is appended to as it happens (default: CHATPUSH_RECORD_DELIVERIES). */
  deliveryLog?: string;
  /**
   * Run dynalite on a worker thread (`npm start`), so the pipeline's event loop keeps its core; its
   * `apiCalls()` counts then lag by up to a second. Default false (tests and benchmarks count calls).
   */
  emulatorThreads?: boolean;
  /** Run the vendor workers (default true); the fan-out benchmark measures routing alone. */
  workers?: boolean;
  /**
   * Vendor rates per second as CHATPUSH_VENDOR_QPS takes them (`{"meizu":20}`); default: that
   * variable, else the documented rates. Each local worker paces at its share, as a Lambda container.
   */
  vendorQps?: string;
  /** Token-removal breaker thresholds (CHATPUSH_TOKEN_BREAKER's JSON); default: that variable. */
  tokenBreaker?: string;
  /** Circuit breaker thresholds (CHATPUSH_CIRCUIT_BREAKER's JSON); default: that variable. */
  circuitBreaker?: string;
  /**
   * The notification language of devices that registered no known locale (CHATPUSH_DEFAULT_LOCALE,
   * e.g. "zh-CN"); default English.
   */
  defaultLocale?: string;
  /** The app admin account of Tencent's REST push API (CHATPUSH_ADMIN_IDENTIFIER); default "administrator". */
  adminIdentifier?: string;
  /** The title the admin's messages and pushes show (CHATPUSH_ADMIN_DISPLAY_NAME); default its account id. */
  adminDisplayName?: string;
  /**
   * timpush/push and im_push calls a day (CHATPUSH_PUSH_DAILY_LIMIT). Default 10,000 locally, where
   * replay sends the samples again and again (deployed: Tencent's 100).
   */
  broadcastsPerDay?: number;
  /**
   * Publish the workers' delivery events (delivered, token removed, dead-lettered) to the local SNS
   * server (local/sns-server.ts), served at GET /_local/delivery-events; default true.
   */
  deliveryEvents?: boolean;
}

export interface TimedJournalEntry extends JournalEntry {
  at: string;
}

export interface DeadLetter {
  vendor: Vendor;
  reason?: string;
  job: DeliveryJob;
}

export interface LocalRuntime {
  url: string;
  hub: SimulatorHub;
  journal: TimedJournalEntry[];
  queues: { ingest: QueuePair } & Partial<Record<Vendor, QueuePair>>;
  dynamodbEndpoint: string;
  sqsEndpoint: string;
  /** API calls the DynamoDB and SQS emulators served so far, by operation. */
  apiCalls(): { dynamodb: CallCounts; sqs: CallCounts };
  /** The DynamoDB client the runtime uses (benchmarks seed data with it). */
  dynamodb: DynamoDBClient;
  tableName: string;
  /** Reads (without consuming for long) what is parked in a vendor's dead-letter queue. */
  deadLetters(vendor: Vendor): Promise<DeadLetter[]>;
  /**
   * Tencent's REST API as the router reaches it (portrait_get for unknown senders' nicknames); seed
   * its accounts with `setProfile`, or over HTTP with `PUT /_local/tencent/profiles/{userId}`.
   */
  tencent: TencentRestSimulator;
  /** The local SNS server and the delivery-events topic the workers publish to (unless switched off). */
  deliveryEvents?: { sns: SnsServer; topicArn: string };
  stop(): Promise<void>;
}

const ROUTER_TIMEOUT_SECONDS = 60;
/** After a restart, how long an event the dead process was routing waits before it is routed again. */
const RESTART_GRACE_MS = 20_000;
/** A record that failed is tried again after this (Lambda waits the visibility timeout: 6 min here). */
const LOCAL_RETRY_SECONDS = 10;
/** "Request and response payload: 6 MB" for synchronous invocations (Lambda quotas, limits-and-costs.md §2.1). */
const FUNCTION_URL_MAX_REQUEST_BYTES = 6 * 1024 * 1024;
/** Journal entries `GET /_local/journal` keeps (the newest). */
const KEPT_JOURNAL = 50_000;
const INGEST_MAX_RECEIVES = 5;
const TENCENT_PROFILES = "/_local/tencent/profiles/";

/** CHATPUSH_DEFAULT_LOCALE: a locale whose language the catalogue has, else a clear failure at start. */
function localLanguage(locale: string | undefined): Language | undefined {
  if (locale === undefined || locale.trim() === "") return undefined;
  const language = parseLanguage(locale);
  if (language === undefined) {
    throw new Error(
      `CHATPUSH_DEFAULT_LOCALE must be a zh or en locale (e.g. "zh-CN", "en"), got ${JSON.stringify(locale)}`,
    );
  }
  return language;
}

/**
 * The whole pipeline on one machine: DynamoDB (dynalite) and SQS (local/sqs-server.ts) APIs in-process,
 * the vendor simulators, the same handlers Lambda runs fed the way Lambda's event sources feed them,
 * and an HTTP server with the function URL's routes plus /healthz and /_local/*.
 */
export async function startLocalRuntime(options: LocalRuntimeOptions): Promise<LocalRuntime> {
  const prefix = options.prefix ?? "chatpush";
  // Locally, no token means authentication off (127.0.0.1 only); a token too short to be a secret is refused.
  if (options.callbackToken !== undefined)
    assertCallbackToken(options.callbackToken, "CHATPUSH_CALLBACK_TOKEN");
  if (options.dataDir !== undefined) mkdirSync(options.dataDir, { recursive: true });
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  };

  try {
    const dynamo = await startDynamo(
      options.dataDir === undefined ? undefined : join(options.dataDir, "dynamodb"),
      { thread: options.emulatorThreads === true },
    );
    stops.push(dynamo.close);
    const tableName = `${prefix}-table`;
    await ensureTable(dynamo.client, tableName);
    const users = new DynamoUserStore(documentClient(dynamo.client), tableName);
    const idempotencyTableName = `${prefix}-idempotency`;
    await ensureTable(dynamo.client, idempotencyTableName, IDEMPOTENCY_TABLE_KEYS);
    // Whatever the last process was routing died with it: its events are visible again on the queue.
    // CHATPUSH_RESTART_GRACE_MS shortens the wait (the crash test in npm test).
    const grace = Number(process.env.CHATPUSH_RESTART_GRACE_MS ?? RESTART_GRACE_MS);
    await expireInProgressRecords(
      dynamo.client,
      idempotencyTableName,
      Date.now(),
      Number.isFinite(grace) && grace >= 0 ? grace : RESTART_GRACE_MS,
    );

    const sqs = await startSqs(options.dataDir === undefined ? undefined : join(options.dataDir, "sqs"));
    stops.push(sqs.close);
    const ingestQueue = await createQueuePair(sqs.client, `${prefix}-ingest`, {
      visibilityTimeoutSeconds: 6 * ROUTER_TIMEOUT_SECONDS,
      maxReceiveCount: INGEST_MAX_RECEIVES,
    });
    const queues: LocalRuntime["queues"] = { ingest: ingestQueue };
    for (const vendor of ACTIVE_VENDORS) {
      const settings = VENDOR_SETTINGS[vendor];
      queues[vendor] = await createQueuePair(sqs.client, `${prefix}-${vendor}`, {
        visibilityTimeoutSeconds: 6 * settings.timeoutSeconds,
        maxReceiveCount: settings.maxReceiveCount,
      });
    }

    // CHATPUSH_RECORD_DELIVERIES: also append every simulated delivery to that file (crash/fault suites).
    const hub = new SimulatorHub(undefined, options.deliveryLog ?? process.env.CHATPUSH_RECORD_DELIVERIES);
    // The delivery-events topic, as deployed with -c deliveryEvents=true: the real SNS client, a local server.
    let deliveryEvents: { sns: SnsServer; topicArn: string; publisher: SnsDeliveryEvents } | undefined;
    if (options.deliveryEvents !== false) {
      const sns = await startSnsServer();
      stops.push(() => sns.close());
      const topicArn = sns.createTopic(`${prefix}-delivery-events`);
      const client = new SNSClient(localClientConfig(sns.endpoint, "sns"));
      stops.push(async () => client.destroy());
      deliveryEvents = { sns, topicArn, publisher: new SnsDeliveryEvents(client, topicArn) };
    }
    let credentials = options.credentials;
    if (credentials === undefined) {
      const apnsSim = await startApnsSimulator({ hub });
      stops.push(() => apnsSim.close());
      const fcmSim = await startFcmSimulator({ hub });
      stops.push(() => fcmSim.close());
      const generated = simulatorCredentials(options.dataDir);
      apnsSim.addKey(generated.apnsKey);
      apnsSim.allowTopic(generated.apns.bundleId);
      // PushKit call invitations go to `<bundle>.voip` (the generated .p8 key covers every topic of the app).
      apnsSim.allowTopic(`${generated.apns.bundleId}.voip`);
      fcmSim.addServiceAccount(generated.fcmAccount);
      const android = {} as Pick<CredentialsByVendor, AndroidVendor>;
      for (const vendor of ANDROID_VENDORS) {
        const simulator = await LOCAL_ANDROID_VENDORS[vendor].start(hub);
        stops.push(() => simulator.close());
        const credential = { ...generated.android[vendor], endpoint: { url: simulator.url } };
        simulator.addApp(credential as never);
        android[vendor] = [credential] as never;
      }
      credentials = {
        ...android,
        apns: [
          {
            ...generated.apns,
            endpoint: { production: apnsSim.production, sandbox: apnsSim.sandbox, ca: apnsSim.ca },
          },
        ],
        fcm: [{ ...generated.fcm, endpoint: { url: fcmSim.url, ca: fcmSim.ca } }],
      };
    }

    // The newest KEPT_JOURNAL entries, so a long-running runtime's memory levels off (the soak).
    const journal: TimedJournalEntry[] = [];
    const journalListeners = new Set<(entry: TimedJournalEntry) => void>();
    const journalPort: Journal = {
      record(entry) {
        // The journal is printed line by line: no control character raw, no secret whole.
        const timed = safeForLog({ at: new Date().toISOString(), ...entry });
        journal.push(timed);
        if (journal.length > KEPT_JOURNAL * 1.25) journal.splice(0, journal.length - KEPT_JOURNAL);
        options.onJournal?.(timed);
        for (const listener of journalListeners) listener(timed);
      },
    };
    const onError = (error: unknown) => options.onError?.(loggableError(error));

    const defaultLanguage = localLanguage(options.defaultLocale ?? process.env.CHATPUSH_DEFAULT_LOCALE);
    // Tencent's REST API, simulated: the router asks it for the nicknames it never saw.
    const tencent = await startTencentRestSimulator({
      sdkAppId: Number(options.sdkAppId),
      secretKey: options.secretKey,
    });
    stops.push(() => tencent.close());
    const directory = new TencentRestClient({
      baseUrl: tencent.url,
      sdkAppId: Number(options.sdkAppId),
      adminIdentifier: "administrator",
      secretKey: options.secretKey,
    });

    // Tencent's REST push API on the same URL, its fan-out on the ingest queue like group pages.
    const pushProfiles = new DynamoPushProfiles(documentClient(dynamo.client), tableName);
    const serverPush: ServerPushDeps = {
      profiles: pushProfiles,
      audience: pushProfiles,
      tasks: new DynamoPushTasks(documentClient(dynamo.client), tableName),
      queue: new SqsServerPushQueue(sqs.client, ingestQueue.url),
    };
    const adminIdentifier =
      options.adminIdentifier ?? (process.env.CHATPUSH_ADMIN_IDENTIFIER?.trim() || "administrator");
    const adminDisplayName = options.adminDisplayName ?? process.env.CHATPUSH_ADMIN_DISPLAY_NAME?.trim();
    const dailyLimit = Number(process.env.CHATPUSH_PUSH_DAILY_LIMIT);

    const httpHandler = makeHttpHandler(() => ({
      sdkAppId: options.sdkAppId,
      callbackToken: async () => options.callbackToken,
      userSigKey: async () => options.secretKey,
      ingest: new SqsIngestQueue(sqs.client, ingestQueue.url),
      devices: users,
      presence: users,
      preferences: users,
      clock: systemClock,
      journal: journalPort,
      pushApi: {
        ...serverPush,
        adminIdentifier,
        broadcastsPerDay: options.broadcastsPerDay ?? (dailyLimit > 0 ? dailyLimit : 10_000),
      },
    }));

    const deliveries = new DynamoDeliveryLog(documentClient(dynamo.client), tableName, systemClock);
    // The routing trace `npm run why` reads, as deployed: one packed item per message and batch.
    const routingJournal = tracingJournal(
      journalPort,
      new DynamoTraceRecords(documentClient(dynamo.client), tableName, systemClock),
      systemClock,
      onError,
    );
    const routedJobs = new CoalescedDeliveryQueue(
      new SqsDeliveryQueue(sqs.client, Object.fromEntries(ACTIVE_VENDORS.map((v) => [v, queues[v]!.url]))),
    );
    const eventClaims = new DynamoEventClaims(dynamo.client, idempotencyTableName);
    const router = makeRouter({
      users,
      presence: users,
      profiles: users,
      badges: users,
      directory,
      defaultLanguage,
      groups: new DynamoGroupStore(documentClient(dynamo.client), tableName),
      deliveries,
      fanout: new SqsFanoutQueue(sqs.client, ingestQueue.url),
      queue: routedJobs,
      journal: routingJournal,
      clock: systemClock,
      maxTargetsPerJob: (vendor) => VENDOR_SETTINGS[vendor].maxTargetsPerJob,
      // Calls being rung, and their own expiry at `timeout`: a delayed message on the ingest queue,
      // which the local SQS server delays as SQS does (no sweep of its own).
      calls: {
        store: new DynamoCallStore(documentClient(dynamo.client), tableName, systemClock),
        expiry: new SqsCallExpiryQueue(sqs.client, ingestQueue.url),
      },
      serverPush,
      admin: { identifier: adminIdentifier, ...(adminDisplayName ? { displayName: adminDisplayName } : {}) },
    });
    const sources: SqsEventSource[] = [
      startSqsEventSource({
        sqs: sqs.client,
        queueUrl: ingestQueue.url,
        queueArn: ingestQueue.arn,
        batchSize: 10,
        maxConcurrency: 2,
        functionName: "RouteEvents",
        timeoutSeconds: ROUTER_TIMEOUT_SECONDS,
        retryFailedAfterSeconds: LOCAL_RETRY_SECONDS,
        // As deployed (functions/route-events.ts): one claim per event, a batch's jobs sent together.
        handler: makeRouteEventsHandler(
          () => router,
          () => routingJournal.flush(),
          {
            deliveries: routedJobs,
            claims: () => eventClaims,
          },
        ),
        onError,
      }),
    ];

    const senders: Record<Vendor, VendorSender> = {
      apns: new ApnsSender({ credentials: credentials.apns }),
      fcm: new FcmSender({ credentials: credentials.fcm }),
      ...(Object.fromEntries(
        ANDROID_VENDORS.map((vendor) => [vendor, LOCAL_ANDROID_VENDORS[vendor].sender(credentials[vendor])]),
      ) as Record<AndroidVendor, VendorSender>),
    };
    const qps = parseVendorQps(options.vendorQps ?? process.env[ENV.vendorQps], ENV.vendorQps);
    const tokenBreaker = parseTokenBreaker(options.tokenBreaker ?? process.env[ENV.tokenBreaker]);
    const circuitBreaker = parseCircuitBreaker(options.circuitBreaker ?? process.env[ENV.circuitBreaker]);
    const quotaGates = new DynamoQuotaGates(documentClient(dynamo.client), tableName);
    const answers = new DynamoAnswerWindow(documentClient(dynamo.client), tableName);
    for (const vendor of options.workers === false ? [] : ACTIVE_VENDORS) {
      const pair = queues[vendor]!;
      const settings = VENDOR_SETTINGS[vendor];
      // Two workers per vendor locally (enough to overlap, few enough for a laptop), each with its own
      // pacing and circuits as a Lambda container has: each spends its share of the vendor's rate.
      const containers = Math.min(2, workerConcurrency(vendor, qps));
      for (let container = 0; container < containers; container += 1) {
        const vendorWorker = makeDeliveryWorker({
          sender: senders[vendor],
          devices: users,
          retries: new SqsRetryQueue(sqs.client, pair.url, pair.dlqUrl),
          journal: journalPort,
          ledger: deliveries,
          quotaGates,
          answers,
          tokenBreaker,
          circuitBreaker,
          pacing: pacingFor(vendor, qps, containers),
          credentialOf: credentialKeyOf(credentials[vendor] as { certificateId: number }[]),
          maxAttempts: options.maxAttempts ?? settings.maxAttempts,
          ...(deliveryEvents !== undefined ? { events: deliveryEvents.publisher } : {}),
        });
        // Server push jobs count their outcomes per task and stop once it is revoked, as deployed.
        const worker = countTaskOutcomes(vendorWorker, {
          tasks: serverPush.tasks,
          journal: journalPort,
          clock: systemClock,
        });
        sources.push(
          startSqsEventSource({
            sqs: sqs.client,
            queueUrl: pair.url,
            queueArn: pair.arn,
            batchSize: settings.batchSize,
            maxConcurrency: 1,
            handler: makeDeliverHandler(vendor, () => worker),
            functionName: `Deliver-${vendor}`,
            timeoutSeconds: settings.timeoutSeconds,
            onError,
          }),
        );
      }
    }
    stops.push(async () => {
      await Promise.all(sources.map((s) => s.stop()));
      await Promise.all(Object.values(senders).map((s) => s.close()));
    });

    async function deadLetters(vendor: Vendor): Promise<DeadLetter[]> {
      const pair = queues[vendor];
      if (pair === undefined) return [];
      const seen = new Map<string, DeadLetter>();
      const received = new Set<string>();
      for (let round = 0; round < 20; round += 1) {
        const { Messages = [] } = await sqs.client.send(
          new ReceiveMessageCommand({
            QueueUrl: pair.dlqUrl,
            MaxNumberOfMessages: 10,
            VisibilityTimeout: 1,
            MessageAttributeNames: ["All"],
          }),
        );
        const fresh = Messages.filter((m) => !received.has(m.MessageId ?? ""));
        if (fresh.length === 0) break;
        for (const m of fresh) {
          received.add(m.MessageId ?? "");
          const reason = m.MessageAttributes?.[REASON_ATTRIBUTE]?.StringValue;
          // A bundle SQS moved after maxReceiveCount is listed as its jobs.
          bodyJobs(JSON.parse(m.Body ?? "{}")).forEach((job, i) => {
            seen.set(`${m.MessageId ?? ""}#${i}`, {
              vendor,
              job: job as DeliveryJob,
              ...(reason !== undefined ? { reason } : { reason: "moved by SQS after maxReceiveCount" }),
            });
          });
        }
      }
      return [...seen.values()];
    }

    const server = createServer((req, res) => {
      serve(req, res).catch((error) => {
        onError(error);
        if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: "internal error" }));
      });
    });

    async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
      const url = new URL(req.url ?? "/", "http://local");
      // A function URL refuses request payloads over 6 MB before the function runs; so do we.
      if (Number(req.headers["content-length"] ?? 0) > FUNCTION_URL_MAX_REQUEST_BYTES) {
        res.writeHead(413, { "content-type": "application/json", connection: "close" });
        res.end(JSON.stringify({ error: "request payload is larger than 6 MB", field: "body" }));
        return;
      }
      const body = await readBody(req);
      const send = (status: number, value?: unknown): undefined => {
        res.writeHead(status, value === undefined ? {} : { "content-type": "application/json" });
        res.end(value === undefined ? undefined : JSON.stringify(value));
      };
      const route = `${req.method} ${url.pathname}`;
      switch (route) {
        case "GET /healthz":
          return send(200, { status: "ok" });
        case "GET /_local/deliveries":
          return send(200, hub.list().map(withDisplay));
        case "GET /_local/devices":
          // The local page maps deliveries' tokens to phones; only this local route lists tokens.
          return send(200, await registeredDevices(documentClient(dynamo.client), tableName, users));
        case "DELETE /_local/deliveries":
          hub.clear();
          return send(204);
        case "GET /_local/stats": {
          const memory = process.memoryUsage();
          return send(200, {
            rssBytes: memory.rss,
            heapUsedBytes: memory.heapUsed,
            heapTotalBytes: memory.heapTotal,
            // Buffers and other memory V8 tracks outside the heap (sockets, LevelDB values, zlib).
            externalBytes: memory.external,
            arrayBuffersBytes: memory.arrayBuffers,
            // dynalite's thread under npm start has its own heap, which heapUsed leaves out.
            ...(dynamo.heapUsedBytes ? { dynamoHeapUsedBytes: dynamo.heapUsedBytes() } : {}),
            ...(dynamo.heapTotalBytes ? { dynamoHeapTotalBytes: dynamo.heapTotalBytes() } : {}),
            deliveriesRecorded: hub.total(),
            journalKept: journal.length,
          });
        }
        case "GET /_local/stream":
          return stream(req, res);
        case "GET /_local/ops":
          // Where the operations scripts (redrive, why, doctor) find this runtime's queues and table.
          return send(200, {
            sqsEndpoint: sqs.endpoint,
            dynamodbEndpoint: dynamo.endpoint,
            tableName,
            queues: Object.fromEntries(
              Object.entries(queues).map(([name, pair]) => [name, { url: pair!.url, dlqUrl: pair!.dlqUrl }]),
            ),
          });
        case "GET /_local/credentials":
          // What the workers here send with (the simulators' generated credentials, or
          // CHATPUSH_CREDENTIALS_FILE's): `npm run doctor` checks these. Local only: it holds secrets.
          return send(200, credentials);
        case "GET /_local/journal":
          return send(200, journal);
        case "GET /_local/delivery-events":
          // What the delivery-events topic received, oldest first: each message with its events.
          return send(
            200,
            (deliveryEvents?.sns.received(deliveryEvents.topicArn) ?? []).map((m) => ({
              messageId: m.messageId,
              receivedAt: new Date(m.at).toISOString(),
              attributes: m.attributes,
              ...(JSON.parse(m.message) as object),
            })),
          );
        case "DELETE /_local/delivery-events":
          deliveryEvents?.sns.clear();
          return send(204);
        case "DELETE /_local/journal":
          journal.length = 0;
          return send(204);
        case "POST /_local/faults":
          return addFault(body, send);
        case "DELETE /_local/faults":
          hub.clearFaults();
          return send(204);
      }
      const asset = req.method === "GET" ? await pageAsset(url.pathname) : undefined;
      if (asset !== undefined) {
        res.writeHead(200, { "content-type": asset.type, "cache-control": "no-cache" });
        res.end(asset.body);
        return;
      }
      if (req.method === "PUT" && url.pathname.startsWith(TENCENT_PROFILES)) {
        return setTencentProfile(decodeURIComponent(url.pathname.slice(TENCENT_PROFILES.length)), body, send);
      }
      if (req.method === "GET" && url.pathname.startsWith("/_local/dead-letters/")) {
        const vendor = url.pathname.slice("/_local/dead-letters/".length);
        if (!isVendor(vendor)) return send(404, { error: `unknown vendor ${vendor}` });
        return send(200, await deadLetters(vendor));
      }
      const result = await httpHandler(toFunctionUrlEvent(req, url, body));
      res.writeHead(result.statusCode, result.headers);
      res.end(result.body);
    }

    /**
     * Server-sent events: every delivery a simulator records and every journal entry, as they happen
     * (the local page and the soak watch this instead of polling the bounded lists).
     */
    function stream(req: IncomingMessage, res: ServerResponse): undefined {
      res.writeHead(200, {
        "content-type": "text/event-stream",
        "cache-control": "no-cache",
        connection: "keep-alive",
      });
      res.write(": chatpush local stream\n\n");
      const write = (event: string, data: unknown) =>
        res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      const offDelivery = hub.onDelivery((delivery) => write("delivery", withDisplay(delivery)));
      const onJournal = (entry: TimedJournalEntry) => write("journal", entry);
      journalListeners.add(onJournal);
      req.once("close", () => {
        offDelivery();
        journalListeners.delete(onJournal);
      });
      return undefined;
    }

    /** `PUT /_local/tencent/profiles/{userId}` `{"nick": "…"}`: an account as Tencent's directory knows it. */
    function setTencentProfile(
      userId: string,
      body: string,
      send: (status: number, value?: unknown) => undefined,
    ): undefined {
      let profile: { nick?: unknown };
      try {
        profile = JSON.parse(body) as { nick?: unknown };
      } catch {
        return send(400, { error: "body is not valid JSON", field: "body" });
      }
      if (userId === "") return send(400, { error: "userId is missing", field: "userId" });
      if (profile.nick !== undefined && typeof profile.nick !== "string")
        return send(400, { error: "nick must be a string", field: "nick" });
      tencent.setProfile(userId, profile.nick === undefined ? {} : { Tag_Profile_IM_Nick: profile.nick });
      return send(204);
    }

    function addFault(body: string, send: (status: number, value?: unknown) => undefined): undefined {
      let rule: Partial<FaultRule>;
      try {
        rule = JSON.parse(body) as Partial<FaultRule>;
      } catch {
        return send(400, { error: "body is not valid JSON", field: "body" });
      }
      if (!isVendor(rule.vendor))
        return send(400, { error: "vendor must be a known vendor", field: "vendor" });
      if (!Number.isInteger(rule.status))
        return send(400, { error: "status must be an HTTP status", field: "status" });
      const count = rule.count ?? 1;
      if (!Number.isInteger(count) || count < 1)
        return send(400, { error: "count must be ≥ 1", field: "count" });
      if (rule.rate !== undefined && !(typeof rule.rate === "number" && rule.rate > 0 && rule.rate <= 1))
        return send(400, { error: "rate must be a number in (0, 1]", field: "rate" });
      if (rule.delayMs !== undefined && !(Number.isInteger(rule.delayMs) && rule.delayMs >= 0))
        return send(400, { error: "delayMs must be a whole number of milliseconds ≥ 0", field: "delayMs" });
      hub.addFault({ ...(rule as FaultRule), count });
      return send(204);
    }

    server.listen(options.port ?? 8787, options.host ?? "127.0.0.1");
    await new Promise<void>((resolve, reject) => {
      server.once("listening", resolve);
      server.once("error", reject);
    });
    stops.unshift(async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    const address = server.address() as AddressInfo;

    return {
      url: `http://${options.host ?? "127.0.0.1"}:${address.port}`,
      hub,
      journal,
      queues,
      dynamodbEndpoint: dynamo.endpoint,
      sqsEndpoint: sqs.endpoint,
      apiCalls: () => ({ dynamodb: dynamo.calls(), sqs: sqs.calls() }),
      dynamodb: dynamo.client,
      tableName,
      deadLetters,
      tencent,
      ...(deliveryEvents !== undefined
        ? { deliveryEvents: { sns: deliveryEvents.sns, topicArn: deliveryEvents.topicArn } }
        : {}),
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** The event a Lambda function URL hands the function (payload format 2.0). */
function toFunctionUrlEvent(req: IncomingMessage, url: URL, body: string): LambdaFunctionURLEvent {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(",") : value;
  }
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams) query[name] = value;
  const now = new Date();
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    queryStringParameters: query,
    body,
    isBase64Encoded: false,
    requestContext: {
      accountId: "anonymous",
      apiId: "local",
      domainName: headers.host ?? "127.0.0.1",
      domainPrefix: "local",
      http: {
        method: req.method ?? "GET",
        path: url.pathname,
        protocol: "HTTP/1.1",
        sourceIp: req.socket.remoteAddress ?? "127.0.0.1",
        userAgent: headers["user-agent"] ?? "",
      },
      requestId: crypto.randomUUID(),
      routeKey: "$default",
      stage: "$default",
      time: now.toISOString(),
      timeEpoch: now.getTime(),
    },
  };
}

export type { Server };
