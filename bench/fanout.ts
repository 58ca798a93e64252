/**
 * `npm run bench:fanout [members]`: one message to a generated group of 100,000 members (mixed
 * vendors, a realistic share in the foreground and muted), routed by the local runtime with the vendor
 * workers off, so what is measured is the fan-out itself: recipients per second, and the DynamoDB and
 * SQS requests per 1,000 recipients next to the floor the batch limits allow for this design.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

import { performance } from "node:perf_hooks";
import { BatchWriteCommand } from "@aws-sdk/lib-dynamodb";
import { DynamoGroupStore } from "../lib/adapters/dynamodb/group-store.js";
import { documentClient } from "../lib/adapters/dynamodb/table.js";
import { VENDORS, type Vendor } from "../lib/model/index.js";
import { groupMessageKey } from "../lib/routing/group.js";
import { VENDOR_SETTINGS } from "../lib/vendors/settings.js";
import { ChatpushClient } from "../local/client.js";
import type { CallCounts } from "../local/emulators.js";
import { startLocalRuntime } from "../local/runtime.js";
import { vendorOf } from "./support/vendor-mix.js";

const MEMBERS = Number(process.argv[2] ?? 100_000);
const GROUP = "@TGS#BENCHFANOUT";
const CONVERSATION = `group_${GROUP}`;
const SDK_APP_ID = "1400000000";
const TOKEN = "bench-callback-token";
const SQS_BATCH_BYTES = 256 * 1024;

function tokenFor(vendor: Vendor, i: number): string {
  return vendor === "apns"
    ? i.toString(16).padStart(64, "0")
    : `${vendor}-bench-token-${i.toString(36).padStart(12, "0")}-${"x".repeat(100)}`;
}

/** 65 % in the background (pushed), 25 % with the app open, 10 % who muted the group. */
function userItem(i: number, now: number) {
  const vendor = vendorOf(i);
  const userId = `member${i}`;
  // Spread independently of the vendor mix (a multiplicative hash), so every vendor has each kind.
  const kind = ((i * 7919) % 104_729) % 20;
  return {
    pk: `USER#${userId}`,
    sk: "USER",
    userId,
    appState: kind < 5 ? "foreground" : "background",
    appStateAt: now,
    devices: { phone: { vendor, token: tokenFor(vendor, i), updatedAt: now } },
    ...(kind >= 18 ? { receiveOpts: { [CONVERSATION]: { receiveOpt: 2, at: now } } } : {}),
  };
}

function diff(after: CallCounts, before: CallCounts): CallCounts {
  const out: CallCounts = {};
  for (const [op, n] of Object.entries(after)) if (n - (before[op] ?? 0) > 0) out[op] = n - (before[op] ?? 0);
  return out;
}

