import type { DeliveryJob, Device } from "../../../lib/model/index.js";
import type { ProfileDirectory } from "../../../lib/ports/index.js";
import type { RouterDeps } from "../../../lib/routing/deps.js";
import { makeRouter } from "../../../lib/routing/router.js";
import {
  CapturingDeliveryQueue,
  CapturingFanoutQueue,
  FixedClock,
  MemoryDeliveryLog,
  MemoryGroupStore,
  RecordingJournal,
} from "../../support/fakes.js";
import {
  MemoryBadgeStore,
  MemoryDeviceStore,
  MemoryPreferenceStore,
  MemoryPresenceStore,
  MemoryProfileStore,
  MemoryRecipients,
} from "../../support/memory-stores.js";

/** A directory that answers from a table and counts what it was asked. */
export class FakeDirectory implements ProfileDirectory {
  readonly asked: string[][] = [];
  failWith?: Error;
  constructor(readonly names: Record<string, string> = {}) {}
  async nicknames(userIds: readonly string[]): Promise<Map<string, string | undefined>> {
    this.asked.push([...userIds]);
    if (this.failWith) throw this.failWith;
    return new Map(userIds.map((id) => [id, this.names[id]]));
  }
}

/** The router over in-memory stores with the ports' semantics, and what it queued and journalled. */
export function routerHarness(now: number, overrides: Partial<RouterDeps> = {}) {
  const devices = new MemoryDeviceStore();
  const presence = new MemoryPresenceStore(devices);
  const profiles = new MemoryProfileStore();
  const preferences = new MemoryPreferenceStore();
  const groups = new MemoryGroupStore();
  const queue = new CapturingDeliveryQueue();
  const fanout = new CapturingFanoutQueue();
  const deliveries = new MemoryDeliveryLog();
  const journal = new RecordingJournal();
  const badges = new MemoryBadgeStore(presence);
  const clock = new FixedClock(now);
  const deps: RouterDeps = {
    users: new MemoryRecipients(devices, presence, profiles, preferences),
    presence,
    profiles,
    badges,
    groups,
    queue,
    fanout,
    deliveries,
    journal,
    clock,
    maxTargetsPerJob: () => 500,
    ...overrides,
  };
  const router = makeRouter(deps);
  const register = (device: Omit<Device, "updatedAt"> & { updatedAt?: number }) =>
    devices.put({ updatedAt: 1, ...device });
  /** Every queued (user/device → notification body, badge) for assertions. */
  const pushed = (jobs: DeliveryJob[] = queue.jobs) =>
    jobs.flatMap((job) =>
      job.targets.map((t) => ({
        to: `${t.userId}/${t.deviceId}`,
        vendor: job.vendor,
        title: job.notification.title,
        body: job.notification.body,
        badge: t.badge,
      })),
    );
  const skipped = () =>
    journal.entries
      .filter((e) => e.stage === "skipped")
      .map((e) => ({ who: [e.userId, e.deviceId].filter(Boolean).join("/"), reason: e.reason }));
  return {
    deps,
    router,
    devices,
    presence,
    profiles,
    preferences,
    groups,
    queue,
    fanout,
    deliveries,
    journal,
    badges,
    clock,
    register,
    pushed,
    skipped,
  };
}

export const APNS_TOKEN = "7f3c9a1e5b2d4c6f8a0e1b3d5f7a9c2e4b6d8f0a1c3e5b7d9f2a4c6e8b0d1f3a";
export const IPAD_TOKEN = "a1b2c3d4".repeat(8);
