/**
 * Part of `npm run bench:records`: what the trace `npm run why` reads costs per 1M recipients. The
 * real adapters write into dynalite — the router's routing records (lib/adapters/dynamodb/trace-records.ts)
 * and job records with and without their `t` (lib/adapters/dynamodb/delivery-log.ts) — and every item
 * written is read back and sized the way DynamoDB bills it (1 WRU per started KB). Requests are counted
 * at the emulator.
 */
import { randomBytes, randomUUID } from "node:crypto";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { type DynamoDBDocumentClient, QueryCommand, ScanCommand } from "@aws-sdk/lib-dynamodb";
import { DynamoDeliveryLog } from "../lib/adapters/dynamodb/delivery-log.js";
import { documentClient, ensureTable } from "../lib/adapters/dynamodb/table.js";
import { DynamoTraceRecords } from "../lib/adapters/dynamodb/trace-records.js";
import type { DeliveryTarget } from "../lib/model/index.js";
import type { TargetAnswer } from "../lib/ports/index.js";
import type { RoutingDecision } from "../lib/trace/routing-trace.js";

/** DynamoDB on-demand, us-east-1 (limits-and-costs.md §1.5). */
const USD_PER_WRU = 0.625 / 1e6;

/** The size DynamoDB bills for an item: names and values, numbers ~ their digits, binaries their bytes. */
function itemBytes(item: Record<string, unknown>): number {
  let size = 0;
  for (const [name, value] of Object.entries(item)) {
    size += Buffer.byteLength(name);
    if (value instanceof Uint8Array) size += value.byteLength;
    else if (typeof value === "number") size += Math.ceil(String(value).length / 2) + 1;
    else size += Buffer.byteLength(String(value));
  }
  return size;
}
const wruOf = (items: Record<string, unknown>[]) =>
  items.reduce((s, i) => s + Math.ceil(itemBytes(i) / 1024), 0);

async function scanPrefix(db: DynamoDBDocumentClient, table: string, prefix: string) {
  const { Items = [] } = await db.send(
    new ScanCommand({
      TableName: table,
      FilterExpression: "begins_with(pk, :p)",
      ExpressionAttributeValues: { ":p": prefix },
    }),
  );
  return Items as Record<string, unknown>[];
}

/** A group page as the router decides it: most members pushed on 1–2 devices, some skipped. */
function groupPage(members: number, deviceId: (i: number, d: number) => string): RoutingDecision[] {
  const decisions: RoutingDecision[] = [];
  for (let i = 0; i < members; i += 1) {
    const userId = `user${100_000 + i}`;
    if (i % 10 === 3) {
      decisions.push({ stage: "skipped", userId, reason: "conversation muted" });
      continue;
    }
    const devices = i % 3 === 0 ? 2 : 1;
    for (let d = 0; d < devices; d += 1) {
      const skipped = i % 10 === 7 && d === 0;
      decisions.push({
        stage: skipped ? "skipped" : "queued",
        userId,
        deviceId: deviceId(i, d),
        vendor: d === 0 ? "fcm" : "apns",
        ...(skipped ? { reason: "online in the foreground" } : {}),
      });
    }
  }
  return decisions;
}

