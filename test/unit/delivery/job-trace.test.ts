import { describe, expect, it } from "vitest";
import { makeDeliveryWorker } from "../../../lib/delivery/worker.js";
import type { DeliveryJob, DeliveryTarget, Notification, Outcome } from "../../../lib/model/index.js";
import type { JobLedger, JobRecord, SendResult, VendorSender } from "../../../lib/ports/index.js";
import { CapturingRetryQueue, FixedClock, RecordingJournal } from "../../support/fakes.js";
import { MemoryDeviceStore } from "../../support/memory-stores.js";

/** What a job run's record tells `npm run why`: when, which attempt, every answer but "delivered". */
class CapturingLedger implements JobLedger {
  readonly records: JobRecord[] = [];
  async find() {
    return undefined;
  }
  async put(record: JobRecord) {
    this.records.push(record);
  }
}

const ANSWERS: Record<string, { outcome: Outcome; status: number }> = {
  ok: { outcome: { kind: "delivered" }, status: 200 },
  dead: { outcome: { kind: "drop-token", reason: "FCM 404 UNREGISTERED" }, status: 404 },
  busy: { outcome: { kind: "retry", reason: "FCM 503 UNAVAILABLE", retryAfterSeconds: 30 }, status: 503 },
};

/** A sender that answers each token as scripted, with the vendor's status, 40 ms after the send. */
class StatusSender implements VendorSender {
  readonly vendor = "fcm" as const;
  constructor(private readonly clock: FixedClock) {}
  async send(_: Notification, targets: DeliveryTarget[]): Promise<SendResult[]> {
    this.clock.nowMs += 40;
    return targets.map((target) => ({ target, ...ANSWERS[target.token]! }));
  }
  async close() {}
}

function job(tokens: string[], attempt = 1): DeliveryJob {
  return {
    version: 1,
    vendor: "fcm",
    attempt,
    acceptedAt: 9_000,
    notification: { title: "t", body: "b", ext: "{}", conversationId: "c2c_a", messageKey: "k", sentAt: 0 },
    targets: tokens.map((token) => ({ userId: "bob", deviceId: `dev-${token}`, token })),
  };
}

async function run(tokens: string[], deadlineIn?: number) {
  const clock = new FixedClock(10_000);
  const devices = new MemoryDeviceStore();
  for (const token of tokens)
    await devices.put({ userId: "bob", deviceId: `dev-${token}`, vendor: "fcm", token, updatedAt: 0 });
  const ledger = new CapturingLedger();
  const worker = makeDeliveryWorker({
    sender: new StatusSender(clock),
    devices,
    retries: new CapturingRetryQueue(),
    journal: new RecordingJournal(),
    ledger,
    maxAttempts: 5,
    clock,
    random: () => 0.5,
  });
  await worker(job(tokens), deadlineIn === undefined ? {} : { deadline: clock.now() + deadlineIn });
  return ledger.records;
}

describe("a job run's trace", () => {
  it("says which attempt, when it was sent and answered, and each answer that was not delivered", async () => {
    const [record] = await run(["ok", "dead", "busy"]);
    const trace = record!.trace!;
    expect(trace).toMatchObject({
      attempt: 2,
      acceptedAt: 9_000,
      startedAt: 10_000,
      answeredAt: 10_040,
      deliveredStatus: 200,
    });
    expect(
      trace.answers.map(({ deviceId, outcome, status, reason }) => ({ deviceId, outcome, status, reason })),
    ).toEqual([
      { deviceId: "dev-dead", outcome: "drop-token", status: 404, reason: "FCM 404 UNREGISTERED" },
      { deviceId: "dev-busy", outcome: "retry", status: 503, reason: "FCM 503 UNAVAILABLE" },
    ]);
    // Positions are the plan's: each answer can be matched with what was done with it.
    const kindAt = (position: number) => record!.plan.find((step) => step.targets.includes(position))?.kind;
    const dead = trace.answers.find((a) => a.deviceId === "dev-dead")!;
    const busy = trace.answers.find((a) => a.deviceId === "dev-busy")!;
    expect([kindAt(dead.position), kindAt(busy.position)]).toEqual(["remove", "retry"]);
  });

  it("targets the worker did not send are answered as held, with the gate's reason", async () => {
    const [record] = await run(["ok", "busy"], 1_000);
    expect(record!.trace!.answers.map((a) => [a.deviceId, a.outcome, a.reason])).toEqual([
      ["dev-ok", "held", "too little time left in this invocation to send"],
      ["dev-busy", "held", "too little time left in this invocation to send"],
    ]);
    expect(record!.trace!.answeredAt).toBe(10_000);
    expect(record!.trace!.deliveredStatus).toBeUndefined();
    expect(record!.plan.map((step) => step.kind)).toEqual(["hold"]);
  });
});
