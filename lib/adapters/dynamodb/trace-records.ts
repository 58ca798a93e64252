import { createHash, randomBytes } from "node:crypto";
import { brotliCompressSync, brotliDecompressSync, constants as zlib } from "node:zlib";
import { BatchWriteCommand, type DynamoDBDocumentClient, QueryCommand } from "@aws-sdk/lib-dynamodb";
import type { Vendor } from "../../model/index.js";
import type { Clock, JobTrace, PlannedSettlement } from "../../ports/index.js";
import { unpackJobTrace } from "../../trace/job-trace-codec.js";
import type { RoutingDecision, RoutingTraceRecord, RoutingTraceStore } from "../../trace/routing-trace.js";
import { messagePartition } from "./delivery-log.js";

/**
 * The trace `npm run why` reads: what the router decided per (message, user, device), and what each
 * run of each delivery job saw. Neither is a write per device:
 *
 *   pk TRACE#U#<userId>                 sk <ISO time>#<messageKey>#<nonce>          m, r, expiresAt
 *       a message's decisions about one user (a one-to-one message, a group of a few): one small item.
 *   pk TRACE#G#<yyyy-mm-ddThh>#<0..15>  sk <ISO time>#<messageKey>#<chunk>#<nonce>  m, r, expiresAt
 *       a group page's decisions about its members, packed (brotli JSON), 2,000 members an item; the
 *       shard is the message key's hash, so a page's writes spread over 16 partitions an hour.
 *   pk MSG#<messageKey>                 sk J#<jobId>                                 … t
 *       each delivery job run's record (lib/adapters/dynamodb/delivery-log.ts) carries `t`: attempt,
 *       callback time, send and answer times, and every answer that was not "delivered".
 *
 * What it costs (DynamoDB on-demand, $0.625 per million WRU, limits-and-costs.md §1.5), measured by
 * `npm run bench:records` on items these adapters write into dynalite:
 * - a one-to-one message: one item of ~250 bytes = 1 WRU, **$0.63 per 1M one-to-one recipients**, the
 *   items of 25 messages of an ingest batch (up to 100 a batch) in one BatchWriteItem: +0.04 requests
 *   per one-to-one message;
 * - a group page of 5,000 members: 3 items, 30 bytes a member with UUID device ids (2 with short
 *   ones), **$0.018 per 1M group recipients** ($0.0014 with short device ids), one BatchWriteItem;
 * - a job record's `t`: +66 bytes, still 1 WRU for a one-to-one push and 17 for 500 delivered
 *   devices (+0); +1 WRU when 25 of 500 answered otherwise ($0.0013 per 1M); no extra request.
 * Reading (`why`, an operator's command): one Query of the user's partition, 16 Queries per hour of
 * `--since` for group pages (what they read grows with that hour's group recipients, ~30 bytes each),
 * one Query per message shown.
 */

/** Three days, as the issue asks; the router's CHATPUSH_TRACE_HOURS changes it. */
export const DEFAULT_TRACE_SECONDS = 3 * 24 * 60 * 60;
/** Group-page partitions per hour: 16 × 1,000 WRU/s per partition is far above any fan-out's pace. */
export const GROUP_SHARDS = 16;
/** A record about this many users or fewer goes into each user's own partition; more: one group item. */
const USER_ITEM_MAX_USERS = 3;
/** Members per group item: ~20 KB packed, far below DynamoDB's 400 KB item limit. */
const MEMBERS_PER_ITEM = 2000;
/** BatchWriteItem's documented maximum of 25 put or delete requests per call. */
const BATCH_WRITE_LIMIT = 25;
const BROTLI = { params: { [zlib.BROTLI_PARAM_QUALITY]: 5 } };

type Row = [userId: string, deviceId: string, vendor: string, stage: string, reason: number];

function pack(value: unknown): Buffer {
  return brotliCompressSync(JSON.stringify(value), BROTLI);
}
function unpack<T>(blob: Uint8Array): T {
  return JSON.parse(brotliDecompressSync(blob).toString("utf8")) as T;
}

