import type { Vendor } from "../../lib/model/index.js";

/** Devices by vendor per 100 users: iPhones, Android with Google, and the Chinese vendors. */
export const VENDOR_MIX: [Vendor, number][] = [
  ["apns", 45],
  ["fcm", 25],
  ["huawei", 9],
  ["xiaomi", 7],
  ["oppo", 5],
  ["vivo", 5],
  ["honor", 3],
  ["meizu", 1],
];

/** The vendor of user `i` in that mix. */
export function vendorOf(i: number): Vendor {
  let slot = i % 100;
  for (const [vendor, share] of VENDOR_MIX) {
    if (slot < share) return vendor;
    slot -= share;
  }
  return "apns";
}
