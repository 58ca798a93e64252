/**
 * `npm run bench:cost [messages] [members]`: what a push costs on AWS, counted, not estimated. The
 * deployed handlers (the router is functions/route-events.ts itself; the HTTP function and the
 * workers are built from functions/shared/*) run against dynalite, chatpush's SQS server and the
 * vendor simulators for (a) 10,000 one-to-one messages and (b) one message to a 100,000-member
 * group. Every AWS request is counted by kind (bench/support/meter.ts): DynamoDB capacity as DynamoDB
 * reports it, SQS requests per started 64 KB, Lambda invocations and their measured duration × the
 * memory the stack sets (read from the synthesised template, like the event sources' batch sizes
 * and windows), and every byte the Powertools logger and EMF lines write. Printed: cost per 1M
 * recipients (pushes delivered) by component at the list prices below, next to Amazon SNS mobile
 * push for the same pushes, and the fan-out's SQS requests per 1,000 members vs the batch-limit floor.
 */
import "./support/cost-env.js";

import { BatchWriteCommand } from "@aws-sdk/lib-dynamodb";
import { awsClients } from "../functions/shared/deps.js";
import { DynamoGroupStore } from "../lib/adapters/dynamodb/group-store.js";
import { documentClient } from "../lib/adapters/dynamodb/table.js";
import { VENDORS, type Vendor } from "../lib/model/index.js";
import { VENDOR_SETTINGS } from "../lib/vendors/settings.js";
import { type CostPipeline, startCostPipeline } from "./support/cost-pipeline.js";
import { Meter, type MeterReading } from "./support/meter.js";
import { vendorOf } from "./support/vendor-mix.js";

// ---- List prices, us-east-1, USD (no free tiers: the marginal cost at scale) ----
/** Lambda requests, x86 and arm64 alike: https://aws.amazon.com/lambda/pricing/ (limits-and-costs.md §1.1). */
const USD_PER_LAMBDA_REQUEST = 0.2 / 1e6;
/** Lambda duration, arm64, first 7.5B GB-s a month: https://aws.amazon.com/lambda/pricing/ (limits-and-costs.md §1.1). */
const USD_PER_GB_SECOND_ARM64 = 0.0000133334;
/** SQS standard, per request (each started 64 KB chunk is one): https://aws.amazon.com/sqs/pricing/ (limits-and-costs.md §1.3). */
const USD_PER_SQS_REQUEST = 0.4 / 1e6;
/** DynamoDB on-demand after the 2024-11-01 cut: https://aws.amazon.com/dynamodb/pricing/on-demand/ (limits-and-costs.md §1.5). */
const USD_PER_WRU = 0.625 / 1e6;
const USD_PER_RRU = 0.125 / 1e6;
/** CloudWatch Logs ingestion, Standard class, first tier: https://aws.amazon.com/cloudwatch/pricing/ (limits-and-costs.md §1.6). */
const USD_PER_LOG_GB = 0.5;
/**
 * Lambda's own START / END / REPORT (and XRAY) lines per invocation (with -c systemLogLevel=INFO; the
 * stack's default WARN drops them): Lambda publishes no size; ~300 B
 * is what those lines measure with a 36-character request id (limits-and-costs.md §1.6 estimates
 * ~600 B per invocation with one application line). An estimate.
 */
const PLATFORM_LOG_BYTES_PER_INVOCATION = 300;
/**
 * X-Ray (with -c tracing=active; the stack's default is PassThrough): $5.00 per 1M traces recorded,
 * https://aws.amazon.com/xray/pricing/; the default sampling rule records the first request each
 * second and 5% of the rest, so at volume ≈ 5% of invocations are traced.
 */
const USD_PER_TRACE = 5 / 1e6;
const TRACED_SHARE = 0.05;
/**
 * Amazon SNS mobile push, https://aws.amazon.com/sns/pricing/: $0.50 per 1M publishes (one Publish per
 * platform endpoint: there is no batch publish to endpoints) + $0.50 per 1M mobile push deliveries
 * (limits-and-costs.md §1.4, factualminds 2026-06-13; the pricing page builds its table client-side,
 * so the figure is a third-party copy). SNS covers APNs and FCM only.
 */
