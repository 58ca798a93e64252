import { GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { documentClient, ensureTable } from "../../lib/adapters/dynamodb/table.js";
import { DynamoUserStore } from "../../lib/adapters/dynamodb/user-store.js";
import type { Device, DevicePlatform } from "../../lib/model/index.js";
import { applyConnectionChange, type ConnectionChange } from "../../lib/routing/presence.js";
import { type DynamoEmulator, startDynamo } from "../../local/emulators.js";

// Presence per platform and per device, badge counting and nickname look-ups against a real
// DynamoDB API (dynalite in-process): conditional writes, nested map paths, ADD, ReturnValues.
let dynamo: DynamoEmulator;
let store: DynamoUserStore;
let tableName = "";
let table = 0;

beforeAll(async () => {
  dynamo = await startDynamo();
});
afterAll(async () => {
  await dynamo.close();
});
beforeEach(async () => {
  tableName = `presence-${++table}`;
  await ensureTable(dynamo.client, tableName);
  store = new DynamoUserStore(documentClient(dynamo.client), tableName);
});

const device = (deviceId: string, extra: Partial<Device> = {}): Device => ({
  userId: "bob",
  deviceId,
  vendor: "fcm",
  token: `tok-${deviceId}`,
  updatedAt: 1000,
  ...extra,
});

const change = (
  action: ConnectionChange["action"],
  at: number,
  platforms: DevicePlatform[],
  kicked: DevicePlatform[] = [],
): ConnectionChange => ({
  action,
  at,
  platforms,
  kicked,

  by: platforms[0] ?? "",
});
const apply = (c: ConnectionChange) =>
  store.updateConnections("bob", (current) => applyConnectionChange(current, c));
const bob = async () => (await store.getUsers(["bob"])).get("bob")!;

describe("DynamoUserStore: connections per platform", () => {
  it("applies changes in event-time order per platform, whatever order they arrive in", async () => {
    await apply(change("Logout", 3000, ["Android"]));
    await apply(change("Login", 2000, ["Android"]));
    await apply(change("Login", 2500, ["iOS"]));
    expect((await bob()).presence.connections).toEqual({
      Android: { connected: false, at: 3000, loggedOut: true },
      iOS: { connected: true, at: 2500, loggedOut: false },
    });
  });

  it("loses no platform's change when changes race (one conditional write each, retried)", async () => {
    await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        apply(
          change(i % 2 === 0 ? "Login" : "Logout", 1000 + i, [(["iOS", "iPad", "Android"] as const)[i % 3]!]),
        ),
      ),
    );
    const { connections } = (await bob()).presence;
    // The newest change of each platform: iOS 1021 (Logout), iPad 1022 (Login), Android 1023 (Logout).
    expect(connections.iOS).toMatchObject({ at: 1021, loggedOut: true });
    expect(connections.iPad).toMatchObject({ at: 1022, loggedOut: false });
    expect(connections.Android).toMatchObject({ at: 1023, loggedOut: true });
  });

  it("logs a kicked platform out", async () => {
    await apply(change("Login", 1000, ["iOS"]));
    await apply(change("Login", 2000, ["Android"], ["iOS"]));
    expect((await bob()).presence.connections.iOS).toEqual({
      connected: false,
      at: 2000,
      loggedOut: true,
      kickedBy: "Android",
    });
  });

  it("reads an item written before per-platform presence as that state on every platform", async () => {
    await dynamo.client.send(
      new PutCommand({
        TableName: tableName,
        Item: {
          pk: "USER#bob",
          sk: "USER",
          userId: "bob",
          connected: false,
          connectionAt: 500,
          loggedOut: true,
        },
      }),
    );
    const legacy = { connected: false, at: 500, loggedOut: true };
    expect((await bob()).presence.connections).toEqual({ iOS: legacy, iPad: legacy, Android: legacy });
    await apply(change("Login", 600, ["Android"]));
    const { Item } = await dynamo.client.send(
      new GetCommand({ TableName: tableName, Key: { pk: "USER#bob", sk: "USER" } }),
    );
    expect(Item).not.toHaveProperty("connectionAt");
    expect(Item?.connections).toMatchObject({ Android: { connected: true }, iOS: legacy });
  });
});

