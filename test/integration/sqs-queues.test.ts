import { ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BUNDLE_BYTES,
  bundleBodies,
  REASON_ATTRIBUTE,
  SqsDeliveryQueue,
  SqsRetryQueue,
  sendAll,
} from "../../lib/adapters/sqs/queues.js";
import { bodyJobs, type DeliveryJob, type JobBundle } from "../../lib/model/index.js";
import { createQueuePair, type SqsEmulator, startSqs } from "../../local/emulators.js";

// Against a real SQS API (the local SQS server, in-process, driven by the AWS SDK).
let sqs: SqsEmulator;
beforeAll(async () => {
  sqs = await startSqs();
});
afterAll(async () => {
  await sqs.close();
});

const job = (vendor: "apns" | "fcm", n: number): DeliveryJob => ({
  version: 1,
  vendor,
  attempt: 0,
  acceptedAt: 0,
  notification: { title: "t", body: "b", ext: "{}", conversationId: "c2c_a", messageKey: `k${n}`, sentAt: 0 },
  targets: [{ userId: "u", deviceId: "d", token: `tok${n}` }],
});

async function drain(url: string, opts: { visibility?: number } = {}) {
  const bodies: { body: string; reason?: string }[] = [];
  for (;;) {
    const { Messages = [] } = await sqs.client.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: opts.visibility ?? 30,
        MessageAttributeNames: ["All"],
      }),
    );
    if (Messages.length === 0) return bodies;
    for (const m of Messages)
      bodies.push({ body: m.Body ?? "", reason: m.MessageAttributes?.[REASON_ATTRIBUTE]?.StringValue });
  }
}

describe("SQS adapters", () => {
  it("packs small jobs into bundles on their vendor's queue, a lone job as itself", async () => {
    const apns = await createQueuePair(sqs.client, "t-apns", {
      visibilityTimeoutSeconds: 30,
      maxReceiveCount: 3,
    });
    const fcm = await createQueuePair(sqs.client, "t-fcm", {
      visibilityTimeoutSeconds: 30,
      maxReceiveCount: 3,
    });
    const queue = new SqsDeliveryQueue(sqs.client, { apns: apns.url, fcm: fcm.url });
    await queue.enqueue([...Array.from({ length: 23 }, (_, i) => job("fcm", i)), job("apns", 99)]);
    // 23 one-target jobs share one message (one send, one receive, one delete), in order.
    const fcmBodies = (await drain(fcm.url)).map((m) => JSON.parse(m.body) as JobBundle);
    expect(fcmBodies).toHaveLength(1);
    expect(fcmBodies[0]).toMatchObject({ version: 1, vendor: "fcm" });
    expect(fcmBodies[0]!.jobs.map((j) => j.notification.messageKey)).toEqual(
      Array.from({ length: 23 }, (_, i) => `k${i}`),
    );
    expect((await drain(apns.url)).map((m) => (JSON.parse(m.body) as DeliveryJob).targets[0]!.token)).toEqual(
      ["tok99"],
    );
  });

  it("keeps a bundle within one billed request (64 KiB) and one job's worth of targets (500)", () => {
    const many = (n: number, targets: number, token: string): DeliveryJob => ({
      ...job("fcm", n),
      targets: Array.from({ length: targets }, (_, i) => ({ userId: `u${i}`, deviceId: `d${i}`, token })),
    });
    // By targets: 3 jobs of 200 cannot share one bundle of 500.
    const byTargets = bundleBodies(
      "fcm",
      [0, 1, 2].map((n) => many(n, 200, "t")),
    ).map((b) => bodyJobs(JSON.parse(b)).length);
    expect(byTargets).toEqual([2, 1]);
    // By bytes: jobs of ~20 KiB, three to a bundle; every body within 64 KiB.
    const big = "x".repeat(20 * 1024);
    const bodies = bundleBodies(
      "fcm",
      Array.from({ length: 7 }, (_, n) => many(n, 1, big)),
    );
    expect(bodies.map((b) => bodyJobs(JSON.parse(b)).length)).toEqual([3, 3, 1]);
    for (const b of bodies) expect(Buffer.byteLength(b)).toBeLessThanOrEqual(BUNDLE_BYTES);
    // A job of 500 targets travels alone, as itself.
    const alone = bundleBodies("fcm", [many(0, 1, "a"), many(1, 500, "b"), many(2, 1, "c")]);
    expect(alone.map((b) => (JSON.parse(b) as Partial<JobBundle>).jobs?.length ?? "job")).toEqual([
      "job",
      "job",
      "job",
    ]);
  });

  it("counts SendMessageBatch requests: the fewest the limits allow", async () => {
    const q = await createQueuePair(sqs.client, "t-count", {
      visibilityTimeoutSeconds: 30,
      maxReceiveCount: 3,
    });
    expect(
      await sendAll(
        sqs.client,
        q.url,
        Array.from({ length: 25 }, (_, i) => `m${i}`),
      ),
    ).toBe(3);
    // Size-bound: 3 bodies of 100 KiB cannot share one 256 KiB batch.
    expect(
      await sendAll(
        sqs.client,
        q.url,
        Array.from({ length: 3 }, () => "x".repeat(100 * 1024)),
      ),
    ).toBe(2);
  });

  it("retries with a delay and dead-letters with the reason", async () => {
    const q = await createQueuePair(sqs.client, "t-retry", {
      visibilityTimeoutSeconds: 30,
      maxReceiveCount: 3,
    });
    const retries = new SqsRetryQueue(sqs.client, q.url, q.dlqUrl);
    await retries.retry(job("fcm", 1), 1);
    expect(await drain(q.url)).toEqual([]); // still delayed
    await new Promise((resolve) => setTimeout(resolve, 1200));
    expect(await drain(q.url)).toHaveLength(1);

    await retries.deadLetter(job("fcm", 2), "FCM 400 INVALID_ARGUMENT: message.android.ttl");
    expect(await drain(q.dlqUrl)).toEqual([
      { body: JSON.stringify(job("fcm", 2)), reason: "FCM 400 INVALID_ARGUMENT: message.android.ttl" },
    ]);
  });
});
