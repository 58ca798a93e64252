import { SNSClient } from "@aws-sdk/client-sns";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  type DeliveryEventsMessage,
  MAX_BATCH_BYTES,
  SnsDeliveryEvents,
} from "../../lib/adapters/sns/delivery-events.js";
import { makeDeliveryWorker } from "../../lib/delivery/worker.js";
import type { DeliveryJob } from "../../lib/model/index.js";
import type { DeliveryEvent } from "../../lib/ports/index.js";
import { type SnsServer, startSnsServer } from "../../local/sns-server.js";
import { CapturingRetryQueue, FixedClock, RecordingJournal, ScriptedSender } from "../support/fakes.js";
import { MemoryDeviceStore } from "../support/memory-stores.js";

/**
 * The delivery-events publisher with the real @aws-sdk/client-sns against local/sns-server.ts (the
 * SNS Query API's PublishBatch over HTTP), and the worker publishing a job's events through it.
 */
let sns: SnsServer;
let client: SNSClient;
let topicArn: string;

beforeAll(async () => {
  sns = await startSnsServer();
  topicArn = sns.createTopic("test-delivery-events");
  // One attempt per call: the SDK's own retries would hide the server's failures from the tests.
  client = new SNSClient({
    endpoint: sns.endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
    maxAttempts: 1,
  });
});
afterAll(async () => {
  client?.destroy();
  await sns?.close();
});
beforeEach(() => sns.clear());

const event = (i: number, type: DeliveryEvent["type"] = "delivered"): DeliveryEvent => ({
  type,
  messageKey: "144115233406627467_7_1709281815",
  userId: `user${100_000 + i}`,
  deviceId: `device-${i}-5c1f0b2e-8a4d-4e7b-9f1a-3b6c2d8e0f4a`,
  vendor: "fcm",
  jobId: "8f14e45fceea167a5a36dedd4bea2543",
  attempt: 1,
  acceptedAt: 1_764_086_040_000,
  at: 1_764_086_040_250,
  status: 200,
});

const messages = () => sns.received(topicArn).map((m) => JSON.parse(m.message) as DeliveryEventsMessage);

