import { ApnsSender } from "../lib/vendors/apns.js";
import type { ApnsCredential } from "../lib/vendors/credentials.js";
import { makeDeliverHandler } from "./shared/deliver.js";
import { lazyAsync } from "./shared/env.js";
import { lambdaEntry, recordJobMetrics } from "./shared/powertools.js";
import { workerFromEnv } from "./shared/worker-from-env.js";

/** APNs queue → Apple, through @parse/node-apn (token auth, HTTP/2). */
export const handler = lambdaEntry(
  makeDeliverHandler(
    "apns",
    lazyAsync(() => workerFromEnv<ApnsCredential>("apns", (credentials) => new ApnsSender({ credentials }))),
    (report) => recordJobMetrics("apns", report),
  ),
);
