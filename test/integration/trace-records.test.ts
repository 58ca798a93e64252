import { ScanCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoDeliveryLog } from "../../lib/adapters/dynamodb/delivery-log.js";
import { documentClient, ensureTable } from "../../lib/adapters/dynamodb/table.js";
import { DEFAULT_TRACE_SECONDS, DynamoTraceRecords } from "../../lib/adapters/dynamodb/trace-records.js";
import { tracingJournal } from "../../lib/trace/routing-trace.js";
import { type DynamoEmulator, startDynamo } from "../../local/emulators.js";
import { FixedClock, RecordingJournal } from "../support/fakes.js";

/** The routing trace and the job runs' traces, written and read back through dynalite. */
let dynamo: DynamoEmulator;
const TABLE = "trace-records-test";
const clock = new FixedClock(Date.parse("2026-03-01T10:30:00Z"));

beforeAll(async () => {
  dynamo = await startDynamo();
  await ensureTable(dynamo.client, TABLE);
});
afterAll(async () => {
  await dynamo?.close();
});

const records = () => new DynamoTraceRecords(documentClient(dynamo.client), TABLE, clock);

describe("the router's trace", () => {
  it("one item per one-to-one recipient, packed group items per page, each found by user", async () => {
    const inner = new RecordingJournal();
    const journal = tracingJournal(inner, records(), clock);
    journal.record({
      stage: "skipped",
      messageKey: "m-1",
      userId: "bob",
      deviceId: "ipad",
      vendor: "apns",
      reason: "online in the foreground",
    });
    journal.record({ stage: "queued", messageKey: "m-1", userId: "bob", deviceId: "iphone", vendor: "apns" });
    journal.record({ stage: "presence", userId: "bob", reason: "Login" });
    for (let i = 0; i < 2500; i += 1) {
      const userId = `user${100_000 + i}`;
      if (i % 2 === 0)
        journal.record({ stage: "skipped", messageKey: "@TGS#g#7", userId, reason: "conversation muted" });
      else
        journal.record({
          stage: "queued",
          messageKey: "@TGS#g#7",
          userId,
          deviceId: `phone-${i}`,
          vendor: "fcm",
        });
    }
    // Every entry still reaches the journal it wraps.
    expect(inner.entries).toHaveLength(2503);
    const before = dynamo.calls().BatchWriteItem ?? 0;
    await journal.flush();
    expect((dynamo.calls().BatchWriteItem ?? 0) - before).toBe(1);

    const { Items = [] } = await documentClient(dynamo.client).send(new ScanCommand({ TableName: TABLE }));
    const pks = Items.map((i) => String(i.pk)).sort();
    // bob's own item, and the page's 2,500 members in two group items (2,000 a item) of one shard.
    expect(pks.filter((pk) => pk === "TRACE#U#bob")).toHaveLength(1);
    const groupItems = pks.filter((pk) => pk.startsWith("TRACE#G#2026-03-01T10#"));
    expect(groupItems).toHaveLength(2);
    expect(new Set(groupItems).size).toBe(1);
    expect(Items.every((i) => i.expiresAt === Math.floor(clock.nowMs / 1000) + DEFAULT_TRACE_SECONDS)).toBe(
      true,
    );

    const since = clock.nowMs - 3_600_000;
    const bob = await records().decisionsFor("bob", since, clock.nowMs);
    expect(bob).toEqual([
      {
        messageKey: "m-1",
        at: clock.nowMs,
        decisions: [
          {
            stage: "skipped",
            userId: "bob",
            deviceId: "ipad",
            vendor: "apns",
            reason: "online in the foreground",
          },
          { stage: "queued", userId: "bob", deviceId: "iphone", vendor: "apns" },
        ],
      },
    ]);
    const member = await records().decisionsFor("user102001", since, clock.nowMs);
    expect(member.map((r) => [r.messageKey, r.decisions])).toEqual([
      ["@TGS#g#7", [{ stage: "queued", userId: "user102001", deviceId: "phone-2001", vendor: "fcm" }]],
    ]);
    expect((await records().decisionsFor("user100002", since, clock.nowMs))[0]?.decisions[0]?.reason).toBe(
      "conversation muted",
    );
    // Narrowed to a message, and to a window that ends before it: nothing else, nothing.
    expect(await records().decisionsFor("bob", since, clock.nowMs, "m-other")).toEqual([]);
    expect(await records().decisionsFor("user102001", since, clock.nowMs - 60_000)).toEqual([]);
  });

  it("a trace that cannot be written is reported, never thrown", async () => {
    const errors: unknown[] = [];
    const journal = tracingJournal(
      new RecordingJournal(),
      { put: async () => Promise.reject(new Error("throttled")) },
      clock,
      (error) => errors.push(error),
    );
    journal.record({ stage: "queued", messageKey: "m-2", userId: "bob", deviceId: "iphone", vendor: "apns" });
    await expect(journal.flush()).resolves.toBeUndefined();
    expect(errors).toHaveLength(1);
  });
});

describe("a job run's trace", () => {
  it("rides in the job record and reads back with each answer and the plan", async () => {
    const db = documentClient(dynamo.client);
    const log = new DynamoDeliveryLog(db, TABLE, clock);
    await log.put({
      jobId: "job-1",
      messageKey: "m-3",
      vendor: "apns",
      delivered: [{ userId: "bob", deviceId: "iphone", token: "a".repeat(64) }],
      plan: [{ kind: "remove", targets: [0] }],
      trace: {
        attempt: 2,
        acceptedAt: clock.nowMs - 900,
        startedAt: clock.nowMs - 100,
        answeredAt: clock.nowMs,
        deliveredStatus: 200,
        answers: [
          {
            position: 0,
            userId: "bob",
            deviceId: "ipad",
            outcome: "drop-token",
            status: 410,
            reason: "APNs 410 Unregistered",
          },
        ],
      },
    });
    const [run] = await records().jobRuns("m-3");
    expect(run).toMatchObject({
      jobId: "job-1",
      vendor: "apns",
      plan: [{ kind: "remove", targets: [0] }],
      trace: {
        attempt: 2,
        acceptedAt: clock.nowMs - 900,
        answeredAt: clock.nowMs,
        deliveredStatus: 200,
        answers: [
          {
            position: 0,
            deviceId: "ipad",
            outcome: "drop-token",
            status: 410,
            reason: "APNs 410 Unregistered",
          },
        ],
      },
    });
    expect(run?.delivered.map(([u, d]) => [u, d])).toEqual([["bob", "iphone"]]);
    // The send guard reads the same record as before.
    expect(await log.find("m-3", "job-1")).toEqual({
      delivered: 1,
      plan: [{ kind: "remove", targets: [0] }],
    });
  });
});