function packDecisions(decisions: readonly RoutingDecision[]): Buffer {
  const reasons: string[] = [];
  const index = new Map<string, number>();
  const rows: Row[] = decisions.map((d) => {
    let r = -1;
    if (d.reason !== undefined) {
      r = index.get(d.reason) ?? reasons.length;
      if (r === reasons.length) {
        reasons.push(d.reason);
        index.set(d.reason, r);
      }
    }
    return [d.userId ?? "", d.deviceId ?? "", d.vendor ?? "", d.stage, r];
  });
  return pack({ d: rows, rs: reasons });
}

function unpackDecisions(blob: Uint8Array): RoutingDecision[] {
  const { d, rs } = unpack<{ d: Row[]; rs: string[] }>(blob);
  return d.map(([userId, deviceId, vendor, stage, r]) => ({
    stage: stage as RoutingDecision["stage"],
    ...(userId !== "" ? { userId } : {}),
    ...(deviceId !== "" ? { deviceId } : {}),
    ...(vendor !== "" ? { vendor: vendor as Vendor } : {}),
    ...(r >= 0 && rs[r] !== undefined ? { reason: rs[r] } : {}),
  }));
}

/** A routing record as read back: when, which message, and the decisions about the user asked for. */
export interface StoredDecisions {
  messageKey: string;
  at: number;
  decisions: RoutingDecision[];
}

/** One run of one delivery job, as its record says. */
export interface JobRun {
  jobId: string;
  vendor: Vendor;
  /** The devices the vendor accepted: [userId, deviceId, token fingerprint]. */
  delivered: [string, string, string][];
  plan: PlannedSettlement[];
  /** Absent on records written before traces. */
  trace?: JobTrace;
}

const hourOf = (ms: number) => new Date(ms).toISOString().slice(0, 13);
const shardOf = (messageKey: string) =>
  createHash("sha256").update(messageKey).digest().readUInt32BE(0) % GROUP_SHARDS;

interface TraceItem {
  pk: string;
  sk: string;
  m?: string;
  r?: Uint8Array;
  t?: Uint8Array;
  v?: Vendor;
  n?: number;
  expiresAt?: number;
}

