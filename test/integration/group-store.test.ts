import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { BatchWriteCommand, type DynamoDBDocumentClient, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DynamoGroupStore, InvalidCursorError } from "../../lib/adapters/dynamodb/group-store.js";
import { documentClient, ensureTable } from "../../lib/adapters/dynamodb/table.js";
import { type DynamoEmulator, startDynamo } from "../../local/emulators.js";

// Against a real DynamoDB API (dynalite in-process): conditional updates, BatchWriteItem, Query paging.
let dynamo: DynamoEmulator;
let client: DynamoDBClient;
let store: DynamoGroupStore;
let tableName = "";
let table = 0;
/** DynamoDB requests the store sent, by command name. */
const sent = new Map<string, number>();

beforeAll(async () => {
  dynamo = await startDynamo();
  client = new DynamoDBClient({
    endpoint: dynamo.endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  });
  client.middlewareStack.add(
    (next, context) => (args) => {
      sent.set(context.commandName!, (sent.get(context.commandName!) ?? 0) + 1);
      return next(args);
    },
    { step: "initialize", name: "countRequests" },
  );
});
afterAll(async () => {
  client.destroy();
  await dynamo.close();
});
beforeEach(async () => {
  tableName = `groups-${++table}`;
  await ensureTable(dynamo.client, tableName);
  store = new DynamoGroupStore(documentClient(client), tableName);
  sent.clear();
});

const ids = (n: number, prefix = "user") =>
  Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(5, "0")}`);

async function allMembers(groupId: string, limit = 1000): Promise<string[]> {
  const members: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.listMembers(groupId, cursor, limit);
    members.push(...page.members);
    cursor = page.next;
  } while (cursor !== undefined);
  return members;
}

async function itemsOf(groupId: string): Promise<Record<string, unknown>[]> {
  const { Items } = await documentClient(dynamo.client).send(
    new QueryCommand({
      TableName: tableName,
      KeyConditionExpression: "pk = :pk",
      ExpressionAttributeValues: { ":pk": `GROUP#${groupId}` },
    }),
  );
  return Items ?? [];
}

describe("DynamoGroupStore: group info", () => {
  it("creates and updates the info, keeping fields an update leaves undefined", async () => {
    expect(await store.getGroup("@TGS#1")).toBeUndefined();
    await store.putGroup({
      groupId: "@TGS#1",
      type: "Work",
      name: "Team",
      ownerId: "alice",
      updatedAt: 1000,
    });
    await store.putGroup({ groupId: "@TGS#1", name: "Team (renamed)", updatedAt: 2000 });

    expect(await store.getGroup("@TGS#1")).toEqual({
      groupId: "@TGS#1",
      type: "Work",
      name: "Team (renamed)",
      ownerId: "alice",
      updatedAt: 2000,
    });
  });

  it("lets the newest update win whatever order updates arrive in, filling only gaps from older ones", async () => {
    await store.putGroup({ groupId: "@TGS#2", type: "Public", ownerId: "bob", updatedAt: 3000 });
    // A late CallbackAfterCreateGroup: its owner is stale, its name is news.
    await store.putGroup({
      groupId: "@TGS#2",
      type: "Public",
      name: "Club",
      ownerId: "alice",
      updatedAt: 1000,
    });
    await store.putGroup({ groupId: "@TGS#2", updatedAt: 500 });

    expect(await store.getGroup("@TGS#2")).toEqual({
      groupId: "@TGS#2",
      type: "Public",
      name: "Club",
      ownerId: "bob",
      updatedAt: 3000,
    });
  });
});

