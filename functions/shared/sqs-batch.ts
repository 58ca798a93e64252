import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { logger } from "./powertools.js";

/**
 * An SQS handler that reports partial batch failures: a record whose handler throws is returned in
 * `batchItemFailures` and redelivered by SQS; the others are deleted. It never throws the batch.
 */
export function makeSqsBatchHandler(recordHandler: (record: SQSRecord, context?: Context) => Promise<void>) {
  const processor = new BatchProcessor(EventType.SQS);
  return async (event: SQSEvent, context?: Context): Promise<SQSBatchResponse> =>
    processPartialResponse(
      event,
      async (record: SQSRecord) => {
        try {
          await recordHandler(record, context);
        } catch (error) {
          // The record goes back to SQS (and to the DLQ after maxReceiveCount); say why it failed.
          logger.error("record failed", {
            messageId: record.messageId,
            receiveCount: record.attributes.ApproximateReceiveCount,
            error,
          });
          throw error;
        }
      },
      processor,
      { throwOnFullBatchFailure: false },
    );
}