const USD_SNS_PER_PUSH = 0.5 / 1e6 + 0.5 / 1e6;
/** The issue's targets, per 1M recipients. */
const TARGET_ONE_TO_ONE = 0.75;
const TARGET_GROUP = 0.05;
/** SendMessageBatch: 10 entries and (as the adapter sends them) 256 KiB. */
const SQS_BATCH_ENTRIES = 10;
const SQS_BATCH_BYTES = 256 * 1024;
const SQS_CHUNK_BYTES = 64 * 1024;

/** This bench's figures as docs/architecture.md records them (pipeline without badges and presence). */
const RECORDED = {
  before: { commit: "cdd5a34", oneToOne: 4.471, group: 0.145 },
  after: { commit: "8143c7b", oneToOne: 3.342, group: 0.126 },
};

const MESSAGES = Number(process.argv[2] ?? 10_000);
const MEMBERS = Number(process.argv[3] ?? 100_000);
const ONE_TO_ONE_USERS = 2_000;

function tokenFor(vendor: Vendor, i: number): string {
  return vendor === "apns"
    ? i.toString(16).padStart(64, "0")
    : // Letters and digits, 64 long: a token every vendor's simulator takes (Meizu's pushIds ≤ 64).
      `${vendor}bench${i.toString(36).padStart(12, "0")}`.padEnd(64, "x");
}

/** A user item as the user store writes it: one phone, the app in the background unless `foreground`. */
function userItem(prefix: string, i: number, now: number, extra: Record<string, unknown> = {}) {
  const vendor = vendorOf(i);
  const userId = `${prefix}${i}`;
  return {
    pk: `USER#${userId}`,
    sk: "USER",
    userId,
    nickname: `User ${i}`,
    nicknameAt: now,
    appState: "background",
    appStateAt: now,
    devices: { phone: { vendor, token: tokenFor(vendor, i), updatedAt: now } },
    ...extra,
  };
}

async function seedUsers(tableName: string, items: Record<string, unknown>[]): Promise<void> {
  const db = documentClient(awsClients().dynamodb);
  const writes: Promise<unknown>[] = [];
  for (let i = 0; i < items.length; i += 25) {
    const batch = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
    writes.push(db.send(new BatchWriteCommand({ RequestItems: { [tableName]: batch } })));
    if (writes.length >= 8) await Promise.all(writes.splice(0));
  }
  await Promise.all(writes);
}

interface Run {
  name: string;
  recipients: number;
  byVendor: Map<Vendor, number>;
  meter: MeterReading;
}

async function deliverAll(pipeline: CostPipeline): Promise<void> {
  // Each function on its own, so no invocation's measured time includes another's work.
  await pipeline.drain("router");
  for (const vendor of VENDORS) await pipeline.drain(vendor);
  const left = await Promise.all(["ingest", ...VENDORS].map((q) => pipeline.left(q as Vendor)));
  if (left.some((n) => n > 0)) throw new Error(`messages left on the queues: ${left.join(", ")}`);
}

