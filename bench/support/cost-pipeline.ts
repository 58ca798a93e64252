import { randomUUID } from "node:crypto";
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
} from "@aws-sdk/client-sqs";
import { App } from "aws-cdk-lib";
import type { Context, LambdaFunctionURLEvent, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { awsClients, userStoreFromEnv } from "../../functions/shared/deps.js";
import { makeHttpHandler } from "../../functions/shared/http.js";
import { lambdaEntry } from "../../functions/shared/powertools.js";
import { vendorDeliverHandler, vendorWorker } from "../../functions/shared/worker-from-env.js";
import { ChatpushStack } from "../../infra/chatpush-stack.js";
import { documentClient, ensureTable, IDEMPOTENCY_TABLE_KEYS } from "../../lib/adapters/dynamodb/table.js";
import { SqsIngestQueue } from "../../lib/adapters/sqs/queues.js";
import { ENV, vendorQueueEnv } from "../../lib/config/env-names.js";
import type { Vendor } from "../../lib/model/index.js";
import { systemClock, type VendorSender } from "../../lib/ports/index.js";
import { callbackSign } from "../../lib/tencent/sign.js";
import { ApnsSender } from "../../lib/vendors/apns.js";
import type { CredentialsByVendor } from "../../lib/vendors/credentials.js";
import { FcmSender } from "../../lib/vendors/fcm.js";
import { ACTIVE_VENDORS, VENDOR_SETTINGS } from "../../lib/vendors/settings.js";
import { ANDROID_VENDORS, type AndroidVendor, LOCAL_ANDROID_VENDORS } from "../../local/android-vendors.js";
import { simulatorCredentials } from "../../local/credentials.js";
import { createQueuePair, type QueuePair, startDynamo, startSqs } from "../../local/emulators.js";
import { startApnsSimulator } from "../../local/simulators/apns.js";
import { startFcmSimulator } from "../../local/simulators/fcm.js";
import { SimulatorHub } from "../../local/simulators/hub.js";
import type { Meter } from "./meter.js";

export const SDK_APP_ID = "1400000000";
const CALLBACK_TOKEN = "bench-cost-callback-token";

/** What the stack deploys for one function: its memory and, for a queue consumer, its event source. */
export interface FunctionSettings {
  memoryMb: number;
  batchSize: number;
  /** MaximumBatchingWindowInSeconds; 0 when the stack sets none. */
  windowSeconds: number;
  maxConcurrency: number;
}

export interface StackSettings {
  http: FunctionSettings;
  router: FunctionSettings;
  workers: Record<Vendor, FunctionSettings>;
}

interface CfnResource {
  Type: string;
  Properties: Record<string, unknown>;
}

/**
 * The memory sizes and event-source settings as the CDK app synthesises them (bundling skipped: only
 * the template is read), so the bench prices exactly what is deployed.
 */
export function stackSettings(): StackSettings {
  const app = new App({ context: { "aws:cdk:bundling-stacks": [] } });
  const stack = new ChatpushStack(app, "CostBench", { sdkAppId: SDK_APP_ID });
  const template = app.synth().getStackByName(stack.stackName).template as {
    Resources: Record<string, CfnResource>;
  };
  const resources = Object.entries(template.Resources);
  const byDescription = new Map<string, string>();
  const memory = new Map<string, number>();
  for (const [id, resource] of resources) {
    if (resource.Type !== "AWS::Lambda::Function") continue;
    byDescription.set(String(resource.Properties.Description), id);
    memory.set(id, Number(resource.Properties.MemorySize ?? 128));
  }
  const mappings = new Map<string, CfnResource["Properties"]>();
  for (const [, resource] of resources) {
    if (resource.Type !== "AWS::Lambda::EventSourceMapping") continue;
    const ref = (resource.Properties.FunctionName as { Ref?: string }).Ref ?? "";
    mappings.set(ref, resource.Properties);
  }
  const settingsOf = (description: string): FunctionSettings => {
    const id = byDescription.get(description);
    if (id === undefined) throw new Error(`no function "${description}" in the stack`);
    const mapping = mappings.get(id);
    return {
      memoryMb: memory.get(id) ?? 128,
      batchSize: Number(mapping?.BatchSize ?? 10),
      windowSeconds: Number(mapping?.MaximumBatchingWindowInSeconds ?? 0),
      maxConcurrency: Number(
        (mapping?.ScalingConfig as { MaximumConcurrency?: number })?.MaximumConcurrency ?? 0,
      ),
    };
  };
  return {
    http: settingsOf("chatpush: Tencent callbacks and the device API"),
    router: settingsOf("chatpush: turns callback events into vendor delivery jobs"),
    workers: Object.fromEntries(
      ACTIVE_VENDORS.map((vendor) => [vendor, settingsOf(`chatpush: delivers ${vendor} jobs`)]),
    ) as Record<Vendor, FunctionSettings>,
  };
}

type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | undefined>;

export interface CostPipeline {
  settings: StackSettings;
  tableName: string;
  queues: Record<"ingest" | Vendor, QueuePair>;
  hub: SimulatorHub;
  /** Posts one signed Tencent callback to the HTTP function (one invocation); answers its status. */
  callback(command: string, body: unknown, optPlatform?: string): Promise<number>;
  /** Runs the queue's consumer the way its event source mapping does until the queue is empty. */
  drain(name: "router" | Vendor): Promise<void>;
  /** Messages still on a queue (visible, in flight or delayed): 0 once everything was consumed. */
  left(name: "ingest" | Vendor): Promise<number>;
  stop(): Promise<void>;
}

/**
 * The deployed handlers on one machine: the router is `functions/route-events.ts` itself (its AWS
 * clients pointed at dynalite and chatpush's SQS server through AWS_ENDPOINT_URL_*), the HTTP
 * function and the workers are built from the same `functions/shared/*` factories with the
 * simulators' credentials instead of Secrets Manager. Every AWS client the handlers use is metered.
 */
export async function startCostPipeline(meter: Meter): Promise<CostPipeline> {
  const settings = stackSettings();
  const stops: (() => Promise<void>)[] = [];
  const dynamo = await startDynamo();
  stops.push(() => dynamo.close());
  const sqs = await startSqs();
  stops.push(() => sqs.close());

  const tableName = "cost-table";
  const idempotencyTable = "cost-idempotency";
  await ensureTable(dynamo.client, tableName);
  await ensureTable(dynamo.client, idempotencyTable, IDEMPOTENCY_TABLE_KEYS);
  meter.nameTable(idempotencyTable, "router idempotency");

  const queues = {} as Record<"ingest" | Vendor, QueuePair>;
  queues.ingest = await createQueuePair(sqs.client, "cost-ingest", {
    visibilityTimeoutSeconds: 360,
    maxReceiveCount: 5,
  });
  meter.nameQueue(queues.ingest.url, "ingest");
  for (const vendor of ACTIVE_VENDORS) {
    queues[vendor] = await createQueuePair(sqs.client, `cost-${vendor}`, {
      visibilityTimeoutSeconds: 6 * VENDOR_SETTINGS[vendor].timeoutSeconds,
      maxReceiveCount: VENDOR_SETTINGS[vendor].maxReceiveCount,
    });
    meter.nameQueue(queues[vendor].url, vendor);
    meter.nameQueue(queues[vendor].dlqUrl, `${vendor} DLQ`);
  }

  // The environment the stack gives the functions, and the SDK's endpoint overrides.
  Object.assign(process.env, {
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "local",
    AWS_SECRET_ACCESS_KEY: "local",
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_ENDPOINT_URL_SQS: sqs.endpoint,
    [ENV.tableName]: tableName,
    [ENV.idempotencyTableName]: idempotencyTable,
    [ENV.ingestQueueUrl]: queues.ingest.url,
    [ENV.sdkAppId]: SDK_APP_ID,
    ...Object.fromEntries(ACTIVE_VENDORS.map((v) => [vendorQueueEnv(v), queues[v].url])),
  });
  const clients = awsClients();
  meter.meterDynamo(clients.dynamodb);
  meter.meterSqs(clients.sqs);

  // Vendor simulators and credentials for them, as the local runtime makes them.
  const hub = new SimulatorHub(1000);
  const generated = simulatorCredentials();
  const apnsSim = await startApnsSimulator({ hub });
  stops.push(() => apnsSim.close());
  apnsSim.addKey(generated.apnsKey);
  apnsSim.allowTopic(generated.apns.bundleId);
  const fcmSim = await startFcmSimulator({ hub });
  stops.push(() => fcmSim.close());
  fcmSim.addServiceAccount(generated.fcmAccount);
  const android = {} as Pick<CredentialsByVendor, AndroidVendor>;
  for (const vendor of ANDROID_VENDORS) {
    const simulator = await LOCAL_ANDROID_VENDORS[vendor].start(hub);
    stops.push(() => simulator.close());
    const credential = { ...generated.android[vendor], endpoint: { url: simulator.url } };
    simulator.addApp(credential as never);
    android[vendor] = [credential] as never;
  }
  const credentials: CredentialsByVendor = {
    ...android,
    apns: [
      {
        ...generated.apns,
        endpoint: { production: apnsSim.production, sandbox: apnsSim.sandbox, ca: apnsSim.ca },
      },
    ],
    fcm: [{ ...generated.fcm, endpoint: { url: fcmSim.url, ca: fcmSim.ca } }],
  };
  const senders: Record<Vendor, VendorSender> = {
    apns: new ApnsSender({ credentials: credentials.apns }),
    fcm: new FcmSender({ credentials: credentials.fcm }),
    ...(Object.fromEntries(
      ANDROID_VENDORS.map((vendor) => [vendor, LOCAL_ANDROID_VENDORS[vendor].sender(credentials[vendor])]),
    ) as Record<AndroidVendor, VendorSender>),
  };
  stops.unshift(async () => {
    await Promise.all(Object.values(senders).map((s) => s.close()));
  });

  const users = userStoreFromEnv();
  const http = lambdaEntry(
    makeHttpHandler(() => ({
      sdkAppId: SDK_APP_ID,
      callbackToken: async () => CALLBACK_TOKEN,
      userSigKey: async () => "bench",
      ingest: new SqsIngestQueue(clients.sqs, queues.ingest.url),
      devices: users,
      presence: users,
      preferences: users,
      clock: systemClock,
    })),
  );
  // The router exactly as deployed: its module reads the environment set above on first use.
  const { handler: router } = await import("../../functions/route-events.js");

  const db = documentClient(clients.dynamodb);
  const handlers = { router } as unknown as Record<"router" | Vendor, SqsHandler>;
  for (const vendor of ACTIVE_VENDORS) {
    // The deployed worker and handler without Secrets Manager. Unpaced: pacing only re-queues what
    // exceeds a vendor's rate, which a one-machine run would hit only because it runs far fewer containers.
    const worker = vendorWorker({
      vendor,
      sender: senders[vendor],
      credentials: credentials[vendor] as { certificateId: number }[],
      devices: users,
      db,
      table: tableName,
      sqs: clients.sqs,
      queueUrl: queues[vendor].url,
      dlqUrl: queues[vendor].dlqUrl,
    });
    handlers[vendor] = vendorDeliverHandler(vendor, () => worker) as SqsHandler;
  }

  const functionName = (name: "router" | Vendor) => (name === "router" ? "router" : `worker ${name}`);

  async function drain(name: "router" | Vendor): Promise<void> {
    const fn = functionName(name);
    const queue = queues[name === "router" ? "ingest" : name];
    const fs = name === "router" ? settings.router : settings.workers[name];
    const timeoutSeconds = name === "router" ? 60 : VENDOR_SETTINGS[name].timeoutSeconds;
    // The event source: receives of up to 10 until the batch is full (BatchSize, within the batching
    // window) or the queue has nothing more now, one invocation, then DeleteMessageBatch of the
    // records not reported failed. One poller: durations are not inflated by other invocations.
    for (let idle = 0; idle < 2; ) {
      const messages: Message[] = [];
      while (messages.length < fs.batchSize) {
        const { Messages = [] } = await meter.as(`${fn} (event source)`, () =>
          clients.sqs.send(
            new ReceiveMessageCommand({
              QueueUrl: queue.url,
              MaxNumberOfMessages: Math.min(10, fs.batchSize - messages.length),
              WaitTimeSeconds: 0,
              AttributeNames: ["All"],
              MessageAttributeNames: ["All"],
            }),
          ),
        );
        messages.push(...Messages);
        if (Messages.length === 0) break;
      }
      if (messages.length === 0) {
        idle += 1;
        await new Promise((resolve) => setTimeout(resolve, 50));
        continue;
      }
      idle = 0;
      const records = messages.map((m) => toRecord(m, queue.arn));
      const response = await meter.invoke(fn, fs.memoryMb, records.length, () =>
        handlers[name]({ Records: records }, lambdaContext(fn, timeoutSeconds, fs.memoryMb)),
      );
      const failed = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
      const done = records.filter((r) => !failed.has(r.messageId));
      const again = records.filter((r) => failed.has(r.messageId));
      await meter.as(`${fn} (event source)`, async () => {
        for (let i = 0; i < done.length; i += 10) {
          await clients.sqs.send(
            new DeleteMessageBatchCommand({
              QueueUrl: queue.url,
              Entries: done
                .slice(i, i + 10)
                .map((r, j) => ({ Id: String(j), ReceiptHandle: r.receiptHandle })),
            }),
          );
        }
        // Visible again at once (Lambda would wait the visibility timeout): the bench does not wait.
        for (let i = 0; i < again.length; i += 10) {
          await clients.sqs.send(
            new ChangeMessageVisibilityBatchCommand({
              QueueUrl: queue.url,
              Entries: again.slice(i, i + 10).map((r, j) => ({
                Id: String(j),
                ReceiptHandle: r.receiptHandle,
                VisibilityTimeout: 0,
              })),
            }),
          );
        }
      });
    }
  }

  async function callback(command: string, body: unknown, optPlatform = "iOS"): Promise<number> {
    const requestTime = String(Math.floor(Date.now() / 1000));
    const query: Record<string, string> = {
      SdkAppid: SDK_APP_ID,
      CallbackCommand: command,
      contenttype: "json",
      ClientIP: "203.0.113.7",
      OptPlatform: optPlatform,
      RequestTime: requestTime,
      Sign: callbackSign(CALLBACK_TOKEN, requestTime),
    };
    const event = functionUrlEvent("/callback", query, JSON.stringify(body));
    const answer = await meter.invoke("ingest (HTTP)", settings.http.memoryMb, 1, () =>
      http(event, lambdaContext("ingest (HTTP)", 10, settings.http.memoryMb)),
    );
    return answer.statusCode;
  }

  async function left(name: "ingest" | Vendor): Promise<number> {
    const { Attributes = {} } = await sqs.client.send(
      new GetQueueAttributesCommand({ QueueUrl: queues[name].url, AttributeNames: ["All"] }),
    );
    return (
      Number(Attributes.ApproximateNumberOfMessages ?? 0) +
      Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0) +
      Number(Attributes.ApproximateNumberOfMessagesDelayed ?? 0)
    );
  }

  return {
    settings,
    tableName,
    queues,
    hub,
    callback,
    drain,
    left,
    async stop() {
      for (const stop of stops) await stop().catch(() => undefined);
    },
  };
}

