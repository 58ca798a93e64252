import { DynamoDeliveryLog } from "../../lib/adapters/dynamodb/delivery-log.js";
import { documentClient } from "../../lib/adapters/dynamodb/table.js";
import { SqsRetryQueue } from "../../lib/adapters/sqs/queues.js";
import { ENV } from "../../lib/config/env-names.js";
import { makeDeliveryWorker } from "../../lib/delivery/worker.js";
import type { Vendor } from "../../lib/model/index.js";
import { systemClock, type VendorSender } from "../../lib/ports/index.js";
import { VENDOR_SETTINGS } from "../../lib/vendors/settings.js";
import { makeDeliverHandler, type Worker } from "./deliver.js";
import { awsClients, userStoreFromEnv } from "./deps.js";
import { ConfigError, lazyAsync, readSecret, requireEnv } from "./env.js";
import { lambdaEntry, logJournal, recordJobMetrics } from "./powertools.js";

/**
 * A vendor worker as deployed: credentials from the vendor's secret (a JSON array of certificates),
 * its own queue for retries and its dead-letter queue. Built once per execution environment, so the
 * sender's connections and auth tokens live across invocations.
 */
export async function workerFromEnv<C>(
  vendor: Vendor,
  makeSender: (credentials: C[]) => VendorSender,
): Promise<Worker> {
  const secretName = requireEnv(ENV.credentialsSecret);
  const credentials = JSON.parse(await readSecret(secretName)) as unknown;
  if (!Array.isArray(credentials) || credentials.length === 0) {
    throw new ConfigError(`secret ${secretName} must hold a non-empty JSON array of ${vendor} credentials`);
  }
  return makeDeliveryWorker({
    sender: makeSender(credentials as C[]),
    devices: userStoreFromEnv(),
    retries: new SqsRetryQueue(
      awsClients().sqs,
      requireEnv(ENV.vendorQueueUrl),
      requireEnv(ENV.vendorDlqUrl),
    ),
    journal: logJournal,
    deliveries: new DynamoDeliveryLog(
      documentClient(awsClients().dynamodb),
      requireEnv(ENV.tableName),
      systemClock,
    ),
    maxAttempts: VENDOR_SETTINGS[vendor].maxAttempts,
  });
}

/**
 * A vendor worker's Lambda entry point: the handler, its worker built from the environment on first
 * use, delivery metrics, and Powertools middleware. `makeSender` is the only vendor-specific part, so
 * each function bundles only its own vendor's client.
 */
export function deliverEntry<C>(vendor: Vendor, makeSender: (credentials: C[]) => VendorSender) {
  return lambdaEntry(
    makeDeliverHandler(
      vendor,
      lazyAsync(() => workerFromEnv<C>(vendor, makeSender)),
      (report) => recordJobMetrics(vendor, report),
    ),
  );
}
