import type { XiaomiCredential } from "../lib/vendors/credentials.js";
import { XiaomiSender } from "../lib/vendors/xiaomi.js";
import { deliverEntry } from "./shared/worker-from-env.js";

/** xiaomi queue → Mi Push (comma-separated regIds). */
export const handler = deliverEntry(
  "xiaomi",
  (credentials: XiaomiCredential[]) => new XiaomiSender({ credentials }),
);
