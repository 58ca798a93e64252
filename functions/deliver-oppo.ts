import type { OppoCredential } from "../lib/vendors/credentials.js";
import { OppoSender } from "../lib/vendors/oppo.js";
import { deliverEntry } from "./shared/worker-from-env.js";

/** oppo queue → OPPO Push (auth_token, unicast_batch). */
export const handler = deliverEntry(
  "oppo",
  (credentials: OppoCredential[]) => new OppoSender({ credentials }),
);
