import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { ReceiveMessageCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REASON_ATTRIBUTE } from "../../lib/adapters/sqs/queues.js";
import type { DeliveryJob } from "../../lib/model/index.js";
import { NO_REASON, parseSince, redrive } from "../../lib/ops/redrive.js";
import { createQueuePair, type QueuePair, type SqsEmulator, startSqs } from "../../local/emulators.js";
import { type LocalRuntime, startLocalRuntime } from "../../local/runtime.js";

const run = promisify(execFile);

const job = (n: number, attempt: number): DeliveryJob => ({
  version: 1,
  vendor: "meizu",
  attempt,
  quotaDelays: 3,
  acceptedAt: 1_000,
  notification: { title: "t", body: "b", ext: "{}", conversationId: "c2c_a", messageKey: `k${n}`, sentAt: 0 },
  targets: [{ userId: "u", deviceId: `d${n}`, token: `tok${n}` }],
});

async function park(sqs: SqsEmulator, pair: QueuePair, body: string, reason?: string) {
  await sqs.client.send(
    new SendMessageCommand({
      QueueUrl: pair.dlqUrl,
      MessageBody: body,
      ...(reason !== undefined
        ? { MessageAttributes: { [REASON_ATTRIBUTE]: { DataType: "String", StringValue: reason } } }
        : {}),
    }),
  );
}

async function drain(sqs: SqsEmulator, url: string): Promise<string[]> {
  const bodies: string[] = [];
  for (;;) {
    const { Messages = [] } = await sqs.client.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, VisibilityTimeout: 60 }),
    );
    if (Messages.length === 0) return bodies;
    bodies.push(...Messages.map((m) => m.Body ?? ""));
  }
}

describe("redrive", () => {
  let sqs: SqsEmulator;
  beforeAll(async () => {
    sqs = await startSqs();
  });
  afterAll(async () => sqs.close());

  it("moves the jobs whose reason matches back to the queue with fresh attempts, and leaves the rest", async () => {
    const pair = await createQueuePair(sqs.client, "rd-meizu", {
      visibilityTimeoutSeconds: 30,
      maxReceiveCount: 5,
    });
    for (let n = 0; n < 13; n += 1)
      await park(sqs, pair, JSON.stringify(job(n, 8)), "gave up after 8 attempts: 503");
    await park(sqs, pair, JSON.stringify(job(100, 1)), "credential problem: wrong appId");
    await park(sqs, pair, "not json at all");

    const summary = await redrive({
      sqs: sqs.client,
      deadLetterUrl: pair.dlqUrl,
      queueUrl: pair.url,
      reason: "GAVE UP",
    });

    expect(summary).toMatchObject({ seen: 15, matched: 13, moved: 13, left: 2 });
    expect(summary.byReason.map((r) => [r.reason, r.matched, r.moved, r.left])).toEqual([
      ["gave up after 8 attempts: 503", 13, 13, 0],
      ["credential problem: wrong appId", 0, 0, 1],
      [NO_REASON, 0, 0, 1],
    ]);
    const moved = (await drain(sqs, pair.url)).map((body) => JSON.parse(body) as DeliveryJob);
    expect(moved).toHaveLength(13);
    expect(moved.every((j) => j.attempt === 0 && j.quotaDelays === undefined)).toBe(true);
    // What was not moved is visible again at once, for the next look.
    expect((await drain(sqs, pair.dlqUrl)).sort()).toEqual(
      [JSON.stringify(job(100, 1)), "not json at all"].sort(),
    );
  });

  it("moves nothing on a dry run and nothing parked before --since", async () => {
    const pair = await createQueuePair(sqs.client, "rd-dry", {
      visibilityTimeoutSeconds: 30,
      maxReceiveCount: 5,
    });
    await park(sqs, pair, JSON.stringify(job(1, 8)), "quota not available within 86400s");
    const dry = await redrive({
      sqs: sqs.client,
      deadLetterUrl: pair.dlqUrl,
      queueUrl: pair.url,
      dryRun: true,
    });
    expect(dry).toMatchObject({ seen: 1, matched: 1, moved: 0 });
    const later = await redrive({
      sqs: sqs.client,
      deadLetterUrl: pair.dlqUrl,
      queueUrl: pair.url,
      since: Date.now() + 60_000,
    });
    expect(later).toMatchObject({ seen: 1, matched: 0, moved: 0, left: 1 });
    expect(await drain(sqs, pair.url)).toEqual([]);
    expect(await drain(sqs, pair.dlqUrl)).toHaveLength(1);
  });

  it("gives every job of a bundle SQS moved after maxReceiveCount fresh attempts", async () => {
    const pair = await createQueuePair(sqs.client, "rd-bundle", {
      visibilityTimeoutSeconds: 30,
      maxReceiveCount: 5,
    });
    await park(sqs, pair, JSON.stringify({ version: 1, vendor: "meizu", jobs: [job(1, 4), job(2, 2)] }));
    expect(await redrive({ sqs: sqs.client, deadLetterUrl: pair.dlqUrl, queueUrl: pair.url })).toMatchObject({
      moved: 1,
    });
    const [body] = await drain(sqs, pair.url);
    const moved = JSON.parse(body!) as { vendor: string; jobs: DeliveryJob[] };
    expect(moved.vendor).toBe("meizu");
    expect(moved.jobs.map((j) => [j.notification.messageKey, j.attempt, j.quotaDelays])).toEqual([
      ["k1", 0, undefined],
      ["k2", 0, undefined],
    ]);
  });

  it("reads durations and dates for --since", () => {
    expect(parseSince("2h", 10_000_000)).toBe(10_000_000 - 7_200_000);
    expect(parseSince("2026-12-01T00:00:00Z", 0)).toBe(Date.parse("2026-12-01T00:00:00Z"));
    expect(parseSince("soon", 0)).toBeUndefined();
  });
});

describe("npm run redrive against npm start", () => {
  let runtime: LocalRuntime;
  beforeAll(async () => {
    runtime = await startLocalRuntime({ sdkAppId: "1400000000", secretKey: "k", port: 0, workers: false });
  });
  afterAll(async () => runtime.stop());

  it("finds the runtime's queues, prints the summary by reason, and moves the jobs", async () => {
    const pair = runtime.queues.meizu!;
    const client = new SQSClient({
      endpoint: runtime.sqsEndpoint,
      region: "us-east-1",
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
    });
    const sqs = { client } as SqsEmulator;
    await park(sqs, pair, JSON.stringify(job(7, 8)), "gave up after 8 attempts: 500");

    const { stdout } = await run(
      process.execPath,
      ["--import", "tsx", "scripts/redrive.ts", "meizu", "--reason", "gave up", "--local", runtime.url],
      { env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" } },
    );

    expect(stdout).toMatch(/1\s+1\s+0\s+gave up after 8 attempts: 500/);
    expect(stdout).toContain("1 parked job(s) looked at: 1 matched, 1 moved back, 0 left");
    expect((await drain(sqs, pair.url)).map((b) => (JSON.parse(b) as DeliveryJob).attempt)).toEqual([0]);
    client.destroy();
  });
});
