import type { VivoCredential } from "../lib/vendors/credentials.js";
import { VivoSender } from "../lib/vendors/vivo.js";
import { deliverEntry } from "./shared/worker-from-env.js";

/** vivo queue → vivo Push (authToken, pushToList). */
export const handler = deliverEntry(
  "vivo",
  (credentials: VivoCredential[]) => new VivoSender({ credentials }),
);