async function oneToOne(pipeline: CostPipeline, meter: Meter): Promise<Run> {
  const now = Date.now();
  await seedUsers(
    pipeline.tableName,
    Array.from({ length: ONE_TO_ONE_USERS }, (_, i) => userItem("u", i, now)),
  );
  const byVendor = countDeliveries(pipeline);
  meter.reset();
  meter.captureLogs();
  try {
    for (let k = 0; k < MESSAGES; k += 1) {
      const from = k % ONE_TO_ONE_USERS;
      const to = (from + 1 + (k % 97)) % ONE_TO_ONE_USERS;
      const seq = 1000 + k;
      const msgTime = Math.floor(now / 1000);
      const status = await pipeline.callback("C2C.CallbackAfterSendMsg", {
        CallbackCommand: "C2C.CallbackAfterSendMsg",
        From_Account: `u${from}`,
        To_Account: `u${to}`,
        MsgSeq: seq,
        MsgRandom: 7_000_000 + k,
        MsgTime: msgTime,
        MsgKey: `${seq}_${7_000_000 + k}_${msgTime}`,
        OnlineOnlyFlag: 0,
        SendMsgResult: 0,
        ErrorInfo: "send msg succeed",
        UnreadMsgNum: 1,
        MsgBody: [{ MsgType: "TIMTextElem", MsgContent: { Text: "Are we still on for dinner at 7?" } }],
        CloudCustomData: "",
        EventTime: now,
      });
      if (status !== 200) throw new Error(`callback answered ${status}`);
    }
    await deliverAll(pipeline);
  } finally {
    meter.release();
  }
  return {
    name: "one-to-one",
    recipients: total(byVendor.stop()),
    byVendor: byVendor.counts,
    meter: meter.snapshot(),
  };
}

async function group(pipeline: CostPipeline, meter: Meter): Promise<Run> {
  const now = Date.now();
  const groupId = "@TGS#BENCHCOST";
  const conversation = `group_${groupId}`;
  // 65% in the background (pushed), 25% with the app open, 10% who muted the group (as bench:fanout).
  const items = Array.from({ length: MEMBERS }, (_, i) => {
    const kind = ((i * 7919) % 104_729) % 20;
    return userItem("member", i, now, {
      appState: kind < 5 ? "foreground" : "background",
      ...(kind >= 18 ? { receiveOpts: { [conversation]: { receiveOpt: 2, at: now } } } : {}),
    });
  });
  await seedUsers(pipeline.tableName, items);
  const groups = new DynamoGroupStore(documentClient(awsClients().dynamodb), pipeline.tableName);
  await groups.putGroup({ groupId, type: "Public", name: "Benchmark group", updatedAt: now });
  await groups.addMembers(
    groupId,
    items.map((item) => item.userId),
    now,
  );
  const byVendor = countDeliveries(pipeline);
  meter.reset();
  meter.captureLogs();
  try {
    const status = await pipeline.callback(
      "Group.CallbackAfterSendMsg",
      {
        CallbackCommand: "Group.CallbackAfterSendMsg",
        GroupId: groupId,
        Type: "Public",
        From_Account: "member0",
        MsgSeq: 1,
        MsgTime: Math.floor(now / 1000),
        MsgBody: [
          { MsgType: "TIMTextElem", MsgContent: { Text: "The bus leaves at 8 tomorrow, bring water." } },
        ],
        EventTime: now,
      },
      "Android",
    );
    if (status !== 200) throw new Error(`callback answered ${status}`);
    await deliverAll(pipeline);
  } finally {
    meter.release();
  }
  return {
    name: "group",
    recipients: total(byVendor.stop()),
    byVendor: byVendor.counts,
    meter: meter.snapshot(),
  };
}

function countDeliveries(pipeline: CostPipeline) {
  const counts = new Map<Vendor, number>();
  const off = pipeline.hub.onDelivery((d) => {
    if (d.status === 200) counts.set(d.vendor, (counts.get(d.vendor) ?? 0) + 1);
  });
  return {
    counts,
    stop: () => {
      off();
      return counts;
    },
  };
}

const total = (counts: Map<Vendor, number>) => [...counts.values()].reduce((a, b) => a + b, 0);

// ---- Pricing what was counted ----

interface Cost {
  component: string;
  /** A product feature (badges, presence), kept and counted apart from the pipeline's own cost. */
  feature?: boolean;
  usd: number;
  detail: string;
}

