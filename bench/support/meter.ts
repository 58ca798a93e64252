import { AsyncLocalStorage } from "node:async_hooks";
import { appendFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { SQSClient } from "@aws-sdk/client-sqs";

/**
 * Counts what the handlers ask of AWS, by the function that asked (an AsyncLocalStorage context
 * set around each simulated invocation and event-source poll): every SDK command by name, the
 * DynamoDB capacity DynamoDB reports for it (the middleware asks each request for
 * `ReturnConsumedCapacity: TOTAL`; dynalite computes it by DynamoDB's rules: writes per started KB,
 * reads per started 4 KB, eventually consistent at half), SQS requests as billed (one per started
 * 64 KB of payload), Lambda invocations with their measured wall time, and every byte the process
 * writes to stdout/stderr (what Powertools Logger and the EMF lines would send to CloudWatch Logs).
 */

export interface DynamoLine {
  fn: string;
  purpose: string;
  command: string;
  requests: number;
  readUnits: number;
  writeUnits: number;
}

export interface SqsLine {
  fn: string;
  queue: string;
  command: string;
  requests: number;
  /** Requests as SQS bills them: every started 64 KB chunk of a request's payload is one. */
  billed: number;
  /** Receives that returned nothing (polling; billed too). */
  empty: number;
  messages: number;
  /** Message bodies sent or received. */
  bytes: number;
}

export interface LambdaLine {
  fn: string;
  memoryMb: number;
  invocations: number;
  /** Sum of each invocation's duration rounded up to the millisecond (Lambda bills per 1 ms). */
  billedMs: number;
  records: number;
}

const READ_COMMANDS = new Set(["GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"]);
const SQS_CHUNK_BYTES = 64 * 1024;

type Attr = { S?: string } | string | undefined;
const str = (value: Attr): string => (typeof value === "string" ? value : (value?.S ?? ""));

/** What a meter counted, copied. */
export interface MeterReading {
  dynamo: Map<string, DynamoLine>;
  sqs: Map<string, SqsLine>;
  lambda: Map<string, LambdaLine>;
  logBytes: Map<string, number>;
}

export class Meter {
  private readonly context = new AsyncLocalStorage<string>();
  readonly dynamo = new Map<string, DynamoLine>();
  readonly sqs = new Map<string, SqsLine>();
  readonly lambda = new Map<string, LambdaLine>();
  readonly logBytes = new Map<string, number>();
  /** Table name → what its items are for, when the whole table has one purpose. */
  private readonly tablePurpose = new Map<string, string>();
  private readonly queueNames = new Map<string, string>();
  private restore: (() => void) | undefined;
  /** BENCH_COST_LOG=<file>: also append every captured line there, prefixed with its function. */
  private readonly tee = process.env.BENCH_COST_LOG;

  /** The function on whose behalf code runs now ("setup" outside any). */
  current(): string {
    return this.context.getStore() ?? "setup";
  }

  as<T>(fn: string, run: () => Promise<T>): Promise<T> {
    return this.context.run(fn, run);
  }

  nameTable(table: string, purpose: string): void {
    this.tablePurpose.set(table, purpose);
  }

  nameQueue(url: string, name: string): void {
    this.queueNames.set(url, name);
  }

  /** One Lambda invocation of `fn`: its wall time, billed per started millisecond. */
  async invoke<T>(fn: string, memoryMb: number, records: number, run: () => Promise<T>): Promise<T> {
    return this.context.run(fn, async () => {
      const start = performance.now();
      try {
        return await run();
      } finally {
        const line = this.lambda.get(fn) ?? { fn, memoryMb, invocations: 0, billedMs: 0, records: 0 };
        line.invocations += 1;
        line.billedMs += Math.max(1, Math.ceil(performance.now() - start));
        line.records += records;
        this.lambda.set(fn, line);
      }
    });
  }

  /** Counts what is written to stdout and stderr (and swallows it) until `release()`. */
  captureLogs(): void {
    const out = process.stdout.write.bind(process.stdout);
    const err = process.stderr.write.bind(process.stderr);
    const count = (chunk: unknown): true => {
      const bytes =
        typeof chunk === "string" ? Buffer.byteLength(chunk) : (chunk as Uint8Array | undefined)?.length;
      const fn = this.current();
      if (this.tee !== undefined) appendFileSync(this.tee, `[${fn}] ${String(chunk)}`);
      this.logBytes.set(fn, (this.logBytes.get(fn) ?? 0) + (bytes ?? 0));
      return true;
    };
    process.stdout.write = count as typeof process.stdout.write;
    process.stderr.write = count as typeof process.stderr.write;
    this.restore = () => {
      process.stdout.write = out as typeof process.stdout.write;
      process.stderr.write = err as typeof process.stderr.write;
    };
  }

  release(): void {
    this.restore?.();
    this.restore = undefined;
  }

  snapshot(): MeterReading {
    const copy = <T extends object>(map: Map<string, T>) => new Map([...map].map(([k, v]) => [k, { ...v }]));
    return {
      dynamo: copy(this.dynamo),
      sqs: copy(this.sqs),
      lambda: copy(this.lambda),
      logBytes: new Map(this.logBytes),
    };
  }

  reset(): void {
    this.dynamo.clear();
    this.sqs.clear();
    this.lambda.clear();
    this.logBytes.clear();
  }

  meterDynamo(client: DynamoDBClient): void {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const command = String(context.commandName ?? "").replace(/Command$/, "");
        const input = args.input as Record<string, unknown>;
        input.ReturnConsumedCapacity ??= "TOTAL";
        const { purpose, consistent } = this.dynamoPurpose(input);
        const fn = this.current();
        const key = `${fn}|${purpose}|${command}`;
        const line = this.dynamo.get(key) ?? {
          fn,
          purpose,
          command,
          requests: 0,
          readUnits: 0,
          writeUnits: 0,
        };
        this.dynamo.set(key, line);
        line.requests += 1;
        const isRead = READ_COMMANDS.has(command);
        try {
          const result = await next(args);
          const consumed = (result.output as { ConsumedCapacity?: unknown }).ConsumedCapacity;
          const units = (
            Array.isArray(consumed) ? consumed : consumed === undefined ? [] : [consumed]
          ).reduce((sum: number, c: { CapacityUnits?: number }) => sum + (c.CapacityUnits ?? 0), 0);
          // A read that finds nothing still costs the minimum: 1 RRU strong, 0.5 eventually consistent
          // (dynalite reports 0 for an empty Query).
          if (isRead) line.readUnits += units > 0 ? units : consistent ? 1 : 0.5;
          else line.writeUnits += units;
          return result;
        } catch (error) {
          // A write whose condition fails still consumes write capacity (1 WRU for these small items).
          if ((error as { name?: string }).name === "ConditionalCheckFailedException") line.writeUnits += 1;
          throw error;
        }
      },
      { step: "serialize", priority: "high", name: "chatpushCostMeter" },
    );
  }

  meterSqs(client: SQSClient): void {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const command = String(context.commandName ?? "").replace(/Command$/, "");
        const input = args.input as {
          QueueUrl?: string;
          MessageBody?: string;
          Entries?: { MessageBody?: string }[];
        };
        const fn = this.current();
        const queue = this.queueNames.get(input.QueueUrl ?? "") ?? "other";
        const key = `${fn}|${queue}|${command}`;
        const line = this.sqs.get(key) ?? {
          fn,
          queue,
          command,
          requests: 0,
          billed: 0,
          empty: 0,
          messages: 0,
          bytes: 0,
        };
        this.sqs.set(key, line);
        const result = await next(args);
        let payload = 0;
        if (command === "SendMessage") {
          payload = Buffer.byteLength(input.MessageBody ?? "");
          line.messages += 1;
        } else if (command === "SendMessageBatch") {
          for (const entry of input.Entries ?? []) payload += Buffer.byteLength(entry.MessageBody ?? "");
          line.messages += input.Entries?.length ?? 0;
        } else if (command === "ReceiveMessage") {
          const messages = (result.output as { Messages?: { Body?: string }[] }).Messages ?? [];
          for (const message of messages) payload += Buffer.byteLength(message.Body ?? "");
          line.messages += messages.length;
          if (messages.length === 0) line.empty += 1;
        } else if (command === "DeleteMessageBatch") {
          line.messages += (input.Entries ?? []).length;
        }
        line.requests += 1;
        line.bytes += payload;
        line.billed += Math.max(1, Math.ceil(payload / SQS_CHUNK_BYTES));
        return result;
      },
      { step: "initialize", priority: "low", name: "chatpushCostMeter" },
    );
  }

  /** What a DynamoDB request's items are: by table, else by their keys' shapes. */
  private dynamoPurpose(input: Record<string, unknown>): { purpose: string; consistent: boolean } {
    const requestItems = input.RequestItems as Record<string, Record<string, unknown>> | undefined;
    const table = (input.TableName as string | undefined) ?? Object.keys(requestItems ?? {})[0] ?? "";
    const perTable = requestItems?.[table];
    const consistent = Boolean(input.ConsistentRead ?? perTable?.ConsistentRead);
    const named = this.tablePurpose.get(table);
    if (named !== undefined) return { purpose: named, consistent };
    let pk = "";
    let sk = "";
    const key = (input.Key ?? input.Item) as Record<string, Attr> | undefined;
    if (key !== undefined) {
      pk = str(key.pk);
      sk = str(key.sk);
    } else if (input.ExpressionAttributeValues !== undefined) {
      pk = str((input.ExpressionAttributeValues as Record<string, Attr>)[":pk"]);
    } else if (Array.isArray(perTable)) {
      const first = (
        perTable as {
          PutRequest?: { Item?: Record<string, Attr> };
          DeleteRequest?: { Key?: Record<string, Attr> };
        }[]
      )[0];
      const item = first?.PutRequest?.Item ?? first?.DeleteRequest?.Key;
      pk = str(item?.pk);
      sk = str(item?.sk);
    } else if (perTable !== undefined) {
      const first = (perTable.Keys as Record<string, Attr>[] | undefined)?.[0];
      pk = str(first?.pk);
      sk = str(first?.sk);
    }
    return { purpose: purposeOfKey(pk, sk, consistent), consistent };
  }
}

function purposeOfKey(pk: string, sk: string, consistent: boolean): string {
  if (sk === "BADGE") return "badge";
  if (pk.startsWith("MSG#")) return "job record";
  if (pk.startsWith("USER#") && (sk === "USER" || sk === "")) return consistent ? "user (strong)" : "user";
  if (pk.startsWith("GROUP#")) return "group";
  return pk.split("#")[0] || "other";
}