export async function traceCosts(client: DynamoDBClient, calls: () => Record<string, number>): Promise<void> {
  const table = `bench-trace-${randomBytes(3).toString("hex")}`;
  await ensureTable(client, table);
  const db = documentClient(client);
  const clock = { now: () => Date.now() };
  const trace = new DynamoTraceRecords(db, table, clock);

  console.log("\nRouting trace (the router, after each ingest batch):\n");
  console.log(
    "| routing | recipients | items | bytes | WRU | BatchWriteItem calls | bytes / recipient | USD per 1M recipients |",
  );
  console.log("|---|---|---|---|---|---|---|---|");
  const cases: {
    name: string;
    recipients: number;
    records: () => Parameters<DynamoTraceRecords["put"]>[0];
  }[] = [
    {
      name: "ten one-to-one messages (an ingest batch), 2 devices each",
      recipients: 10,
      records: () =>
        Array.from({ length: 10 }, (_, m) => ({
          messageKey: `144115233406627467_${m}_1709281815`,
          at: Date.now(),
          decisions: [
            { stage: "queued", userId: `user${m}`, deviceId: randomUUID(), vendor: "apns" },
            { stage: "queued", userId: `user${m}`, deviceId: randomUUID(), vendor: "fcm" },
          ],
        })),
    },
    ...[
      { ids: "UUID device ids", deviceId: () => randomUUID() },
      { ids: "short device ids", deviceId: (_: number, d: number) => `phone-${d}` },
    ].map(({ ids, deviceId }) => ({
      name: `a group page of 5,000 members, ${ids}`,
      recipients: 5000,
      records: () => [
        { messageKey: "@TGS#2Q7ZWBTEA#42", at: Date.now(), decisions: groupPage(5000, deviceId) },
      ],
    })),
  ];
  for (const [index, c] of cases.entries()) {
    const before = calls().BatchWriteItem ?? 0;
    await trace.put(c.records().map((r) => ({ ...r, messageKey: `${r.messageKey}#case${index}` })));
    const written = calls().BatchWriteItem ?? 0;
    const items = (await scanPrefix(db, table, "TRACE#")).filter((i) =>
      String(i.m).endsWith(`#case${index}`),
    );
    const bytes = items.reduce((s, i) => s + itemBytes(i), 0);
    const wru = wruOf(items);
    console.log(
      `| ${c.name} | ${c.recipients.toLocaleString("en")} | ${items.length} | ${bytes.toLocaleString("en")} | ${wru} | ${written - before} | ${(bytes / c.recipients).toFixed(1)} | $${(((wru * USD_PER_WRU) / c.recipients) * 1e6).toFixed(4)} |`,
    );
  }

  console.log(
    "\nJob records with the run's trace `t` (the worker's one PutItem per job; no extra request):\n",
  );
  console.log("| job | item bytes without t | with t | WRU without → with | extra USD per 1M deliveries |");
  console.log("|---|---|---|---|---|");
  const log = new DynamoDeliveryLog(db, table, clock);
  const token = () =>
    `${randomBytes(11).toString("base64url")}:APA91b${randomBytes(105).toString("base64url")}`;
  const jobs = [
    { name: "one-to-one, delivered", targets: 1, failed: 0 },
    { name: "500 devices, all delivered", targets: 500, failed: 0 },
    { name: "500 devices, 25 answered otherwise", targets: 500, failed: 25 },
  ];
  for (const [index, j] of jobs.entries()) {
    const targets: DeliveryTarget[] = Array.from({ length: j.targets }, (_, i) => ({
      userId: `user${100_000 + i}`,
      deviceId: randomUUID(),
      token: token(),
    }));
    const delivered = targets.slice(j.failed);
    const answers: TargetAnswer[] = targets.slice(0, j.failed).map((t, position) => ({
      position,
      userId: t.userId,
      deviceId: t.deviceId,
      outcome: position % 2 === 0 ? "drop-token" : "retry",
      status: position % 2 === 0 ? 404 : 503,
      reason: position % 2 === 0 ? "FCM 404 UNREGISTERED" : "FCM 503 UNAVAILABLE",
    }));
    const plan = j.failed === 0 ? [] : [{ kind: "remove" as const, targets: answers.map((a) => a.position) }];
    const sizes: number[] = [];
    const wrus: number[] = [];
    for (const withTrace of [false, true]) {
      const messageKey = `bench-job-${index}-${withTrace}`;
      await log.put({
        jobId: randomBytes(16).toString("hex"),
        messageKey,
        vendor: "fcm",
        delivered,
        plan,
        ...(withTrace
          ? {
              trace: {
                attempt: 1,
                acceptedAt: Date.now() - 400,
                startedAt: Date.now() - 120,
                answeredAt: Date.now(),
                deliveredStatus: 200,
                answers,
              },
            }
          : {}),
      });
      const { Items = [] } = await db.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: "pk = :pk",
          ExpressionAttributeValues: { ":pk": `MSG#${messageKey}` },
        }),
      );
      sizes.push(Items.reduce((s, i) => s + itemBytes(i), 0));
      wrus.push(wruOf(Items as Record<string, unknown>[]));
    }
    const extra = (((wrus[1]! - wrus[0]!) * USD_PER_WRU) / j.targets) * 1e6;
    console.log(
      `| ${j.name} | ${sizes[0]!.toLocaleString("en")} | ${sizes[1]!.toLocaleString("en")} | ${wrus[0]} → ${wrus[1]} | $${extra.toFixed(4)} |`,
    );
  }
}
