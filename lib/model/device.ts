import type { Vendor } from "./vendor.js";

export type ApnsEnvironment = "sandbox" | "production";

/** A phone (or tablet) registered by the push plugin's `uploadToken`. */
export interface Device {
  userId: string;
  /** Chosen by the app, stable per installation. */
  deviceId: string;
  vendor: Vendor;
  token: string;
  /** The console's certificate / business ID; absent = the vendor's default credential. */
  certificateId?: number;
  /** iOS bundle id or Android package name. */
  appId?: string;
  /** APNs only. */
  environment?: ApnsEnvironment;
  /** Epoch ms of the last registration. */
  updatedAt: number;
}
