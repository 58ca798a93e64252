import { randomBytes } from "node:crypto";
import { PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DynamoAnswerWindow } from "../../lib/adapters/dynamodb/answer-window.js";
import { DynamoDeliveryLog, messagePartition } from "../../lib/adapters/dynamodb/delivery-log.js";
import { DynamoQuotaGates } from "../../lib/adapters/dynamodb/quota-gates.js";
import { documentClient, ensureTable } from "../../lib/adapters/dynamodb/table.js";
import { DynamoUserStore } from "../../lib/adapters/dynamodb/user-store.js";
import type { DeliveryTarget, Device } from "../../lib/model/index.js";
import { type DynamoEmulator, startDynamo } from "../../local/emulators.js";

// Against a real DynamoDB API (dynalite in-process): the job records, the shared gates and counts, and
// the conditional token cleanup, as deployed workers use them.
let dynamo: DynamoEmulator;
let table = "";
let log: DynamoDeliveryLog;
let users: DynamoUserStore;
let count = 0;
const clock = { now: () => Date.now() };

beforeAll(async () => {
  dynamo = await startDynamo();
});
afterAll(async () => {
  await dynamo.close();
});
beforeEach(async () => {
  table = `records-${++count}`;
  await ensureTable(dynamo.client, table);
  log = new DynamoDeliveryLog(documentClient(dynamo.client), table, clock);
  users = new DynamoUserStore(documentClient(dynamo.client), table);
});

const device = (userId: string, deviceId: string, token: string, extra: Partial<Device> = {}): Device => ({
  userId,
  deviceId,
  vendor: "fcm",
  token,
  updatedAt: 1_000,
  ...extra,
});
const asTarget = (d: Device, extra: Partial<DeliveryTarget> = {}): DeliveryTarget => ({
  userId: d.userId,
  deviceId: d.deviceId,
  token: d.token,
  ...(d.certificateId !== undefined ? { certificateId: d.certificateId } : {}),
  ...extra,
});

describe("DynamoDeliveryLog: one record per job", () => {
  it("finds a job's record with its plan, and nothing for another job", async () => {
    const bob = device("bob", "pixel", "tok-bob");
    await users.put(bob);
    await log.put({
      jobId: "j1",
      messageKey: "m1",
      vendor: "fcm",
      delivered: [asTarget(bob)],
      plan: [{ kind: "retry", delaySeconds: 30, targets: [1] }],
    });
    expect(await log.find("m1", "j1")).toEqual({
      delivered: 1,
      plan: [{ kind: "retry", delaySeconds: 30, targets: [1] }],
    });
    expect(await log.find("m1", "j2")).toBeUndefined();
    expect(await log.find("m2", "j1")).toBeUndefined();
  });

  it("tells a recall exactly the devices that got the message, across the message's jobs", async () => {
    const bob = device("bob", "pixel", "tok-bob", { certificateId: 3, appId: "com.example" });
    const carol = device("carol", "iphone", "a".repeat(64), { vendor: "apns", environment: "sandbox" });
    const dave = device("dave", "pixel", "tok-dave");
    for (const d of [bob, carol, dave]) await users.put(d);
    await log.put({
      jobId: "fcm-1",
      messageKey: "m",
      vendor: "fcm",
      delivered: [asTarget(bob, { badge: 4 })],
      plan: [],
    });
    await log.put({
      jobId: "apns-1",
      messageKey: "m",
      vendor: "apns",
      delivered: [asTarget(carol)],
      plan: [],
    });
    await log.put({ jobId: "fcm-2", messageKey: "m", vendor: "fcm", delivered: [asTarget(dave)], plan: [] });
    // dave reinstalled: a new token on the same device id did not get the original.
    await users.put(device("dave", "pixel", "tok-dave-new", { updatedAt: 2_000 }));

    const got = await log.deliveredTo("m");
    expect(got).toHaveLength(2);
    expect(got).toEqual(
      expect.arrayContaining([
        {
          vendor: "fcm",
          target: {
            userId: "bob",
            deviceId: "pixel",
            token: "tok-bob",
            certificateId: 3,
            appId: "com.example",
            badge: 4,
          },
        },
        {
          vendor: "apns",
          target: { userId: "carol", deviceId: "iphone", token: "a".repeat(64), environment: "sandbox" },
        },
      ]),
    );
    expect(await log.deliveredTo("other")).toEqual([]);
  });

  it("packs a 500-device job into one item of a few KB", async () => {
    const targets = Array.from({ length: 500 }, (_, i) =>
      asTarget(device(`user${100_000 + i}`, `device-${i}`, `tok-${i}-${"x".repeat(150)}`)),
    );
    await log.put({ jobId: "big", messageKey: "group#7", vendor: "fcm", delivered: targets, plan: [] });
    const { Items = [] } = await documentClient(dynamo.client).send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: "pk = :pk",
        ExpressionAttributeValues: { ":pk": "MSG#group#7" },
      }),
    );
    expect(Items).toHaveLength(1);
    expect((Items[0]!.r as Uint8Array).byteLength).toBeLessThan(8_000);
  });

  it("splits a record larger than an item into parts and reads it back whole", async () => {
    // Random device ids do not compress: ~40 bytes a device, 12,000 devices ≈ 480 KB packed.
    const targets = Array.from({ length: 12_000 }, (_, i) => ({
      userId: randomBytes(12).toString("base64url"),
      deviceId: randomBytes(12).toString("base64url"),
      token: `t${i}`,
    }));
    await log.put({ jobId: "huge", messageKey: "m-huge", vendor: "fcm", delivered: targets, plan: [] });
    expect((await log.find("m-huge", "huge"))?.delivered).toBe(12_000);
  });

  it("hashes a message key too long for a partition key, the same way for writes and reads", async () => {
    const key = "k".repeat(3_000);
    expect(messagePartition(key)).toMatch(/^MSG#sha256:[0-9a-f]{64}$/);
    const bob = device("bob", "pixel", "tok");
    await users.put(bob);
    await log.put({ jobId: "j", messageKey: key, vendor: "fcm", delivered: [asTarget(bob)], plan: [] });
    expect(await log.deliveredTo(key)).toHaveLength(1);
  });

  it("still reads the per-device records older workers wrote", async () => {
    await documentClient(dynamo.client).send(
      new PutCommand({
        TableName: table,
        Item: {
          pk: "MSG#legacy",
          sk: "D#fcm#bob#pixel",
          vendor: "fcm",
          target: { userId: "bob", deviceId: "pixel", token: "t" },
          expiresAt: Math.floor(Date.now() / 1000) + 60,
        },
      }),
    );
    expect(await log.deliveredTo("legacy")).toEqual([
      { vendor: "fcm", target: { userId: "bob", deviceId: "pixel", token: "t" } },
    ]);
  });
});

