import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { afterEach, describe, expect, it } from "vitest";
import { type SqsServer, startSqsServer } from "../../local/sqs-server.js";

// The local SQS server, driven by the real AWS SDK client (which checks every MD5 it is given).
const credentials = { accessKeyId: "local", secretAccessKey: "local" };
const open: { server: SqsServer; client: SQSClient }[] = [];
const dirs: string[] = [];

async function start(dataDir?: string) {
  const server = await startSqsServer(dataDir === undefined ? {} : { dataDir });
  const client = new SQSClient({ endpoint: server.endpoint, region: "us-east-1", credentials });
  open.push({ server, client });
  return { server, client };
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "chatpush-sqs-"));
  dirs.push(dir);
  return dir;
}

afterEach(async () => {
  for (const { server, client } of open.splice(0)) {
    client.destroy();
    await server.close();
  }
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function queuePair(client: SQSClient, name: string, maxReceiveCount = 2) {
  const dlq = await client.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }));
  const { Attributes } = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ["QueueArn"] }),
  );
  const queue = await client.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: {
        VisibilityTimeout: "30",
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: Attributes?.QueueArn, maxReceiveCount }),
      },
    }),
  );
  return { url: queue.QueueUrl!, dlqUrl: dlq.QueueUrl! };
}

async function receiveAll(client: SQSClient, url: string, visibility = 30) {
  const { Messages = [] } = await client.send(
    new ReceiveMessageCommand({
      QueueUrl: url,
      MaxNumberOfMessages: 10,
      VisibilityTimeout: visibility,
      MessageAttributeNames: ["All"],
      MessageSystemAttributeNames: ["All"],
    }),
  );
  return Messages;
}

describe("local SQS server", () => {
  it("sends, receives with attributes and receive counts, hides in-flight messages, deletes", async () => {
    const { client } = await start();
    const { url } = await queuePair(client, "basic");
    await client.send(
      new SendMessageCommand({
        QueueUrl: url,
        MessageBody: "héllo",
        MessageAttributes: { reason: { DataType: "String", StringValue: "quota" } },
      }),
    );
    const [message] = await receiveAll(client, url);
    expect(message?.Body).toBe("héllo");
    expect(message?.MessageAttributes?.reason?.StringValue).toBe("quota");
    expect(message?.Attributes?.ApproximateReceiveCount).toBe("1");
    expect(await receiveAll(client, url)).toEqual([]);
    await client.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: message!.ReceiptHandle! }));
    // A deleted message is no longer in flight: changing its visibility is refused, as SQS does.
    await expect(
      client.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: url,
          ReceiptHandle: message!.ReceiptHandle!,
          VisibilityTimeout: 0,
        }),
      ),
    ).rejects.toMatchObject({ name: "MessageNotInflight" });
  });

  it("moves a message to the dead-letter queue once a receive would exceed maxReceiveCount", async () => {
    const { client } = await start();
    const { url, dlqUrl } = await queuePair(client, "redrive", 2);
    await client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: "poison" }));
    for (let i = 0; i < 2; i += 1) {
      const [m] = await receiveAll(client, url);
      await client.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: url,
          ReceiptHandle: m!.ReceiptHandle!,
          VisibilityTimeout: 0,
        }),
      );
    }
    expect(await receiveAll(client, url)).toEqual([]);
    expect((await receiveAll(client, dlqUrl)).map((m) => m.Body)).toEqual(["poison"]);
  });

  it("answers a long poll as soon as a message arrives, and keeps delayed messages back", async () => {
    const { client } = await start();
    const { url } = await queuePair(client, "poll");
    await client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: "later", DelaySeconds: 60 }));
    setTimeout(() => void client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: "now" })), 100);
    const { Messages = [] } = await client.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 20 }),
    );
    expect(Messages.map((m) => m.Body)).toEqual(["now"]);
  });

  it("refuses batches of more than ten entries and names the failure per entry", async () => {
    const { client } = await start();
    const { url } = await queuePair(client, "batch");
    await expect(
      client.send(
        new SendMessageBatchCommand({
          QueueUrl: url,
          Entries: Array.from({ length: 11 }, (_, i) => ({ Id: String(i), MessageBody: "x" })),
        }),
      ),
    ).rejects.toThrow(/Maximum number of entries/);
    const result = await client.send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: [
          { Id: "ok", MessageBody: "x" },
          { Id: "late", MessageBody: "y", DelaySeconds: 901 },
        ],
      }),
    );
    expect(result.Successful?.map((s) => s.Id)).toEqual(["ok"]);
    expect(result.Failed?.map((f) => f.Id)).toEqual(["late"]);
  });

  it("keeps queued, delayed and in-flight messages across a restart; in-flight ones come back at once", async () => {
    const dir = tempDir();
    const first = await start(dir);
    const { url } = await queuePair(first.client, "durable");
    for (const body of ["a", "b", "c"]) {
      await first.client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: body }));
    }
    await first.client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: "d", DelaySeconds: 900 }));
    const [taken] = await receiveAll(first.client, url, 300);
    expect(taken).toBeDefined();
    await first.client.send(
      new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: taken!.ReceiptHandle! }),
    );
    await receiveAll(first.client, url, 300); // b and c are now in flight for 5 minutes

    const second = await start(dir);
    const secondUrl = url.replace(first.server.endpoint, second.server.endpoint);
    const again = await receiveAll(second.client, secondUrl);
    expect(again.map((m) => m.Body).sort()).toEqual(["b", "c"]);
    expect(again.every((m) => m.Attributes?.ApproximateReceiveCount === "2")).toBe(true);
    const { Attributes } = await second.client.send(
      new GetQueueAttributesCommand({ QueueUrl: secondUrl, AttributeNames: ["All"] }),
    );
    expect(Attributes?.ApproximateNumberOfMessagesDelayed).toBe("1");
  });

  it("loses nothing it answered for when its process is killed with SIGKILL", async () => {
    const dir = tempDir();
    // A child process runs the server and sends 200 messages to itself, printing each answered id.
    const script = `
      import { startSqsServer } from ${JSON.stringify(join(process.cwd(), "local/sqs-server.ts"))};
      import { SQSClient, CreateQueueCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
      const server = await startSqsServer({ dataDir: ${JSON.stringify(dir)} });
      const client = new SQSClient({ endpoint: server.endpoint, region: "us-east-1",
        credentials: { accessKeyId: "l", secretAccessKey: "l" } });
      const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: "killed" }));
      for (let i = 0; i < 200; i += 1) {
        await client.send(new SendMessageCommand({ QueueUrl, MessageBody: "m" + i }));
        process.stdout.write("m" + i + "\\n");
      }
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const answered: string[] = [];
    await new Promise<void>((resolve) => {
      child.stdout.on("data", (chunk: Buffer) => {
        answered.push(...chunk.toString().split("\n").filter(Boolean));
        if (answered.length >= 120) {
          child.kill("SIGKILL");
          resolve();
        }
      });
    });
    await new Promise((resolve) => child.once("exit", resolve));

    const { client, server } = await start(dir);
    const url = `${server.endpoint}/000000000000/killed`;
    const found = new Set<string>();
    for (;;) {
      const batch = await receiveAll(client, url);
      if (batch.length === 0) break;
      for (const m of batch) found.add(m.Body!);
    }
    expect(answered.filter((body) => !found.has(body))).toEqual([]);
  });
});
