import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { readBody } from "./simulators/wire.js";

/**
 * A small SNS server for the local runtime: the Query API's `PublishBatch`, the one call chatpush
 * makes (its delivery events, lib/adapters/sns/delivery-events.ts), so the real @aws-sdk/client-sns
 * publishes to it over HTTP with `endpoint`. There is no SNS emulator to run here (none is installed or
 * vendored), so this one is hand-written. What it checks, from the API reference (https://docs.aws.amazon.com/sns/latest/api/API_PublishBatch.html,
 * API_PublishBatchRequestEntry.html, CommonErrors.html):
 * - form-encoded `Action=PublishBatch&Version=2010-03-31&TopicArn=…` with
 *   `PublishBatchRequestEntries.member.N.{Id,Message,MessageAttributes.entry.M.{Name,Value.DataType,
 *   Value.StringValue}}`;
 * - a topic that exists (`NotFound`), 1–10 entries (`EmptyBatchRequest`, `TooManyEntriesInBatchRequest`),
 *   ids unique (`BatchEntryIdsNotDistinct`) of 1–80 of `[A-Za-z0-9_-]` (`InvalidBatchEntryId`), messages
 *   and attributes together ≤ 262,144 bytes (`BatchRequestTooLong`), a non-empty message (`InvalidParameter`);
 * - answers as SNS does: XML `PublishBatchResponse` with `Successful` / `Failed` members, errors as an
 *   XML `ErrorResponse` with HTTP 400 (sender) or 500.
 * What each topic received is kept in memory (the runtime serves it at GET /_local/delivery-events).
 */

export interface ReceivedMessage {
  topicArn: string;
  messageId: string;
  /** The entry's Id in its batch. */
  id: string;
  message: string;
  attributes: Record<string, { dataType: string; stringValue?: string }>;
  /** Epoch ms it was received. */
  at: number;
}

export interface SnsServer {
  endpoint: string;
  /** Creates a topic (idempotent) and gives its ARN. */
  createTopic(name: string): string;
  received(topicArn?: string): ReceivedMessage[];
  clear(): void;
  /**
   * The next `count` PublishBatch calls fail: `status` 500 answers the whole call with an error, 200
   * answers every entry as Failed with `code` (SenderFault false), as SNS does for an internal error.
   */
  failNext(count: number, answer?: { status: 200 | 500; code?: string }): void;
  /** PublishBatch calls answered so far (failed ones included). */
  calls(): number;
  close(): Promise<void>;
  server: Server;
}

export interface SnsServerOptions {
  host?: string;
  port?: number;
  accountId?: string;
  region?: string;
  /** Messages kept (the newest), so a long-running runtime's memory levels off. */
  keep?: number;
}

const MAX_ENTRIES = 10;
const MAX_BATCH_BYTES = 262_144;
const ENTRY_ID = /^[A-Za-z0-9_-]{1,80}$/;
const XMLNS = "http://sns.amazonaws.com/doc/2010-03-31/";

class SnsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