describe("DynamoGroupStore: members", () => {
  it("adds and removes members; re-adds and repeated ids are idempotent", async () => {
    await store.addMembers("@TGS#g", ["carol", "alice", "bob", "alice"], 1000);
    await store.addMembers("@TGS#g", ["bob", "dave"], 2000);
    await store.removeMembers("@TGS#g", ["carol", "nobody", "carol"], 3000);
    await store.addMembers("@TGS#other", ["zed"], 1000);

    expect(await allMembers("@TGS#g")).toEqual(["alice", "bob", "dave"]);
    expect(await allMembers("@TGS#other")).toEqual(["zed"]);
    expect((await store.listMembers("@TGS#none", undefined, 10)).members).toEqual([]);
  });

  it("keeps the newest of a join and an exit, whatever order their callbacks arrive in", async () => {
    // grace joined at 1000 and left at 2000; the exit callback arrives first.
    await store.removeMembers("@TGS#g", ["grace"], 2000);
    await store.addMembers("@TGS#g", ["grace", "heidi"], 1000);
    expect(await allMembers("@TGS#g")).toEqual(["heidi"]);
    // She joins again later: that join is newer than her exit.
    await store.addMembers("@TGS#g", ["grace"], 3000);
    expect(await allMembers("@TGS#g")).toEqual(["grace", "heidi"]);
    // An exit older than her latest join arrives late: she stays.
    await store.removeMembers("@TGS#g", ["grace"], 2500);
    expect(await allMembers("@TGS#g")).toEqual(["grace", "heidi"]);
  });

  it("writes in BatchWriteItems of 25 members", async () => {
    await store.addMembers("@TGS#g", ids(100), 1000);
    expect(sent.get("BatchWriteItemCommand")).toBe(4);
    await store.removeMembers("@TGS#g", ids(30), 2000);
    // Departure markers go in two BatchWriteItems; the member items go by conditional DeleteItem.
    expect(sent.get("BatchWriteItemCommand")).toBe(6);
    expect(sent.get("DeleteItemCommand")).toBe(30);
    expect(await allMembers("@TGS#g")).toEqual(ids(100).slice(30));
  });

  it("retries the items DynamoDB leaves unprocessed (a throttled partition)", async () => {
    // DynamoDB answers a throttled BatchWriteItem with UnprocessedItems; dynalite never throttles, so
    // this client writes only the first 10 items of each of the first 3 requests and hands back the rest.
    const real = documentClient(client);
    let throttled = 3;
    const throttling = {
      send: async (command: { input: unknown }) => {
        if (!(command instanceof BatchWriteCommand) || throttled === 0) return real.send(command as never);
        throttled -= 1;
        const [[table, requests]] = Object.entries(command.input.RequestItems ?? {}) as [[string, []]];
        await real.send(new BatchWriteCommand({ RequestItems: { [table]: requests.slice(0, 10) } }));
        return { UnprocessedItems: { [table]: requests.slice(10) } };
      },
    } as unknown as DynamoDBDocumentClient;
    const flaky = new DynamoGroupStore(throttling, tableName);

    await flaky.addMembers("@TGS#g", ids(50), 1000);
    expect(await allMembers("@TGS#g")).toEqual(ids(50));
    await flaky.removeMembers("@TGS#g", ids(50), 2000);
    expect(await allMembers("@TGS#g")).toEqual([]);
  });

  it("lists 2,500 members in 3 pages of one Query each, every member exactly once", async () => {
    const members = ids(2500);
    await store.addMembers("@TGS#big", members, 1000);
    sent.clear();

    const first = await store.listMembers("@TGS#big", undefined, 1000);
    const second = await store.listMembers("@TGS#big", first.next, 1000);
    const third = await store.listMembers("@TGS#big", second.next, 1000);

    expect([first.members.length, second.members.length, third.members.length]).toEqual([1000, 1000, 500]);
    expect(first.next).toBeDefined();
    expect(second.next).toBeDefined();
    expect(third.next).toBeUndefined();
    const listed = [...first.members, ...second.members, ...third.members];
    expect(new Set(listed).size).toBe(2500);
    expect(listed.sort()).toEqual(members);
    // 1 Query per 1,000 members.
    expect(Object.fromEntries(sent)).toEqual({ QueryCommand: 3 });
  });

  it("knows the last page without an extra empty Query when the count is a multiple of the limit", async () => {
    await store.addMembers("@TGS#even", ids(2000), 1000);
    sent.clear();

    const listed = await allMembers("@TGS#even");

    expect(listed).toHaveLength(2000);
    expect(Object.fromEntries(sent)).toEqual({ QueryCommand: 2 });
  });

  it("rejects a cursor it did not issue for the group, and a limit outside 1..1000", async () => {
    await store.addMembers("@TGS#a", ids(3), 1000);
    await store.addMembers("@TGS#b", ids(3), 1000);
    const fromB = (await store.listMembers("@TGS#b", undefined, 1)).next!;
    const forged = (key: unknown) => Buffer.from(JSON.stringify(key)).toString("base64url");

    for (const cursor of [
      "not a cursor!",
      "",
      Buffer.from("not json").toString("base64url"),
      fromB,
      forged({ pk: "GROUP#@TGS#a", sk: "INFO" }),
      forged({ pk: "GROUP#@TGS#a", sk: "M#user00001", extra: 1 }),
      forged(["GROUP#@TGS#a", "M#user00001"]),
    ]) {
      await expect(store.listMembers("@TGS#a", cursor, 10), cursor).rejects.toThrow(InvalidCursorError);
    }
    await expect(store.listMembers("@TGS#a", undefined, 0)).rejects.toThrow(RangeError);
    await expect(store.listMembers("@TGS#a", undefined, 1001)).rejects.toThrow(RangeError);
    // The genuine cursor still works.
    expect((await store.listMembers("@TGS#b", fromB, 10)).members).toEqual(ids(3).slice(1));
  });

  it("deleteGroup removes the info and every member, and nothing of other groups", async () => {
    await store.putGroup({ groupId: "@TGS#gone", type: "Work", updatedAt: 1000 });
    await store.addMembers("@TGS#gone", ids(1234), 1000);
    await store.addMembers("@TGS#kept", ["alice"], 1000);

    await store.deleteGroup("@TGS#gone");

    expect(await itemsOf("@TGS#gone")).toEqual([]);
    expect(await store.getGroup("@TGS#gone")).toBeUndefined();
    expect(await allMembers("@TGS#kept")).toEqual(["alice"]);
  });
});
