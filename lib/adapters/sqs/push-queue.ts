import type { SQSClient } from "@aws-sdk/client-sqs";
import type { ServerPushEvent, ServerPushQueue } from "../../push-api/ports.js";
import { sendAll, sqsJson } from "./queues.js";

/**
 * Server push pages and revokes ride the ingest queue the router consumes, under commands HTTP
 * ingest never accepts (`chatpush.ServerPushPage`, `chatpush.ServerPushRevoke`): the same queue, DLQ
 * and idempotent routing as group fan-out pages. A page 0 that starts a chain per shard sends them in
 * SendMessageBatch requests of 10.
 */
export class SqsServerPushQueue implements ServerPushQueue {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async publish(events: readonly ServerPushEvent[]): Promise<void> {
    if (events.length === 0) return;
    await sendAll(this.sqs, this.queueUrl, events.map(sqsJson));
  }
}
