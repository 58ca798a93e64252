import { describe, expect, it } from "vitest";
import { evenSample } from "../../../lib/delivery/latency.js";
import { makeDeliveryWorker } from "../../../lib/delivery/worker.js";
import type { DeliveryJob, DeliveryTarget, Notification, Outcome } from "../../../lib/model/index.js";
import type { SendResult, VendorSender } from "../../../lib/ports/index.js";
import { CapturingRetryQueue, FixedClock, RecordingJournal } from "../../support/fakes.js";
import { MemoryDeviceStore } from "../../support/memory-stores.js";

const ACCEPTED_AT = 1_700_000_000_000;

function job(tokens: string[], acceptedAt: number = ACCEPTED_AT): DeliveryJob {
  return {
    version: 1,
    vendor: "fcm",
    attempt: 0,
    acceptedAt,
    notification: { title: "t", body: "b", ext: "{}", conversationId: "c2c_a", messageKey: "k", sentAt: 0 },
    targets: tokens.map((token) => ({ userId: "bob", deviceId: `dev-${token}`, token })),
  };
}

/** A vendor that takes `answerMs` of the clock to answer each call, as scripted per token. */
class SlowSender implements VendorSender {
  readonly vendor = "fcm" as const;
  constructor(
    private readonly clock: FixedClock,
    private readonly answerMs: number,
    private readonly script: Record<string, Outcome> = {},
  ) {}
  async send(_notification: Notification, targets: DeliveryTarget[]): Promise<SendResult[]> {
    this.clock.nowMs += this.answerMs;
    return targets.map((target) => ({ target, outcome: this.script[target.token] ?? { kind: "delivered" } }));
  }
  async close(): Promise<void> {}
}

function worker(clock: FixedClock, sender: VendorSender) {
  return makeDeliveryWorker({
    sender,
    devices: new MemoryDeviceStore(),
    retries: new CapturingRetryQueue(),
    journal: new RecordingJournal(),
    maxAttempts: 5,
    clock,
    random: () => 0.5,
  });
}

describe("callback → vendor answer latency (issue 12.5)", () => {
  it("is measured for each delivered target from the callback's acceptance to the vendor's answer", async () => {
    // The job waited 2 s on queues before the worker took it; the vendor took 300 ms to answer.
    const clock = new FixedClock(ACCEPTED_AT + 2000);
    const sender = new SlowSender(clock, 300, {
      busy: { kind: "retry", reason: "FCM 503 UNAVAILABLE" },
      gone: { kind: "drop-token", reason: "FCM 404 UNREGISTERED" },
    });

    const report = await worker(clock, sender)(job(["a", "busy", "b", "gone"]));

    expect(report.delivered).toBe(2);
    // Only the two delivered targets: a 503 or a dead token is an answer, not a push that arrived.
    expect(report.latencyMs).toEqual([2300, 2300]);
  });

  it("counts retries in: a job re-tried later keeps its callback's acceptance time", async () => {
    const clock = new FixedClock(ACCEPTED_AT + 45_000);
    const report = await worker(clock, new SlowSender(clock, 100))({ ...job(["a"]), attempt: 2 });
    expect(report.latencyMs).toEqual([45_100]);
  });

  it("is absent when nothing was delivered, and when the job carries no acceptance time", async () => {
    const clock = new FixedClock(ACCEPTED_AT);
    const refused = await worker(
      clock,
      new SlowSender(clock, 10, { a: { kind: "bad-request", reason: "x" } }),
    )(job(["a"]));
    expect(refused.latencyMs).toBeUndefined();

    // A job without acceptedAt (hand-made, or from before the field) still delivers, with no figure.
    const { acceptedAt: _none, ...old } = job(["a"]);
    const report = await worker(clock, new SlowSender(clock, 10))(old as DeliveryJob);
    expect(report.delivered).toBe(1);
    expect(report.latencyMs).toBeUndefined();
  });
});

describe("evenSample", () => {
  it("keeps every value, sorted, when they fit", () => {
    expect(evenSample([30, 10, 20], 5)).toEqual([10, 20, 30]);
  });

  it("keeps the smallest, the largest and an even spread between when they do not", () => {
    const values = Array.from({ length: 1000 }, (_, i) => 999 - i);
    const sample = evenSample(values, 99);
    expect(sample).toHaveLength(99);
    expect(sample[0]).toBe(0);
    expect(sample.at(-1)).toBe(999);
    expect(sample[49]).toBe(500);
    expect([...sample].sort((a, b) => a - b)).toEqual(sample);
  });

  it("keeps the largest when only one value fits", () => {
    expect(evenSample([5, 9, 1], 1)).toEqual([9]);
  });
});
