import { beforeEach, describe, expect, it } from "vitest";
import { makeDeliveryWorker } from "../../../lib/delivery/worker.js";
import type { DeliveryJob } from "../../../lib/model/index.js";
import { countTaskOutcomes } from "../../../lib/push-api/task-outcomes.js";
import { CapturingRetryQueue, FixedClock, RecordingJournal, ScriptedSender } from "../../support/fakes.js";
import { MemoryDeviceStore } from "../../support/memory-stores.js";
import { MemoryPushTasks } from "./memory.js";

const NOW = 1_764_085_300_000;
const TASK = "batch_6925f3b4_0000000000000001";

let clock: FixedClock;
let tasks: MemoryPushTasks;
let journal: RecordingJournal;
let sender: ScriptedSender;
let devices: MemoryDeviceStore;
let retries: CapturingRetryQueue;
let worker: ReturnType<typeof countTaskOutcomes>;

function job(overrides: Partial<DeliveryJob> = {}): DeliveryJob {
  return {
    version: 1,
    vendor: "fcm",
    notification: {
      title: "Sale",
      body: "50% off",
      ext: "{}",
      conversationId: "c2c_administrator",
      messageKey: TASK,
      sentAt: NOW,
      purpose: "operations",
    },
    targets: ["ok", "dead", "bad"].map((name) => ({
      userId: name,
      deviceId: `${name}-phone`,
      token: `${name}-token`,
    })),
    attempt: 0,
    acceptedAt: NOW,
    taskId: TASK,
    ...overrides,
  };
}

beforeEach(async () => {
  clock = new FixedClock(NOW);
  tasks = new MemoryPushTasks();
  journal = new RecordingJournal();
  devices = new MemoryDeviceStore();
  retries = new CapturingRetryQueue();
  for (const name of ["ok", "dead", "bad"])
    await devices.put({
      userId: name,
      deviceId: `${name}-phone`,
      vendor: "fcm",
      token: `${name}-token`,
      updatedAt: 1,
    });
  sender = new ScriptedSender("fcm", {
    "dead-token": { kind: "drop-token", reason: "UNREGISTERED" },
    "bad-token": { kind: "bad-request", reason: "INVALID_ARGUMENT" },
  });
  const vendorWorker = makeDeliveryWorker({ sender, devices, retries, journal, maxAttempts: 3, clock });
  worker = countTaskOutcomes(vendorWorker, { tasks, journal, clock });
  await tasks.claim(
    "batch",
    1,
    { taskId: TASK, kind: "batch", from: "administrator", createdAt: NOW, counts: {} },
    NOW,
  );
});

describe("server push jobs in the vendor worker", () => {
  it("adds what each job settled to the task's counts, in one write per job", async () => {
    await worker(job());
    expect(tasks.countWrites).toEqual([
      { taskId: TASK, counts: { delivered: 1, "delivered:fcm": 1, tokenRemoved: 1, deadLettered: 1 } },
    ]);
    expect(await devices.list("dead")).toEqual([]);
  });

  it("sends nothing of a revoked task, and counts why", async () => {
    await tasks.revoke(TASK, NOW);
    const report = await worker(job());
    expect(sender.calls).toEqual([]);
    expect(report.delivered).toBe(0);
    expect(journal.entries.filter((e) => e.stage === "skipped").map((e) => [e.userId, e.reason])).toEqual([
      ["ok", "push task revoked"],
      ["dead", "push task revoked"],
      ["bad", "push task revoked"],
    ]);
    expect(tasks.tasks.get(TASK)?.counts).toEqual({ "skipped:push task revoked": 3 });
  });

  it("sees a revoke within seconds: a container trusts its read of the task for 5 s", async () => {
    await worker(job({ targets: [{ userId: "ok", deviceId: "ok-phone", token: "ok-token" }] }));
    await tasks.revoke(TASK, NOW + 1000);
    clock.nowMs += 2000;
    await worker(job({ targets: [{ userId: "ok", deviceId: "ok-phone", token: "ok-token" }], attempt: 1 }));
    expect(sender.calls).toHaveLength(2);
    clock.nowMs += 5000;
    await worker(job({ targets: [{ userId: "ok", deviceId: "ok-phone", token: "ok-token" }], attempt: 2 }));
    expect(sender.calls).toHaveLength(2);
  });

  it("drops im_push jobs whose MsgLifeTime has passed", async () => {
    tasks.tasks.get(TASK)!.lifetimeSeconds = 60;
    clock.nowMs += 61_000;
    await worker(job());
    expect(sender.calls).toEqual([]);
    expect(tasks.tasks.get(TASK)?.counts).toEqual({ "skipped:MsgLifeTime passed before it was sent": 3 });
  });

  it("leaves chat jobs alone: no task read, no count", async () => {
    tasks.get = async () => {
      throw new Error("a chat job must not read tasks");
    };
    const { taskId: _none, ...chat } = job();
    await worker(chat);
    expect(sender.calls).toHaveLength(1);
    expect(tasks.countWrites).toEqual([]);
  });
});
