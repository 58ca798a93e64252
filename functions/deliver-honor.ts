import type { HonorCredential } from "../lib/vendors/credentials.js";
import { HonorSender } from "../lib/vendors/honor.js";
import { deliverEntry } from "./shared/worker-from-env.js";

/** honor queue → Honor Push (OAuth, token arrays). */
export const handler = deliverEntry(
  "honor",
  (credentials: HonorCredential[]) => new HonorSender({ credentials }),
);
