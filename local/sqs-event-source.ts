import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";

export interface SqsEventSourceOptions {
  sqs: SQSClient;
  queueUrl: string;
  queueArn: string;
  /** Records per invocation (Lambda's BatchSize); SQS hands out at most 10 per receive. */
  batchSize: number;
  /** Parallel invocations (Lambda's ScalingConfig.MaximumConcurrency). */
  maxConcurrency: number;
  handler: (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | undefined>;
  /** The function's name and timeout, as the Lambda context reports them. */
  functionName?: string;
  timeoutSeconds?: number;
  onError?: (error: unknown) => void;
  region?: string;
  /**
   * A failed record visible again after this many seconds instead of the queue's visibility timeout
   * (Lambda leaves it for the whole timeout: six minutes for the router). Locally an operator waits
   * on it, so a failed routing is retried sooner; it still moves to the DLQ after maxReceiveCount.
   */
  retryFailedAfterSeconds?: number;
}

export interface SqsEventSource {
  /** Resolves when every poller has stopped after its current invocation. */
  stop(): Promise<void>;
}

/**
 * Lambda's event source long-polls (up to 20 s); the local SQS server answers a long poll as soon as a
 * message is there, as SQS does. A shorter wait keeps `stop()` prompt without costing latency.
 */
const WAIT_SECONDS = 2;

function toRecord(message: Message, options: SqsEventSourceOptions): SQSRecord {
  const attributes = message.Attributes ?? {};
  const messageAttributes: SQSRecord["messageAttributes"] = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    messageAttributes[name] = {
      dataType: value.DataType ?? "String",
      ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
    };
  }
  return {
    messageId: message.MessageId ?? "",
    receiptHandle: message.ReceiptHandle ?? "",
    body: message.Body ?? "",
    attributes: {
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? "1",
      SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
      SenderId: attributes.SenderId ?? "local",
      ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes,
    md5OfBody: message.MD5OfBody ?? "",
    eventSource: "aws:sqs",
    eventSourceARN: options.queueArn,
    awsRegion: options.region ?? "us-east-1",
  };
}

/** The Lambda context an invocation gets: its name, request id and the time it has left. */
function lambdaContext(options: SqsEventSourceOptions): Context {
  const deadline = Date.now() + (options.timeoutSeconds ?? 30) * 1000;
  const functionName = options.functionName ?? "local";
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:${options.region ?? "us-east-1"}:000000000000:function:${functionName}`,
    memoryLimitInMB: "512",
    awsRequestId: crypto.randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: "local",
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/**
 * What Lambda's SQS event source mapping does, on one machine: poll the queue, invoke the
 * handler with a batch, delete the records it did not report in `batchItemFailures`, and leave the
 * rest to reappear after the visibility timeout (and to move to the dead-letter queue after
 * maxReceiveCount, which the SQS server's redrive policy does). A handler that throws fails the whole
 * batch, as on Lambda.
 */
export function startSqsEventSource(options: SqsEventSourceOptions): SqsEventSource {
  let running = true;
  const abort = new AbortController();

  async function poll(): Promise<void> {
    while (running) {
      let messages: Message[] = [];
      try {
        const result = await options.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: options.queueUrl,
            MaxNumberOfMessages: Math.min(10, options.batchSize),
            WaitTimeSeconds: WAIT_SECONDS,
            AttributeNames: ["All"],
            MessageSystemAttributeNames: ["All"],
            MessageAttributeNames: ["All"],
          }),
          { abortSignal: abort.signal },
        );
        messages = result.Messages ?? [];
      } catch (error) {
        if (!running) return;
        options.onError?.(error);
        await new Promise((resolve) => setTimeout(resolve, 200));
        continue;
      }
      if (messages.length === 0) continue;

      const records = messages.map((m) => toRecord(m, options));
      let failed: Set<string>;
      try {
        const response = await options.handler({ Records: records }, lambdaContext(options));
        failed = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
      } catch (error) {
        options.onError?.(error);
        failed = new Set(records.map((r) => r.messageId));
      }
      const done = records.filter((r) => !failed.has(r.messageId));
      const retry = options.retryFailedAfterSeconds;
      const again = records.filter((r) => failed.has(r.messageId));
      if (retry !== undefined && again.length > 0) {
        await options.sqs
          .send(
            new ChangeMessageVisibilityBatchCommand({
              QueueUrl: options.queueUrl,
              Entries: again.map((r, i) => ({
                Id: String(i),
                ReceiptHandle: r.receiptHandle,
                VisibilityTimeout: retry,
              })),
            }),
          )
          .catch((error) => options.onError?.(error));
      }
      if (done.length > 0) {
        await options.sqs
          .send(
            new DeleteMessageBatchCommand({
              QueueUrl: options.queueUrl,
              Entries: done.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle })),
            }),
          )
          .catch((error) => options.onError?.(error));
      }
    }
  }

  const pollers = Array.from({ length: Math.max(1, options.maxConcurrency) }, () => poll());
  return {
    async stop() {
      running = false;
      abort.abort();
      await Promise.allSettled(pollers);
    },
  };
}
