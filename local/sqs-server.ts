import { createHash, randomUUID } from "node:crypto";
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";

/**
 * A small SQS server for the local runtime that keeps its queues on disk.
 *
 * Why not local-aws-sqs (which the integration tests used before): it keeps queues in memory, so an
 * `npm start` killed with SIGKILL lost work it had already answered OK for (3 of 800 pairs, 102 of 800
 * with a retry backlog — issue 9), and its long poll answers only once MaxNumberOfMessages have
 * arrived, which forced the event source into short polling. No maintained SQS emulator on npm
 * persists (ElasticMQ needs a download; local-tooling.md §4), so this one is hand-written, for the
 * operations chatpush and its scripts use, with SQS's documented semantics:
 * - JSON protocol (`x-amz-target: AmazonSQS.<Op>`, application/x-amz-json-1.0), errors with
 *   `__type` and the `x-amzn-query-error` header the SDK's query-compatible mode reads;
 * - MD5 of body and of message attributes, as the SDK checks them (the algorithm in the SQS
 *   Developer Guide, "Calculating the MD5 message digest for message attributes");
 * - visibility timeout, DelaySeconds, ApproximateReceiveCount, redrive to the dead-letter queue when
 *   a receive would make the count exceed maxReceiveCount, retention;
 * - long polling that answers as soon as one message is available (ReceiveMessage API reference).
 *
 * Durability: every change is appended to `sqs.log` with a synchronous write before the answer goes
 * out, so whatever was answered survives the process being killed (the kernel holds the write even
 * if the process dies; only a machine crash would need fsync, which compaction does). On start the
 * log (after the last snapshot) is replayed; messages that were in flight become visible at once,
 * since their consumers died with the process.
 */

export interface SqsServerOptions {
  /** Folder for the log and snapshot; undefined = memory only (tests). */
  dataDir?: string;
  host?: string;
  port?: number;
  /** Account id in queue URLs and ARNs. */
  accountId?: string;
  region?: string;
  /** Log size that triggers a compaction into a snapshot. */
  compactBytes?: number;
}

export interface SqsServer {
  endpoint: string;
  server: Server;
  close(): Promise<void>;
}

interface StoredMessage {
  id: string;
  body: string;
  md5: string;
  attributes?: Record<string, MessageAttribute>;
  attributesMd5?: string;
  sentAt: number;
  visibleAt: number;
  receiveCount: number;
  firstReceiveAt?: number;
  /** The receipt handle of the current receive; invalid after the next one. */
  receipt?: string;
  /** Received and not yet deleted or made visible again. */
  inFlight?: boolean;
}

interface MessageAttribute {
  DataType: string;
  StringValue?: string;
  BinaryValue?: string;
}

interface QueueState {
  name: string;
  attributes: Record<string, string>;
  createdAt: number;
  /** Insertion order = send order, as a standard queue approximately keeps it. */
  messages: Map<string, StoredMessage>;
  byReceipt: Map<string, string>;
}

type LogEntry =
  | { t: "queue"; name: string; attributes: Record<string, string>; createdAt: number }
  | { t: "send"; q: string; m: StoredMessage }
  | { t: "recv"; q: string; id: string; count: number; visibleAt: number; firstReceiveAt: number }
  | { t: "vis"; q: string; id: string; visibleAt: number }
  | { t: "del"; q: string; id: string }
  | { t: "move"; q: string; to: string; id: string }
  | { t: "purge"; q: string };

const DEFAULT_ACCOUNT = "000000000000";
const DEFAULT_VISIBILITY_SECONDS = 30;
/** SQS defaults and limits (CreateQueue / ReceiveMessage API reference). */
const DEFAULT_RETENTION_SECONDS = 4 * 24 * 60 * 60;
const MAX_RECEIVE = 10;
const MAX_WAIT_SECONDS = 20;
const MAX_DELAY_SECONDS = 900;
const MAX_BATCH = 10;
/** 1 MiB per message and per batch since 2025 (limits-and-costs.md §1.3). */
const MAX_MESSAGE_BYTES = 1_048_576;
const COMPACT_BYTES = 64 * 1024 * 1024;

