import {
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  SendMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { DeliveryJob, Vendor } from "../../model/index.js";
import type { DeliveryQueue, IngestQueue, RetryQueue } from "../../ports/index.js";
import {
  FANOUT_COMMAND,
  type FanoutEvent,
  type FanoutQueue,
  type GroupFanoutTask,
} from "../../routing/fanout.js";
import type { AcceptedCallback } from "../../tencent/callback.schema.js";

/** SendMessageBatch limits: 10 entries and 256 KiB in total. */
const BATCH_ENTRIES = 10;
const BATCH_BYTES = 256 * 1024;

/**
 * A bundle (lib/model/delivery.ts JobBundle) is at most one billed SQS request: "each 64 KB chunk of a
 * payload is billed as 1 request" (https://aws.amazon.com/sqs/pricing/, limits-and-costs.md §1.3).
 */
export const BUNDLE_BYTES = 64 * 1024;
/** At most one job's worth of targets per bundle, so a Lambda batch of ten messages is no more work than before. */
export const BUNDLE_TARGETS = 500;

/** The message attribute that carries why a job was dead-lettered. */
export const REASON_ATTRIBUTE = "chatpush-reason";

export class SqsIngestQueue implements IngestQueue {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async publish(callback: AcceptedCallback): Promise<void> {
    await this.sqs.send(new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: sqsJson(callback) }));
  }
}

/** Group fan-out pages ride the ingest queue, under an internal command the HTTP ingest never accepts. */
export class SqsFanoutQueue implements FanoutQueue {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async publish(task: GroupFanoutTask): Promise<void> {
    const event: FanoutEvent = { command: FANOUT_COMMAND, acceptedAt: task.acceptedAt, body: task };
    await this.sqs.send(new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: sqsJson(event) }));
  }
}

export class SqsDeliveryQueue implements DeliveryQueue {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrls: Partial<Record<Vendor, string>>,
  ) {}

  async enqueue(jobs: readonly DeliveryJob[]): Promise<void> {
    const byVendor = new Map<Vendor, DeliveryJob[]>();
    for (const job of jobs) {
      const same = byVendor.get(job.vendor) ?? [];
      same.push(job);
      byVendor.set(job.vendor, same);
    }
    await Promise.all(
      [...byVendor].map(([vendor, same]) => {
        const url = this.queueUrls[vendor];
        if (url === undefined) throw new Error(`no queue configured for vendor ${vendor}`);
        return sendAll(this.sqs, url, bundleBodies(vendor, same));
      }),
    );
  }
}

export class SqsRetryQueue implements RetryQueue {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
    private readonly deadLetterUrl: string,
  ) {}

  async retry(job: DeliveryJob, delaySeconds: number): Promise<void> {
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: sqsJson(job),
        DelaySeconds: Math.max(0, Math.min(900, Math.round(delaySeconds))),
      }),
    );
  }

  async deadLetter(job: DeliveryJob, reason: string): Promise<void> {
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.deadLetterUrl,
        MessageBody: sqsJson(job),
        MessageAttributes: { [REASON_ATTRIBUTE]: { DataType: "String", StringValue: reason.slice(0, 1000) } },
      }),
    );
  }
}

/**
 * The vendor-queue bodies for one vendor's jobs: small jobs packed into bundles (in order, each
 * bundle within BUNDLE_BYTES and BUNDLE_TARGETS), a job too big to share a bundle on its own, and a
 * bundle of one as the plain job.
 */
export function bundleBodies(vendor: Vendor, jobs: readonly DeliveryJob[]): string[] {
  const head = `{"version":1,"vendor":${JSON.stringify(vendor)},"jobs":[`;
  const overhead = Buffer.byteLength(head) + 2;
  const bodies: string[] = [];
  let open: { parts: string[]; bytes: number; targets: number } | undefined;
  const close = () => {
    if (open === undefined) return;
    bodies.push(open.parts.length === 1 ? open.parts[0]! : `${head}${open.parts.join(",")}]}`);
    open = undefined;
  };
  for (const job of jobs) {
    const body = sqsJson(job);
    const bytes = Buffer.byteLength(body);
    if (
      open !== undefined &&
      (open.bytes + 1 + bytes > BUNDLE_BYTES || open.targets + job.targets.length > BUNDLE_TARGETS)
    ) {
      close();
    }
    if (open === undefined) open = { parts: [], bytes: overhead - 1, targets: 0 };
    open.parts.push(body);
    open.bytes += 1 + bytes;
    open.targets += job.targets.length;
  }
  close();
  return bodies;
}

/** Sends bodies in as few SendMessageBatch calls as the limits allow; entries that fail are retried once. */
export async function sendAll(sqs: SQSClient, queueUrl: string, bodies: readonly string[]): Promise<number> {
  let requests = 0;
  for (const batch of chunkBatches(bodies)) {
    let entries: SendMessageBatchRequestEntry[] = batch.map((body, i) => ({
      Id: String(i),
      MessageBody: body,
    }));
    for (let round = 0; entries.length > 0; round += 1) {
      if (round === 2) throw new Error(`SQS refused ${entries.length} messages for ${queueUrl}`);
      const result = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
      requests += 1;
      const failed = new Set((result.Failed ?? []).map((f) => f.Id));
      entries = entries.filter((e) => failed.has(e.Id));
    }
  }
  return requests;
}

function chunkBatches(bodies: readonly string[]): string[][] {
  const batches: string[][] = [];
  let current: string[] = [];
  let bytes = 0;
  for (const body of bodies) {
    const size = Buffer.byteLength(body);
    if (current.length === BATCH_ENTRIES || (current.length > 0 && bytes + size > BATCH_BYTES)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(body);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/**
 * JSON as SQS accepts it. SQS refuses any character outside #x9 #xA #xD #x20–#xD7FF #xE000–#xFFFD
 * #x10000–#x10FFFF ("Amazon SQS message quotas", https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html).
 * JSON.stringify already escapes controls and lone surrogates; U+FFFE and U+FFFF it writes raw, so
 * they are escaped too (the same JSON value, so nothing changes for the consumer).
 */
export function sqsJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\ufffe\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
}
