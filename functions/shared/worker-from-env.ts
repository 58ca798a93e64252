import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { SNSClient } from "@aws-sdk/client-sns";
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { DynamoAnswerWindow } from "../../lib/adapters/dynamodb/answer-window.js";
import { DynamoDeliveryLog } from "../../lib/adapters/dynamodb/delivery-log.js";
import { DynamoPushTasks } from "../../lib/adapters/dynamodb/push-tasks.js";
import { DynamoQuotaGates } from "../../lib/adapters/dynamodb/quota-gates.js";
import { documentClient } from "../../lib/adapters/dynamodb/table.js";
import { SnsDeliveryEvents } from "../../lib/adapters/sns/delivery-events.js";
import { SqsRetryQueue } from "../../lib/adapters/sqs/queues.js";
import { ENV } from "../../lib/config/env-names.js";
import { parseCircuitBreaker, parseTokenBreaker } from "../../lib/delivery/breaker-settings.js";
import { sumJobReports } from "../../lib/delivery/job-metrics.js";
import { makeDeliveryWorker, type WorkerDeps } from "../../lib/delivery/worker.js";
import type { Vendor } from "../../lib/model/index.js";
import {
  type DeliveryEventPublisher,
  type DeviceStore,
  systemClock,
  type VendorSender,
} from "../../lib/ports/index.js";
import { countTaskOutcomes } from "../../lib/push-api/task-outcomes.js";
import {
  credentialKeyOf,
  pacingFor,
  parseVendorQps,
  VENDOR_SETTINGS,
  workerConcurrency,
} from "../../lib/vendors/settings.js";
import { makeDeliverHandler, type Worker } from "./deliver.js";
import { awsClients, userStoreFromEnv } from "./deps.js";
import { ConfigError, lazyAsync, readSecret, requireEnv } from "./env.js";
import { lambdaEntry, logJournal, metrics, recordJobMetrics } from "./powertools.js";

/** Reads a setting with its parser, turning its complaint into a ConfigError that names the variable. */
function setting<T>(name: string, parse: (value: unknown, name: string) => T): T {
  try {
    return parse(process.env[name], name);
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
}

/** The metric a job's delivery events that could not be published are counted in (namespace chatpush). */
export const DELIVERY_EVENTS_FAILED_METRIC = "DeliveryEventsFailed";

/**
 * The delivery-events topic when the stack has one (CDK context deliveryEvents=true passes its ARN):
 * a publish that fails is counted as DeliveryEventsFailed and rethrown, for the worker to log.
 */
function deliveryEventsFromEnv(): DeliveryEventPublisher | undefined {
  const topicArn = process.env[ENV.deliveryEventsTopicArn]?.trim();
  if (!topicArn) return undefined;
  const publisher = new SnsDeliveryEvents(new SNSClient({}), topicArn);
  return {
    async publish(events) {
      try {
        await publisher.publish(events);
      } catch (error) {
        metrics.addMetric(DELIVERY_EVENTS_FAILED_METRIC, MetricUnit.Count, events.length);
        throw error;
      }
    },
  };
}

/**
 * What a vendor worker is made of once its environment is read: the send guard and recall record,
 * the shared daily-quota gates and token-breaker counts in the table, its own queue for retries and
 * its dead-letter queue. `workerFromEnv` adds the environment's settings; `npm run bench:cost`
 * (bench/support/cost-pipeline.ts) builds the same worker against local emulators, unpaced.
 */
export interface VendorWorkerParts<C extends { certificateId: number; isDefault?: boolean }> {
  vendor: Vendor;
  sender: VendorSender;
  credentials: C[];
  devices: DeviceStore;
  db: DynamoDBDocumentClient;
  table: string;
  sqs: SQSClient;
  queueUrl: string;
  dlqUrl: string;
  settings?: Pick<WorkerDeps, "pacing" | "tokenBreaker" | "circuitBreaker" | "events">;
}

export function vendorWorker<C extends { certificateId: number; isDefault?: boolean }>(
  parts: VendorWorkerParts<C>,
): Worker {
  const { db, table } = parts;
  const worker = makeDeliveryWorker({
    sender: parts.sender,
    devices: parts.devices,
    retries: new SqsRetryQueue(parts.sqs, parts.queueUrl, parts.dlqUrl),
    journal: logJournal,
    ledger: new DynamoDeliveryLog(db, table, systemClock),
    quotaGates: new DynamoQuotaGates(db, table),
    answers: new DynamoAnswerWindow(db, table),
    credentialOf: credentialKeyOf(parts.credentials),
    maxAttempts: VENDOR_SETTINGS[parts.vendor].maxAttempts,
    ...parts.settings,
  });
  // Server push jobs (Tencent REST timpush/*) count their outcomes per task and stop once it is revoked.
  return countTaskOutcomes(worker, {
    tasks: new DynamoPushTasks(db, table),
    journal: logJournal,
    clock: systemClock,
  });
}

/**
 * A vendor worker as deployed: credentials from the vendor's secret (a JSON array of certificates),
 * and its share of the vendor's rate: the rate (CHATPUSH_VENDOR_QPS, else documented) divided by the
 * event source's maximum concurrency, which the stack derives from the same rate (VendorChannel).
 * Built once per execution environment, so the sender's connections, auth tokens, pacing and
 * circuits live across invocations.
 */
export async function workerFromEnv<C extends { certificateId: number; isDefault?: boolean }>(
  vendor: Vendor,
  makeSender: (credentials: C[]) => VendorSender,
): Promise<Worker> {
  const secretName = requireEnv(ENV.credentialsSecret);
  const credentials = JSON.parse(await readSecret(secretName)) as unknown;
  if (!Array.isArray(credentials) || credentials.length === 0) {
    throw new ConfigError(`secret ${secretName} must hold a non-empty JSON array of ${vendor} credentials`);
  }
  const qps = setting(ENV.vendorQps, parseVendorQps);
  const events = deliveryEventsFromEnv();
  return vendorWorker({
    vendor,
    sender: makeSender(credentials as C[]),
    credentials: credentials as C[],
    devices: userStoreFromEnv(),
    db: documentClient(awsClients().dynamodb),
    table: requireEnv(ENV.tableName),
    sqs: awsClients().sqs,
    queueUrl: requireEnv(ENV.vendorQueueUrl),
    dlqUrl: requireEnv(ENV.vendorDlqUrl),
    settings: {
      tokenBreaker: setting(ENV.tokenBreaker, parseTokenBreaker),
      circuitBreaker: setting(ENV.circuitBreaker, parseCircuitBreaker),
      pacing: pacingFor(vendor, qps, workerConcurrency(vendor, qps)),
      ...(events !== undefined ? { events } : {}),
    },
  });
}

/** A vendor worker's SQS handler with Powertools middleware and one metrics line per invocation. */
export function vendorDeliverHandler(vendor: Vendor, worker: () => Worker | Promise<Worker>) {
  return lambdaEntry(
    makeDeliverHandler(vendor, worker, (reports) => recordJobMetrics(vendor, sumJobReports(reports))),
  );
}

/**
 * A vendor worker's Lambda entry point: the handler, its worker built from the environment on first
 * use, delivery metrics, and Powertools middleware. `makeSender` is the only vendor-specific part, so
 * each function bundles only its own vendor's client.
 */
export function deliverEntry<C extends { certificateId: number; isDefault?: boolean }>(
  vendor: Vendor,
  makeSender: (credentials: C[]) => VendorSender,
) {
  return vendorDeliverHandler(
    vendor,
    lazyAsync(() => workerFromEnv<C>(vendor, makeSender)),
  );
}
