import { afterEach, describe, expect, it, vi } from "vitest";
import { CachedQuotaGates, MemoryQuotaGates } from "../../../lib/delivery/quota-gates.js";
import { makeDeliveryWorker, SEND_BUDGET_MS } from "../../../lib/delivery/worker.js";
import type { DeliveryTarget, Notification, Outcome } from "../../../lib/model/index.js";
import type { SendResult, VendorSender } from "../../../lib/ports/index.js";
import { pacingFor } from "../../../lib/vendors/settings.js";
import { CapturingRetryQueue, FixedClock, RecordingJournal, ScriptedSender } from "../../support/fakes.js";
import { MemoryDeviceStore } from "../../support/memory-stores.js";
import { makeJob, target } from "./support.js";

/** A sender whose answer depends on the credential: "down" credentials answer 503 to everything. */
class OutageSender implements VendorSender {
  readonly calls: DeliveryTarget[][] = [];
  readonly down = new Set<number>();
  constructor(readonly vendor: VendorSender["vendor"]) {}
  async send(_n: Notification, targets: DeliveryTarget[]): Promise<SendResult[]> {
    this.calls.push(targets);
    return targets.map((t) => ({
      target: t,
      outcome: (this.down.has(t.certificateId ?? 0)
        ? { kind: "retry", reason: "503 Service Unavailable" }
        : { kind: "delivered" }) as Outcome,
    }));
  }
  async close(): Promise<void> {}
}

const base = () => ({
  devices: new MemoryDeviceStore(),
  retries: new CapturingRetryQueue(),
  journal: new RecordingJournal(),
  maxAttempts: 8,
  random: () => 0.5,
});

afterEach(() => {
  vi.useRealTimers();
});

describe("daily-quota gates shared across containers", () => {
  it("a quota answer in one container holds the credential's jobs in another without asking the vendor", async () => {
    const gates = new MemoryQuotaGates();
    const clock = new FixedClock(1_000);
    const day = 10 * 60 * 60;
    const a = new ScriptedSender("vivo", {
      q: { kind: "quota", reason: "vivo 10070 daily limit", retryAfterSeconds: day },
    });
    const b = new ScriptedSender("vivo");
    const first = { ...base(), sender: a, quotaGates: gates, clock };
    const second = { ...base(), sender: b, quotaGates: gates, clock };
    await makeDeliveryWorker(first)(makeJob([target("q")], { vendor: "vivo" }));

    const report = await makeDeliveryWorker(second)(makeJob([target("x")], { vendor: "vivo" }));

    expect(b.calls).toHaveLength(0);
    expect(report.quotaDelayed).toBe(1);
    expect(second.retries.retried[0]).toMatchObject({
      delaySeconds: 900,
      job: { attempt: 0, quotaDelays: 1 },
    });
    // Written on the transition only: held jobs do not write the gate again.
    clock.nowMs += 500;
    await makeDeliveryWorker(second)(makeJob([target("y")], { vendor: "vivo" }));
    expect(gates.writes).toBe(1);
  });
});

describe("gate reads per container", () => {
  it("jobs of a bundle asking at once share one read of the shared store", async () => {
    const store = new MemoryQuotaGates();
    const gates = new CachedQuotaGates("fcm", store, new FixedClock(1_000));
    await Promise.all(Array.from({ length: 30 }, () => gates.closed("default")));
    expect(store.reads).toBe(1);
    await gates.closed("other");
    expect(store.reads).toBe(2);
  });
});

