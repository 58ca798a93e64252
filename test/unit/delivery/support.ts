import type { DeliveryJob, DeliveryTarget, Vendor } from "../../../lib/model/index.js";
import type { JobLedger, JobRecord, RecordedJob } from "../../../lib/ports/index.js";
import { CapturingRetryQueue } from "../../support/fakes.js";
import { MemoryDeviceStore } from "../../support/memory-stores.js";

/** The JobLedger port in memory: records by message and job id, copied in and out. */
export class MemoryLedger implements JobLedger {
  readonly records = new Map<string, JobRecord>();
  finds = 0;
  async find(messageKey: string, jobId: string): Promise<RecordedJob | undefined> {
    this.finds += 1;
    const record = this.records.get(`${messageKey}#${jobId}`);
    return record === undefined
      ? undefined
      : { delivered: record.delivered.length, plan: structuredClone(record.plan) };
  }
  async put(record: JobRecord): Promise<void> {
    this.records.set(`${record.messageKey}#${record.jobId}`, structuredClone(record));
  }
}

/** MemoryDeviceStore with the `registeredBefore` condition of DeviceStore.remove. */
export class DeviceStoreWithSince extends MemoryDeviceStore {
  override async remove(
    userId: string,
    deviceId: string,
    onlyIfToken?: string,
    registeredBefore?: number,
  ): Promise<boolean> {
    const held = (await this.list(userId)).find((d) => d.deviceId === deviceId);
    if (held !== undefined && registeredBefore !== undefined && held.updatedAt > registeredBefore)
      return false;
    return super.remove(userId, deviceId, onlyIfToken);
  }
}

/** A retry queue that refuses its first `failures` calls (SQS unreachable), then works. */
export class FlakyRetryQueue extends CapturingRetryQueue {
  constructor(private failures: number) {
    super();
  }
  override async retry(job: DeliveryJob, delaySeconds: number): Promise<void> {
    if (this.failures > 0) {
      this.failures -= 1;
      throw new Error("SQS unreachable");
    }
    await super.retry(job, delaySeconds);
  }
}

export function target(token: string, extra: Partial<DeliveryTarget> = {}): DeliveryTarget {
  return { userId: `user-${token}`, deviceId: `dev-${token}`, token, ...extra };
}

export function makeJob(
  targets: DeliveryTarget[],
  options: { vendor?: Vendor; messageKey?: string; attempt?: number } = {},
): DeliveryJob {
  return {
    version: 1,
    vendor: options.vendor ?? "fcm",
    attempt: options.attempt ?? 0,
    acceptedAt: 0,
    notification: {
      title: "t",
      body: "b",
      ext: "{}",
      conversationId: "c2c_a",
      messageKey: options.messageKey ?? "msg-1",
      sentAt: 0,
    },
    targets,
  };
}
