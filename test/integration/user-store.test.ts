import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { documentClient, ensureTable } from "../../lib/adapters/dynamodb/table.js";
import { DynamoUserStore, MAX_DEVICES_PER_USER } from "../../lib/adapters/dynamodb/user-store.js";
import { DEFAULT_TOKEN_TAKEOVER_AFTER_MS, TokenInUseError } from "../../lib/devices/token-ownership.js";
import type { Device } from "../../lib/model/index.js";
import { type DynamoEmulator, startDynamo } from "../../local/emulators.js";

// Against a real DynamoDB API (dynalite in-process): conditional writes, nested map updates, BatchGetItem.
let dynamo: DynamoEmulator;
let store: DynamoUserStore;
let table = 0;

beforeAll(async () => {
  dynamo = await startDynamo();
});
afterAll(async () => {
  await dynamo.close();
});
beforeEach(async () => {
  const name = `users-${++table}`;
  await ensureTable(dynamo.client, name);
  store = new DynamoUserStore(documentClient(dynamo.client), name);
});

const device = (userId: string, deviceId: string, token: string, extra: Partial<Device> = {}): Device => ({
  userId,
  deviceId,
  vendor: "fcm",
  token,
  updatedAt: 1000,
  ...extra,
});

describe("DynamoUserStore: devices", () => {
  it("registers, refreshes, lists and removes devices", async () => {
    await store.put(device("bob", "pixel", "t1", { appId: "com.example", certificateId: 3 }));
    await store.put(
      device("bob", "iphone", "a".repeat(64), { vendor: "apns", environment: "sandbox", updatedAt: 2000 }),
    );
    await store.put(device("bob", "pixel", "t2", { updatedAt: 3000 }));

    expect(await store.list("bob")).toEqual([
      device("bob", "iphone", "a".repeat(64), { vendor: "apns", environment: "sandbox", updatedAt: 2000 }),
      device("bob", "pixel", "t2", { updatedAt: 3000 }),
    ]);
    expect(await store.remove("bob", "pixel")).toBe(true);
    expect(await store.remove("bob", "pixel")).toBe(false);
    expect((await store.list("bob")).map((d) => d.deviceId)).toEqual(["iphone"]);
  });

  it("moves a token to its new owner on the same device id: a phone that changed hands stops getting the old owner's messages", async () => {
    await store.put(device("alice", "phone", "shared-token"));
    await store.put(device("bob", "phone", "shared-token", { updatedAt: 2000 }));
    expect(await store.list("alice")).toEqual([]);
    expect((await store.list("bob")).map((d) => d.token)).toEqual(["shared-token"]);
  });

  it("refuses another user's claim of a token on another device id while the owner's registration is fresh (token takeover)", async () => {
    await store.put(device("alice", "phone", "victim-token"));
    await expect(
      store.put(device("mallory", "evil", "victim-token", { updatedAt: 2000 })),
    ).rejects.toBeInstanceOf(TokenInUseError);
    expect((await store.list("alice")).map((d) => d.token)).toEqual(["victim-token"]);
    expect(await store.list("mallory")).toEqual([]);
    // Once alice's registration is older than the takeover age, the token may move.
    await store.put(
      device("bob", "phone-b", "victim-token", { updatedAt: 1000 + DEFAULT_TOKEN_TAKEOVER_AFTER_MS }),
    );
    expect(await store.list("alice")).toEqual([]);
    expect((await store.list("bob")).map((d) => d.token)).toEqual(["victim-token"]);
  });

  it("frees the old token when a device re-registers with a new one", async () => {
    await store.put(device("alice", "phone", "old-token"));
    await store.put(device("alice", "phone", "new-token", { updatedAt: 2000 }));
    // Someone else may now register the old token without touching alice's device.
    await store.put(device("carol", "phone", "old-token", { updatedAt: 3000 }));
    expect((await store.list("alice")).map((d) => d.token)).toEqual(["new-token"]);
  });

  it("removes an invalid token only while the device still has it", async () => {
    await store.put(device("bob", "pixel", "dead"));
    await store.put(device("bob", "pixel", "fresh", { updatedAt: 2000 }));
    expect(await store.remove("bob", "pixel", "dead")).toBe(false);
    expect(await store.remove("bob", "pixel", "fresh")).toBe(true);
    expect(await store.list("bob")).toEqual([]);
  });

  it(`keeps at most ${MAX_DEVICES_PER_USER} devices, dropping the least recently registered`, async () => {
    for (let i = 0; i <= MAX_DEVICES_PER_USER; i += 1) {
      await store.put(device("bob", `d${String(i).padStart(2, "0")}`, `tok${i}`, { updatedAt: 1000 + i }));
    }
    const ids = (await store.list("bob")).map((d) => d.deviceId);
    expect(ids).toHaveLength(MAX_DEVICES_PER_USER);
    expect(ids).not.toContain("d00");
  });
});

// Presence, badges and profiles: test/integration/user-store-presence.test.ts.
describe("DynamoUserStore: reading users", () => {
  it("reads a sender's profile eventually consistent, for half the read of a recipient", async () => {
    // dynalite reports capacity by DynamoDB's rules (0.5 RRU per 4 KB eventually consistent, 1 strong).
    const consumed: number[] = [];
    const client = documentClient(dynamo.client);
    client.middlewareStack.add(
      (next) => async (args) => {
        (args.input as { ReturnConsumedCapacity?: string }).ReturnConsumedCapacity = "TOTAL";
        const result = await next(args);
        type Capacity = { CapacityUnits?: number };
        const capacity = (result.output as { ConsumedCapacity?: Capacity | Capacity[] }).ConsumedCapacity;
        for (const c of [capacity ?? []].flat()) consumed.push(c.CapacityUnits ?? 0);
        return result;
      },
      { step: "initialize", name: "countCapacity" },
    );
    const metered = new DynamoUserStore(client, `users-${table}`);
    await store.setNickname("alice", "Alice", 1);
    await store.put(device("alice", "phone", "tok-alice"));
    await store.recordLookup("bob", undefined, 2);
    consumed.length = 0; // the writes above go through the same client

    expect(await metered.getProfile("alice")).toEqual({ nickname: "Alice", nicknameKnown: true });
    expect(await metered.getProfile("bob")).toEqual({ nicknameKnown: true });
    expect(await metered.getProfile("nobody")).toEqual({});
    expect(consumed).toEqual([0.5, 0.5, 0.5]);
    await metered.getUsers(["alice"]);
    expect(consumed.at(-1)).toBe(1);
  });

  it("reads many users in batches of 100, unknown users included", async () => {
    const ids = Array.from({ length: 250 }, (_, i) => `user${i}`);
    for (const id of ids.slice(0, 5)) await store.put(device(id, "phone", `tok-${id}`));
    const users = await store.getUsers([...ids, "user1"]);
    expect(users.size).toBe(250);
    expect(users.get("user3")!.devices).toHaveLength(1);
    expect(users.get("user200")).toEqual({
      userId: "user200",
      presence: { connections: {}, devices: {} },
      devices: [],
    });
  });
});
