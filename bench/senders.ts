/**
 * `npm run bench:senders` (issue 10 item 5): chatpush's APNs and FCM senders, and one worker
 * invocation of each, against the local fakes at 0, 20 and 100 ms added latency, next to
 * `@parse/node-apn` and `firebase-admin` used plainly. Prints sends/s, sessions, peak memory and CPU
 * per configuration and the ratios issue 10 sets targets for:
 * - APNs at 100 ms ≥ 2× node-apn's best chunking, at 20 ms ≥ 1.3×;
 * - FCM at 100 ms ≥ 5× firebase-admin sendEach one batch at a time and ≥ 1.5× four batches in flight;
 * - one worker invocation (10 jobs × 500 targets) ≥ 80% of the bare sender's rate.
 *
 * The worker invocation is the deployed path: the vendor function's SQS batch handler
 * (functions/shared/deliver.ts) over the real worker (lib/delivery/worker.ts: gates, the send guard
 * and the packed job record written to DynamoDB, task counting; unpaced, see `pacingNote`), against
 * dynalite in a child process (DynamoDB is remote to a Lambda; in-process it would bill the worker
 * dynalite's CPU). The simulators run in child processes too (bench/senders-apns.ts, senders-fcm.ts).
 *
 * A benchmark, not a test. Every configuration runs `rounds` times interleaved with the others and
 * keeps its fastest run, so a neighbour's burst of CPU on a shared machine costs one round, not the
 * figure. `--quick`: 5,000 tokens, one round, node-apn at 500 and 1,000 only (about a minute).
 * Default: 10,000 tokens, two rounds, node-apn at 500 and 1,000 (chunks of 100 are never its best
 * and take 25 s a run at 100 ms; `npm run bench:senders:apns` still runs them). Options:
 * `--tokens N`, `--rounds N`, `--latencies 0,20,100`, `--only apns|fcm`.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
// The worker's journal logs as deployed (routine stages at DEBUG, so nothing in the happy path).
process.env.POWERTOOLS_LOG_LEVEL ??= "INFO";

import { type ChildProcess, fork } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { availableParallelism, loadavg } from "node:os";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { SQSEvent, SQSRecord } from "aws-lambda";
import { makeDeliverHandler } from "../functions/shared/deliver.js";
import { logJournal } from "../functions/shared/powertools.js";
import { DynamoAnswerWindow } from "../lib/adapters/dynamodb/answer-window.js";
import { DynamoDeliveryLog } from "../lib/adapters/dynamodb/delivery-log.js";
import { DynamoPushTasks } from "../lib/adapters/dynamodb/push-tasks.js";
import { DynamoQuotaGates } from "../lib/adapters/dynamodb/quota-gates.js";
import { documentClient, ensureTable } from "../lib/adapters/dynamodb/table.js";
import { DynamoUserStore } from "../lib/adapters/dynamodb/user-store.js";
import { makeDeliveryWorker } from "../lib/delivery/worker.js";
import type { DeliveryJob, DeliveryTarget, Notification, Vendor } from "../lib/model/index.js";
import { systemClock, type VendorSender } from "../lib/ports/index.js";
import { countTaskOutcomes } from "../lib/push-api/task-outcomes.js";
import { ApnsSender } from "../lib/vendors/apns.js";
import { FcmSender } from "../lib/vendors/fcm.js";
import { credentialKeyOf, pacingFor, VENDOR_SETTINGS, workerConcurrency } from "../lib/vendors/settings.js";
import { startDynamo } from "../local/emulators.js";
import * as apnsBench from "./senders-apns.js";
import * as fcmBench from "./senders-fcm.js";

const DYNAMO_FLAG = "--dynamo-child";
const TABLE = "bench-senders";
const LOCAL_CREDENTIALS = { accessKeyId: "local", secretAccessKey: "local" };

interface Configuration {
  name: string;
  setUp(): Promise<{ run: (tokens: readonly string[]) => Promise<void>; tearDown(): Promise<void> }>;
}

/** dynalite in a child process; its endpoint, and a way to stop it. */
async function startChildDynamo(): Promise<{ endpoint: string; stop(): void }> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [DYNAMO_FLAG], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const endpoint = await new Promise<string>((resolve, reject) => {
    child.once("message", (message) => resolve(String((message as { endpoint: string }).endpoint)));
    child.once("exit", (code) => reject(new Error(`dynalite child exited with ${code}`)));
  });
  return { endpoint, stop: () => child.kill() };
}

