import type { FcmCredential } from "../lib/vendors/credentials.js";
import { FcmSender } from "../lib/vendors/fcm.js";
import { deliverEntry } from "./shared/worker-from-env.js";

/** FCM queue → Google, through firebase-admin (HTTP v1). */
export const handler = deliverEntry("fcm", (credentials: FcmCredential[]) => new FcmSender({ credentials }));
