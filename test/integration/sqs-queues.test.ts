import { ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REASON_ATTRIBUTE, SqsDeliveryQueue, SqsRetryQueue, sendAll } from "../../lib/adapters/sqs/queues.js";
import type { DeliveryJob } from "../../lib/model/index.js";
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
  it("sends jobs to their vendor's queue in batches of ten", async () => {
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
    expect(
      (await drain(fcm.url)).map((m) => (JSON.parse(m.body) as DeliveryJob).notification.messageKey).sort(),
    ).toHaveLength(23);
    expect((await drain(apns.url)).map((m) => (JSON.parse(m.body) as DeliveryJob).targets[0]!.token)).toEqual(
      ["tok99"],
    );
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
