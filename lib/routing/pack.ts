import type { DeliveryJob, DeliveryTarget, Notification, Vendor } from "../model/index.js";

/** A device, or a recorded delivery target, with the vendor it is reached through. */
export type Reachable = DeliveryTarget & { vendor: Vendor };

export function toTarget(device: Reachable): DeliveryTarget {
  return {
    userId: device.userId,
    deviceId: device.deviceId,
    token: device.token,
    ...(device.certificateId !== undefined ? { certificateId: device.certificateId } : {}),
    ...(device.appId !== undefined ? { appId: device.appId } : {}),
    ...(device.environment !== undefined ? { environment: device.environment } : {}),
    ...(device.pushType !== undefined ? { pushType: device.pushType } : {}),
    ...(device.platform !== undefined ? { platform: device.platform } : {}),
    ...(device.badge !== undefined ? { badge: device.badge } : {}),
  };
}

/**
 * One job per vendor per `maxTargetsPerJob` devices: the fewest SQS messages the vendor's multicast
 * limit allows.
 */
export function packJobs(
  notification: Notification,
  devices: readonly Reachable[],
  acceptedAt: number,
  maxTargetsPerJob: (vendor: Vendor) => number,
): DeliveryJob[] {
  const byVendor = new Map<Vendor, DeliveryTarget[]>();
  for (const device of devices) {
    const targets = byVendor.get(device.vendor) ?? [];
    targets.push(toTarget(device));
    byVendor.set(device.vendor, targets);
  }
  const jobs: DeliveryJob[] = [];
  for (const [vendor, targets] of byVendor) {
    const size = Math.max(1, maxTargetsPerJob(vendor));
    for (let i = 0; i < targets.length; i += size) {
      jobs.push({
        version: 1,
        vendor,
        notification,
        targets: targets.slice(i, i + size),
        attempt: 0,
        acceptedAt,
      });
    }
  }
  return jobs;
}
