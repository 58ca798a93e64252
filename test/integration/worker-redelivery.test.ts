import { randomBytes } from "node:crypto";
import { DeleteMessageCommand, type Message, ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import type { SQSEvent } from "aws-lambda";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { makeDeliverHandler } from "../../functions/shared/deliver.js";
import { DynamoDeliveryLog } from "../../lib/adapters/dynamodb/delivery-log.js";
import { documentClient, ensureTable } from "../../lib/adapters/dynamodb/table.js";
import { DynamoUserStore } from "../../lib/adapters/dynamodb/user-store.js";
import { SqsDeliveryQueue, SqsRetryQueue } from "../../lib/adapters/sqs/queues.js";
import { type JobReport, makeDeliveryWorker } from "../../lib/delivery/worker.js";
import type { DeliveryJob } from "../../lib/model/index.js";
import type { Journal } from "../../lib/ports/index.js";
import type { MeizuCredential } from "../../lib/vendors/credentials.js";
import { MeizuSender } from "../../lib/vendors/meizu.js";
import {
  createQueuePair,
  type DynamoEmulator,
  type QueuePair,
  type SqsEmulator,
  startDynamo,
  startSqs,
} from "../../local/emulators.js";
import { SimulatorHub } from "../../local/simulators/hub.js";
import {
  generateMeizuCredential,
  type MeizuSimulator,
  startMeizuSimulator,
} from "../../local/simulators/meizu.js";

/**
 * The send guard against the real APIs: the SQS server redelivers a job whose worker died before
 * deleting it (visibility timeout), and the Meizu simulator counts what reached it.
 */
let dynamo: DynamoEmulator;
let sqs: SqsEmulator;
let simulator: MeizuSimulator;
let sender: MeizuSender;
let credential: MeizuCredential;
const hub = new SimulatorHub();
let queue: QueuePair;
let run = 0;
let handler: (event: SQSEvent) => Promise<unknown>;
const reports: JobReport[] = [];
const journal: Journal = { record: () => undefined };

beforeAll(async () => {
  dynamo = await startDynamo();
  sqs = await startSqs();
  simulator = await startMeizuSimulator({ hub });
  credential = generateMeizuCredential({ certificateId: 1, endpointUrl: simulator.url });
  simulator.addApp(credential);
  sender = new MeizuSender({ credentials: [credential] });
});
afterAll(async () => {
  await sender?.close();
  await simulator?.close();
  await sqs?.close();
  await dynamo?.close();
});
beforeEach(async () => {
  run += 1;
  hub.clear();
  hub.clearFaults();
  reports.length = 0;
  const table = `redelivery-${run}`;
  await ensureTable(dynamo.client, table);
  queue = await createQueuePair(sqs.client, `meizu-${run}`, {
    visibilityTimeoutSeconds: 1,
    maxReceiveCount: 5,
  });
  const db = documentClient(dynamo.client);
  const worker = makeDeliveryWorker({
    sender,
    devices: new DynamoUserStore(db, table),
    retries: new SqsRetryQueue(sqs.client, queue.url, queue.dlqUrl),
    journal,
    ledger: new DynamoDeliveryLog(db, table, { now: () => Date.now() }),
    maxAttempts: 5,
    random: () => 0,
  });
  handler = makeDeliverHandler(
    "meizu",
    () => worker,
    (batch) => reports.push(...batch),
  );
});

const pushId = () => `J${randomBytes(12).toString("hex")}`;

function job(tokens: string[]): DeliveryJob {
  return {
    version: 1,
    vendor: "meizu",
    attempt: 0,
    acceptedAt: Date.now(),
    notification: {
      title: "Alice",
      body: "hi",
      ext: "{}",
      conversationId: "c2c_alice",
      messageKey: `k-${run}`,
      sentAt: 0,
    },
    targets: tokens.map((token, i) => ({ userId: `u${i}`, deviceId: `d${i}`, token, certificateId: 1 })),
  };
}

/** One receive as Lambda's event source makes it; the messages are not deleted (the worker "died"). */
async function receive(): Promise<Message[]> {
  for (let i = 0; i < 40; i += 1) {
    const { Messages = [] } = await sqs.client.send(
      new ReceiveMessageCommand({ QueueUrl: queue.url, MaxNumberOfMessages: 10, AttributeNames: ["All"] }),
    );
    if (Messages.length > 0) return Messages;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error("nothing came back on the queue");
}

/** The event Lambda's event source makes of received messages. */
function sqsEvent(messages: Message[]): SQSEvent {
  return {
    Records: messages.map((m) => ({
      messageId: m.MessageId!,
      receiptHandle: m.ReceiptHandle!,
      body: m.Body!,
      attributes: {
        ApproximateReceiveCount: m.Attributes?.ApproximateReceiveCount ?? "1",
        SentTimestamp: "0",
        SenderId: "local",
        ApproximateFirstReceiveTimestamp: "0",
      },
      messageAttributes: {},
      md5OfBody: "",
      eventSource: "aws:sqs",
      eventSourceARN: queue.arn,
      awsRegion: "us-east-1",
    })),
  };
}

async function invoke(messages: Message[]): Promise<void> {
  await handler(sqsEvent(messages));
}

const accepted = () => hub.list().filter((d) => d.status === 200);

describe("worker: exactly one send per job across SQS redelivery", () => {
  it("a job redelivered after its worker died before deleting it is not sent again", async () => {
    await new SqsDeliveryQueue(sqs.client, { meizu: queue.url }).enqueue([job([pushId(), pushId()])]);

    await invoke(await receive()); // sent; then the container is gone before the delete
    const redelivered = await receive(); // visible again after the 1 s visibility timeout
    expect(redelivered[0]!.Attributes?.ApproximateReceiveCount).toBe("2");
    await invoke(redelivered);

    expect(accepted()).toHaveLength(2); // one request, two pushIds
    expect(reports.map((r) => [r.delivered, r.alreadySent])).toEqual([
      [2, 0],
      [0, 2],
    ]);
  });

  it("a bundle of one-to-one jobs that comes back sends none of the jobs that were sent", async () => {
    const ok = pushId();
    const busy = pushId();
    hub.addFault({ vendor: "meizu", token: busy, status: 503, count: 1 });
    const one = (token: string, key: string): DeliveryJob => {
      const j = job([token]);
      return { ...j, notification: { ...j.notification, messageKey: key } };
    };
    await new SqsDeliveryQueue(sqs.client, { meizu: queue.url }).enqueue([
      one(ok, `ok-${run}`),
      one(busy, `busy-${run}`),
    ]);
    const bundle = await receive();
    expect(bundle).toHaveLength(1); // both jobs in one message

    // The busy job's retry cannot be enqueued (its queue is gone): that job fails to settle, so the
    // whole message fails and comes back; the other job was sent and recorded.
    const db = documentClient(dynamo.client);
    const broken = makeDeliveryWorker({
      sender,
      devices: new DynamoUserStore(db, `redelivery-${run}`),
      retries: new SqsRetryQueue(sqs.client, `${queue.url}-gone`, queue.dlqUrl),
      journal,
      ledger: new DynamoDeliveryLog(db, `redelivery-${run}`, { now: () => Date.now() }),
      maxAttempts: 5,
      random: () => 0,
    });
    const failing = makeDeliverHandler("meizu", () => broken);
    const first = (await failing(sqsEvent(bundle))) as { batchItemFailures: { itemIdentifier: string }[] };
    expect(first.batchItemFailures.map((f) => f.itemIdentifier)).toEqual([bundle[0]!.MessageId]);

    const again = await receive(); // the bundle again: the sent job is settled as recorded
    expect(again.map((m) => m.MessageId)).toEqual([bundle[0]!.MessageId]);
    await invoke(again);
    await sqs.client.send(
      new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: again[0]!.ReceiptHandle! }),
    );
    const retried = await receive(); // the busy job's retry, enqueued by the second run
    expect(JSON.parse(retried[0]!.Body!).targets[0].token).toBe(busy);
    await invoke(retried);

    expect(hub.list().map((d) => [d.token, d.status])).toEqual([
      [ok, 200],
      [busy, 503],
      [busy, 200],
    ]);
    expect(reports.map((r) => [r.delivered, r.alreadySent])).toEqual([
      [0, 1],
      [0, 1],
      [1, 0],
    ]);
  });

  it("a retry enqueued twice (its parent redelivered and settled again) reaches the vendor once", async () => {
    const busy = pushId();
    hub.addFault({ vendor: "meizu", token: busy, status: 503, count: 1 });
    await new SqsDeliveryQueue(sqs.client, { meizu: queue.url }).enqueue([job([busy])]);

    await invoke(await receive()); // 503: a retry job goes on the queue; the parent is not deleted
    const parent = await receive(); // the parent again, before its retry's delay is over
    await invoke(parent); // not sent: settled as recorded, so the same retry job is enqueued again
    await sqs.client.send(
      new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: parent[0]!.ReceiptHandle! }),
    );

    const copies: Message[] = [];
    while (copies.length < 2) {
      for (const m of await receive()) {
        copies.push(m);
        await invoke([m]);
        await sqs.client.send(
          new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: m.ReceiptHandle! }),
        );
      }
    }
    expect(JSON.parse(copies[0]!.Body!).id).toBe(JSON.parse(copies[1]!.Body!).id);
    expect(hub.list().map((d) => [d.token, d.status])).toEqual([
      [busy, 503],
      [busy, 200],
    ]);
  });
});
