/**
 * `npm run bench:records`: what the send guard and recall record cost per 1M deliveries. Records are
 * written by the real adapter into dynalite and read back; each item's size is counted the way
 * DynamoDB bills it (attribute names + values, 1 WRU per started KB; a strongly consistent Query of
 * up to 4 KB is 1 RRU), next to the per-device records the workers wrote before (1 WRU per device,
 * and no guard). A one-to-one push pays the guard's read on top: the record itself cannot be below 1 WRU.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

import { randomBytes, randomUUID } from "node:crypto";
import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import { DynamoDeliveryLog } from "../lib/adapters/dynamodb/delivery-log.js";
import { documentClient, ensureTable } from "../lib/adapters/dynamodb/table.js";
import type { DeliveryTarget } from "../lib/model/index.js";
import { startDynamo } from "../local/emulators.js";
import { traceCosts } from "./trace-records.js";

/** DynamoDB on-demand, us-east-1 (limits-and-costs.md §1.5: airbyte 2025-07-21, after the 2024-11-01 cut). */
const USD_PER_WRU = 0.625 / 1e6;
const USD_PER_RRU = 0.125 / 1e6;

/** An FCM registration token: ~163 characters (limits-and-costs.md; firebase tokens as issued). */
const fcmToken = () =>
  `${randomBytes(11).toString("base64url")}:APA91b${randomBytes(105).toString("base64url")}`;

const scenarios: { name: string; targets: number; deviceId: (i: number) => string }[] = [
  { name: "one-to-one (1 device)", targets: 1, deviceId: () => randomUUID() },
  { name: "group job, 500 devices, UUID device ids", targets: 500, deviceId: () => randomUUID() },
  { name: "group job, 500 devices, short device ids", targets: 500, deviceId: (i) => `phone-${i % 3}` },
];

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

const dynamo = await startDynamo();
try {
  await ensureTable(dynamo.client, "bench-records");
  const db = documentClient(dynamo.client);
  const log = new DynamoDeliveryLog(db, "bench-records", { now: () => Date.now() });
  console.log(
    "| job | item bytes | WRU + RRU per job | USD per 1M deliveries | per-device records (before) | before ÷ now |",
  );
  console.log("|---|---|---|---|---|---|");
  for (const [index, scenario] of scenarios.entries()) {
    const delivered: DeliveryTarget[] = Array.from({ length: scenario.targets }, (_, i) => ({
      userId: `user${100_000 + i}`,
      deviceId: scenario.deviceId(i),
      token: fcmToken(),
      certificateId: 20001,
    }));
    const messageKey = `144115233406627467_${index}_1709281815`;
    await log.put({ jobId: randomBytes(16).toString("hex"), messageKey, vendor: "fcm", delivered, plan: [] });
    const { Items = [] } = await db.send(
      new QueryCommand({
        TableName: "bench-records",
        KeyConditionExpression: "pk = :pk",
        ExpressionAttributeValues: { ":pk": `MSG#${messageKey}` },
      }),
    );
    const bytes = Items.reduce((sum, item) => sum + itemBytes(item), 0);
    const wru = Items.reduce((sum, item) => sum + Math.ceil(itemBytes(item) / 1024), 0);
    const rru = 1; // the guard's strongly consistent Query before sending
    const usd = ((wru * USD_PER_WRU + rru * USD_PER_RRU) / scenario.targets) * 1e6;
    const before = USD_PER_WRU * 1e6;
    console.log(
      `| ${scenario.name} | ${bytes.toLocaleString("en")} | ${wru} + ${rru} | $${usd.toFixed(4)} | $${before.toFixed(3)} | ${(before / usd).toFixed(2)} |`,
    );
  }
  await traceCosts(dynamo.client, dynamo.calls);
} finally {
  await dynamo.close();
}
