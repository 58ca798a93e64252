import {
  type MessageAttributeValue,
  PublishBatchCommand,
  type PublishBatchRequestEntry,
  type SNSClient,
} from "@aws-sdk/client-sns";
import { safeLogString } from "../../http/log-safety.js";
import type { DeliveryEvent, DeliveryEventPublisher } from "../../ports/index.js";

/**
 * PublishBatch limits (https://docs.aws.amazon.com/sns/latest/api/API_PublishBatch.html): at most 10
 * entries a call, and the call's messages and attributes together at most 256 KiB (262,144 bytes), as
 * is one message on a topic whose MaximumMessageSize was not raised.
 */
export const MAX_BATCH_ENTRIES = 10;
export const MAX_BATCH_BYTES = 262_144;
/** One message's events stay below this, leaving room for its attributes in a full batch. */
const MAX_MESSAGE_BYTES = 250_000;

/** What a subscriber receives: one message per event type per job (its `type` is also an attribute). */
export interface DeliveryEventsMessage {
  version: 1;
  type: DeliveryEvent["type"];
  events: PublishedEvent[];
}

/** One event as published: times as ISO strings and the latency, never a token. */
export interface PublishedEvent {
  type: DeliveryEvent["type"];
  messageKey: string;
  userId: string;
  deviceId: string;
  vendor: string;
  jobId: string;
  attempt: number;
  acceptedAt: string;
  at: string;
  /** From the callback's acceptance to this event. */
  latencyMs: number;
  status?: number;
  reason?: string;
  taskId?: string;
}

export function publishedEvent(event: DeliveryEvent): PublishedEvent {
  return {
    type: event.type,
    messageKey: event.messageKey,
    userId: event.userId,
    deviceId: event.deviceId,
    vendor: event.vendor,
    jobId: event.jobId,
    attempt: event.attempt,
    acceptedAt: new Date(event.acceptedAt).toISOString(),
    at: new Date(event.at).toISOString(),
    latencyMs: Math.max(0, event.at - event.acceptedAt),
    ...(event.status !== undefined ? { status: event.status } : {}),
    // A vendor's reason is free text: no control character raw, no long opaque run (a token) whole.
    ...(event.reason !== undefined ? { reason: safeLogString("reason", event.reason) } : {}),
    ...(event.taskId !== undefined ? { taskId: event.taskId } : {}),
  };
}

const bytes = (text: string) => Buffer.byteLength(text, "utf8");

/** What an entry weighs against the batch limit: its message, and each attribute's name, type and value. */
function entryBytes(entry: PublishBatchRequestEntry): number {
  let size = bytes(entry.Message ?? "");
  for (const [name, value] of Object.entries(entry.MessageAttributes ?? {}))
    size += bytes(name) + bytes(value.DataType ?? "") + bytes(value.StringValue ?? "");
  return size;
}

/**
 * A job's delivery events on an SNS topic: one message per event type, carrying all of that type's
 * events of the job (split only past ~250 KB, some 1,000 events), with `type` and `vendor` message
 * attributes that subscription filter policies can match; the messages of a job in one PublishBatch
 * (≤ 10 entries, ≤ 256 KiB). So a one-to-one push is one SNS request, and a 500-device job too.
 * Entries SNS reports as failed are sent once more; what fails again is thrown (the worker logs and
 * counts it, the delivery stands).
 */
export class SnsDeliveryEvents implements DeliveryEventPublisher {
  constructor(
    private readonly sns: SNSClient,
    private readonly topicArn: string,
  ) {}

  async publish(events: readonly DeliveryEvent[]): Promise<void> {
    const entries = this.entries(events);
    let pending = entries;
    for (let round = 1; pending.length > 0; round += 1) {
      const failed: PublishBatchRequestEntry[] = [];
      const reasons = new Set<string>();
      let senderFault = false;
      for (const batch of batches(pending)) {
        const answer = await this.sns.send(
          new PublishBatchCommand({ TopicArn: this.topicArn, PublishBatchRequestEntries: batch }),
        );
        for (const failure of answer.Failed ?? []) {
          const entry = batch.find((e) => e.Id === failure.Id);
          if (entry !== undefined) failed.push(entry);
          reasons.add(`${failure.Code ?? "error"}: ${failure.Message ?? ""}`);
          // The entry itself was wrong: sending it again would get the same answer.
          if (failure.SenderFault) senderFault = true;
        }
      }
      if (failed.length > 0 && (round >= 2 || senderFault))
        throw new Error(
          `SNS refused ${failed.length} of ${entries.length} messages (${[...reasons].join("; ")})`,
        );
      pending = failed;
    }
  }

  private entries(events: readonly DeliveryEvent[]): PublishBatchRequestEntry[] {
    const byType = new Map<string, PublishedEvent[]>();
    for (const event of events)
      byType.set(event.type, [...(byType.get(event.type) ?? []), publishedEvent(event)]);
    const entries: PublishBatchRequestEntry[] = [];
    for (const [type, published] of byType) {
      let chunk: PublishedEvent[] = [];
      let size = 0;
      const flush = () => {
        if (chunk.length === 0) return;
        const message: DeliveryEventsMessage = {
          version: 1,
          type: type as DeliveryEvent["type"],
          events: chunk,
        };
        const attributes: Record<string, MessageAttributeValue> = {
          type: { DataType: "String", StringValue: type },
          vendor: { DataType: "String", StringValue: chunk[0]!.vendor },
        };
        entries.push({
          // Unique in the request, [A-Za-z0-9_-]{1,80} (API_PublishBatchRequestEntry.html).
          Id: `${type}-${entries.length}`,
          Message: JSON.stringify(message),
          MessageAttributes: attributes,
        });
        chunk = [];
        size = 0;
      };
      for (const event of published) {
        const eventBytes = bytes(JSON.stringify(event)) + 1;
        if (size + eventBytes > MAX_MESSAGE_BYTES) flush();
        chunk.push(event);
        size += eventBytes;
      }
      flush();
    }
    return entries;
  }
}

/** Entries in calls of at most 10 entries and 256 KiB. */
function batches(entries: readonly PublishBatchRequestEntry[]): PublishBatchRequestEntry[][] {
  const out: PublishBatchRequestEntry[][] = [];
  let batch: PublishBatchRequestEntry[] = [];
  let size = 0;
  for (const entry of entries) {
    const weight = entryBytes(entry);
    if (batch.length === MAX_BATCH_ENTRIES || (batch.length > 0 && size + weight > MAX_BATCH_BYTES)) {
      out.push(batch);
      batch = [];
      size = 0;
    }
    batch.push(entry);
    size += weight;
  }
  if (batch.length > 0) out.push(batch);
  return out;
}
