import type { HuaweiCredential } from "../lib/vendors/credentials.js";
import { HuaweiSender } from "../lib/vendors/huawei.js";
import { deliverEntry } from "./shared/worker-from-env.js";

/** huawei queue → Huawei Push Kit (OAuth, token arrays of 1000). */
export const handler = deliverEntry(
  "huawei",
  (credentials: HuaweiCredential[]) => new HuaweiSender({ credentials }),
);