class SqsError extends Error {
  constructor(
    readonly type: string,
    readonly queryCode: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

const nonExistent = (name: string) =>
  new SqsError(
    "QueueDoesNotExist",
    "AWS.SimpleQueueService.NonExistentQueue",
    `The specified queue ${name} does not exist.`,
  );
const invalid = (message: string) => new SqsError("InvalidParameterValue", "InvalidParameterValue", message);

/** MD5 of message attributes: name, type and value, each length-prefixed, sorted by name. */
export function md5OfAttributes(attributes: Record<string, MessageAttribute>): string {
  const hash = createHash("md5");
  const lengthPrefixed = (bytes: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    hash.update(length);
    hash.update(bytes);
  };
  for (const name of Object.keys(attributes).sort()) {
    const attribute = attributes[name]!;
    lengthPrefixed(Buffer.from(name, "utf8"));
    lengthPrefixed(Buffer.from(attribute.DataType, "utf8"));
    if (attribute.BinaryValue !== undefined) {
      hash.update(Buffer.from([2]));
      lengthPrefixed(Buffer.from(attribute.BinaryValue, "base64"));
    } else {
      hash.update(Buffer.from([1]));
      lengthPrefixed(Buffer.from(attribute.StringValue ?? "", "utf8"));
    }
  }
  return hash.digest("hex");
}

const md5 = (text: string) => createHash("md5").update(text, "utf8").digest("hex");

/** The durable store: state in memory, every change appended to the log first. */
class QueueStore {
  readonly queues = new Map<string, QueueState>();
  private fd: number | undefined;
  private logBytes = 0;
  private readonly logPath: string | undefined;
  private readonly snapshotPath: string | undefined;

  constructor(
    dataDir: string | undefined,
    private readonly compactBytes: number,
  ) {
    if (dataDir === undefined) return;
    mkdirSync(dataDir, { recursive: true });
    this.logPath = join(dataDir, "sqs.log");
    this.snapshotPath = join(dataDir, "sqs.snapshot.json");
    this.load();
    this.compact();
  }

  private load(): void {
    if (this.snapshotPath !== undefined && existsSync(this.snapshotPath)) {
      const snapshot = JSON.parse(readFileSync(this.snapshotPath, "utf8")) as {
        queues: {
          name: string;
          attributes: Record<string, string>;
          createdAt: number;
          messages: StoredMessage[];
        }[];
      };
      for (const q of snapshot.queues) {
        this.queues.set(q.name, {
          name: q.name,
          attributes: q.attributes,
          createdAt: q.createdAt,
          messages: new Map(q.messages.map((m) => [m.id, m])),
          byReceipt: new Map(),
        });
      }
    }
    if (this.logPath !== undefined && existsSync(this.logPath)) {
      for (const line of readFileSync(this.logPath, "utf8").split("\n")) {
        if (line === "") continue;
        let entry: LogEntry;
        try {
          entry = JSON.parse(line) as LogEntry;
        } catch {
          continue; // a torn last line: the answer for it never went out
        }
        this.apply(entry);
      }
    }
    // Every consumer of this store lived in the process that stopped: what it held is visible again.
    const now = Date.now();
    for (const queue of this.queues.values()) {
      queue.byReceipt.clear();
      for (const message of queue.messages.values()) {
        if (message.inFlight) {
          message.inFlight = false;
          message.visibleAt = Math.min(message.visibleAt, now);
          delete message.receipt;
        }
      }
    }
  }

  /** Writes the live state as a snapshot and starts an empty log. */
  private compact(): void {
    if (this.logPath === undefined || this.snapshotPath === undefined) return;
    if (this.fd !== undefined) closeSync(this.fd);
    const snapshot = {
      queues: [...this.queues.values()].map((q) => ({
        name: q.name,
        attributes: q.attributes,
        createdAt: q.createdAt,
        messages: [...q.messages.values()],
      })),
    };
    const temporary = `${this.snapshotPath}.tmp`;
    writeFileSync(temporary, JSON.stringify(snapshot));
    const tmpFd = openSync(temporary, "r");
    fsyncSync(tmpFd);
    closeSync(tmpFd);
    renameSync(temporary, this.snapshotPath);
    writeFileSync(this.logPath, "");
    this.fd = openSync(this.logPath, "a");
    this.logBytes = 0;
  }

  /** Logs, then applies. */
  record(entry: LogEntry): void {
    if (this.fd !== undefined) {
      const line = `${JSON.stringify(entry)}\n`;
      writeSync(this.fd, line);
      this.logBytes += Buffer.byteLength(line);
    }
    this.apply(entry);
    if (this.fd !== undefined && this.logBytes > this.compactBytes) this.compact();
  }

  private apply(entry: LogEntry): void {
    switch (entry.t) {
      case "queue": {
        const existing = this.queues.get(entry.name);
        if (existing) existing.attributes = { ...existing.attributes, ...entry.attributes };
        else
          this.queues.set(entry.name, {
            name: entry.name,
            attributes: entry.attributes,
            createdAt: entry.createdAt,
            messages: new Map(),
            byReceipt: new Map(),
          });
        return;
      }
      case "purge": {
        const queue = this.queues.get(entry.q);
        queue?.messages.clear();
        queue?.byReceipt.clear();
        return;
      }
    }
    const queue = this.queues.get(entry.q);
    if (queue === undefined) return;
    switch (entry.t) {
      case "send":
        queue.messages.set(entry.m.id, { ...entry.m });
        return;
      case "recv": {
        const message = queue.messages.get(entry.id);
        if (message === undefined) return;
        if (message.receipt !== undefined) queue.byReceipt.delete(message.receipt);
        message.receiveCount = entry.count;
        message.visibleAt = entry.visibleAt;
        message.firstReceiveAt ??= entry.firstReceiveAt;
        message.inFlight = true;
        return;
      }
      case "vis": {
        const message = queue.messages.get(entry.id);
        if (message === undefined) return;
        message.visibleAt = entry.visibleAt;
        if (entry.visibleAt <= Date.now()) message.inFlight = false;
        return;
      }
      case "del": {
        const message = queue.messages.get(entry.id);
        if (message?.receipt !== undefined) queue.byReceipt.delete(message.receipt);
        queue.messages.delete(entry.id);
        return;
      }
      case "move": {
        const message = queue.messages.get(entry.id);
        const target = this.queues.get(entry.to);
        if (message === undefined || target === undefined) return;
        if (message.receipt !== undefined) queue.byReceipt.delete(message.receipt);
        queue.messages.delete(entry.id);
        const { receipt: _receipt, inFlight: _inFlight, ...rest } = message;
        target.messages.set(entry.id, { ...rest, visibleAt: Date.now() });
        return;
      }
    }
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/** Starts the server; with `dataDir`, queues and messages persist across restarts and kills. */
export async function startSqsServer(options: SqsServerOptions = {}): Promise<SqsServer> {
  const host = options.host ?? "127.0.0.1";
  const account = options.accountId ?? DEFAULT_ACCOUNT;
  const region = options.region ?? "us-east-1";
  const store = new QueueStore(options.dataDir, options.compactBytes ?? COMPACT_BYTES);
  const waiters = new Set<() => void>();
  let endpoint = "";

  const queueUrl = (name: string) => `${endpoint}/${account}/${name}`;
  const queueArn = (name: string) => `arn:aws:sqs:${region}:${account}:${name}`;
  const nameOfUrl = (url: unknown): string => {
    if (typeof url !== "string" || url === "") throw invalid("QueueUrl is required");
    const name = url.split("/").pop() ?? "";
    if (!store.queues.has(name)) throw nonExistent(name);
    return name;
  };
  const nameOfArn = (arn: string) => arn.split(":").pop() ?? "";
  const wake = () => {
    for (const waiter of [...waiters]) waiter();
  };
  // Delayed and invisible messages become available without any request: wake pollers regularly.
  const ticker = setInterval(wake, 50);
  ticker.unref();

  const number = (value: unknown, fallback: number) => {
    if (value === undefined || value === null || value === "") return fallback;
    const n = Number(value);
    if (!Number.isFinite(n)) throw invalid(`${String(value)} is not a number`);
    return n;
  };

  function send(queueName: string, entry: Record<string, unknown>) {
    const queue = store.queues.get(queueName)!;
    const body = entry.MessageBody;
    if (typeof body !== "string" || body === "")
      throw invalid("The request must contain the parameter MessageBody.");
    const attributes = entry.MessageAttributes as Record<string, MessageAttribute> | undefined;
    const size =
      Buffer.byteLength(body) +
      Object.entries(attributes ?? {}).reduce(
        (sum, [name, a]) =>
          sum + name.length + a.DataType.length + (a.StringValue ?? a.BinaryValue ?? "").length,
        0,
      );
    if (size > number(queue.attributes.MaximumMessageSize, MAX_MESSAGE_BYTES)) {
      throw invalid(
        `One or more parameters are invalid. Reason: Message must be shorter than ${MAX_MESSAGE_BYTES} bytes.`,
      );
    }
    const delay = number(entry.DelaySeconds, number(queue.attributes.DelaySeconds, 0));
    if (delay < 0 || delay > MAX_DELAY_SECONDS) throw invalid("DelaySeconds must be between 0 and 900");
    const now = Date.now();
    const message: StoredMessage = {
      id: randomUUID(),
      body,
      md5: md5(body),
      sentAt: now,
      visibleAt: now + delay * 1000,
      receiveCount: 0,
      ...(attributes !== undefined && Object.keys(attributes).length > 0
        ? { attributes, attributesMd5: md5OfAttributes(attributes) }
        : {}),
    };
    store.record({ t: "send", q: queueName, m: message });
    wake();
    return {
      MessageId: message.id,
      MD5OfMessageBody: message.md5,
      ...(message.attributesMd5 !== undefined ? { MD5OfMessageAttributes: message.attributesMd5 } : {}),
    };
  }

  function takeVisible(queueName: string, max: number, visibilitySeconds: number) {
    const queue = store.queues.get(queueName)!;
    const now = Date.now();
    const retentionMs = number(queue.attributes.MessageRetentionPeriod, DEFAULT_RETENTION_SECONDS) * 1000;
    const redrive = queue.attributes.RedrivePolicy
      ? (JSON.parse(queue.attributes.RedrivePolicy) as {
          deadLetterTargetArn: string;
          maxReceiveCount: number;
        })
      : undefined;
    const taken: StoredMessage[] = [];
    for (const message of [...queue.messages.values()]) {
      if (taken.length >= max) break;
      if (message.sentAt + retentionMs < now) {
        store.record({ t: "del", q: queueName, id: message.id });
        continue;
      }
      if (message.visibleAt > now) continue;
      if (redrive !== undefined && message.receiveCount >= Number(redrive.maxReceiveCount)) {
        const dlq = nameOfArn(redrive.deadLetterTargetArn);
        if (store.queues.has(dlq)) {
          store.record({ t: "move", q: queueName, to: dlq, id: message.id });
          continue;
        }
      }
      store.record({
        t: "recv",
        q: queueName,
        id: message.id,
        count: message.receiveCount + 1,
        visibleAt: now + visibilitySeconds * 1000,
        firstReceiveAt: message.firstReceiveAt ?? now,
      });
      const receipt = `${message.id}#${randomUUID()}`;
      message.receipt = receipt;
      queue.byReceipt.set(receipt, message.id);
      taken.push(message);
    }
    return taken;
  }

  async function receive(request: Record<string, unknown>) {
    const name = nameOfUrl(request.QueueUrl);
    const queue = store.queues.get(name)!;
    const max = number(request.MaxNumberOfMessages, 1);
    if (max < 1 || max > MAX_RECEIVE) throw invalid("MaxNumberOfMessages must be between 1 and 10");
    const wait = number(request.WaitTimeSeconds, number(queue.attributes.ReceiveMessageWaitTimeSeconds, 0));
    if (wait < 0 || wait > MAX_WAIT_SECONDS) throw invalid("WaitTimeSeconds must be between 0 and 20");
    const visibility = number(
      request.VisibilityTimeout,
      number(queue.attributes.VisibilityTimeout, DEFAULT_VISIBILITY_SECONDS),
    );
    const deadline = Date.now() + wait * 1000;
    let taken = takeVisible(name, max, visibility);
    while (taken.length === 0 && Date.now() < deadline && !closed) {
      await new Promise<void>((resolve) => {
        const done = () => {
          waiters.delete(done);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(done, Math.max(1, deadline - Date.now()));
        waiters.add(done);
      });
      if (!store.queues.has(name)) throw nonExistent(name);
      taken = takeVisible(name, max, visibility);
    }
    const wanted = new Set(
      [...asStrings(request.AttributeNames), ...asStrings(request.MessageSystemAttributeNames)].map((a) =>
        a.toLowerCase(),
      ),
    );
    const wantedAttributes = new Set(asStrings(request.MessageAttributeNames));
    return {
      Messages: taken.map((message) => {
        const system: Record<string, string> = {
          ApproximateReceiveCount: String(message.receiveCount),
          SentTimestamp: String(message.sentAt),
          ApproximateFirstReceiveTimestamp: String(message.firstReceiveAt ?? Date.now()),
          SenderId: account,
        };
        const attributes = Object.fromEntries(
          Object.entries(system).filter(([key]) => wanted.has("all") || wanted.has(key.toLowerCase())),
        );
        const messageAttributes = Object.fromEntries(
          Object.entries(message.attributes ?? {}).filter(
            ([key]) => wantedAttributes.has("All") || wantedAttributes.has(".*") || wantedAttributes.has(key),
          ),
        );
        return {
          MessageId: message.id,
          ReceiptHandle: message.receipt,
          MD5OfBody: message.md5,
          Body: message.body,
          ...(Object.keys(attributes).length > 0 ? { Attributes: attributes } : {}),
          ...(Object.keys(messageAttributes).length > 0
            ? {
                MessageAttributes: messageAttributes,
                MD5OfMessageAttributes: md5OfAttributes(messageAttributes),
              }
            : {}),
        };
      }),
    };
  }

  function byReceipt(name: string, receipt: unknown): StoredMessage | undefined {
    if (typeof receipt !== "string") throw invalid("ReceiptHandle is required");
    const queue = store.queues.get(name)!;
    const id = queue.byReceipt.get(receipt) ?? receipt.split("#")[0];
    const message = id === undefined ? undefined : queue.messages.get(id);
    // A handle from an earlier receive of the same message still deletes it (SQS does the same).
    return message;
  }

  function remove(name: string, receipt: unknown): void {
    const message = byReceipt(name, receipt);
    if (message !== undefined) store.record({ t: "del", q: name, id: message.id });
  }

  function changeVisibility(name: string, receipt: unknown, seconds: unknown): void {
    const message = byReceipt(name, receipt);
    if (message === undefined || !message.inFlight) {
      throw new SqsError(
        "MessageNotInflight",
        "AWS.SimpleQueueService.MessageNotInflight",
        "The message referred to is not in flight.",
      );
    }
    store.record({ t: "vis", q: name, id: message.id, visibleAt: Date.now() + number(seconds, 0) * 1000 });
    wake();
  }

  function batch<E extends { Id?: unknown }>(
    entries: unknown,
    each: (entry: E) => Record<string, unknown>,
  ): { Successful: Record<string, unknown>[]; Failed: Record<string, unknown>[] } {
    if (!Array.isArray(entries) || entries.length === 0) {
      throw new SqsError(
        "EmptyBatchRequest",
        "AWS.SimpleQueueService.EmptyBatchRequest",
        "There should be at least one entry in the request.",
      );
    }
    if (entries.length > MAX_BATCH) {
      throw new SqsError(
        "TooManyEntriesInBatchRequest",
        "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
        "Maximum number of entries per request are 10.",
      );
    }
    const Successful: Record<string, unknown>[] = [];
    const Failed: Record<string, unknown>[] = [];
    for (const entry of entries as E[]) {
      try {
        Successful.push({ Id: entry.Id, ...each(entry) });
      } catch (error) {
        const e = error as SqsError;
        Failed.push({ Id: entry.Id, SenderFault: true, Code: e.type ?? "InternalError", Message: e.message });
      }
    }
    return { Successful, Failed };
  }

  function queueAttributes(name: string, names: string[]): Record<string, string> {
    const queue = store.queues.get(name)!;
    const now = Date.now();
    let visible = 0;
    let inFlight = 0;
    let delayed = 0;
    for (const m of queue.messages.values()) {
      if (m.visibleAt <= now) visible += 1;
      else if (m.inFlight) inFlight += 1;
      else delayed += 1;
    }
    const all: Record<string, string> = {
      VisibilityTimeout: String(DEFAULT_VISIBILITY_SECONDS),
      MessageRetentionPeriod: String(DEFAULT_RETENTION_SECONDS),
      DelaySeconds: "0",
      MaximumMessageSize: String(MAX_MESSAGE_BYTES),
      ReceiveMessageWaitTimeSeconds: "0",
      ...queue.attributes,
      QueueArn: queueArn(name),
      CreatedTimestamp: String(Math.floor(queue.createdAt / 1000)),
      ApproximateNumberOfMessages: String(visible),
      ApproximateNumberOfMessagesNotVisible: String(inFlight),
      ApproximateNumberOfMessagesDelayed: String(delayed),
    };
    if (names.length === 0 || names.includes("All")) return all;
    return Object.fromEntries(Object.entries(all).filter(([key]) => names.includes(key)));
  }

  async function operation(name: string, request: Record<string, unknown>): Promise<unknown> {
    switch (name) {
      case "CreateQueue": {
        const queueName = request.QueueName;
        if (typeof queueName !== "string" || !/^[A-Za-z0-9_-]{1,80}(\.fifo)?$/.test(queueName)) {
          throw invalid(
            "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length",
          );
        }
        if (queueName.endsWith(".fifo"))
          throw invalid("FIFO queues are not supported by the local SQS server");
        const attributes = Object.fromEntries(
          Object.entries((request.Attributes ?? {}) as Record<string, unknown>).map(([k, v]) => [
            k,
            String(v),
          ]),
        );
        store.record({ t: "queue", name: queueName, attributes, createdAt: Date.now() });
        return { QueueUrl: queueUrl(queueName) };
      }
      case "GetQueueUrl": {
        const queueName = String(request.QueueName ?? "");
        if (!store.queues.has(queueName)) throw nonExistent(queueName);
        return { QueueUrl: queueUrl(queueName) };
      }
      case "ListQueues": {
        const prefix = String(request.QueueNamePrefix ?? "");
        return {
          QueueUrls: [...store.queues.keys()].filter((q) => q.startsWith(prefix)).map(queueUrl),
        };
      }
      case "GetQueueAttributes":
        return {
          Attributes: queueAttributes(nameOfUrl(request.QueueUrl), asStrings(request.AttributeNames)),
        };
      case "SetQueueAttributes": {
        const queueName = nameOfUrl(request.QueueUrl);
        const attributes = Object.fromEntries(
          Object.entries((request.Attributes ?? {}) as Record<string, unknown>).map(([k, v]) => [
            k,
            String(v),
          ]),
        );
        store.record({ t: "queue", name: queueName, attributes, createdAt: Date.now() });
        return {};
      }
      case "SendMessage":
        return send(nameOfUrl(request.QueueUrl), request);
      case "SendMessageBatch": {
        const queueName = nameOfUrl(request.QueueUrl);
        const entries = request.Entries as Record<string, unknown>[] | undefined;
        const total = (entries ?? []).reduce(
          (sum, e) => sum + Buffer.byteLength(String(e.MessageBody ?? "")),
          0,
        );
        if (total > MAX_MESSAGE_BYTES) {
          throw new SqsError(
            "BatchRequestTooLong",
            "AWS.SimpleQueueService.BatchRequestTooLong",
            "Batch requests cannot be longer than 1048576 bytes.",
          );
        }
        return batch(entries, (entry: Record<string, unknown>) => send(queueName, entry));
      }
      case "ReceiveMessage":
        return receive(request);
      case "DeleteMessage":
        remove(nameOfUrl(request.QueueUrl), request.ReceiptHandle);
        return {};
      case "DeleteMessageBatch": {
        const queueName = nameOfUrl(request.QueueUrl);
        return batch(request.Entries, (entry: Record<string, unknown>) => {
          remove(queueName, entry.ReceiptHandle);
          return {};
        });
      }
      case "ChangeMessageVisibility":
        changeVisibility(nameOfUrl(request.QueueUrl), request.ReceiptHandle, request.VisibilityTimeout);
        return {};
      case "ChangeMessageVisibilityBatch": {
        const queueName = nameOfUrl(request.QueueUrl);
        return batch(request.Entries, (entry: Record<string, unknown>) => {
          changeVisibility(queueName, entry.ReceiptHandle, entry.VisibilityTimeout);
          return {};
        });
      }
      case "PurgeQueue":
        store.record({ t: "purge", q: nameOfUrl(request.QueueUrl) });
        return {};
      case "ListDeadLetterSourceQueues": {
        const arn = queueArn(nameOfUrl(request.QueueUrl));
        return {
          queueUrls: [...store.queues.values()]
            .filter((q) => q.attributes.RedrivePolicy?.includes(arn))
            .map((q) => queueUrl(q.name)),
        };
      }
      default:
        throw new SqsError(
          "UnsupportedOperation",
          "AWS.SimpleQueueService.UnsupportedOperation",
          `${name} is not supported locally`,
        );
    }
  }

  let closed = false;
  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent)
        writeError(res, new SqsError("InternalError", "InternalError", String(error), 500));
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const target = String(req.headers["x-amz-target"] ?? "");
    if (!target.startsWith("AmazonSQS.")) {
      writeError(res, new SqsError("InvalidAction", "InvalidAction", "only the JSON protocol is supported"));
      return;
    }
    let request: Record<string, unknown>;
    try {
      request =
        chunks.length === 0
          ? {}
          : (JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>);
    } catch {
      writeError(res, new SqsError("SerializationException", "SerializationException", "body is not JSON"));
      return;
    }
    try {
      const result = await operation(target.slice("AmazonSQS.".length), request);
      res.writeHead(200, { "content-type": "application/x-amz-json-1.0" });
      res.end(JSON.stringify(result));
    } catch (error) {
      if (error instanceof SqsError) writeError(res, error);
      else throw error;
    }
  }

  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  endpoint = `http://${host}:${(server.address() as AddressInfo).port}`;

  return {
    endpoint,
    server,
    async close() {
      closed = true;
      clearInterval(ticker);
      wake();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      store.close();
    },
  };
}

function asStrings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

function writeError(res: ServerResponse, error: SqsError): void {
  res.writeHead(error.status, {
    "content-type": "application/x-amz-json-1.0",
    "x-amzn-query-error": `${error.queryCode};Sender`,
  });
  res.end(JSON.stringify({ __type: `com.amazonaws.sqs#${error.type}`, message: error.message }));
}

/** For tests: the size of the log, to see compaction happen. */
export function logSize(dataDir: string): number {
  const path = join(dataDir, "sqs.log");
  return existsSync(path) ? statSync(path).size : 0;
}
