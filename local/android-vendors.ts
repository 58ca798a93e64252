import type { Vendor } from "../lib/model/index.js";
import type { VendorSender } from "../lib/ports/index.js";
import type { AndroidVendorCredentialBase } from "../lib/vendors/credentials.js";
import { HonorSender } from "../lib/vendors/honor.js";
import { HuaweiSender } from "../lib/vendors/huawei.js";
import { MeizuSender } from "../lib/vendors/meizu.js";
import { OppoSender } from "../lib/vendors/oppo.js";
import { VivoSender } from "../lib/vendors/vivo.js";
import { XiaomiSender } from "../lib/vendors/xiaomi.js";
import { generateHonorCredential, startHonorSimulator } from "./simulators/honor.js";
import { generateHuaweiCredential, startHuaweiSimulator } from "./simulators/huawei.js";
import type { SimulatorHub } from "./simulators/hub.js";
import { generateMeizuCredential, startMeizuSimulator } from "./simulators/meizu.js";
import { generateOppoCredential, startOppoSimulator } from "./simulators/oppo.js";
import { generateVivoCredential, startVivoSimulator } from "./simulators/vivo.js";
import { generateXiaomiCredential, startXiaomiSimulator } from "./simulators/xiaomi.js";

export type AndroidVendor = Exclude<Vendor, "apns" | "fcm">;

/** What the local runtime needs of one Chinese vendor: its simulator, a credential, a sender. */
interface LocalAndroidVendor {
  /** The console-like certificate id of the generated simulator credential. */
  certificateId: number;
  generate(certificateId: number): AndroidVendorCredentialBase;
  start(hub: SimulatorHub): Promise<{ url: string; addApp(credential: never): void; close(): Promise<void> }>;
  sender(credentials: AndroidVendorCredentialBase[]): VendorSender;
}

// The casts at this boundary are safe: each row's credential comes from the same row's `generate` (or
// from a credentials file keyed by the same vendor name).
type AnyCredentials = never[];

/** One row per vendor: the rest of the runtime loops over this table. */
export const LOCAL_ANDROID_VENDORS: Record<AndroidVendor, LocalAndroidVendor> = {
  huawei: {
    certificateId: 30001,
    generate: (certificateId) => generateHuaweiCredential({ certificateId }),
    start: (hub) => startHuaweiSimulator({ hub }),
    sender: (credentials) => new HuaweiSender({ credentials: credentials as AnyCredentials }),
  },
  honor: {
    certificateId: 40001,
    generate: (certificateId) => generateHonorCredential({ certificateId }),
    start: (hub) => startHonorSimulator({ hub }),
    sender: (credentials) => new HonorSender({ credentials: credentials as AnyCredentials }),
  },
  xiaomi: {
    certificateId: 50001,
    generate: (certificateId) => generateXiaomiCredential({ certificateId }),
    start: (hub) => startXiaomiSimulator({ hub }),
    sender: (credentials) => new XiaomiSender({ credentials: credentials as AnyCredentials }),
  },
  oppo: {
    certificateId: 60001,
    generate: (certificateId) => generateOppoCredential({ certificateId }),
    start: (hub) => startOppoSimulator({ hub }),
    sender: (credentials) => new OppoSender({ credentials: credentials as AnyCredentials }),
  },
  vivo: {
    certificateId: 70001,
    generate: (certificateId) => generateVivoCredential({ certificateId }),
    start: (hub) => startVivoSimulator({ hub }),
    sender: (credentials) => new VivoSender({ credentials: credentials as AnyCredentials }),
  },
  meizu: {
    certificateId: 80001,
    generate: (certificateId) => generateMeizuCredential({ certificateId }),
    start: (hub) => startMeizuSimulator({ hub }),
    sender: (credentials) => new MeizuSender({ credentials: credentials as AnyCredentials }),
  },
};

export const ANDROID_VENDORS = Object.keys(LOCAL_ANDROID_VENDORS) as AndroidVendor[];
