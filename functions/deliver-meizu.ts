import type { MeizuCredential } from "../lib/vendors/credentials.js";
import { MeizuSender } from "../lib/vendors/meizu.js";
import { deliverEntry } from "./shared/worker-from-env.js";

/** meizu queue → Meizu Flyme Push (signed, pushIds). */
export const handler = deliverEntry(
  "meizu",
  (credentials: MeizuCredential[]) => new MeizuSender({ credentials }),
);
