import { beforeEach, describe, expect, it } from "vitest";
import { backoffSeconds, MAX_DELAY_SECONDS, makeDeliveryWorker } from "../../../lib/delivery/worker.js";
import type { DeliveryJob } from "../../../lib/model/index.js";
import { CapturingRetryQueue, RecordingJournal, ScriptedSender } from "../../support/fakes.js";
import { MemoryDeviceStore } from "../../support/memory-stores.js";

function job(tokens: string[], attempt = 0): DeliveryJob {
  return {
    version: 1,
    vendor: "fcm",
    attempt,
    acceptedAt: 0,
    notification: { title: "t", body: "b", ext: "{}", conversationId: "c2c_a", messageKey: "k", sentAt: 0 },
    targets: tokens.map((token) => ({ userId: "bob", deviceId: `dev-${token}`, token })),
  };
}

describe("delivery worker", () => {
  let devices: MemoryDeviceStore;
  let retries: CapturingRetryQueue;
  let journal: RecordingJournal;

  beforeEach(async () => {
    devices = new MemoryDeviceStore();
    retries = new CapturingRetryQueue();
    journal = new RecordingJournal();
    for (const token of ["ok", "dead", "busy", "bad", "quota"]) {
      await devices.put({ userId: "bob", deviceId: `dev-${token}`, vendor: "fcm", token, updatedAt: 0 });
    }
  });

  const worker = (sender: ScriptedSender, maxAttempts = 5) =>
    makeDeliveryWorker({ sender, devices, retries, journal, maxAttempts, random: () => 0.5 });

  it("settles every target of a mixed batch on its own", async () => {
    const sender = new ScriptedSender("fcm", {
      dead: { kind: "drop-token", reason: "FCM 404 UNREGISTERED" },
      busy: { kind: "retry", reason: "FCM 503 UNAVAILABLE", retryAfterSeconds: 30 },
      bad: { kind: "bad-request", reason: "FCM 400 INVALID_ARGUMENT" },
    });
    const report = await worker(sender)(job(["ok", "dead", "busy", "bad"]));

    expect(report).toEqual({ delivered: 1, tokensRemoved: 1, retried: 1, deadLettered: 1 });
    expect((await devices.list("bob")).map((d) => d.token).sort()).toEqual(["bad", "busy", "ok", "quota"]);
    expect(retries.retried).toEqual([
      {
        job: expect.objectContaining({ attempt: 1, targets: [expect.objectContaining({ token: "busy" })] }),
        delaySeconds: 30,
      },
    ]);
    expect(retries.deadLettered).toEqual([
      {
        job: expect.objectContaining({ targets: [expect.objectContaining({ token: "bad" })] }),
        reason: "FCM 400 INVALID_ARGUMENT",
      },
    ]);
  });

  it("does not remove a device whose token changed since the job was queued", async () => {
    await devices.put({
      userId: "bob",
      deviceId: "dev-dead",
      vendor: "fcm",
      token: "fresh-token",
      updatedAt: 1,
    });
    const sender = new ScriptedSender("fcm", { dead: { kind: "drop-token", reason: "gone" } });
    const report = await worker(sender)(job(["dead"]));
    expect(report.tokensRemoved).toBe(0);
    expect((await devices.list("bob")).find((d) => d.deviceId === "dev-dead")?.token).toBe("fresh-token");
  });

  it("backs off exponentially when the vendor gives no Retry-After, and groups targets that share a delay", async () => {
    const sender = new ScriptedSender("fcm", {
      busy: { kind: "retry", reason: "503" },
      quota: { kind: "quota", reason: "429" },
    });
    await worker(sender)(job(["busy", "quota"], 2));
    expect(retries.retried).toHaveLength(1);
    expect(retries.retried[0]!.delaySeconds).toBe(backoffSeconds(2, () => 0.5));
    expect(retries.retried[0]!.job.targets).toHaveLength(2);
  });

  it("parks a target in the dead-letter queue once its attempts are used up", async () => {
    const sender = new ScriptedSender("fcm", { busy: { kind: "retry", reason: "FCM 503 UNAVAILABLE" } });
    await worker(sender, 3)(job(["busy"], 2));
    expect(retries.retried).toEqual([]);
    expect(retries.deadLettered[0]!.reason).toBe("gave up after 3 attempts: FCM 503 UNAVAILABLE");
    expect(journal.entries.at(-1)).toMatchObject({
      stage: "dead-lettered",
      deviceId: "dev-busy",
      attempt: 3,
    });
  });
});

describe("backoffSeconds", () => {
  it("grows and is capped at SQS's 15-minute delay", () => {
    const mid = () => 0.5;
    expect(backoffSeconds(0, mid)).toBeLessThan(backoffSeconds(3, mid));
    expect(backoffSeconds(30, () => 1)).toBe(MAX_DELAY_SECONDS);
  });
});
