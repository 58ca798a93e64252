import { IdempotencyConfig, makeIdempotent } from "@aws-lambda-powertools/idempotency";
import type { BasePersistenceLayer } from "@aws-lambda-powertools/idempotency/persistence";
import type { Context, SQSRecord } from "aws-lambda";
import type { Router, RouterEvent } from "../../lib/routing/router.js";
import { makeSqsBatchHandler } from "./sqs-batch.js";

/** How long a routed callback is remembered: longer than Tencent's retries and SQS's redeliveries. */
export const IDEMPOTENCY_SECONDS = 3600;

/**
 * Ingest queue consumer: each record is one accepted callback; a failure is retried by SQS.
 * With a persistence store, a callback is routed once however often it arrives (Tencent retrying a
 * timed-out callback, SQS delivering a message twice): the key is the command and the body, not the
 * time we accepted it.
 */
export function makeRouteEventsHandler(router: () => Router, idempotency?: () => BasePersistenceLayer) {
  let route: ((callback: RouterEvent) => Promise<unknown>) | undefined;
  // Knowing the invocation's remaining time lets an in-progress record expire with the invocation.
  const config = new IdempotencyConfig({
    eventKeyJmesPath: "[command, body]",
    expiresAfterSeconds: IDEMPOTENCY_SECONDS,
  });
  const routeOnce = () => {
    if (route !== undefined) return route;
    const handle = async (callback: RouterEvent) => {
      await router().handle(callback);
      return true;
    };
    route =
      idempotency === undefined
        ? handle
        : makeIdempotent(handle, { persistenceStore: idempotency(), config });
    return route;
  };
  return makeSqsBatchHandler(async (record: SQSRecord, context?: Context) => {
    if (context !== undefined) config.registerLambdaContext(context);
    await routeOnce()(JSON.parse(record.body) as RouterEvent);
  });
}
