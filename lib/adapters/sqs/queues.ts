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
    const byVendor = new Map<Vendor, string[]>();
    for (const job of jobs) {
      const bodies = byVendor.get(job.vendor) ?? [];
      bodies.push(sqsJson(job));
      byVendor.set(job.vendor, bodies);
    }
    await Promise.all(
      [...byVendor].map(([vendor, bodies]) => {
        const url = this.queueUrls[vendor];
        if (url === undefined) throw new Error(`no queue configured for vendor ${vendor}`);
        return sendAll(this.sqs, url, bodies);
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
