import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { REASON_ATTRIBUTE } from "../adapters/sqs/queues.js";

/** What SQS's own redrive leaves behind: a message moved after maxReceiveCount carries no reason. */
export const NO_REASON = "moved by SQS after maxReceiveCount";

/** How long a message stays hidden while one redrive pass looks at it. */
const PASS_VISIBILITY_SECONDS = 120;

export interface RedriveOptions {
  sqs: SQSClient;
  /** The dead-letter queue to read. */
  deadLetterUrl: string;
  /** The queue parked jobs go back to. */
  queueUrl: string;
  /** Only messages whose reason contains this text (case-insensitive). */
  reason?: string;
  /** Only messages parked at or after this epoch ms. */
  since?: number;
  /** Count and summarise, move nothing. */
  dryRun?: boolean;
  /** Called after each batch: messages looked at so far, and how many there were at the start. */
  onProgress?: (progress: { seen: number; total: number; moved: number }) => void;
}

export interface ReasonCount {
  reason: string;
  matched: number;
  moved: number;
  /** Looked at but not matching the filters: left in the dead-letter queue. */
  left: number;
}

export interface RedriveSummary {
  seen: number;
  matched: number;
  moved: number;
  left: number;
  byReason: ReasonCount[];
}

/**
 * A delivery job parked after its attempts, or held by quotas too long, would be parked again at
 * once: a redriven job starts its attempts afresh. Other bodies (ingest callbacks) go back as they are.
 */
export function redrivenBody(body: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return body;
  }
  // A bundle of jobs (SQS moved it after maxReceiveCount) goes back with each of its jobs afresh.
  if (typeof parsed === "object" && parsed !== null && Array.isArray((parsed as { jobs?: unknown }).jobs)) {
    const bundle = parsed as { jobs: unknown[] };
    return JSON.stringify({ ...bundle, jobs: bundle.jobs.map(freshJob) });
  }
  const fresh = freshJob(parsed);
  return fresh === parsed ? body : JSON.stringify(fresh);
}

function freshJob(parsed: unknown): unknown {
  if (typeof parsed !== "object" || parsed === null || !("targets" in parsed) || !("attempt" in parsed)) {
    return parsed;
  }
  const { quotaDelays: _quotaDelays, ...job } = parsed as Record<string, unknown>;
  return { ...job, attempt: 0 };
}

/**
 * One pass over a dead-letter queue: every message is received once (hidden while the pass runs),
 * those matching the filters are sent back to the work queue and then deleted from the dead-letter
 * queue (send first: a crash in between leaves a copy in the DLQ, never a lost job — the worker's
 * send guard keeps a copy from being pushed twice), the others are made visible again at the end.
 */
export async function redrive(options: RedriveOptions): Promise<RedriveSummary> {
  const { sqs, deadLetterUrl, queueUrl } = options;
  const filter = options.reason?.toLowerCase();
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: deadLetterUrl,
      AttributeNames: ["ApproximateNumberOfMessages"],
    }),
  );
  const total = Number(Attributes?.ApproximateNumberOfMessages ?? 0);
  const counts = new Map<string, ReasonCount>();
  const count = (reason: string) => {
    const entry = counts.get(reason) ?? { reason, matched: 0, moved: 0, left: 0 };
    counts.set(reason, entry);
    return entry;
  };
  const seenIds = new Set<string>();
  const leftHandles: string[] = [];
  let moved = 0;

  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: deadLetterUrl,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: PASS_VISIBILITY_SECONDS,
        WaitTimeSeconds: 1,
        MessageAttributeNames: ["All"],
        AttributeNames: ["All"],
        MessageSystemAttributeNames: ["All"],
      }),
    );
    const fresh = Messages.filter((m) => !seenIds.has(m.MessageId ?? ""));
    if (fresh.length === 0) break;
    const matching: Message[] = [];
    for (const message of fresh) {
      seenIds.add(message.MessageId ?? "");
      const reason = message.MessageAttributes?.[REASON_ATTRIBUTE]?.StringValue ?? NO_REASON;
      const sentAt = Number(message.Attributes?.SentTimestamp ?? 0);
      const matches =
        (filter === undefined || reason.toLowerCase().includes(filter)) &&
        (options.since === undefined || sentAt >= options.since);
      if (matches) {
        count(reason).matched += 1;
        matching.push(message);
      } else {
        count(reason).left += 1;
        leftHandles.push(message.ReceiptHandle ?? "");
      }
    }
    if (options.dryRun) {
      leftHandles.push(...matching.map((m) => m.ReceiptHandle ?? ""));
    } else if (matching.length > 0) {
      moved += await moveBack(sqs, queueUrl, deadLetterUrl, matching, (reason) => {
        count(reason).moved += 1;
      });
    }
    options.onProgress?.({ seen: seenIds.size, total: Math.max(total, seenIds.size), moved });
  }

  // What this pass did not move is visible again for the next operator, now rather than in 2 minutes.
  for (let i = 0; i < leftHandles.length; i += 10) {
    const handles = leftHandles.slice(i, i + 10);
    await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: deadLetterUrl,
        Entries: handles.map((ReceiptHandle, index) => ({
          Id: String(index),
          ReceiptHandle,
          VisibilityTimeout: 0,
        })),
      }),
    );
  }

  const byReason = [...counts.values()].sort((a, b) => b.matched + b.left - (a.matched + a.left));
  return {
    seen: seenIds.size,
    matched: byReason.reduce((sum, r) => sum + r.matched, 0),
    moved,
    left: byReason.reduce((sum, r) => sum + r.left, 0),
    byReason,
  };
}

async function moveBack(
  sqs: SQSClient,
  queueUrl: string,
  deadLetterUrl: string,
  messages: Message[],
  onMoved: (reason: string) => void,
): Promise<number> {
  const sent = await sqs.send(
    new SendMessageBatchCommand({
      QueueUrl: queueUrl,
      Entries: messages.map((m, index) => ({ Id: String(index), MessageBody: redrivenBody(m.Body ?? "") })),
    }),
  );
  const ok = new Set((sent.Successful ?? []).map((s) => s.Id));
  const done = messages.filter((_, index) => ok.has(String(index)));
  if (done.length === 0) return 0;
  const deleted = await sqs.send(
    new DeleteMessageBatchCommand({
      QueueUrl: deadLetterUrl,
      Entries: done.map((m, index) => ({ Id: String(index), ReceiptHandle: m.ReceiptHandle ?? "" })),
    }),
  );
  const deletedIds = new Set((deleted.Successful ?? []).map((s) => s.Id));
  let moved = 0;
  done.forEach((m, index) => {
    if (!deletedIds.has(String(index))) return;
    moved += 1;
    onMoved(m.MessageAttributes?.[REASON_ATTRIBUTE]?.StringValue ?? NO_REASON);
  });
  return moved;
}

/** "30m", "2h", "7d" (that long ago) or an ISO date; undefined for anything else. */
export function parseSince(text: string, nowMs: number): number | undefined {
  const relative = /^(\d+)\s*([smhd])$/.exec(text.trim());
  if (relative) {
    const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[relative[2] as "s" | "m" | "h" | "d"];
    return nowMs - Number(relative[1]) * unit;
  }
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : at;
}
