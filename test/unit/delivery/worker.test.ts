import { beforeEach, describe, expect, it } from "vitest";
import { backoffSeconds, MAX_DELAY_SECONDS, makeDeliveryWorker } from "../../../lib/delivery/worker.js";
import type { DeliveryJob } from "../../../lib/model/index.js";
import { CapturingRetryQueue, FixedClock, RecordingJournal, ScriptedSender } from "../../support/fakes.js";
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

  const clock = new FixedClock(0);
  const worker = (sender: ScriptedSender, maxAttempts = 5) =>
    makeDeliveryWorker({ sender, devices, retries, journal, maxAttempts, clock, random: () => 0.5 });

  it("settles every target of a mixed batch on its own", async () => {
    const sender = new ScriptedSender("fcm", {
      dead: { kind: "drop-token", reason: "FCM 404 UNREGISTERED" },
      busy: { kind: "retry", reason: "FCM 503 UNAVAILABLE", retryAfterSeconds: 30 },
      bad: { kind: "bad-request", reason: "FCM 400 INVALID_ARGUMENT" },
    });
    const report = await worker(sender)(job(["ok", "dead", "busy", "bad"]));

    expect(report).toEqual({
      delivered: 1,
      tokensRemoved: 1,
      retried: 1,
      quotaDelayed: 0,
      deadLettered: 1,
      credentialProblems: 0,
      declined: 0,
      tokenRemovalsHeld: 0,
      deferred: 0,
      alreadySent: 0,
      // Accepted at 0, answered at 0 (the fixed clock): the one delivered target waited 0 ms.
      latencyMs: [0],
    });
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
      ok: { kind: "refresh-credential", reason: "401" },
    });
    await worker(sender)(job(["busy", "ok"], 2));
    expect(retries.retried).toHaveLength(1);
    expect(retries.retried[0]!.delaySeconds).toBe(backoffSeconds(2, () => 0.5));
    expect(retries.retried[0]!.job.targets).toHaveLength(2);
  });

  it("holds a target back for a quota without spending an attempt", async () => {
    const sender = new ScriptedSender("fcm", {
      quota: { kind: "quota", reason: "FCM 429 QUOTA_EXCEEDED", retryAfterSeconds: 30 },
    });
    const report = await worker(sender, 1)(job(["quota"], 0));
    expect(report.quotaDelayed).toBe(1);
    expect(retries.deadLettered).toEqual([]);
    expect(retries.retried).toEqual([
      { job: expect.objectContaining({ attempt: 0, quotaDelays: 1 }), delaySeconds: 30 },
    ]);
    expect(journal.entries.at(-1)).toMatchObject({
      stage: "retrying",
      reason: "quota: FCM 429 QUOTA_EXCEEDED (again in 30s)",
    });
  });

  it("after a daily-quota answer, holds later jobs of that credential without asking the vendor again", async () => {
    const day = 10 * 60 * 60;
    const sender = new ScriptedSender("fcm", {
      quota: { kind: "quota", reason: "vivo 10070 daily limit", retryAfterSeconds: day },
    });
    const deliver = worker(sender);
    await deliver(job(["quota"]));
    expect(retries.retried[0]!.delaySeconds).toBe(900);

    clock.nowMs = 60_000;
    await deliver(job(["ok"]));
    expect(sender.calls).toHaveLength(1); // the second job never reached the vendor
    expect(retries.retried[1]).toEqual({
      job: expect.objectContaining({ quotaDelays: 1 }),
      delaySeconds: 900,
    });

    clock.nowMs = day * 1000 + 1;
    expect((await deliver(job(["ok"]))).delivered).toBe(1);
  });

  it("parks a quota-held target once waiting longer would make the notification a day late", async () => {
    const sender = new ScriptedSender("fcm", {
      quota: { kind: "quota", reason: "daily limit", retryAfterSeconds: 7200 },
    });
    clock.nowMs = 23 * 60 * 60 * 1000; // accepted at 0, so 23 h have passed
    await worker(sender)(job(["quota"]));
    expect(retries.deadLettered[0]!.reason).toBe("quota not available within 86400s: daily limit");
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
