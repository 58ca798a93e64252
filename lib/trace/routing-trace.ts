import type { Vendor } from "../model/index.js";
import type { Clock, Journal, JournalEntry } from "../ports/index.js";

/** What the router decided about one user (or one device of theirs) for one message. */
export interface RoutingDecision {
  /** Absent: a decision about the whole message (online-only, PushFlag 1, no members known…). */
  userId?: string;
  deviceId?: string;
  vendor?: Vendor;
  stage: "skipped" | "queued" | "ignored";
  reason?: string;
}

/** The decisions one routing invocation made for one message: one stored record (packed). */
export interface RoutingTraceRecord {
  messageKey: string;
  /** Epoch ms of the first decision. */
  at: number;
  decisions: RoutingDecision[];
}

/** Where routing records are kept: one write per record (see lib/adapters/dynamodb/trace-records.ts). */
export interface RoutingTraceStore {
  put(records: readonly RoutingTraceRecord[]): Promise<void>;
}

/** A journal that also keeps routing decisions until `flush` writes them, one record per message. */
export interface TracingJournal extends Journal {
  /** Writes what was decided since the last flush; never throws (the routing happened either way). */
  flush(): Promise<void>;
}

const TRACED = new Set<JournalEntry["stage"]>(["skipped", "queued", "ignored"]);

/**
 * The router's journal with a trace: every skipped / queued / ignored entry about a message also goes
 * into a buffer, and `flush` (after each batch of ingest records) writes the buffer as one record
 * per message — a one-to-one message's decisions about its recipient in one small item, a group page's
 * 5,000 members in one packed item — instead of a write per device. Entries pass on to `inner` as
 * before (deployed: log lines, the per-device ones at DEBUG).
 */
export function tracingJournal(
  inner: Journal,
  store: RoutingTraceStore,
  clock: Clock,
  onError: (error: unknown) => void = () => undefined,
): TracingJournal {
  let pending = new Map<string, RoutingTraceRecord>();
  return {
    record(entry) {
      inner.record(entry);
      if (!TRACED.has(entry.stage) || entry.messageKey === undefined) return;
      let record = pending.get(entry.messageKey);
      if (record === undefined) {
        record = { messageKey: entry.messageKey, at: clock.now(), decisions: [] };
        pending.set(entry.messageKey, record);
      }
      record.decisions.push({
        stage: entry.stage as RoutingDecision["stage"],
        ...(entry.userId !== undefined ? { userId: entry.userId } : {}),
        ...(entry.deviceId !== undefined ? { deviceId: entry.deviceId } : {}),
        ...(entry.vendor !== undefined ? { vendor: entry.vendor } : {}),
        ...(entry.reason !== undefined ? { reason: entry.reason } : {}),
      });
    },
    async flush() {
      if (pending.size === 0) return;
      const records = [...pending.values()];
      pending = new Map();
      try {
        await store.put(records);
      } catch (error) {
        onError(error);
      }
    },
  };
}