describe("DynamoUserStore.remove: dead-token cleanup", () => {
  it("removes only while the device has the token and was not registered after the vendor's `since`", async () => {
    await users.put(device("bob", "pixel", "t1", { updatedAt: 1_000 }));
    await users.put(device("bob", "tablet", "t2", { updatedAt: 5_000 }));
    expect(await users.remove("bob", "pixel", "other-token", 2_000)).toBe(false);
    expect(await users.remove("bob", "tablet", "t2", 2_000)).toBe(false);
    expect(await users.remove("bob", "pixel", "t1", 2_000)).toBe(true);
    expect((await users.list("bob")).map((d) => d.deviceId)).toEqual(["tablet"]);
  });
});

describe("shared worker state", () => {
  it("quota gates: a later reset wins, an earlier one changes nothing", async () => {
    const gates = new DynamoQuotaGates(documentClient(dynamo.client), table);
    expect(await gates.get("vivo", "1")).toBeUndefined();
    await gates.close("vivo", "1", { until: 2_000_000, reason: "vivo 10070" });
    await gates.close("vivo", "1", { until: 1_000_000, reason: "earlier" });
    expect(await gates.get("vivo", "1")).toEqual({ until: 2_000_000, reason: "vivo 10070" });
    expect(await gates.get("vivo", "2")).toBeUndefined();
  });

  it("answer window: sums the buckets from the window's start, per credential", async () => {
    const window = new DynamoAnswerWindow(documentClient(dynamo.client), table);
    const minute = 60_000;
    await window.add("fcm", "1", 0, { answers: 50, dropTokens: 5 }, 0);
    await window.add("fcm", "2", 9 * minute, { answers: 7, dropTokens: 7 }, 0);
    await window.add("fcm", "1", 9 * minute, { answers: 10, dropTokens: 10 }, 0);
    expect(await window.add("fcm", "1", 10 * minute, { answers: 1, dropTokens: 0 }, minute)).toEqual({
      answers: 11,
      dropTokens: 10,
    });
  });
});
