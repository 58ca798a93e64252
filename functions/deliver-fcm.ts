import type { FcmCredential } from "../lib/vendors/credentials.js";
import { FcmSender } from "../lib/vendors/fcm.js";
import { makeDeliverHandler } from "./shared/deliver.js";
import { lazyAsync } from "./shared/env.js";
import { lambdaEntry, recordJobMetrics } from "./shared/powertools.js";
import { workerFromEnv } from "./shared/worker-from-env.js";

/** FCM queue → Google, through firebase-admin (HTTP v1). */
export const handler = lambdaEntry(
  makeDeliverHandler(
    "fcm",
    lazyAsync(() => workerFromEnv<FcmCredential>("fcm", (credentials) => new FcmSender({ credentials }))),
    (report) => recordJobMetrics("fcm", report),
  ),
);