export class DynamoTraceRecords implements RoutingTraceStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly clock: Clock,
    private readonly retentionSeconds = DEFAULT_TRACE_SECONDS,
  ) {}

  /** One BatchWriteItem per 25 items (an ingest batch of 100 one-to-one messages: four requests). */
  async put(records: readonly RoutingTraceRecord[]): Promise<void> {
    const expiresAt = Math.floor(this.clock.now() / 1000) + this.retentionSeconds;
    const items: TraceItem[] = [];
    const nonce = () => randomBytes(3).toString("base64url");
    for (const record of records) {
      const iso = new Date(record.at).toISOString();
      const users = new Set(record.decisions.map((d) => d.userId));
      if (!users.has(undefined) && users.size <= USER_ITEM_MAX_USERS) {
        for (const userId of users) {
          items.push({
            pk: `TRACE#U#${userId}`,
            sk: `${iso}#${record.messageKey}#${nonce()}`,
            m: record.messageKey,
            r: packDecisions(record.decisions.filter((d) => d.userId === userId)),
            expiresAt,
          });
        }
        continue;
      }
      // Decisions in member order; a member's rows stay together in one item.
      const byUser = new Map<string | undefined, RoutingDecision[]>();
      for (const d of record.decisions) byUser.set(d.userId, [...(byUser.get(d.userId) ?? []), d]);
      const groups = [...byUser.values()];
      const pk = `TRACE#G#${hourOf(record.at)}#${shardOf(record.messageKey)}`;
      for (let i = 0; i < groups.length; i += MEMBERS_PER_ITEM) {
        items.push({
          pk,
          sk: `${iso}#${record.messageKey}#${i / MEMBERS_PER_ITEM}#${nonce()}`,
          m: record.messageKey,
          r: packDecisions(groups.slice(i, i + MEMBERS_PER_ITEM).flat()),
          expiresAt,
        });
      }
    }
    for (let i = 0; i < items.length; i += BATCH_WRITE_LIMIT) {
      let batch: Record<string, unknown>[] = items
        .slice(i, i + BATCH_WRITE_LIMIT)
        .map((Item) => ({ PutRequest: { Item } }));
      for (let round = 0; batch.length > 0; round += 1) {
        if (round > 8) throw new Error(`BatchWriteItem left ${batch.length} trace writes unprocessed`);
        if (round > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 25 * 2 ** round)));
        const result = await this.db.send(
          new BatchWriteCommand({ RequestItems: { [this.tableName]: batch as never } }),
        );
        batch = (result.UnprocessedItems?.[this.tableName] ?? []) as Record<string, unknown>[];
      }
    }
  }

  /**
   * What the router decided about `userId` between `since` and `until` (epoch ms): the user's own
   * items, and the group items of those hours (all shards, or the message's one) filtered to the user.
   */
  async decisionsFor(
    userId: string,
    since: number,
    until: number,
    messageKey?: string,
  ): Promise<StoredDecisions[]> {
    const from = new Date(since).toISOString();
    const to = `${new Date(until).toISOString()}~`;
    const queries: Promise<TraceItem[]>[] = [this.query(`TRACE#U#${userId}`, from, to, messageKey)];
    const shards =
      messageKey !== undefined ? [shardOf(messageKey)] : Array.from({ length: GROUP_SHARDS }, (_, i) => i);
    for (let hour = Date.parse(`${hourOf(since)}:00:00Z`); hour <= until; hour += 3_600_000) {
      for (const shard of shards)
        queries.push(this.query(`TRACE#G#${hourOf(hour)}#${shard}`, from, to, messageKey));
    }
    const found: StoredDecisions[] = [];
    for (const item of (await Promise.all(queries)).flat()) {
      if (item.r === undefined || item.m === undefined) continue;
      const all = unpackDecisions(item.r);
      const decisions = all.filter((d) => d.userId === userId || d.userId === undefined);
      if (decisions.length === 0) continue;
      found.push({ messageKey: item.m, at: Date.parse(item.sk.slice(0, 24)), decisions });
    }
    return found.sort((a, b) => a.at - b.at);
  }

  /** Every run of every delivery job of the message (eventually consistent: an operator's read). */
  async jobRuns(messageKey: string): Promise<JobRun[]> {
    const items = await this.queryAll({
      KeyConditionExpression: "pk = :pk AND begins_with(sk, :j)",
      ExpressionAttributeValues: { ":pk": messagePartition(messageKey), ":j": "J#" },
    });
    const heads = new Map<string, TraceItem>();
    const parts = new Map<string, Map<number, Uint8Array>>();
    for (const item of items) {
      if (item.r === undefined) continue;
      const [jobId = "", index] = item.sk.slice(2).split("#");
      if (index === undefined) heads.set(jobId, item);
      else parts.set(jobId, (parts.get(jobId) ?? new Map()).set(Number(index), item.r));
    }
    const runs: JobRun[] = [];
    for (const [jobId, head] of heads) {
      const chunks = [head.r!];
      for (let i = 1; i < (head.n ?? 1); i += 1) {
        const part = parts.get(jobId)?.get(i);
        if (part !== undefined) chunks.push(part);
      }
      if (chunks.length !== (head.n ?? 1) || head.v === undefined) continue;
      const packed = unpack<{ d: [string, string, string][]; p: PlannedSettlement[] }>(Buffer.concat(chunks));
      runs.push({
        jobId,
        vendor: head.v,
        delivered: packed.d.map(([u, d, f]) => [u, d, f]),
        plan: packed.p,
        ...(head.t !== undefined ? { trace: unpackJobTrace(head.t) } : {}),
      });
    }
    return runs;
  }

  private query(pk: string, from: string, to: string, messageKey?: string): Promise<TraceItem[]> {
    return this.queryAll({
      KeyConditionExpression: "pk = :pk AND sk BETWEEN :from AND :to",
      ExpressionAttributeValues: {
        ":pk": pk,
        ":from": from,
        ":to": to,
        ...(messageKey !== undefined ? { ":m": messageKey } : {}),
      },
      ...(messageKey !== undefined ? { FilterExpression: "m = :m" } : {}),
    });
  }

  private async queryAll(input: {
    KeyConditionExpression: string;
    ExpressionAttributeValues: Record<string, unknown>;
    FilterExpression?: string;
  }): Promise<TraceItem[]> {
    const now = Math.floor(this.clock.now() / 1000);
    const items: TraceItem[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          ...input,
          ...(start !== undefined ? { ExclusiveStartKey: start } : {}),
        }),
      );
      // DynamoDB deletes expired items lazily.
      for (const item of (page.Items ?? []) as TraceItem[])
        if (item.expiresAt === undefined || item.expiresAt > now) items.push(item);
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    return items;
  }
}