const escapeXml = (text: string) =>
  text.replace(
    /[<>&'"]/g,
    (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", "'": "&apos;", '"': "&quot;" })[c]!,
  );

interface Entry {
  Id?: string;
  Message?: string;
  attributes: Map<number, { Name?: string; DataType?: string; StringValue?: string }>;
}

/** `PublishBatchRequestEntries.member.N.…` form fields → entries in N order. */
function entriesOf(form: URLSearchParams): Entry[] {
  const members = new Map<number, Entry>();
  for (const [key, value] of form) {
    const match = /^PublishBatchRequestEntries\.member\.(\d+)\.(.+)$/.exec(key);
    if (match === null) continue;
    const n = Number(match[1]);
    const entry: Entry = members.get(n) ?? { attributes: new Map() };
    members.set(n, entry);
    const field = match[2]!;
    if (field === "Id") entry.Id = value;
    else if (field === "Message") entry.Message = value;
    const attribute = /^MessageAttributes\.entry\.(\d+)\.(Name|Value\.DataType|Value\.StringValue)$/.exec(
      field,
    );
    if (attribute !== null) {
      const m = Number(attribute[1]);
      const slot = entry.attributes.get(m) ?? {};
      entry.attributes.set(m, slot);
      if (attribute[2] === "Name") slot.Name = value;
      else if (attribute[2] === "Value.DataType") slot.DataType = value;
      else slot.StringValue = value;
    }
  }
  return [...members.entries()].sort((a, b) => a[0] - b[0]).map(([, entry]) => entry);
}

export async function startSnsServer(options: SnsServerOptions = {}): Promise<SnsServer> {
  const accountId = options.accountId ?? "000000000000";
  const region = options.region ?? "us-east-1";
  const keep = options.keep ?? 10_000;
  const topics = new Set<string>();
  const received: ReceivedMessage[] = [];
  const faults: { status: 200 | 500; code: string }[] = [];
  let callCount = 0;

  function publishBatch(form: URLSearchParams): string {
    callCount += 1;
    const topicArn = form.get("TopicArn") ?? "";
    if (!topics.has(topicArn)) throw new SnsError("NotFound", "Topic does not exist");
    const entries = entriesOf(form);
    if (entries.length === 0)
      throw new SnsError("EmptyBatchRequest", "The batch request doesn't contain any entries.");
    if (entries.length > MAX_ENTRIES)
      throw new SnsError(
        "TooManyEntriesInBatchRequest",
        `The batch request contains more entries than permissible (${MAX_ENTRIES}).`,
      );
    const ids = new Set<string>();
    let size = 0;
    for (const entry of entries) {
      if (entry.Id === undefined || !ENTRY_ID.test(entry.Id))
        throw new SnsError(
          "InvalidBatchEntryId",
          `The Id of a batch entry in a batch request doesn't abide by the specification: ${entry.Id ?? "(none)"}`,
        );
      if (ids.has(entry.Id))
        throw new SnsError("BatchEntryIdsNotDistinct", `Two or more batch entries have the Id ${entry.Id}.`);
      ids.add(entry.Id);
      if (entry.Message === undefined || entry.Message === "")
        throw new SnsError("InvalidParameter", "Invalid parameter: Empty message");
      size += Buffer.byteLength(entry.Message);
      for (const a of entry.attributes.values())
        size +=
          Buffer.byteLength(a.Name ?? "") +
          Buffer.byteLength(a.DataType ?? "") +
          Buffer.byteLength(a.StringValue ?? "");
    }
    if (size > MAX_BATCH_BYTES)
      throw new SnsError(
        "BatchRequestTooLong",
        `The length of all the messages put together is more than the limit (${size} > ${MAX_BATCH_BYTES} bytes).`,
      );
    const fault = faults.shift();
    if (fault?.status === 500)
      throw new SnsError(fault.code, "Request could not be completed due to an internal error", 500);

    const successful: string[] = [];
    const failed: string[] = [];
    for (const entry of entries) {
      if (fault !== undefined) {
        failed.push(
          `<member><Id>${escapeXml(entry.Id!)}</Id><Code>${escapeXml(fault.code)}</Code><Message>internal error</Message><SenderFault>false</SenderFault></member>`,
        );
        continue;
      }
      const messageId = randomUUID();
      const attributes: ReceivedMessage["attributes"] = {};
      for (const a of entry.attributes.values()) {
        if (a.Name === undefined) continue;
        attributes[a.Name] = {
          dataType: a.DataType ?? "String",
          ...(a.StringValue !== undefined ? { stringValue: a.StringValue } : {}),
        };
      }
      received.push({
        topicArn,
        messageId,
        id: entry.Id!,
        message: entry.Message!,
        attributes,
        at: Date.now(),
      });
      successful.push(`<member><Id>${escapeXml(entry.Id!)}</Id><MessageId>${messageId}</MessageId></member>`);
    }
    if (received.length > keep * 1.25) received.splice(0, received.length - keep);
    return (
      `<PublishBatchResponse xmlns="${XMLNS}"><PublishBatchResult>` +
      `<Successful>${successful.join("")}</Successful><Failed>${failed.join("")}</Failed>` +
      `</PublishBatchResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></PublishBatchResponse>`
    );
  }

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const form = new URLSearchParams(body);
    try {
      if (req.method !== "POST") throw new SnsError("InvalidAction", "POST a Query API request");
      const action = form.get("Action");
      if (action !== "PublishBatch")
        throw new SnsError(
          "InvalidAction",
          `The action ${action ?? "(none)"} is not valid for this endpoint.`,
        );
      const xml = publishBatch(form);
      res.writeHead(200, { "content-type": "text/xml" });
      res.end(xml);
    } catch (error) {
      const e =
        error instanceof SnsError ? error : new SnsError("InternalError", (error as Error).message, 500);
      res.writeHead(e.status, { "content-type": "text/xml" });
      res.end(
        `<ErrorResponse xmlns="${XMLNS}"><Error><Type>${e.status < 500 ? "Sender" : "Receiver"}</Type>` +
          `<Code>${escapeXml(e.code)}</Code><Message>${escapeXml(e.message)}</Message></Error>` +
          `<RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
      );
    }
  }

  const server = createServer((req, res) => {
    void serve(req, res);
  });
  server.listen(options.port ?? 0, options.host ?? "127.0.0.1");
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  const endpoint = `http://${options.host ?? "127.0.0.1"}:${(server.address() as AddressInfo).port}`;
  return {
    endpoint,
    server,
    createTopic(name) {
      const arn = `arn:aws:sns:${region}:${accountId}:${name}`;
      topics.add(arn);
      return arn;
    },
    received: (topicArn) => received.filter((m) => topicArn === undefined || m.topicArn === topicArn),
    clear: () => {
      received.length = 0;
    },
    failNext(count, answer = { status: 500 }) {
      for (let i = 0; i < count; i += 1)
        faults.push({ status: answer.status, code: answer.code ?? "InternalError" });
    },
    calls: () => callCount,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