function costs(run: Run): Cost[] {
  const m = run.meter;
  const out: Cost[] = [];
  const fnGroup = (fn: string) =>
    fn.startsWith("worker") ? "workers" : fn.replace(/ \(event source\)$/, "").replace(/ \(HTTP\)$/, "");
  for (const line of m.lambda.values()) {
    const gbSeconds = (line.billedMs / 1000) * (line.memoryMb / 1024);
    out.push({
      component: `Lambda ${fnGroup(line.fn)}: requests`,
      usd: line.invocations * USD_PER_LAMBDA_REQUEST,
      detail: `${line.invocations} invocations`,
    });
    out.push({
      component: `Lambda ${fnGroup(line.fn)}: duration`,
      usd: gbSeconds * USD_PER_GB_SECOND_ARM64,
      detail: `${line.billedMs} ms × ${line.memoryMb} MB`,
    });
    // Both off by default (infra/constructs/push-function.ts): counted apart, as what turning them on costs.
    out.push({
      component: "X-Ray traces (-c tracing=active)",
      feature: true,
      usd: line.invocations * TRACED_SHARE * USD_PER_TRACE,
      detail: `${Math.round(line.invocations * TRACED_SHARE)} traces`,
    });
    out.push({
      component: "Lambda start/report lines (-c systemLogLevel=INFO)",
      feature: true,
      usd: ((line.invocations * PLATFORM_LOG_BYTES_PER_INVOCATION) / 1e9) * USD_PER_LOG_GB,
      detail: "platform lines",
    });
  }
  for (const [fn, bytes] of m.logBytes) {
    if (fn === "setup") continue;
    out.push({ component: `Logs ${fnGroup(fn)}`, usd: (bytes / 1e9) * USD_PER_LOG_GB, detail: `${bytes} B` });
  }
  for (const line of m.sqs.values()) {
    if (line.fn === "setup") continue;
    const what =
      line.command === "ReceiveMessage" ||
      line.command.startsWith("Delete") ||
      line.command.startsWith("Change")
        ? `${line.queue} queue: event source`
        : `${line.queue} queue: sends`;
    out.push({
      component: `SQS ${what}`,
      usd: line.billed * USD_PER_SQS_REQUEST,
      detail: `${line.billed} ${line.command}`,
    });
  }
  for (const line of m.dynamo.values()) {
    if (line.fn === "setup") continue;
    const usd = line.readUnits * USD_PER_RRU + line.writeUnits * USD_PER_WRU;
    const detail = `${line.requests} ${line.command} (${line.readUnits} RRU, ${line.writeUnits} WRU)`;
    if (line.purpose === "badge") {
      out.push({ component: "DynamoDB badges", feature: true, usd, detail });
    } else if (line.purpose === "user (strong)") {
      // An eventually consistent read would be half: the other half is what seeing presence changes
      // made at ingest costs (architecture note, Presence).
      out.push({ component: "DynamoDB user reads", usd: usd / 2, detail });
      out.push({ component: "DynamoDB presence: strong reads", feature: true, usd: usd / 2, detail });
    } else if (line.purpose === "user") {
      // A sender's nickname, read eventually consistent (lib/routing/names.ts).
      out.push({ component: "DynamoDB user reads", usd, detail });
    } else if (line.purpose === "TRACE") {
      out.push({ component: "DynamoDB routing trace (npm run why)", feature: true, usd, detail });
    } else {
      out.push({ component: `DynamoDB ${line.purpose}`, usd, detail });
    }
  }
  return out;
}

function byComponent(list: Cost[]): Map<string, Cost> {
  const merged = new Map<string, Cost>();
  for (const c of list) {
    const m = merged.get(c.component);
    if (m === undefined) merged.set(c.component, { ...c });
    else m.usd += c.usd;
  }
  return merged;
}

/**
 * The fan-out's sends to the vendor queues and the ingest queue (pages), in calls and as billed, next
 * to the floor the batch limits allow: each vendor's jobs (≤ maxTargetsPerJob targets) 10 per
 * SendMessageBatch, every started 64 KB of the bodies actually sent billed as one request, and one
 * message per further page of 5,000 members.
 */