function toRecord(message: Message, queueArn: string): SQSRecord {
  const attributes = message.Attributes ?? {};
  return {
    messageId: message.MessageId ?? "",
    receiptHandle: message.ReceiptHandle ?? "",
    body: message.Body ?? "",
    attributes: {
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? "1",
      SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
      SenderId: "bench",
      ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: message.MD5OfBody ?? "",
    eventSource: "aws:sqs",
    eventSourceARN: queueArn,
    awsRegion: "us-east-1",
  };
}

function lambdaContext(functionName: string, timeoutSeconds: number, memoryMb: number): Context {
  const deadline = Date.now() + timeoutSeconds * 1000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName.replace(/\W+/g, "-")}`,
    memoryLimitInMB: String(memoryMb),
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: "bench",
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

function functionUrlEvent(path: string, query: Record<string, string>, body: string): LambdaFunctionURLEvent {
  const now = new Date();
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: path,
    rawQueryString: new URLSearchParams(query).toString(),
    headers: { "content-type": "application/json", host: "bench.lambda-url.us-east-1.on.aws" },
    queryStringParameters: query,
    body,
    isBase64Encoded: false,
    requestContext: {
      accountId: "anonymous",
      apiId: "bench",
      domainName: "bench.lambda-url.us-east-1.on.aws",
      domainPrefix: "bench",
      http: { method: "POST", path, protocol: "HTTP/1.1", sourceIp: "203.0.113.7", userAgent: "Tencent" },
      requestId: randomUUID(),
      routeKey: "$default",
      stage: "$default",
      time: now.toISOString(),
      timeEpoch: now.getTime(),
    },
  };
}
