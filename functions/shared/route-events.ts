import type { SQSRecord } from "aws-lambda";
import type { Router } from "../../lib/routing/router.js";
import type { AcceptedCallback } from "../../lib/tencent/callback.schema.js";
import { makeSqsBatchHandler } from "./sqs-batch.js";

/** Ingest queue consumer: each record is one accepted callback; a failure is retried by SQS. */
export function makeRouteEventsHandler(router: () => Router) {
  return makeSqsBatchHandler(async (record: SQSRecord) => {
    const callback = JSON.parse(record.body) as AcceptedCallback;
    await router().handle(callback);
  });
}
