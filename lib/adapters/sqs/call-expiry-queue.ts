import { SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import {
  CALL_EXPIRY_COMMAND,
  type CallExpiryEvent,
  type CallExpiryQueue,
  type CallExpiryTask,
} from "../../ports/index.js";
import { sqsJson } from "./queues.js";

/**
 * chatpush's own end of a ring rides the ingest queue as a delayed message under an internal command
 * the HTTP ingest never accepts, so deployed and local runtimes expire calls the same way, with no
 * scheduler or sweep of their own. SQS delays a message at most 900 s ("DelaySeconds", SendMessage
 * API reference); the router puts a longer one back until it is due.
 */
export class SqsCallExpiryQueue implements CallExpiryQueue {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async schedule(task: CallExpiryTask, delaySeconds: number): Promise<void> {
    const event: CallExpiryEvent = { command: CALL_EXPIRY_COMMAND, acceptedAt: Date.now(), body: task };
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: sqsJson(event),
        DelaySeconds: Math.max(0, Math.min(900, Math.round(delaySeconds))),
      }),
    );
  }
}
