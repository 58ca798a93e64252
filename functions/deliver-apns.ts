import { ApnsSender } from "../lib/vendors/apns.js";
import type { ApnsCredential } from "../lib/vendors/credentials.js";
import { deliverEntry } from "./shared/worker-from-env.js";

/** APNs queue → Apple, through @parse/node-apn (token auth, HTTP/2). */
export const handler = deliverEntry(
  "apns",
  (credentials: ApnsCredential[]) => new ApnsSender({ credentials }),
);