describe("circuit breaker per credential", () => {
  it("stops calling a credential after 5 failed sends, re-queues without spending attempts; others are unaffected", async () => {
    const clock = new FixedClock(0);
    const sender = new OutageSender("huawei");
    sender.down.add(1);
    const deps = { ...base(), sender, clock };
    const deliver = makeDeliveryWorker(deps);
    for (let i = 0; i < 5; i += 1)
      await deliver(makeJob([target(`a${i}`, { certificateId: 1 })], { vendor: "huawei" }));
    expect(sender.calls).toHaveLength(5);

    sender.calls.length = 0;
    const held = await deliver(makeJob([target("a5", { certificateId: 1 })], { vendor: "huawei" }));
    const other = await deliver(makeJob([target("b0", { certificateId: 2 })], { vendor: "huawei" }));

    expect(held).toMatchObject({ deferred: 1, retried: 0 });
    expect(deps.retries.retried.at(-1)).toMatchObject({
      delaySeconds: 30,
      job: { attempt: 0, deferrals: 1 },
    });
    expect(other.delivered).toBe(1);
    expect(sender.calls.map((c) => c.map((t) => t.token))).toEqual([["b0"]]);

    // After the back-off one job probes; the vendor is back, so the circuit closes.
    sender.down.clear();
    clock.nowMs = 31_000;
    expect(
      (await deliver(makeJob([target("a6", { certificateId: 1 })], { vendor: "huawei" }))).delivered,
    ).toBe(1);
    expect(
      (await deliver(makeJob([target("a7", { certificateId: 1 })], { vendor: "huawei" }))).delivered,
    ).toBe(1);
  });

  it("a failed probe opens the circuit for twice as long", async () => {
    const clock = new FixedClock(0);
    const sender = new OutageSender("huawei");
    sender.down.add(1);
    const deps = { ...base(), sender, clock };
    const deliver = makeDeliveryWorker(deps);
    for (let i = 0; i < 5; i += 1)
      await deliver(makeJob([target(`a${i}`, { certificateId: 1 })], { vendor: "huawei" }));
    clock.nowMs = 31_000;
    await deliver(makeJob([target("probe", { certificateId: 1 })], { vendor: "huawei" }));
    await deliver(makeJob([target("later", { certificateId: 1 })], { vendor: "huawei" }));
    expect(deps.retries.retried.at(-1)!.delaySeconds).toBe(60);
  });

  it("other vendors are unaffected: each vendor's worker keeps its own circuits", async () => {
    const clock = new FixedClock(0);
    const fcm = new OutageSender("fcm");
    fcm.down.add(0);
    const meizu = new OutageSender("meizu");
    const deliverFcm = makeDeliveryWorker({ ...base(), sender: fcm, clock });
    const deliverMeizu = makeDeliveryWorker({ ...base(), sender: meizu, clock });
    for (let i = 0; i < 6; i += 1) await deliverFcm(makeJob([target(`f${i}`)]));
    expect(fcm.calls).toHaveLength(5);
    expect((await deliverMeizu(makeJob([target("m")], { vendor: "meizu" }))).delivered).toBe(1);
  });
});

describe("pacing and the invocation deadline", () => {
  it("waits for its share of the rate within the invocation, one request at a time", async () => {
    vi.useFakeTimers({ now: 0 });
    const sender = new ScriptedSender("meizu");
    const at: number[] = [];
    const send = sender.send.bind(sender);
    sender.send = async (n, t) => {
      at.push(Date.now());
      return send(n, t);
    };
    // 20 requests/s shared by 2 containers: this one spends 10/s.
    const deliver = makeDeliveryWorker({ ...base(), sender, pacing: pacingFor("meizu", { meizu: 20 }, 2) });
    const runs = Array.from({ length: 5 }, (_, i) =>
      deliver(makeJob([target(`m${i}`)], { vendor: "meizu", messageKey: `k${i}` })),
    );
    await vi.advanceTimersByTimeAsync(1_000);
    await Promise.all(runs);
    expect(at).toEqual([0, 100, 200, 300, 400]);
  });

  it("a multicast request of many tokens costs one request where the vendor counts requests", async () => {
    vi.useFakeTimers({ now: 0 });
    const sender = new ScriptedSender("meizu");
    const deliver = makeDeliveryWorker({ ...base(), sender, pacing: pacingFor("meizu", { meizu: 20 }, 2) });
    const tokens = Array.from({ length: 250 }, (_, i) => target(`t${i}`));
    const run = deliver(makeJob(tokens, { vendor: "meizu" }));
    await vi.advanceTimersByTimeAsync(1_000);
    const report = await run;
    expect(report.delivered).toBe(250);
    // 3 requests of ≤100 pushIds: the first at once, then one every 100 ms.
    expect(sender.calls.map((c) => c.targets.length)).toEqual([100, 100, 50]);
  });

  it("re-queues what would wait longer than it may, without spending an attempt", async () => {
    vi.useFakeTimers({ now: 0 });
    const sender = new ScriptedSender("meizu");
    const deps = { ...base(), sender, pacing: pacingFor("meizu", { meizu: 2 }, 2), maxPaceWaitMs: 2_500 };
    const deliver = makeDeliveryWorker(deps);
    // 1 request/s: the 4th and 5th would wait 3 s behind the three let go (re-queued jobs queue nothing).
    const runs = Array.from({ length: 5 }, (_, i) =>
      deliver(makeJob([target(`m${i}`)], { vendor: "meizu", messageKey: `k${i}` })),
    );
    await vi.advanceTimersByTimeAsync(3_000);
    const reports = await Promise.all(runs);
    expect(reports.map((r) => r.delivered)).toEqual([1, 1, 1, 0, 0]);
    expect(deps.retries.retried.map((r) => [r.delaySeconds, r.job.attempt, r.job.deferrals])).toEqual([
      [3, 0, 1],
      [3, 0, 1],
    ]);
  });

  it("starts no send that could outlast the invocation", async () => {
    const sender = new ScriptedSender("fcm");
    const deps = { ...base(), sender, clock: new FixedClock(0) };
    const report = await makeDeliveryWorker(deps)(makeJob([target("a")]), { deadline: SEND_BUDGET_MS - 1 });
    expect(sender.calls).toHaveLength(0);
    expect(report.deferred).toBe(1);
    expect(deps.retries.retried[0]).toMatchObject({ delaySeconds: 1, job: { attempt: 0, deferrals: 1 } });
  });
});