function fanoutSends(run: Run) {
  let calls = 0;
  let billed = 0;
  const bytes = new Map<string, number>();
  for (const line of run.meter.sqs.values()) {
    if (line.fn !== "router" || (line.command !== "SendMessageBatch" && line.command !== "SendMessage"))
      continue;
    calls += line.requests;
    billed += line.billed;
    bytes.set(line.queue, (bytes.get(line.queue) ?? 0) + line.bytes);
  }
  const pages = Math.ceil(MEMBERS / 5000);
  let callFloor = pages - 1;
  let billedFloor = pages - 1;
  for (const vendor of VENDORS) {
    const jobs = Math.ceil((run.byVendor.get(vendor) ?? 0) / VENDOR_SETTINGS[vendor].maxTargetsPerJob);
    const sent = bytes.get(vendor) ?? 0;
    callFloor += Math.max(Math.ceil(jobs / SQS_BATCH_ENTRIES), Math.ceil(sent / SQS_BATCH_BYTES));
    billedFloor += Math.max(Math.ceil(jobs / SQS_BATCH_ENTRIES), Math.ceil(sent / SQS_CHUNK_BYTES));
  }
  return { calls, billed, callFloor, billedFloor };
}

const usd = (n: number) => (n >= 0.01 ? `$${n.toFixed(3)}` : `$${n.toFixed(4)}`);

