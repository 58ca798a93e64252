/**
 * dynalite's Query and Scan close the LevelDB iterators they open (local/dynalite-iterators.mjs):
 * without that, every query left an iterator and its snapshot open, and `npm start`'s memory grew
 * ~250 MB a minute under the soak. Counted here by watching abstract-level's iterator close().
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PutCommand, QueryCommand, ScanCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { documentClient, ensureTable, MAIN_TABLE_KEYS } from "../../lib/adapters/dynamodb/table.js";
import { iteratorClasses } from "../../local/dynalite-iterators.mjs";
import { type DynamoEmulator, startDynamo } from "../../local/emulators.js";

let closed = 0;
const originals = iteratorClasses.map((Iterator) =>
  Object.getOwnPropertyDescriptor(Iterator.prototype, "close"),
);
beforeAll(() => {
  for (const Iterator of iteratorClasses) {
    const close = Iterator.prototype.close;
    Iterator.prototype.close = async function (this: unknown) {
      closed += 1;
      return close.call(this);
    };
  }
});
afterAll(() => {
  iteratorClasses.forEach((Iterator, i) => {
    const original = originals[i];
    if (original) Object.defineProperty(Iterator.prototype, "close", original);
    else delete (Iterator.prototype as { close?: unknown }).close;
  });
});

describe.each([
  ["on disk (LevelDB)", true],
  ["in memory", false],
])("dynalite %s", (_name, onDisk) => {
  let dynamo: DynamoEmulator;
  let dir: string | undefined;
  const TABLE = "iterators-test";

  beforeAll(async () => {
    dir = onDisk ? mkdtempSync(join(tmpdir(), "chatpush-iterators-")) : undefined;
    dynamo = await startDynamo(dir);
    await ensureTable(dynamo.client, TABLE, MAIN_TABLE_KEYS);
    const doc = documentClient(dynamo.client);
    for (let i = 0; i < 5; i += 1)
      await doc.send(new PutCommand({ TableName: TABLE, Item: { pk: "user#bob", sk: `device#${i}` } }));
  });
  afterAll(async () => {
    await dynamo.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("closes one iterator per Query and Scan, whether it found items or not", async () => {
    const doc = documentClient(dynamo.client);
    const before = closed;
    for (let i = 0; i < 10; i += 1) {
      const { Items } = await doc.send(
        new QueryCommand({
          TableName: TABLE,
          KeyConditionExpression: "pk = :pk",
          ExpressionAttributeValues: { ":pk": i % 2 === 0 ? "user#bob" : "user#nobody" },
        }),
      );
      expect(Items).toHaveLength(i % 2 === 0 ? 5 : 0);
    }
    await doc.send(new ScanCommand({ TableName: TABLE }));
    await doc.send(
      new QueryCommand({
        TableName: TABLE,
        KeyConditionExpression: "pk = :pk",
        ExpressionAttributeValues: { ":pk": "user#bob" },
        Limit: 2,
      }),
    );
    // dynalite closes on its stream's destroy, a tick after it answers.
    await expect.poll(() => closed - before).toBeGreaterThanOrEqual(12);
  });
});