async function main(): Promise<void> {
  const runtime = await startLocalRuntime({
    sdkAppId: SDK_APP_ID,
    callbackToken: TOKEN,
    secretKey: "bench",
    port: 0,
    workers: false,
    onError: (error) => console.error("[runtime]", error),
  });
  try {
    const db = documentClient(runtime.dynamodb);
    const now = Date.now();
    const seedStart = performance.now();
    const ids = Array.from({ length: MEMBERS }, (_, i) => i);
    const writes: Promise<unknown>[] = [];
    for (let i = 0; i < MEMBERS; i += 25) {
      const Items = ids.slice(i, i + 25).map((n) => ({ PutRequest: { Item: userItem(n, now) } }));
      writes.push(db.send(new BatchWriteCommand({ RequestItems: { [runtime.tableName]: Items } })));
      if (writes.length >= 8) await Promise.all(writes.splice(0));
    }
    await Promise.all(writes);
    const groups = new DynamoGroupStore(db, runtime.tableName);
    await groups.putGroup({ groupId: GROUP, type: "Public", name: "Benchmark group", updatedAt: now });
    await groups.addMembers(
      GROUP,
      ids.map((n) => `member${n}`),
      now,
    );
    console.log(`seeded ${MEMBERS} members in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`);

    const client = new ChatpushClient({ baseUrl: runtime.url, sdkAppId: SDK_APP_ID, callbackToken: TOKEN });
    const messageKey = groupMessageKey(GROUP, 1);
    const before = runtime.apiCalls();
    const journalStart = runtime.journal.length;
    const t0 = performance.now();
    const answer = await client.postCallback(
      { CallbackCommand: "Group.CallbackAfterSendMsg", OptPlatform: "Android" },
      {
        GroupId: GROUP,
        Type: "Public",
        From_Account: "member0",
        MsgSeq: 1,
        MsgTime: Math.floor(now / 1000),
        MsgBody: [
          { MsgType: "TIMTextElem", MsgContent: { Text: "The bus leaves at 8 tomorrow, bring water." } },
        ],
        GroupAtInfo: [1, 2, 3, 4, 5].map((n) => ({ GroupAtAllFlag: 0, GroupAt_Account: `member${n * 997}` })),
      },
    );
    const answeredMs = performance.now() - t0;
    if (answer.status !== 200) throw new Error(`callback answered ${answer.status}: ${answer.body}`);

    // Every member but the sender ends in exactly one journal entry: skipped, or queued (one device each).
    let decided = 0;
    let scanned = journalStart;
    for (;;) {
      for (; scanned < runtime.journal.length; scanned += 1) {
        const entry = runtime.journal[scanned]!;
        if (entry.messageKey === messageKey && (entry.stage === "queued" || entry.stage === "skipped"))
          decided += 1;
      }
      if (decided >= MEMBERS - 1) break;
      if (performance.now() - t0 > 600_000)
        throw new Error(`fan-out incomplete: ${decided} of ${MEMBERS - 1}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const seconds = (performance.now() - t0) / 1000;
    const calls = runtime.apiCalls();
    const dynamodb = diff(calls.dynamodb, before.dynamodb);
    const sqs = diff(calls.sqs, before.sqs);

    const entries = runtime.journal.slice(journalStart).filter((e) => e.messageKey === messageKey);
    const queued = entries.filter((e) => e.stage === "queued");
    const skipped = entries.filter((e) => e.stage === "skipped");
    const perVendor = new Map<Vendor, number>();
    for (const e of queued) perVendor.set(e.vendor!, (perVendor.get(e.vendor!) ?? 0) + 1);

    const queries = Math.ceil(MEMBERS / 1000);
    const pages = Math.ceil(MEMBERS / 5000);
    const per1000 = (n: number) => ((n / (MEMBERS - 1)) * 1000).toFixed(2);
    // One queue per vendor: each vendor's jobs (≤ maxTargetsPerJob targets) go 10 per SendMessageBatch,
    // within 256 KiB (a target is ~260 bytes in a job with these tokens).
    const targetsOf = (v: Vendor) => perVendor.get(v) ?? 0;
    const jobsOf = (v: Vendor) => Math.ceil(targetsOf(v) / VENDOR_SETTINGS[v].maxTargetsPerJob);
    const jobsFloor = VENDORS.reduce((sum, v) => sum + jobsOf(v), 0);
    const sendBatchFloor = VENDORS.reduce(
      (sum, v) =>
        sum + Math.max(Math.ceil(jobsOf(v) / 10), Math.ceil((targetsOf(v) * 260) / SQS_BATCH_BYTES)),
      0,
    );
    const dynamoFloor = queries + Math.ceil((MEMBERS - 1) / 100);

    const fanoutDynamo = (dynamodb.Query ?? 0) + (dynamodb.BatchGetItem ?? 0);
    const routingSqs = (sqs.SendMessageBatch ?? 0) + (sqs.SendMessage ?? 0);
    console.log(
      `\nfan-out of one message to ${MEMBERS.toLocaleString()} members (local runtime, vendor workers off)`,
    );
    console.log(
      `  callback answered in ${answeredMs.toFixed(1)} ms; fan-out finished in ${seconds.toFixed(2)} s`,
    );
    console.log(
      `  ${(MEMBERS - 1).toLocaleString()} recipients decided: ${(((MEMBERS - 1) / seconds) | 0).toLocaleString()} recipients/s`,
    );
    console.log(
      `  ${queued.length.toLocaleString()} deliveries queued, ${skipped.length.toLocaleString()} skipped (${summarize(skipped.map((e) => e.reason ?? ""))})`,
    );
    console.log(`  deliveries by vendor: ${[...perVendor].map(([v, n]) => `${v} ${n}`).join(", ")}`);
    console.log("\n  requests                          count   per 1,000 recipients   floor per 1,000");
    const row = (name: string, count: number, floor?: number) =>
      console.log(
        `  ${name.padEnd(32)}${String(count).padStart(7)}   ${per1000(count).padStart(20)}   ${floor === undefined ? "" : per1000(floor).padStart(15)}`,
      );
    row("DynamoDB Query (members)", dynamodb.Query ?? 0, queries);
    row("DynamoDB BatchGetItem (users)", dynamodb.BatchGetItem ?? 0, Math.ceil((MEMBERS - 1) / 100));
    row("DynamoDB fan-out total", fanoutDynamo, dynamoFloor);
    row(
      "DynamoDB idempotency (Put/Update)",
      (dynamodb.PutItem ?? 0) + (dynamodb.UpdateItem ?? 0) + (dynamodb.DeleteItem ?? 0),
    );
    row("DynamoDB GetItem", dynamodb.GetItem ?? 0);
    row("SQS SendMessageBatch (jobs)", sqs.SendMessageBatch ?? 0, sendBatchFloor);
    row("SQS SendMessage (callback+pages)", sqs.SendMessage ?? 0, pages);
    row("SQS routing total", routingSqs, sendBatchFloor + pages);
    row("SQS Receive+Delete (ESM polls)", (sqs.ReceiveMessage ?? 0) + (sqs.DeleteMessageBatch ?? 0));
    console.log(
      `\n  floor: 1 Query per 1,000 members, 1 BatchGetItem per 100 recipients, jobs of ≤ ${VENDOR_SETTINGS.apns.maxTargetsPerJob} targets`,
    );
    console.log(
      `  (≥ ${jobsFloor} jobs) sent 10 per SendMessageBatch to each vendor's queue within 256 KiB; the callback`,
    );
    console.log(
      "  and one message per further page of 5,000 members; polling is Lambda's event source's (billed by SQS).",
    );
  } finally {
    await runtime.stop();
  }
}

function summarize(reasons: string[]): string {
  const counts = new Map<string, number>();
  for (const r of reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
  return [...counts].map(([r, n]) => `${n} ${r}`).join(", ");
}

main()
  .then(() => process.exit(0))
  .catch((error) => {
    console.error(error);
    process.exit(1);
  });
