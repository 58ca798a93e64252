import type { Vendor } from "./vendor.js";

export type ApnsEnvironment = "sandbox" | "production";

/** The platforms Tencent's multi-device rules tell apart (tencent-chat.md §7.3). */
export const DEVICE_PLATFORMS = ["iOS", "iPad", "Android"] as const;
export type DevicePlatform = (typeof DEVICE_PLATFORMS)[number];

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
  /** "voip": a PushKit VoIP token (APNs only), used for call invitations only. */
  pushType?: "voip";
  /** From the registration, else from the vendor (apns → iOS, the others → Android). */
  platform?: DevicePlatform;
  /** BCP 47 language tag the app runs in (e.g. "zh-CN", "en"): picks the notification texts. */
  locale?: string;
  /** Epoch ms of the last registration. */
  updatedAt: number;
}

/**
 * The platform Tencent's multi-device rules see a device as: what the app registered, else what its
 * vendor implies (APNs serves iPhones and iPads alike; without a `platform` an APNs device is an
 * iPhone, since `OptPlatform` tells iPad apart).
 */
export function platformOf(device: Pick<Device, "vendor" | "platform">): DevicePlatform {
  return device.platform ?? (device.vendor === "apns" ? "iOS" : "Android");
}

/**
 * A phone registers two tokens when its app uses PushKit: the alert token
 * (`didRegisterForRemoteNotificationsWithDeviceToken`) and the VoIP token (`PKPushRegistry`), which
 * are different and not interchangeable (https://developer.apple.com/documentation/pushkit;
 * tencent-calls-and-server-push.md §3). Both belong to the same `deviceId` (one app state, one
 * presence), so they are stored side by side: the alert registration under the deviceId, the VoIP one
 * under `<deviceId>#voip` (`#` is outside the deviceId alphabet, so the keys never collide). A call
 * rings the VoIP token when there is one and never also the alert token; chat goes to the alert token.
 */
export function registrationKey(device: Pick<Device, "deviceId" | "pushType">): string {
  return device.pushType === "voip" ? `${device.deviceId}${VOIP_KEY_SUFFIX}` : device.deviceId;
}

/** The deviceId and kind a stored registration key names (the inverse of `registrationKey`). */
export function registrationOfKey(key: string): Pick<Device, "deviceId" | "pushType"> {
  return key.endsWith(VOIP_KEY_SUFFIX)
    ? { deviceId: key.slice(0, -VOIP_KEY_SUFFIX.length), pushType: "voip" }
    : { deviceId: key };
}

const VOIP_KEY_SUFFIX = "#voip";
