import type { SQSEvent, SQSRecord } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { CoalescedDeliveryQueue, makeRouteEventsHandler } from "../../../functions/shared/route-events.js";
import type { DeliveryJob } from "../../../lib/model/index.js";
import type { DeliveryQueue } from "../../../lib/ports/index.js";
import type { Router, RouterEvent } from "../../../lib/routing/router.js";

const job = (messageKey: string): DeliveryJob => ({
  version: 1,
  vendor: "apns",
  notification: { messageKey, title: "t", body: "b" } as DeliveryJob["notification"],
  targets: [{ userId: "u", deviceId: "d", token: "t" }],
  attempt: 0,
  acceptedAt: 0,
});

/** The vendor queues as the port sees them: each call recorded, answered when the test says. */
class GatedQueue implements DeliveryQueue {
  readonly calls: string[][] = [];
  private gates: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  constructor(private readonly immediate = true) {}
  enqueue(jobs: readonly DeliveryJob[]): Promise<void> {
    this.calls.push(jobs.map((j) => j.notification.messageKey));
    if (this.immediate) return Promise.resolve();
    return new Promise((resolve, reject) => this.gates.push({ resolve, reject }));
  }
  open(): void {
    for (const g of this.gates.splice(0)) g.resolve();
  }
  fail(error: Error): void {
    for (const g of this.gates.splice(0)) g.reject(error);
  }
}

const tick = (ms = 0) => new Promise((resolve) => setTimeout(resolve, ms));

describe("CoalescedDeliveryQueue", () => {
  it("sends the jobs of records routed at the same time in one enqueue, once all of them got there", async () => {
    const queue = new GatedQueue();
    const coalesced = new CoalescedDeliveryQueue(queue, 1_000);
    const route = (key: string, delayMs: number) =>
      coalesced.during(async () => {
        await tick(delayMs);
        await coalesced.enqueue([job(key)]);
      });
    await Promise.all([route("a", 1), route("b", 5), route("c", 10)]);
    expect(queue.calls).toEqual([["a", "b", "c"]]);
  });

  it("does not wait for a record that finished without jobs", async () => {
    const queue = new GatedQueue();
    const coalesced = new CoalescedDeliveryQueue(queue, 60_000);
    const started = Date.now();
    await Promise.all([
      coalesced.during(() => coalesced.enqueue([job("a")])),
      coalesced.during(() => tick(5)),
    ]);
    expect(queue.calls).toEqual([["a"]]);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it("sends after maxWaitMs rather than wait for a slow record, which sends on its own", async () => {
    const queue = new GatedQueue();
    const coalesced = new CoalescedDeliveryQueue(queue, 20);
    await Promise.all([
      coalesced.during(() => coalesced.enqueue([job("fast")])),
      coalesced.during(async () => {
        await tick(200);
        await coalesced.enqueue([job("slow")]);
      }),
    ]);
    expect(queue.calls).toEqual([["fast"], ["slow"]]);
  });

  it("holds each record until its jobs are on the queue", async () => {
    const queue = new GatedQueue(false);
    const coalesced = new CoalescedDeliveryQueue(queue);
    let done = false;
    const routed = coalesced
      .during(() => coalesced.enqueue([job("a")]))
      .then(() => {
        done = true;
      });
    await tick(30);
    expect(queue.calls).toEqual([["a"]]);
    expect(done).toBe(false);
    queue.open();
    await routed;
    expect(done).toBe(true);
  });

  it("fails every record whose jobs were in a send that failed", async () => {
    const queue = new GatedQueue(false);
    const coalesced = new CoalescedDeliveryQueue(queue, 1_000);
    const routeAfterTick = (key: string) =>
      coalesced.during(async () => {
        await tick(1);
        await coalesced.enqueue([job(key)]);
      });
    const a = routeAfterTick("a");
    const b = routeAfterTick("b");
    await tick(20);
    expect(queue.calls).toEqual([["a", "b"]]);
    queue.fail(new Error("SQS unavailable"));
    await expect(a).rejects.toThrow("SQS unavailable");
    await expect(b).rejects.toThrow("SQS unavailable");
  });

  it("sends at once outside a batch", async () => {
    const queue = new GatedQueue();
    const coalesced = new CoalescedDeliveryQueue(queue, 60_000);
    await coalesced.enqueue([job("alone")]);
    expect(queue.calls).toEqual([["alone"]]);
  });
});

describe("makeRouteEventsHandler with a coalesced queue", () => {
  const record = (id: string, event: RouterEvent): SQSRecord =>
    ({ messageId: id, body: JSON.stringify(event), attributes: {} }) as unknown as SQSRecord;
  const c2c = (key: string): RouterEvent =>
    ({
      command: "C2C.CallbackAfterSendMsg",
      acceptedAt: 0,
      body: { From_Account: "a", To_Account: "b", MsgKey: key },
    }) as unknown as RouterEvent;

  it("routes a batch's one-to-one messages into one send, and fails only the record whose routing failed", async () => {
    const queue = new GatedQueue();
    const coalesced = new CoalescedDeliveryQueue(queue, 1_000);
    const router: Router = {
      async handle(event) {
        const key = (event.body as { MsgKey: string }).MsgKey;
        if (key === "bad") throw new Error("table unavailable");
        await tick(key.length);
        await coalesced.enqueue([job(key)]);
      },
    };
    const handler = makeRouteEventsHandler(() => router, undefined, { deliveries: coalesced });
    const event: SQSEvent = {
      Records: [record("1", c2c("m1")), record("2", c2c("bad")), record("3", c2c("m333"))],
    };
    const response = await handler(event);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: "2" }]);
    expect(queue.calls).toEqual([["m1", "m333"]]);
  });
});
