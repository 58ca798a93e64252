import type { DeviceStore } from "../ports/index.js";
import type { AudienceIndex } from "./ports.js";

/**
 * The device API's DeviceStore, keeping the "every user with a device" index a push to all reads:
 * a registration puts its user in it (one idempotent PutItem). Removals are not written through (the
 * worker removes dead tokens, a phone changes hands): a push to all that finds a user without devices
 * takes them out then (AudienceIndex.dropUser), so the index costs nothing on the removal paths.
 * PushKit (VoIP) tokens only ever get calls, so they do not make a user part of a push to all.
 */
export function withAudienceIndex(
  devices: DeviceStore,
  audience: Pick<AudienceIndex, "addUser">,
): DeviceStore {
  return {
    async put(device) {
      await devices.put(device);
      if (device.pushType !== "voip") await audience.addUser(device.userId, device.updatedAt);
    },
    remove: (userId, deviceId, onlyIfToken, registeredBefore) =>
      devices.remove(userId, deviceId, onlyIfToken, registeredBefore),
    list: (userId) => devices.list(userId),
  };
}
