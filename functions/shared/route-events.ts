import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { type EventClaims, EventInProgressError } from "../../lib/ingest/event-claims.js";
import { eventIdentity } from "../../lib/ingest/event-identity.js";
import type { DeliveryJob } from "../../lib/model/index.js";
import type { DeliveryQueue } from "../../lib/ports/index.js";
import type { Router, RouterEvent } from "../../lib/routing/router.js";
import { makeSqsBatchHandler } from "./sqs-batch.js";

/** A routing's deadline when no Lambda context says (the router's timeout). */
const DEFAULT_ROUTING_MS = 60_000;

/**
 * Ingest queue consumer: each record is one accepted callback; a failure is retried by SQS.
 * With `claims`, an event is routed once however often it arrives (Tencent retrying a timed-out
 * callback, SQS delivering a message twice, a copy with another EventTime): one conditional write per
 * event (lib/ingest/event-claims.ts says why it is as safe as Powertools idempotency's two), keyed by
 * the event's identity (lib/ingest/event-identity.ts: MsgKey, group + MsgSeq + topic, …), never the
 * whole body, and never the time we accepted it. With `deliveries` (the router's DeliveryQueue), the
 * jobs of the records a batch routes at the same time go out together.
 */
export function makeRouteEventsHandler(
  router: () => Router,
  /** After each batch, whatever it routed or not: writes the routing trace (lib/trace/routing-trace.ts). */
  afterBatch?: () => Promise<void>,
  options: {
    /** The router's DeliveryQueue, when it sends the jobs of a batch's records together. */
    deliveries?: CoalescedDeliveryQueue;
    /** The event claims (lib/ingest/event-claims.ts); without them every copy is routed. */
    claims?: () => EventClaims;
  } = {},
) {
  const { deliveries, claims } = options;
  const routeRecord = async (record: SQSRecord, context?: Context) => {
    const event = JSON.parse(record.body) as RouterEvent;
    if (claims === undefined) {
      await router().handle(event);
      return;
    }
    const identity = eventIdentity(event).key;
    const store = claims();
    const untilMs = Date.now() + (context?.getRemainingTimeInMillis() ?? DEFAULT_ROUTING_MS);
    const answer = await store.claim(identity, record.messageId, untilMs);
    if (answer === "copy") return;
    if (answer === "in-progress") {
      throw new EventInProgressError(`message ${record.messageId} is being routed by another invocation`);
    }
    try {
      await router().handle(event);
    } catch (error) {
      await store.release(identity, record.messageId).catch(() => undefined);
      throw error;
    }
  };
  const batch = makeSqsBatchHandler(
    deliveries === undefined
      ? routeRecord
      : (record, context) => deliveries.during(() => routeRecord(record, context)),
  );
  if (afterBatch === undefined) return batch;
  return async (event: SQSEvent, context?: Context): Promise<SQSBatchResponse> => {
    try {
      return await batch(event, context);
    } finally {
      await afterBatch();
    }
  };
}

/**
 * A DeliveryQueue that sends the jobs of the records routed at the same time together: the router
 * handles a batch's records in parallel, and each record's jobs would otherwise be one
 * SendMessageBatch of their own (a one-to-one message makes one job: one request per push). Jobs
 * wait until every record still being routed has enqueued or finished (at most `maxWaitMs`), then
 * go out in SendMessageBatch calls of up to 10 per vendor queue.
 *
 * Each record still waits for its own jobs to be on their queues before it is done (and deleted from
 * the ingest queue), so nothing answered OK is lost. If sending fails, every record that was waiting
 * fails and SQS routes it again after the visibility timeout, as it would a record whose own send
 * failed; jobs of them that did reach a queue are caught by the send guard (same identity).
 */
export class CoalescedDeliveryQueue implements DeliveryQueue {
  private waiting: { jobs: readonly DeliveryJob[]; resolve: () => void; reject: (error: unknown) => void }[] =
    [];
  private timer: NodeJS.Timeout | undefined;
  /** Records being routed now (inside `during`). */
  private active = 0;

  constructor(
    private readonly queue: DeliveryQueue,
    private readonly maxWaitMs = 20,
  ) {}

  /** Routes one record; its enqueues may travel with those of the records routed alongside it. */
  async during<T>(run: () => Promise<T>): Promise<T> {
    this.active += 1;
    try {
      return await run();
    } finally {
      this.active -= 1;
      this.flushIfAllWaiting();
    }
  }

  enqueue(jobs: readonly DeliveryJob[]): Promise<void> {
    if (jobs.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ jobs, resolve, reject });
      this.flushIfAllWaiting();
      if (this.waiting.length > 0 && this.timer === undefined) {
        this.timer = setTimeout(() => this.flush(), this.maxWaitMs);
      }
    });
  }

  /** Every record being routed is waiting on its jobs (or none is being routed): send now. */
  private flushIfAllWaiting(): void {
    if (this.waiting.length > 0 && this.waiting.length >= this.active) this.flush();
  }

  private flush(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.waiting;
    this.waiting = [];
    if (batch.length === 0) return;
    this.queue.enqueue(batch.flatMap((w) => w.jobs)).then(
      () => {
        for (const w of batch) w.resolve();
      },
      (error: unknown) => {
        for (const w of batch) w.reject(error);
      },
    );
  }
}