function printTable(runs: Run[]): void {
  const perMillion = runs.map((run) => {
    const merged = byComponent(costs(run));
    for (const c of merged.values()) c.usd = (c.usd / run.recipients) * 1e6;
    return merged;
  });
  const components = [...new Set(perMillion.flatMap((m) => [...m.keys()]))].sort((a, b) => {
    const fa = perMillion.some((m) => m.get(a)?.feature) ? 1 : 0;
    const fb = perMillion.some((m) => m.get(b)?.feature) ? 1 : 0;
    return fa - fb || a.localeCompare(b);
  });
  const header = runs.map((r) => `${r.name} (${r.recipients.toLocaleString("en")} pushes)`.padStart(30));
  console.log(`\n${"USD per 1M recipients (pushes delivered)".padEnd(46)}${header.join("")}`);
  for (const component of components) {
    const feature = perMillion.some((m) => m.get(component)?.feature);
    const cells = perMillion.map((m) => {
      const c = m.get(component);
      return (c === undefined ? "—" : usd(c.usd)).padStart(30);
    });
    const label = feature && !component.includes("(-c ") ? `${component} (product feature)` : component;
    console.log(`  ${label.padEnd(44)}${cells.join("")}`);
  }
  const sum = (m: Map<string, Cost>, features: boolean) =>
    [...m.values()].filter((c) => features || !c.feature).reduce((s, c) => s + c.usd, 0);
  const row = (label: string, values: string[]) =>
    console.log(`  ${label.padEnd(44)}${values.map((v) => v.padStart(30)).join("")}`);
  row(
    "─".repeat(40),
    runs.map(() => "─".repeat(12)),
  );
  row(
    "pipeline (without product features)",
    perMillion.map((m) => usd(sum(m, false))),
  );
  row(
    "total with the product features",
    perMillion.map((m) => usd(sum(m, true))),
  );
  row(
    "target (issue 10)",
    runs.map((r) => `≤ ${usd(r.name === "group" ? TARGET_GROUP : TARGET_ONE_TO_ONE)}`),
  );
  // What a one-to-one push cannot go below in this design, durations and logs aside: the callback's
  // invocation, its SQS send and the router's receive and delete (10 a request), the event's claim,
  // the send guard's read and record, the two user items read (the eventually consistent half).
  const oneToOneFloor =
    USD_PER_LAMBDA_REQUEST +
    USD_PER_SQS_REQUEST * 1.2 +
    USD_PER_WRU +
    USD_PER_RRU +
    USD_PER_WRU +
    USD_PER_RRU;
  row(
    "floor of this design, one-to-one",
    runs.map((r) => (r.name === "group" ? "" : usd(oneToOneFloor * 1e6))),
  );
  // What any pipeline that stores each callback on SQS before answering and routes by the users' items
  // pays, with no exactly-once or recall state at all, no worker and no log line: one-to-one, the
  // callback's invocation, its SQS send, receive and delete, the two user items (eventually consistent
  // reads); a group, one eventually consistent read per member, per push delivered.
  const anyDesignFloor = (r: Run) =>
    r.name === "group"
      ? ((MEMBERS * USD_PER_RRU) / 2 / r.recipients) * 1e6
      : (USD_PER_LAMBDA_REQUEST + USD_PER_SQS_REQUEST * 1.2 + USD_PER_RRU) * 1e6;
  row(
    "floor with no exactly-once or recall state",
    runs.map((r) => usd(anyDesignFloor(r))),
  );
  row(
    "Amazon SNS mobile push, same pushes",
    runs.map(() => usd(USD_SNS_PER_PUSH * 1e6)),
  );
  row(
    "SNS ÷ chatpush pipeline",
    perMillion.map((m) => `${((USD_SNS_PER_PUSH * 1e6) / sum(m, false)).toFixed(2)}×`),
  );

  for (const run of runs) {
    const lambda = [...run.meter.lambda.values()]
      .map(
        (l) =>
          `${l.fn} ${l.invocations} × ${(l.records / l.invocations).toFixed(1)} records, ${(l.billedMs / l.invocations).toFixed(1)} ms`,
      )
      .join("; ");
    console.log(`\n${run.name}: ${lambda}`);
    const requests = [...run.meter.dynamo.values()]
      .filter((l) => l.fn !== "setup")
      .map((l) => `${l.fn}/${l.purpose} ${l.command} ${l.requests}`)
      .join(", ");
    console.log(`  DynamoDB: ${requests}`);
    const sqs = [...run.meter.sqs.values()]
      .filter((l) => l.fn !== "setup")
      .map(
        (l) =>
          `${l.fn}/${l.queue} ${l.command} ${l.requests}${l.billed !== l.requests ? ` (${l.billed} billed)` : ""}`,
      )
      .join(", ");
    console.log(`  SQS: ${sqs}`);
    const logs = [...run.meter.logBytes]
      .map(([fn, b]) => `${fn} ${(b / run.recipients).toFixed(0)} B`)
      .join(", ");
    console.log(`  logged per push: ${logs}`);
  }
  const groupRun = runs.find((r) => r.name === "group");
  if (groupRun !== undefined) {
    const f = fanoutSends(groupRun);
    const per = (n: number) => ((n / (MEMBERS - 1)) * 1000).toFixed(2);
    console.log(
      `\nfan-out SQS sends per 1,000 members: ${per(f.calls)} calls (floor ${per(f.callFloor)}), ${per(f.billed)} billed requests (floor ${per(f.billedFloor)})`,
    );
    console.log(
      "  floor: each vendor's jobs 10 per SendMessageBatch within 256 KiB (billed per started 64 KB), one message per further page of 5,000",
    );
  }
  console.log(
    `\nrecorded in docs/architecture.md (Cost): before ${RECORDED.before.commit}: one-to-one ${usd(RECORDED.before.oneToOne)}, group ${usd(RECORDED.before.group)} per 1M pushes (the pipeline, without the product features); after ${RECORDED.after.commit}: ${usd(RECORDED.after.oneToOne)}, ${usd(RECORDED.after.group)}`,
  );
}

async function main(): Promise<void> {
  const meter = new Meter();
  const pipeline = await startCostPipeline(meter);
  const runs: Run[] = [];
  try {
    const only = process.env.BENCH_COST_ONLY;
    if (only !== "group") runs.push(await oneToOne(pipeline, meter));
    if (only !== "one-to-one") runs.push(await group(pipeline, meter));
  } finally {
    await pipeline.stop();
  }
  printTable(runs);
}

main()
  .then(() => process.exit(0))
  .catch((error) => {
    console.error(error);
    process.exit(1);
  });
