import { IdempotencyConfig, makeIdempotent } from "@aws-lambda-powertools/idempotency";
import type { BasePersistenceLayer } from "@aws-lambda-powertools/idempotency/persistence";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { eventIdentity } from "../../lib/ingest/event-identity.js";
import type { Router, RouterEvent } from "../../lib/routing/router.js";
import { makeSqsBatchHandler } from "./sqs-batch.js";

/** How long a routed callback is remembered: longer than Tencent's retries and SQS's redeliveries. */
export const IDEMPOTENCY_SECONDS = 3600;

/** What the idempotent step receives: the event and the identity it is remembered by. */
interface Identified {
  identity: string;
  event: RouterEvent;
}

/**
 * Ingest queue consumer: each record is one accepted callback; a failure is retried by SQS.
 * With a persistence store, an event is routed once however often it arrives (Tencent retrying a
 * timed-out callback, SQS delivering a message twice, a copy with another EventTime): the key is the
 * event's identity (lib/ingest/event-identity.ts: MsgKey, group + MsgSeq + topic, …), never the
 * whole body, and never the time we accepted it.
 */
export function makeRouteEventsHandler(
  router: () => Router,
  idempotency?: () => BasePersistenceLayer,
  /** After each batch, whatever it routed or not: writes the routing trace (lib/trace/routing-trace.ts). */
  afterBatch?: () => Promise<void>,
) {
  let route: ((input: Identified) => Promise<unknown>) | undefined;
  // Knowing the invocation's remaining time lets an in-progress record expire with the invocation.
  const config = new IdempotencyConfig({
    eventKeyJmesPath: "identity",
    expiresAfterSeconds: IDEMPOTENCY_SECONDS,
  });
  const routeOnce = () => {
    if (route !== undefined) return route;
    const handle = async ({ event }: Identified) => {
      await router().handle(event);
      return true;
    };
    route =
      idempotency === undefined
        ? handle
        : makeIdempotent(handle, { persistenceStore: idempotency(), config });
    return route;
  };
  const batch = makeSqsBatchHandler(async (record: SQSRecord, context?: Context) => {
    if (context !== undefined) config.registerLambdaContext(context);
    const event = JSON.parse(record.body) as RouterEvent;
    await routeOnce()({ identity: eventIdentity(event).key, event });
  });
  if (afterBatch === undefined) return batch;
  return async (event: SQSEvent, context?: Context): Promise<SQSBatchResponse> => {
    try {
      return await batch(event, context);
    } finally {
      await afterBatch();
    }
  };
}
