/** Every push channel chatpush can deliver through, in the order the README lists them. */
export const VENDORS = ["apns", "fcm", "huawei", "honor", "xiaomi", "oppo", "vivo", "meizu"] as const;
export type Vendor = (typeof VENDORS)[number];

export function isVendor(value: unknown): value is Vendor {
  return typeof value === "string" && (VENDORS as readonly string[]).includes(value);
}
