import { SqsIngestQueue } from "../lib/adapters/sqs/queues.js";
import { ENV } from "../lib/config/env-names.js";
import { systemClock } from "../lib/ports/index.js";
import { awsClients, userStoreFromEnv } from "./shared/deps.js";
import { readSecret, requireEnv } from "./shared/env.js";
import { makeHttpHandler } from "./shared/http.js";
import { lambdaEntry } from "./shared/powertools.js";
import { adminFromEnv, broadcastsPerDayFromEnv, serverPushFromEnv } from "./shared/server-push.js";

/** Function URL: POST /callback (Tencent Chat), the device API (/v1/...) and Tencent's REST push API (/v4/...). */
export const handler = lambdaEntry(
  makeHttpHandler(() => {
    // Deployed, callback authentication is always on: the function URL is public, so a missing,
    // empty or short token (< 16 characters) refuses every callback instead of accepting unsigned ones.
    const callbackTokenSecret = requireEnv(ENV.callbackTokenSecret);
    const userSigKeySecret = requireEnv(ENV.userSigKeySecret);
    const users = userStoreFromEnv();
    return {
      sdkAppId: requireEnv(ENV.sdkAppId),
      callbackToken: () => readSecret(callbackTokenSecret),
      userSigKey: () => readSecret(userSigKeySecret),
      ingest: new SqsIngestQueue(awsClients().sqs, requireEnv(ENV.ingestQueueUrl)),
      devices: users,
      presence: users,
      preferences: users,
      clock: systemClock,
      // Tencent's REST push API on the same URL, authenticated with the admin's UserSig.
      pushApi: {
        ...serverPushFromEnv(),
        adminIdentifier: adminFromEnv().identifier,
        broadcastsPerDay: broadcastsPerDayFromEnv(),
      },
    };
  }),
);
