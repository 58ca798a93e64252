import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DynamoCallStore } from "../../lib/adapters/dynamodb/call-store.js";
import { documentClient, ensureTable } from "../../lib/adapters/dynamodb/table.js";
import type { CallRing, CallStore } from "../../lib/ports/index.js";
import { type DynamoEmulator, startDynamo } from "../../local/emulators.js";
import { FixedClock } from "../support/fakes.js";
import { MemoryCallStore } from "../support/memory-call-store.js";

// The CallStore port against a real DynamoDB API (dynalite in-process): conditional puts and updates,
// strongly consistent reads, TTL read as absence; and the in-memory store the unit tests use, held to
// the same contract.
const NOW = Date.UTC(2026, 11, 2, 12, 0, 0);
const EXPIRES = NOW / 1000 + 900;

let dynamo: DynamoEmulator;
let table = 0;

beforeAll(async () => {
  dynamo = await startDynamo();
});
afterAll(async () => {
  await dynamo.close();
});

function ring(userId: string, overrides: Partial<CallRing> = {}): CallRing {
  return {
    inviteId: "invite-1",
    userId,
    state: "ringing",
    rungBy: "1_2_3",
    content: {
      call: {
        action: "ring",
        inviteId: "invite-1",
        callerId: "alice",
        callerName: "Alice",
        media: "video",
        invitees: [userId],
        timeoutSeconds: 30,
        invitedAt: NOW,
      },
      title: "Alice",
      conversationId: "c2c_alice",
      ext: "{}",
    },
    devices: [
      {
        vendor: "fcm",
        target: { userId, deviceId: "pixel", token: "tok", platform: "Android" },
        language: "en",
      },
    ],
    expiresAt: EXPIRES,
    ...overrides,
  };
}

const end = (by: string, reason: "cancelled" | "answered" = "cancelled") => ({
  by,
  reason,
  at: NOW + 5_000,
  expiresAt: EXPIRES + 600,
});

describe.each([
  ["DynamoCallStore (dynalite)", "dynamo"],
  ["MemoryCallStore", "memory"],
] as const)("%s", (_, kind) => {
  let clock: FixedClock;
  let store: CallStore;

  beforeEach(async () => {
    clock = new FixedClock(NOW);
    if (kind === "memory") {
      store = new MemoryCallStore(clock);
      return;
    }
    const tableName = `calls-${++table}`;
    await ensureTable(dynamo.client, tableName);
    store = new DynamoCallStore(documentClient(dynamo.client), tableName, clock);
  });

  it("claims an invitee once: a second claim gets the first one's record", async () => {
    expect(await store.claimRing(ring("bob"))).toEqual(ring("bob"));
    const second = await store.claimRing(ring("bob", { rungBy: "9_9_9", devices: [] }));
    expect(second).toEqual(ring("bob"));
    expect(await store.rings("invite-1")).toEqual([ring("bob")]);
  });

  it("of claims racing for one invitee exactly one wins", async () => {
    const claims = await Promise.all(
      Array.from({ length: 8 }, (_, i) => store.claimRing(ring("bob", { rungBy: `key-${i}` }))),
    );
    const winners = new Set(claims.map((c) => c.rungBy));
    expect(winners.size).toBe(1);
  });

  it("ends a ringing record once; a later end keeps the first one's", async () => {
    await store.claimRing(ring("bob"));
    const ended = await store.endRing("invite-1", "bob", end("2_2_cancel"));
    expect(ended).toEqual({
      ...ring("bob"),
      state: "ended",
      endedBy: "2_2_cancel",
      endReason: "cancelled",
      endedAt: NOW + 5_000,
    });
    expect(await store.endRing("invite-1", "bob", end("3_3_accept", "answered"))).toEqual(ended);
  });

  it("of ends racing for one ring exactly one wins", async () => {
    await store.claimRing(ring("bob"));
    const ends = await Promise.all(
      Array.from({ length: 8 }, (_, i) => store.endRing("invite-1", "bob", end(`end-${i}`))),
    );
    expect(new Set(ends.map((e) => e.endedBy)).size).toBe(1);
  });

  it("records an end before the ring as ended, so the late claim finds it so", async () => {
    const early = await store.endRing("invite-1", "bob", end("3_3_accept", "answered"));
    expect(early).toMatchObject({ state: "ended", endedBy: "3_3_accept", devices: [] });
    expect(early.rungBy).toBeUndefined();
    expect(await store.claimRing(ring("bob"))).toEqual(early);
  });

  it("lists an invitation's rings, or only the named invitees', never another invitation's", async () => {
    await store.claimRing(ring("bob"));
    await store.claimRing(ring("erin"));
    await store.claimRing(ring("bob", { inviteId: "invite-2" }));
    expect((await store.rings("invite-1")).map((r) => r.userId).sort()).toEqual(["bob", "erin"]);
    expect((await store.rings("invite-1", ["erin", "nobody"])).map((r) => r.userId)).toEqual(["erin"]);
  });

  it("reads records past expiresAt as absent (TTL deletes lazily) and lets a claim take their place", async () => {
    await store.claimRing(ring("bob"));
    await store.endCall({ inviteId: "invite-1", ...end("2_2_cancel") });
    clock.nowMs = (EXPIRES + 600) * 1000;
    expect(await store.rings("invite-1")).toEqual([]);
    expect(await store.callEnded("invite-1")).toBeUndefined();
    const fresh = ring("bob", { rungBy: "later", expiresAt: EXPIRES + 2_000 });
    expect(await store.claimRing(fresh)).toEqual(fresh);
  });

  it("marks an invitation over once", async () => {
    expect(await store.callEnded("invite-1")).toBeUndefined();
    const first = { inviteId: "invite-1", ...end("2_2_cancel") };
    expect(await store.endCall(first)).toEqual(first);
    expect(await store.endCall({ inviteId: "invite-1", ...end("expiry") })).toEqual(first);
    expect(await store.callEnded("invite-1")).toEqual(first);
  });
});
