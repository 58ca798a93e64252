import { once } from "node:events";
import type { IncomingMessage, Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Worker } from "node:worker_threads";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SQSClient,
  type SQSClientConfig,
} from "@aws-sdk/client-sqs";
import dynalite from "dynalite";
import "./dynalite-iterators.mjs";
import { startSqsServer } from "./sqs-server.js";

/** The emulators never check credentials, but the SDK insists on having some. */
const LOCAL_CREDENTIALS = { accessKeyId: "local", secretAccessKey: "local" };
const REGION = "us-east-1";

type HttpAuthScheme = NonNullable<SQSClientConfig["httpAuthSchemes"]>[number];
type HttpRequest = Parameters<HttpAuthScheme["signer"]["sign"]>[0];

/**
 * An AWS SDK client's settings for a local emulator: its endpoint as is, and a request "signed" with
 * a fixed Authorization header in SigV4's shape instead of an HMAC signature. The emulators check
 * that shape (dynalite answers MissingAuthenticationToken / IncompleteSignature without it:
 * node_modules/dynalite/index.js), never the signature; the SDK's endpoint rules and SigV4 signing
 * were a fifth of the CPU an SDK call costs against dynalite (502 -> 415 us per GetItem, measured),
 * on the one event loop that runs the whole local pipeline.
 */
export function localClientConfig(endpoint: string, service: string) {
  const url = new URL(endpoint);
  const authorization = `AWS4-HMAC-SHA256 Credential=local/20260101/${REGION}/${service}/aws4_request, SignedHeaders=host, Signature=local`;
  const signer = {
    async sign(request: HttpRequest): Promise<HttpRequest> {
      request.headers["x-amz-date"] = new Date().toISOString().replace(/[-:]|\.\d{3}/g, "");
      request.headers.authorization = authorization;
      return request;
    },
  };
  return {
    endpoint,
    region: REGION,
    credentials: LOCAL_CREDENTIALS,
    endpointProvider: () => ({ url }),
    httpAuthSchemes: [
      {
        schemeId: "aws.auth#sigv4",
        identityProvider: () => async () => ({ ...LOCAL_CREDENTIALS, expiration: undefined }),
        signer,
      },
    ] satisfies HttpAuthScheme[],
  };
}

/** API calls an emulator served, by operation (X-Amz-Target), for the benchmarks' request counts. */
export type CallCounts = Record<string, number>;

function countCalls(server: Server): () => CallCounts {
  const counts: CallCounts = {};
  server.on("request", (request: IncomingMessage) => {
    const target = request.headers["x-amz-target"];
    const operation = typeof target === "string" ? (target.split(".").pop() ?? target) : "other";
    counts[operation] = (counts[operation] ?? 0) + 1;
  });
  return () => ({ ...counts });
}

export interface DynamoEmulator {
  endpoint: string;
  client: DynamoDBClient;
  calls(): CallCounts;
  /** The emulator thread's V8 heap, as of the last second (thread mode only). */
  heapUsedBytes?: () => number;
  heapTotalBytes?: () => number;
  close(): Promise<void>;
}

/**
 * dynalite in-process: a real DynamoDB API server; `path` keeps data across restarts (LevelDB).
 * `thread: true` runs it on a worker thread (`npm start`: in one process the emulator took a fifth
 * of the only busy core at 100 callbacks/s); its call counts are then those of the last second.
 */
export async function startDynamo(
  path?: string,
  options: { thread?: boolean } = {},
): Promise<DynamoEmulator> {
  if (options.thread) return startDynamoThread(path);
  const server = dynalite({ createTableMs: 0, ...(path !== undefined ? { path } : {}) });
  const calls = countCalls(server);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new DynamoDBClient(localClientConfig(endpoint, "dynamodb"));
  return {
    endpoint,
    client,
    calls,
    async close() {
      client.destroy();
      server.closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface SqsEmulator {
  endpoint: string;
  client: SQSClient;
  calls(): CallCounts;
  close(): Promise<void>;
}

/**
 * chatpush's own SQS server in-process (local/sqs-server.ts): the SQS JSON protocol with visibility
 * timeouts, long polling and DLQ redrive; `path` keeps queues and messages across restarts and kills.
 */
export async function startSqs(path?: string): Promise<SqsEmulator> {
  const sqs = await startSqsServer(path !== undefined ? { dataDir: path } : {});
  const calls = countCalls(sqs.server);
  const client = new SQSClient(localClientConfig(sqs.endpoint, "sqs"));
  return {
    endpoint: sqs.endpoint,
    client,
    calls,
    async close() {
      client.destroy();
      await sqs.close();
    },
  };
}

export interface QueuePair {
  url: string;
  arn: string;
  dlqUrl: string;
  dlqArn: string;
}

/** A queue and its dead-letter queue, as the CDK app declares them. */
export async function createQueuePair(
  sqs: SQSClient,
  name: string,
  options: { visibilityTimeoutSeconds: number; maxReceiveCount: number },
): Promise<QueuePair> {
  const dlq = await sqs.send(
    new CreateQueueCommand({ QueueName: `${name}-dlq`, Attributes: { MessageRetentionPeriod: "1209600" } }),
  );
  const dlqArn = await queueArn(sqs, dlq.QueueUrl!);
  const queue = await sqs.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: {
        VisibilityTimeout: String(options.visibilityTimeoutSeconds),
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: dlqArn,
          maxReceiveCount: options.maxReceiveCount,
        }),
      },
    }),
  );
  return { url: queue.QueueUrl!, arn: await queueArn(sqs, queue.QueueUrl!), dlqUrl: dlq.QueueUrl!, dlqArn };
}

async function queueArn(sqs: SQSClient, url: string): Promise<string> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn"] }),
  );
  return Attributes?.QueueArn ?? url;
}

async function startDynamoThread(path?: string): Promise<DynamoEmulator> {
  const worker = new Worker(new URL("./dynalite-thread.mjs", import.meta.url), {
    workerData: { path },
    // The thread runs plain JavaScript: no TypeScript loader (--import tsx) for it.
    execArgv: [],
  });
  let counts: CallCounts = {};
  let heapUsedBytes = 0;
  let heapTotalBytes = 0;
  const port = await new Promise<number>((resolve, reject) => {
    worker.once("error", reject);
    worker.on(
      "message",
      (message: { port?: number; calls?: CallCounts; heapUsedBytes?: number; heapTotalBytes?: number }) => {
        if (message.port !== undefined) resolve(message.port);
        if (message.calls !== undefined) counts = { ...message.calls };
        if (message.heapUsedBytes !== undefined) heapUsedBytes = message.heapUsedBytes;
        if (message.heapTotalBytes !== undefined) heapTotalBytes = message.heapTotalBytes;
      },
    );
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient(localClientConfig(endpoint, "dynamodb"));
  return {
    endpoint,
    client,
    calls: () => ({ ...counts }),
    heapUsedBytes: () => heapUsedBytes,
    heapTotalBytes: () => heapTotalBytes,
    async close() {
      client.destroy();
      const closed = new Promise<void>((resolve) =>
        worker.on("message", (message: { closed?: boolean }) => {
          if (message.closed) resolve();
        }),
      );
      worker.postMessage("close");
      await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 2_000))]);
      await worker.terminate();
    },
  };
}