describe("DynamoUserStore: app state per device", () => {
  it("keeps each device's newest report apart from the report for all devices", async () => {
    await store.put(device("ipad", { vendor: "apns", token: "a".repeat(64), platform: "iPad" }));
    await store.put(device("pixel"));
    expect(await store.applyAppState("bob", "background", 1000)).toBe(true);
    expect(await store.applyAppState("bob", "foreground", 2000, undefined, "ipad")).toBe(true);
    expect(await store.applyAppState("bob", "background", 1500, undefined, "ipad")).toBe(true); // older: ignored
    const { presence, devices } = await bob();
    expect(presence.app).toEqual({ state: "background", at: 1000 });
    expect(presence.devices).toEqual({ ipad: { state: "foreground", at: 2000 } });
    // The report is not part of the device as the device API returns it.
    expect(devices.find((d) => d.deviceId === "ipad")).toEqual({
      userId: "bob",
      deviceId: "ipad",
      vendor: "apns",
      token: "a".repeat(64),
      platform: "iPad",
      updatedAt: 1000,
    });
  });

  it("refuses a report about a device the user never registered", async () => {
    expect(await store.applyAppState("bob", "foreground", 2000, 3, "ghost")).toBe(false);
    expect((await bob()).presence.devices).toEqual({});
    expect(await store.countPush(["bob"], "m1")).toEqual(new Map([["bob", 1]])); // the unread count was not taken
  });

  it("stores a registration's platform and locale", async () => {
    await store.put(device("mate", { vendor: "huawei", locale: "zh-CN", platform: "Android" }));
    expect((await bob()).devices[0]).toMatchObject({ platform: "Android", locale: "zh-CN" });
  });
});

describe("DynamoUserStore: badges", () => {
  it("is the reported unread count plus one per message counted since", async () => {
    await store.applyAppState("bob", "background", 1000, 5);
    expect(await store.countPush(["bob", "carol", "bob"], "m1")).toEqual(
      new Map([
        ["bob", 6],
        ["carol", 1],
      ]),
    );
    expect((await store.countPush(["bob"], "m2")).get("bob")).toBe(7);
    await store.setUnreadCount("bob", 0, 2000);
    await store.setUnreadCount("bob", 9, 1500); // an older report: ignored
    expect((await store.countPush(["bob"], "m3")).get("bob")).toBe(1);
  });

  it("does not count the same message twice for a user (a retried routing)", async () => {
    await store.countPush(["bob"], "m1");
    await store.countPush(["bob"], "m2");
    expect((await store.countPush(["bob"], "m2")).get("bob")).toBe(2);
    expect((await store.countPush(["bob"], "m1")).get("bob")).toBe(2);
  });

  it("keeps the badge item under 1 KB, so each counted push is one write request unit", async () => {
    for (let i = 0; i < 200; i += 1)
      await store.countPush(["bob"], `${1_000_000 + i}_${i * 7919}_1764085205`);
    const { Item } = await dynamo.client.send(
      new GetCommand({ TableName: tableName, Key: { pk: "USER#bob", sk: "BADGE" } }),
    );
    expect(Item?.pushed).toBe(200);
    expect(itemBytes(Item!)).toBeLessThan(1024);
  });
});

describe("DynamoUserStore: nickname look-ups", () => {
  it("remembers that Tencent was asked, with or without a nickname, and lets a newer callback win", async () => {
    await store.recordLookup("bob", undefined, 1000);
    expect(await bob()).toMatchObject({ nicknameKnown: true });
    expect((await bob()).nickname).toBeUndefined();
    await store.recordLookup("bob", "Bob Li", 2000);
    expect((await bob()).nickname).toBe("Bob Li");
    await store.setNickname("bob", "Bobby", 3000);
    await store.recordLookup("bob", "Bob (stale)", 2500);
    expect((await bob()).nickname).toBe("Bobby");
    expect((await store.getUsers(["nobody"])).get("nobody")?.nicknameKnown).toBeUndefined();
  });
});

/**
 * An item's size as DynamoDB bills it: the UTF-8 length of each attribute name plus its value
 * (strings by UTF-8 length, numbers about 1 byte per 2 significant digits + 1; "Item sizes and
 * formats", DynamoDB developer guide).
 */
function itemBytes(item: Record<string, unknown>): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(item)) {
    bytes += Buffer.byteLength(name);
    bytes +=
      typeof value === "number"
        ? Math.ceil(String(Math.abs(value)).replace(".", "").length / 2) + 1
        : Buffer.byteLength(String(value));
  }
  return bytes;
}