describe("SnsDeliveryEvents", () => {
  it("publishes a job's events in one PublishBatch, one message per type with type and vendor attributes", async () => {
    const calls = sns.calls();
    await new SnsDeliveryEvents(client, topicArn).publish([
      event(1),
      event(2),
      { ...event(3, "token-removed"), status: 410, reason: "APNs 410 Unregistered" },
    ]);
    expect(sns.calls() - calls).toBe(1);
    const received = sns.received(topicArn);
    expect(received.map((m) => m.attributes.type?.stringValue).sort()).toEqual([
      "delivered",
      "token-removed",
    ]);
    expect(received[0]?.attributes.vendor).toEqual({ dataType: "String", stringValue: "fcm" });
    const delivered = messages().find((m) => m.type === "delivered");
    expect(delivered?.events.map((e) => e.userId)).toEqual(["user100001", "user100002"]);
    expect(delivered?.events[0]).toMatchObject({
      messageKey: "144115233406627467_7_1709281815",
      deviceId: "device-1-5c1f0b2e-8a4d-4e7b-9f1a-3b6c2d8e0f4a",
      acceptedAt: "2025-11-25T15:54:00.000Z",
      at: "2025-11-25T15:54:00.250Z",
      latencyMs: 250,
      status: 200,
    });
    expect(messages().find((m) => m.type === "token-removed")?.events[0]?.reason).toBe(
      "APNs 410 Unregistered",
    );
  });

  it("splits 3,000 events into messages and calls within SNS's limits, each event once", async () => {
    const calls = sns.calls();
    await new SnsDeliveryEvents(client, topicArn).publish(Array.from({ length: 3000 }, (_, i) => event(i)));
    const received = sns.received(topicArn);
    expect(received.length).toBeGreaterThan(1);
    for (const m of received) expect(Buffer.byteLength(m.message)).toBeLessThanOrEqual(MAX_BATCH_BYTES);
    expect(messages().flatMap((m) => m.events.map((e) => e.userId))).toHaveLength(3000);
    expect(new Set(messages().flatMap((m) => m.events.map((e) => e.userId))).size).toBe(3000);
    // The server refuses a call over 256 KiB or 10 entries: every call it answered was within both.
    expect(sns.calls() - calls).toBe(received.length);
  });

  it("sends entries SNS failed once more, and throws when they fail again", async () => {
    sns.failNext(1, { status: 200, code: "InternalError" });
    await new SnsDeliveryEvents(client, topicArn).publish([event(1)]);
    expect(messages()).toHaveLength(1);

    sns.clear();
    sns.failNext(2, { status: 200, code: "InternalError" });
    await expect(new SnsDeliveryEvents(client, topicArn).publish([event(1)])).rejects.toThrow(
      /SNS refused 1 of 1 messages \(InternalError/,
    );
    expect(messages()).toHaveLength(0);
  });

  it("the SNS server refuses what SNS refuses", async () => {
    await expect(
      new SnsDeliveryEvents(client, "arn:aws:sns:us-east-1:000000000000:nope").publish([event(1)]),
    ).rejects.toThrow(/does not exist/);
    const { PublishBatchCommand } = await import("@aws-sdk/client-sns");
    const entries = Array.from({ length: 11 }, (_, i) => ({ Id: `e${i}`, Message: "x" }));
    await expect(
      client.send(new PublishBatchCommand({ TopicArn: topicArn, PublishBatchRequestEntries: entries })),
    ).rejects.toMatchObject({ name: "TooManyEntriesInBatchRequestException" });
    await expect(
      client.send(
        new PublishBatchCommand({
          TopicArn: topicArn,
          PublishBatchRequestEntries: [
            { Id: "a", Message: "x".repeat(200_000) },
            { Id: "b", Message: "x".repeat(100_000) },
          ],
        }),
      ),
    ).rejects.toMatchObject({ name: "BatchRequestTooLongException" });
    await expect(
      client.send(
        new PublishBatchCommand({
          TopicArn: topicArn,
          PublishBatchRequestEntries: [
            { Id: "a", Message: "x" },
            { Id: "a", Message: "y" },
          ],
        }),
      ),
    ).rejects.toMatchObject({ name: "BatchEntryIdsNotDistinctException" });
  });
});

describe("the worker's delivery events", () => {
  const TOKENS = [
    "tok-ok-ecd1a7b9c3f24e6a8d0b2c4e6f8a0b1c",
    "tok-dead-9b8a7c6d5e4f3a2b1c0d9e8f7a6b5c4d",
    "tok-bad-0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d",
  ];
  const job = (): DeliveryJob => ({
    version: 1,
    vendor: "fcm",
    attempt: 0,
    acceptedAt: 1_000,
    notification: { title: "t", body: "b", ext: "{}", conversationId: "c2c_a", messageKey: "m-1", sentAt: 0 },
    targets: TOKENS.map((token, i) => ({ userId: "bob", deviceId: `phone-${i}`, token })),
  });
  const sender = () =>
    new ScriptedSender("fcm", {
      [TOKENS[1]!]: { kind: "drop-token", reason: "FCM 404 UNREGISTERED" },
      [TOKENS[2]!]: { kind: "bad-request", reason: "FCM 400 INVALID_ARGUMENT" },
    });
  async function run(events: SnsDeliveryEvents) {
    const devices = new MemoryDeviceStore();
    for (const [i, token] of TOKENS.entries())
      await devices.put({ userId: "bob", deviceId: `phone-${i}`, vendor: "fcm", token, updatedAt: 0 });
    const journal = new RecordingJournal();
    const worker = makeDeliveryWorker({
      sender: sender(),
      devices,
      retries: new CapturingRetryQueue(),
      journal,
      maxAttempts: 3,
      clock: new FixedClock(1_500),
      events,
    });
    return { report: await worker(job()), journal };
  }

  it("publishes delivered, token-removed and dead-lettered with ids and reasons, never a token", async () => {
    const { report } = await run(new SnsDeliveryEvents(client, topicArn));
    expect(report).toMatchObject({ delivered: 1, tokensRemoved: 1, deadLettered: 1 });
    const byType = Object.fromEntries(messages().map((m) => [m.type, m.events]));
    expect(byType.delivered?.map((e) => e.deviceId)).toEqual(["phone-0"]);
    expect(byType["token-removed"]?.[0]).toMatchObject({
      deviceId: "phone-1",
      reason: "FCM 404 UNREGISTERED",
    });
    expect(byType["dead-lettered"]?.[0]).toMatchObject({
      deviceId: "phone-2",
      reason: "FCM 400 INVALID_ARGUMENT",
    });
    expect(byType.delivered?.[0]).toMatchObject({
      messageKey: "m-1",
      userId: "bob",
      attempt: 1,
      latencyMs: 500,
    });
    const raw = sns
      .received(topicArn)
      .map((m) => m.message)
      .join("\n");
    for (const token of TOKENS) expect(raw).not.toContain(token);
  });

  it("a failing topic never fails the delivery: the job settles and the failure is journalled", async () => {
    sns.failNext(1, { status: 500, code: "InternalError" });
    const { report, journal } = await run(new SnsDeliveryEvents(client, topicArn));
    expect(report).toMatchObject({ delivered: 1, tokensRemoved: 1, deadLettered: 1 });
    expect(journal.entries.find((e) => e.reason?.startsWith("delivery events:"))?.reason).toMatch(
      /^delivery events: 3 not published: /,
    );
    expect(messages()).toHaveLength(0);
  });
});