async function serveDynamo(): Promise<void> {
  const dynamo = await startDynamo();
  await ensureTable(dynamo.client, TABLE);
  process.send?.({ endpoint: dynamo.endpoint });
  process.on("disconnect", () => {
    void dynamo.close().then(() => process.exit(0));
  });
}

/** An SQS record as Lambda hands it to the function, carrying one delivery job. */
function recordOf(job: DeliveryJob, queue: string): SQSRecord {
  return {
    messageId: randomUUID(),
    receiptHandle: randomUUID(),
    body: JSON.stringify(job),
    attributes: {
      ApproximateReceiveCount: "1",
      SentTimestamp: String(Date.now()),
      SenderId: "bench",
      ApproximateFirstReceiveTimestamp: String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: "",
    eventSource: "aws:sqs",
    eventSourceARN: `arn:aws:sqs:us-east-1:000000000000:${queue}`,
    awsRegion: "us-east-1",
  };
}

/**
 * One worker invocation per 10 jobs × 500 targets, through the vendor function's handler. Each run
 * is a new message (its own messageKey), so the send guard finds no record and sends: a second
 * round of the same jobs would only be settled as recorded.
 */
function workerConfiguration(opts: {
  vendor: Extract<Vendor, "apns" | "fcm">;
  endpoint: string;
  credentials: { certificateId: number; isDefault?: boolean }[];
  makeSender: () => VendorSender;
  notification: Notification;
  targetsOf: (tokens: readonly string[]) => DeliveryTarget[];
  warmUpTokens: () => string[];
}): Configuration {
  const { vendor } = opts;
  return {
    name: `${apnsBench.WORKER_PREFIX}, 10 jobs × 500 in one invocation (guard, record)`,
    async setUp() {
      const client = new DynamoDBClient({
        endpoint: opts.endpoint,
        region: "us-east-1",
        credentials: LOCAL_CREDENTIALS,
      });
      const db = documentClient(client);
      const sender = opts.makeSender();
      const worker = countTaskOutcomes(
        makeDeliveryWorker({
          sender,
          devices: new DynamoUserStore(db, TABLE),
          // Every push is accepted by the fakes: nothing is retried or parked.
          retries: {
            retry: async () => {
              throw new Error("bench: unexpected retry");
            },
            deadLetter: async (_, reason) => {
              throw new Error(`bench: unexpected dead letter: ${reason}`);
            },
          },
          journal: logJournal,
          ledger: new DynamoDeliveryLog(db, TABLE, systemClock),
          quotaGates: new DynamoQuotaGates(db, TABLE),
          answers: new DynamoAnswerWindow(db, TABLE),
          // Unpaced: the sender's own rate is what is compared. As deployed, each container gets its
          // share of the vendor's rate (FCM: 10,000/s over 50 containers = 200/s each), which caps
          // one invocation far below it by design (`pacingNote`).
          credentialOf: credentialKeyOf(opts.credentials),
          maxAttempts: VENDOR_SETTINGS[vendor].maxAttempts,
        }),
        { tasks: new DynamoPushTasks(db, TABLE), journal: logJournal, clock: systemClock },
      );
      const handler = makeDeliverHandler(vendor, () => worker);
      const invoke = async (tokens: readonly string[]) => {
        const notification = { ...opts.notification, messageKey: `bench_${randomUUID()}` };
        const jobs = apnsBench.chunks(opts.targetsOf(tokens), apnsBench.JOB_TARGETS);
        const event: SQSEvent = {
          Records: jobs.map((targets) =>
            recordOf(
              { version: 1, vendor, notification, targets, attempt: 0, acceptedAt: Date.now() },
              `chatpush-${vendor}`,
            ),
          ),
        };
        const { batchItemFailures } = await handler(event);
        if (batchItemFailures.length > 0) {
          throw new Error(`bench: ${batchItemFailures.length} records failed in one invocation`);
        }
      };
      // A warm container: its sessions and tokens come from an earlier invocation.
      await invoke(opts.warmUpTokens());
      return {
        async run(tokens) {
          const perInvocation = apnsBench.JOB_TARGETS * apnsBench.LAMBDA_BATCH_JOBS;
          for (const batch of apnsBench.chunks(tokens, perInvocation)) await invoke(batch);
        },
        async tearDown() {
          await sender.close();
          client.destroy();
        },
      };
    },
  };
}

/** What the deployed pacing allows one container (lib/vendors/settings.ts pacingFor). */
function pacingNote(vendor: Extract<Vendor, "apns" | "fcm">): string {
  const containers = workerConcurrency(vendor, {});
  const share = pacingFor(vendor, {}, containers).limitOf("default");
  return share === undefined
    ? `${vendor}: the deployed worker is not paced (no documented rate); up to ${containers} containers`
    : `${vendor}: the deployed worker paces each of its ${containers} containers at ${share.perSecond}/s (the vendor's rate shared); the invocation above runs unpaced`;
}

/**
 * The client, the simulator and dynalite share the machine's cores: a load above the core count
 * (other processes) slows every configuration, and the latency-bound ones (node-apn, sendEach) least,
 * so the ratios read low then.
 */
function machine(): string {
  const [one, five] = loadavg();
  return `${availableParallelism()} cores, load average ${one!.toFixed(1)} (1 min) ${five!.toFixed(1)} (5 min), node ${process.version}`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: "boolean", default: false },
      tokens: { type: "string" },
      rounds: { type: "string" },
      latencies: { type: "string" },
      only: { type: "string" },
    },
  });
  const quick = values.quick === true;
  const tokens = Number(values.tokens ?? (quick ? 5_000 : 10_000));
  const rounds = Number(values.rounds ?? (quick ? 1 : 2));
  const latenciesMs = (values.latencies ?? "0,20,100").split(",").map(Number);
  const started = performance.now();
  const dynamo = await startChildDynamo();
  let failed = false;
  try {
    console.log(
      `bench:senders — ${tokens.toLocaleString("en")} distinct tokens per run, best of ${rounds} round(s), latencies ${latenciesMs.join("/")} ms${quick ? " (--quick)" : ""}`,
    );
    console.log(`${machine()}\n`);
    if (values.only === undefined || values.only === "apns") {
      const rows = await apnsBench.benchApns({
        latenciesMs,
        tokens,
        rounds,
        nodeApnChunks: [500, 1000],
        extra: (credential) => [
          workerConfiguration({
            vendor: "apns",
            endpoint: dynamo.endpoint,
            credentials: [credential],
            makeSender: () => new ApnsSender({ credentials: [credential] }),
            notification: apnsBench.NOTIFICATION,
            targetsOf: (list) =>
              list.map((token, i) => ({
                userId: `u${i}`,
                deviceId: `d${i}`,
                token,
                environment: "production",
              })),
            warmUpTokens: () =>
              Array.from({ length: apnsBench.JOB_TARGETS * apnsBench.LAMBDA_BATCH_JOBS }, () =>
                randomBytes(32).toString("hex"),
              ),
          }),
        ],
      });
      console.log(apnsBench.formatApnsBench(rows));
      console.log(pacingNote("apns"));
      console.log();
      failed ||= rows.some((r) => r.delivered !== r.sends && !r.configuration.startsWith("@parse"));
    }
    if (values.only === undefined || values.only === "fcm") {
      const rows = await fcmBench.benchFcm({
        latenciesMs,
        tokens,
        rounds,
        extra: (credential) => [
          workerConfiguration({
            vendor: "fcm",
            endpoint: dynamo.endpoint,
            credentials: [credential],
            makeSender: () => new FcmSender({ credentials: [credential] }),
            notification: fcmBench.NOTIFICATION,
            targetsOf: (list) => list.map((token, i) => ({ userId: `u${i}`, deviceId: `d${i}`, token })),
            warmUpTokens: () => ["warm-up"],
          }),
        ],
      });
      console.log(fcmBench.formatFcmBench(rows));
      console.log(pacingNote("fcm"));
      console.log();
      failed ||= rows.some((r) => r.delivered !== r.sends);
    }
    console.log(`bench:senders took ${Math.round((performance.now() - started) / 1000)} s; ${machine()}`);
  } finally {
    dynamo.stop();
  }
  process.exit(failed ? 1 : 0);
}

const invokedAs = process.argv[1] === undefined ? undefined : pathToFileURL(process.argv[1]).href;
if (process.argv[2] === DYNAMO_FLAG) {
  await serveDynamo();
} else if (invokedAs === import.meta.url) {
  await main();
}
