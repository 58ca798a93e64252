import { createHash } from "node:crypto";
import { brotliCompressSync, brotliDecompressSync, constants as zlib } from "node:zlib";
import { type DynamoDBDocumentClient, PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import type { DeliveryTarget, Device, Vendor } from "../../model/index.js";
import type {
  Clock,
  DeliveredTo,
  DeliveryLog,
  JobLedger,
  JobRecord,
  PlannedSettlement,
  RecipientReader,
  RecordedJob,
} from "../../ports/index.js";
import { packJobTrace } from "../../trace/job-trace-codec.js";
import { DynamoUserStore } from "./user-store.js";

/**
 * One item per delivery job, under its message: the send guard (a job found here is not sent again)
 * and the recall record (who got the message), written once per job rather than once per device.
 *
 *   pk MSG#<messageKey>  sk J#<jobId>        v vendor, n parts, r packed record, expiresAt
 *   pk MSG#<messageKey>  sk J#<jobId>#<i>    r the record's i-th part (only past MAX_PART_BYTES)
 *
 * The packed record is brotli-compressed JSON: each delivered device as [userId, deviceId, token
 * fingerprint] (plus its badge and platform when the job gave it one), and how the other targets were
 * settled. Tokens are not stored: a recall reads the devices' current registrations and keeps those
 * whose token still has the fingerprint, so it reaches exactly the devices that got the message. Ids
 * instead of tokens are 3–8× smaller (an FCM token is ~160 random characters), and a record of 500
 * devices is one PutItem of a few KB instead of 20 BatchWriteItems of 25 items.
 *
 * Workers before this format wrote one item per device (sk D#<vendor>#<userId>#<deviceId>, `target`);
 * recall still reads those.
 */

/**
 * Fourteen days: as long as a job can come back. A worker's DLQ keeps jobs 14 days (DurableQueue), and
 * a job SQS parked after maxReceiveCount is redriven with the body it had, so its record must still be
 * there or it would be sent again. Tencent's recall window (2 minutes by default, configurable) is far
 * shorter; storage costs $0.25/GB-month, about 3 cents per million one-to-one pushes.
 */
export const DELIVERY_RECORD_SECONDS = 14 * 24 * 60 * 60;
/** DynamoDB items are at most 400 KB, key and attribute names included. */
const MAX_PART_BYTES = 350_000;
/** DynamoDB partition keys are at most 2048 bytes; longer message keys are hashed (both ways alike). */
const MAX_KEY_BYTES = 1024;
/** 48 bits: two tokens of one device colliding is a 1 in 2.8e14 chance. */
const FINGERPRINT_CHARS = 8;
/** Brotli quality 5: ~2 ms for a 500-device record on one core, within 10% of quality 11's size. */
const BROTLI_QUALITY = 5;

type Row = [userId: string, deviceId: string, fingerprint: string, extras?: { b?: number; p?: string }];

interface Packed {
  d: Row[];
  p: PlannedSettlement[];
}

export function messagePartition(messageKey: string): string {
  return Buffer.byteLength(messageKey) <= MAX_KEY_BYTES
    ? `MSG#${messageKey}`
    : `MSG#sha256:${createHash("sha256").update(messageKey).digest("hex")}`;
}

export function tokenFingerprint(token: string): string {
  return createHash("sha256").update(token).digest("base64url").slice(0, FINGERPRINT_CHARS);
}

function pack(record: Pick<JobRecord, "delivered" | "plan">): Buffer {
  const rows: Row[] = record.delivered.map((t) => {
    const extras = {
      ...(t.badge !== undefined ? { b: t.badge } : {}),
      ...(t.platform !== undefined ? { p: t.platform } : {}),
    };
    const row: Row = [t.userId, t.deviceId, tokenFingerprint(t.token)];
    if (Object.keys(extras).length > 0) row.push(extras);
    return row;
  });
  const packed: Packed = { d: rows, p: record.plan };
  return brotliCompressSync(JSON.stringify(packed), {
    params: { [zlib.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY },
  });
}

function unpack(blob: Uint8Array): Packed {
  return JSON.parse(brotliDecompressSync(blob).toString("utf8")) as Packed;
}

function targetOf(device: Device, row: Row): DeliveryTarget {
  const extras = row[3];
  return {
    userId: device.userId,
    deviceId: device.deviceId,
    token: device.token,
    ...(device.certificateId !== undefined ? { certificateId: device.certificateId } : {}),
    ...(device.appId !== undefined ? { appId: device.appId } : {}),
    ...(device.environment !== undefined ? { environment: device.environment } : {}),
    ...(device.pushType !== undefined ? { pushType: device.pushType } : {}),
    ...(extras?.p !== undefined ? { platform: extras.p as DeliveryTarget["platform"] } : {}),
    ...(extras?.b !== undefined ? { badge: extras.b } : {}),
  };
}

interface StoredItem {
  pk: string;
  sk: string;
  v?: Vendor;
  n?: number;
  r?: Uint8Array;
  target?: DeliveryTarget;
  vendor?: Vendor;
  expiresAt: number;
}

export class DynamoDeliveryLog implements DeliveryLog, JobLedger {
  private readonly recipients: RecipientReader;

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly clock: Clock,
    /** Where recall finds the devices' current registrations; default: the user items of the same table. */
    recipients?: RecipientReader,
  ) {
    this.recipients = recipients ?? new DynamoUserStore(db, tableName);
  }

  /** One PutItem (a few in parallel past 350 KB packed, ~10,000 devices); overwrites a copy's record. */
  async put(record: JobRecord): Promise<void> {
    const pk = messagePartition(record.messageKey);
    const expiresAt = Math.floor(this.clock.now() / 1000) + DELIVERY_RECORD_SECONDS;
    const blob = pack(record);
    const parts: Buffer[] = [];
    for (let at = 0; at === 0 || at < blob.length; at += MAX_PART_BYTES)
      parts.push(blob.subarray(at, at + MAX_PART_BYTES));
    await Promise.all(
      parts.map((part, index) =>
        this.db.send(
          new PutCommand({
            TableName: this.tableName,
            Item: {
              pk,
              sk: index === 0 ? `J#${record.jobId}` : `J#${record.jobId}#${index}`,
              ...(index === 0 ? { v: record.vendor, n: parts.length } : {}),
              // What `npm run why` shows of this run (lib/trace): in the same item, no extra request.
              ...(index === 0 && record.trace !== undefined ? { t: packJobTrace(record.trace) } : {}),
              r: part,
              expiresAt,
            },
          }),
        ),
      ),
    );
  }

  async find(messageKey: string, jobId: string): Promise<RecordedJob | undefined> {
    const items = await this.query(messageKey, `J#${jobId}`, true);
    const record = this.assemble(items).get(jobId);
    if (record === undefined) return undefined;
    const packed = unpack(record.blob);
    return { delivered: packed.d.length, plan: packed.p };
  }

  /** For callers without a job of their own: recorded as a job of these targets, all delivered. */
  async recordDelivered(
    messageKey: string,
    vendor: Vendor,
    targets: readonly DeliveryTarget[],
  ): Promise<void> {
    if (targets.length === 0) return;
    const ids = targets.map((t) => `${t.userId}\u0001${t.deviceId}`).sort();
    const jobId = createHash("sha256")
      .update(["recorded", vendor, ...ids].join("\u0000"))
      .digest("hex")
      .slice(0, 32);
    await this.put({ jobId, messageKey, vendor, delivered: [...targets], plan: [] });
  }

  async deliveredTo(messageKey: string): Promise<DeliveredTo[]> {
    const items = await this.query(messageKey, undefined, false);
    const found = new Map<string, DeliveredTo>();
    const add = (vendor: Vendor, target: DeliveryTarget) =>
      found.set(`${vendor}\u0001${target.userId}\u0001${target.deviceId}`, { vendor, target });

    for (const item of items) {
      if (item.sk.startsWith("D#") && item.vendor !== undefined && item.target !== undefined)
        add(item.vendor, item.target);
    }
    const recorded: { vendor: Vendor; row: Row }[] = [];
    for (const { vendor, blob } of this.assemble(items).values()) {
      for (const row of unpack(blob).d) recorded.push({ vendor, row });
    }
    if (recorded.length > 0) {
      const users = await this.recipients.getUsers([...new Set(recorded.map(({ row }) => row[0]))]);
      for (const { vendor, row } of recorded) {
        const [userId, deviceId, fingerprint] = row;
        // A phone may hold an alert and a VoIP registration under one deviceId: the one with the token.
        const device = users
          .get(userId)
          ?.devices.find(
            (d) =>
              d.deviceId === deviceId && d.vendor === vendor && tokenFingerprint(d.token) === fingerprint,
          );
        // Gone, or registered again with another token (or vendor): that device did not get it.
        if (device === undefined) continue;
        add(vendor, targetOf(device, row));
      }
    }
    return [...found.values()];
  }

  /** The message's items (those whose sort key starts with `prefix`), unexpired. */
  private async query(
    messageKey: string,
    prefix: string | undefined,
    consistent: boolean,
  ): Promise<StoredItem[]> {
    const now = Math.floor(this.clock.now() / 1000);
    const items: StoredItem[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: prefix === undefined ? "pk = :pk" : "pk = :pk AND begins_with(sk, :p)",
          ExpressionAttributeValues: {
            ":pk": messagePartition(messageKey),
            ...(prefix === undefined ? {} : { ":p": prefix }),
          },
          ConsistentRead: consistent,
          ...(start !== undefined ? { ExclusiveStartKey: start } : {}),
        }),
      );
      // DynamoDB deletes expired items lazily: an expired record no longer counts.
      for (const item of (page.Items ?? []) as StoredItem[]) if (item.expiresAt > now) items.push(item);
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    return items;
  }

  /** Job records from their items: parts joined in order; a record missing a part is skipped. */
  private assemble(items: readonly StoredItem[]): Map<string, { vendor: Vendor; blob: Buffer }> {
    const heads = new Map<string, StoredItem>();
    const parts = new Map<string, Map<number, Uint8Array>>();
    for (const item of items) {
      if (!item.sk.startsWith("J#") || item.r === undefined) continue;
      const [jobId = "", index] = item.sk.slice(2).split("#");
      if (index === undefined) heads.set(jobId, item);
      else {
        const byIndex = parts.get(jobId) ?? new Map<number, Uint8Array>();
        byIndex.set(Number(index), item.r);
        parts.set(jobId, byIndex);
      }
    }
    const records = new Map<string, { vendor: Vendor; blob: Buffer }>();
    for (const [jobId, head] of heads) {
      const count = head.n ?? 1;
      const chunks = [head.r!];
      for (let i = 1; i < count; i += 1) {
        const part = parts.get(jobId)?.get(i);
        if (part !== undefined) chunks.push(part);
      }
      if (chunks.length !== count || head.v === undefined) continue;
      records.set(jobId, { vendor: head.v, blob: Buffer.concat(chunks) });
    }
    return records;
  }
}
