import { describe, expect, it } from "vitest";
import { jobIdentity } from "../../../lib/delivery/job-identity.js";
import { makeDeliveryWorker } from "../../../lib/delivery/worker.js";
import type { DeliveryJob } from "../../../lib/model/index.js";
import { CapturingRetryQueue, FixedClock, RecordingJournal, ScriptedSender } from "../../support/fakes.js";
import { MemoryDeviceStore } from "../../support/memory-stores.js";
import { FlakyRetryQueue, MemoryLedger, makeJob, target } from "./support.js";

/** Issue 9.1, worker side: one send per job across SQS redelivery, copies and our own retries. */
describe("the send guard", () => {
  const deps = (sender: ScriptedSender, ledger: MemoryLedger, retries = new CapturingRetryQueue()) => ({
    sender,
    devices: new MemoryDeviceStore(),
    retries,
    journal: new RecordingJournal(),
    ledger,
    maxAttempts: 5,
    clock: new FixedClock(0),
    random: () => 0.5,
  });

  it("does not send a job again when SQS redelivers the same body", async () => {
    const ledger = new MemoryLedger();
    const sender = new ScriptedSender("fcm");
    const deliver = makeDeliveryWorker(deps(sender, ledger));
    const body = JSON.stringify(makeJob([target("a"), target("b")]));

    const first = await deliver(JSON.parse(body) as DeliveryJob);
    const again = await deliver(JSON.parse(body) as DeliveryJob);

    expect(first.delivered).toBe(2);
    expect(again).toMatchObject({ delivered: 0, alreadySent: 2 });
    expect(sender.calls).toHaveLength(1);
  });

  it("recognises a copy whatever the order of its targets, and is told apart from a retry or a recall", () => {
    const job = makeJob([target("a"), target("b")]);
    expect(jobIdentity({ ...job, targets: [...job.targets].reverse() })).toBe(jobIdentity(job));
    expect(jobIdentity({ ...job, attempt: 1 })).not.toBe(jobIdentity(job));
    expect(
      jobIdentity({ ...job, notification: { ...job.notification, messageKey: "msg-1:recall" } }),
    ).not.toBe(jobIdentity(job));
    expect(jobIdentity({ ...job, targets: [target("a")] })).not.toBe(jobIdentity(job));
  });

  it("a worker that crashed after sending, before settling: the redelivery settles as recorded, sends nothing", async () => {
    const ledger = new MemoryLedger();
    const sender = new ScriptedSender("fcm", {
      busy: { kind: "retry", reason: "FCM 503", retryAfterSeconds: 30 },
    });
    const retries = new FlakyRetryQueue(1);
    const deliver = makeDeliveryWorker(deps(sender, ledger, retries));
    const job = makeJob([target("ok"), target("busy")]);

    // The retry cannot be enqueued: the record fails and SQS will redeliver it.
    await expect(deliver(job)).rejects.toThrow("SQS unreachable");
    const again = await deliver(job);

    expect(sender.calls).toHaveLength(1); // "ok" was delivered once, "busy" asked once
    expect(again.alreadySent).toBe(2);
    expect(retries.retried).toEqual([
      {
        job: expect.objectContaining({ attempt: 1, targets: [expect.objectContaining({ token: "busy" })] }),
        delaySeconds: 30,
      },
    ]);
  });

  it("settling a redelivered job twice re-creates the same retry job, whose own guard catches the copy", async () => {
    const ledger = new MemoryLedger();
    const sender = new ScriptedSender("fcm", {
      busy: { kind: "retry", reason: "FCM 503", retryAfterSeconds: 30 },
    });
    const retries = new CapturingRetryQueue();
    const deliver = makeDeliveryWorker(deps(sender, ledger, retries));
    const job = makeJob([target("ok"), target("busy")]);

    await deliver(job);
    await deliver(job); // settled again as recorded: the retry job is enqueued a second time
    const [retry, copy] = retries.retried.map((r) => r.job);
    expect(retry!.id).toBeDefined();
    expect(copy!.id).toBe(retry!.id);

    sender.calls.length = 0;
    await deliver(retry!);
    await deliver(copy!);
    expect(sender.calls).toHaveLength(1);
  });

  it("a parked job redriven with fresh attempts is sent, not mistaken for the job it came from", async () => {
    const ledger = new MemoryLedger();
    const sender = new ScriptedSender("fcm", { bad: { kind: "bad-request", reason: "FCM 400" } });
    const retries = new CapturingRetryQueue();
    const deliver = makeDeliveryWorker(deps(sender, ledger, retries));
    await deliver(makeJob([target("bad")]));

    // What `npm run redrive` puts back: the parked body with attempt 0 and no quota delays.
    const parked = retries.deadLettered[0]!.job;
    const redriven: DeliveryJob = { ...parked, attempt: 0 };
    delete redriven.quotaDelays;
    const report = await deliver(redriven);
    expect(report.alreadySent).toBe(0);
    expect(sender.calls).toHaveLength(2);
  });

  it("records a job once, with who got it and how the rest was settled", async () => {
    const ledger = new MemoryLedger();
    const sender = new ScriptedSender("fcm", { dead: { kind: "drop-token", reason: "gone", since: 5 } });
    await makeDeliveryWorker(deps(sender, ledger))(makeJob([target("dead"), target("ok")]));
    expect([...ledger.records.values()]).toEqual([
      expect.objectContaining({
        messageKey: "msg-1",
        vendor: "fcm",
        delivered: [expect.objectContaining({ token: "ok" })],
        plan: [{ kind: "remove", targets: [0], since: 5 }],
      }),
    ]);
  });
});
