/**
 * The router's one-write de-duplication against dynalite: the first SQS message carrying an event
 * claims it (one conditional PutItem), a copy in another message is dropped, the claiming message seen
 * again routes again only once its invocation's deadline passed, and a failed routing releases the
 * claim for the retry.
 */
import type { Context, SQSEvent, SQSRecord } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeRouteEventsHandler } from "../../functions/shared/route-events.js";
import { DynamoEventClaims } from "../../lib/adapters/dynamodb/event-claims.js";
import { ensureTable, IDEMPOTENCY_TABLE_KEYS } from "../../lib/adapters/dynamodb/table.js";
import type { Router, RouterEvent } from "../../lib/routing/router.js";
import { type DynamoEmulator, startDynamo } from "../../local/emulators.js";

let dynamo: DynamoEmulator;
const TABLE = "claims-test";

beforeAll(async () => {
  dynamo = await startDynamo();
  await ensureTable(dynamo.client, TABLE, IDEMPOTENCY_TABLE_KEYS);
});
afterAll(async () => {
  await dynamo.close();
});

let sequence = 0;
const c2c = (): RouterEvent => {
  sequence += 1;
  return {
    command: "C2C.CallbackAfterSendMsg",
    acceptedAt: Date.now(),
    body: {
      From_Account: "alice",
      To_Account: "bob",
      MsgKey: `claims_${sequence}_${Date.now()}`,
      EventTime: Date.now(),
    },
  } as unknown as RouterEvent;
};
const record = (messageId: string, event: RouterEvent): SQSRecord =>
  ({ messageId, body: JSON.stringify(event), attributes: {} }) as unknown as SQSRecord;
const contextEndingIn = (ms: number) => ({ getRemainingTimeInMillis: () => ms }) as unknown as Context;

function routerCounting(fail: () => boolean = () => false) {
  const routed: string[] = [];
  const router: Router = {
    async handle(event) {
      if (fail()) throw new Error("table unavailable");
      routed.push((event.body as { MsgKey: string }).MsgKey);
    },
  };
  return { router, routed };
}

function handlerFor(router: Router, now: () => number = Date.now) {
  const claims = new DynamoEventClaims(dynamo.client, TABLE, now);
  return makeRouteEventsHandler(() => router, undefined, { claims: () => claims });
}

const failures = (response: { batchItemFailures: { itemIdentifier: string }[] }) =>
  response.batchItemFailures.map((f) => f.itemIdentifier);

describe("event claims", () => {
  it("routes an event once when another message carries a copy, with one PutItem for the event", async () => {
    const { router, routed } = routerCounting();
    const handler = handlerFor(router);
    const event = c2c();
    const before = dynamo.calls();
    const first = await handler({ Records: [record("m-1", event)] } as SQSEvent, contextEndingIn(60_000));
    const after = dynamo.calls();
    // Tencent's retry of the callback: another SQS message, a later EventTime.
    const copy = {
      ...event,
      body: { ...(event.body as object), EventTime: Date.now() + 1500 },
    } as RouterEvent;
    const second = await handler({ Records: [record("m-2", copy)] } as SQSEvent, contextEndingIn(60_000));
    expect(failures(first)).toEqual([]);
    expect(failures(second)).toEqual([]);
    expect(routed).toHaveLength(1);
    expect((after.PutItem ?? 0) - (before.PutItem ?? 0)).toBe(1);
    expect((after.UpdateItem ?? 0) - (before.UpdateItem ?? 0)).toBe(0);
  });

  it("drops copies routed at the same time in one batch", async () => {
    const { router, routed } = routerCounting();
    const handler = handlerFor(router);
    const event = c2c();
    const response = await handler(
      { Records: [record("p-1", event), record("p-2", event), record("p-3", event)] } as SQSEvent,
      contextEndingIn(60_000),
    );
    expect(failures(response)).toEqual([]);
    expect(routed).toHaveLength(1);
  });

  it("fails the claiming message seen again while its invocation may still run, and routes it after its deadline", async () => {
    const { router, routed } = routerCounting();
    let now = Date.now();
    const handler = handlerFor(router, () => now);
    const event = c2c();
    // The first invocation claimed it and died (no release), its deadline 60 s away.
    await handler({ Records: [record("d-1", event)] } as SQSEvent, contextEndingIn(60_000));
    expect(routed).toHaveLength(1);
    const early = await handler({ Records: [record("d-1", event)] } as SQSEvent, contextEndingIn(60_000));
    expect(failures(early)).toEqual(["d-1"]);
    // SQS redelivers it after the visibility timeout (6 minutes): routed again, for the send guard.
    now += 6 * 60_000;
    const late = await handler({ Records: [record("d-1", event)] } as SQSEvent, contextEndingIn(60_000));
    expect(failures(late)).toEqual([]);
    expect(routed).toHaveLength(2);
    // A copy in another message is still dropped.
    await handler({ Records: [record("d-2", event)] } as SQSEvent, contextEndingIn(60_000));
    expect(routed).toHaveLength(2);
  });

  it("releases the claim of a routing that failed, so the retry routes it", async () => {
    let failing = true;
    const { router, routed } = routerCounting(() => failing);
    const handler = handlerFor(router);
    const event = c2c();
    const failed = await handler({ Records: [record("f-1", event)] } as SQSEvent, contextEndingIn(60_000));
    expect(failures(failed)).toEqual(["f-1"]);
    failing = false;
    const retried = await handler({ Records: [record("f-1", event)] } as SQSEvent, contextEndingIn(60_000));
    expect(failures(retried)).toEqual([]);
    expect(routed).toHaveLength(1);
  });

  it("lets a new message claim an event whose claim expired (an hour later)", async () => {
    const { router, routed } = routerCounting();
    let now = Date.now();
    const handler = handlerFor(router, () => now);
    const event = c2c();
    await handler({ Records: [record("e-1", event)] } as SQSEvent, contextEndingIn(60_000));
    now += 3_601_000;
    await handler({ Records: [record("e-2", event)] } as SQSEvent, contextEndingIn(60_000));
    expect(routed).toHaveLength(2);
  });
});
