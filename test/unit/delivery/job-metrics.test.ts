import type { Context, SQSEvent } from "aws-lambda";
import { afterEach, describe, expect, it, vi } from "vitest";
import { METRICS_DEADLINE_MARGIN_MS, makeDeliverHandler } from "../../../functions/shared/deliver.js";
import {
  JOB_METRICS,
  LATENCY_METRIC,
  LATENCY_VALUES_PER_LINE,
  recordJobMetrics,
} from "../../../functions/shared/powertools.js";
import { sumJobReports } from "../../../lib/delivery/job-metrics.js";
import type { JobReport } from "../../../lib/delivery/worker.js";

afterEach(() => {
  vi.restoreAllMocks();
});

/** The EMF lines written to stdout while `act` runs. */
function emfLines(act: () => void): Record<string, unknown>[] {
  const lines: string[] = [];
  vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  act();
  vi.restoreAllMocks();
  return lines.map((l) => JSON.parse(l)).filter((o) => o._aws !== undefined);
}

const counts: JobReport = {
  delivered: 0,
  tokensRemoved: 0,
  retried: 0,
  quotaDelayed: 0,
  deadLettered: 0,
  credentialProblems: 0,
  declined: 0,
  tokenRemovalsHeld: 0,
  deferred: 0,
  alreadySent: 0,
};

interface Directive {
  Dimensions: string[][];
  Metrics: { Name: string; Unit: string }[];
}
const directiveOf = (line: Record<string, unknown>) =>
  (line._aws as { CloudWatchMetrics: Directive[] }).CloudWatchMetrics[0]!;

/** Issue 10.3: one EMF line per job, every metric in it, all under the `vendor` dimension. */
describe("recordJobMetrics", () => {
  it("writes one EMF line per job carrying every count with the vendor dimension", () => {
    const lines: string[] = [];
    vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    const report: JobReport = {
      delivered: 7,
      tokensRemoved: 1,
      retried: 2,
      quotaDelayed: 0,
      deadLettered: 3,
      credentialProblems: 3,
      declined: 1,
      tokenRemovalsHeld: 0,
      deferred: 4,
      alreadySent: 0,
    };

    recordJobMetrics("meizu", report);
    recordJobMetrics("meizu", { ...report, delivered: 1 });

    const emf = lines.map((l) => JSON.parse(l)).filter((o) => o._aws !== undefined);
    expect(emf).toHaveLength(2);
    const [first] = emf;
    const directive = first._aws.CloudWatchMetrics[0];
    expect(directive.Namespace).toBe("chatpush");
    expect(directive.Dimensions).toEqual([["service", "vendor"]]);
    expect(directive.Metrics.map((m: { Name: string }) => m.Name).sort()).toEqual(
      Object.values(JOB_METRICS).sort(),
    );
    expect(first).toMatchObject({
      vendor: "meizu",
      Delivered: 7,
      CredentialProblem: 3,
      Deferred: 4,
      TokensRemoved: 1,
    });
    expect(emf[1]).toMatchObject({ vendor: "meizu", Delivered: 1 });
  });

  // Issue 12.5: p50 / p99 per vendor come from a list of values on the same line (EMF arrays).
  it("adds the delivered targets' latencies as one list of milliseconds on the same line", () => {
    const emf = emfLines(() =>
      recordJobMetrics("apns", { ...counts, delivered: 3, latencyMs: [2300, 180, 950] }),
    );

    expect(emf).toHaveLength(1);
    const [line] = emf;
    expect(directiveOf(line!).Metrics).toContainEqual({ Name: LATENCY_METRIC, Unit: "Milliseconds" });
    expect(directiveOf(line!).Dimensions).toEqual([["service", "vendor"]]);
    expect(line).toMatchObject({ vendor: "apns", Delivered: 3 });
    expect([...(line![LATENCY_METRIC] as number[])].sort((a, b) => a - b)).toEqual([180, 950, 2300]);
  });

  it("stays one line for a job of 500 devices, carrying 99 latencies from the smallest to the largest", () => {
    const latencyMs = Array.from({ length: 500 }, (_, i) => 1000 + i);
    const emf = emfLines(() => recordJobMetrics("fcm", { ...counts, delivered: 500, latencyMs }));

    expect(emf).toHaveLength(1);
    const values = emf[0]![LATENCY_METRIC] as number[];
    expect(values).toHaveLength(LATENCY_VALUES_PER_LINE);
    expect(Math.min(...values)).toBe(1000);
    expect(Math.max(...values)).toBe(1499);
    expect(emf[0]).toMatchObject({ vendor: "fcm", Delivered: 500 });
  });

  it("has no latency metric when nothing was delivered", () => {
    const emf = emfLines(() => recordJobMetrics("vivo", { ...counts, retried: 2 }));
    expect(emf).toHaveLength(1);
    expect(directiveOf(emf[0]!).Metrics.map((m) => m.Name)).not.toContain(LATENCY_METRIC);
    expect(emf[0]![LATENCY_METRIC]).toBeUndefined();
  });
});

/** Issue 10.3: one metrics line per worker invocation — a one-to-one job is one push, so a line per job cost ~$0.18 per 1M. */
describe("metrics per invocation", () => {
  const job = (n: number) => ({
    messageId: `m${n}`,
    body: JSON.stringify({
      version: 1,
      vendor: "apns",
      targets: [],
      notification: { title: "t", body: "b" },
    }),
    attributes: { ApproximateReceiveCount: "1" },
  });
  const event = (n: number) =>
    ({ Records: Array.from({ length: n }, (_, i) => job(i)) }) as unknown as SQSEvent;

  it("adds the counts and joins the latencies of several jobs", () => {
    const sum = sumJobReports([
      { ...counts, delivered: 2, latencyMs: [10, 20] },
      { ...counts, delivered: 1, retried: 1, latencyMs: [30] },
      { ...counts, deadLettered: 1 },
    ]);
    expect(sum).toEqual({ ...counts, delivered: 3, retried: 1, deadLettered: 1, latencyMs: [10, 20, 30] });
    expect(sumJobReports([{ ...counts, retried: 2 }]).latencyMs).toBeUndefined();
  });

  it("writes one EMF line for a batch of ten jobs, after every job settled", async () => {
    let delivered = 0;
    const handler = makeDeliverHandler(
      "apns",
      () => async () => {
        delivered += 1;
        return { ...counts, delivered: 1, latencyMs: [delivered * 100] };
      },
      (reports) => recordJobMetrics("apns", sumJobReports(reports)),
    );
    const lines: string[] = [];
    vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    const response = await handler(event(10));
    vi.restoreAllMocks();

    expect(response.batchItemFailures).toEqual([]);
    const emf = lines.map((l) => JSON.parse(l)).filter((o) => o._aws !== undefined);
    expect(emf).toHaveLength(1);
    expect(emf[0]).toMatchObject({ vendor: "apns", Delivered: 10 });
    expect(emf[0][LATENCY_METRIC]).toHaveLength(10);
  });

  it("leaves a failed record out of the line and writes none when every record failed", async () => {
    const reports: JobReport[][] = [];
    let calls = 0;
    const handler = makeDeliverHandler(
      "apns",
      () => async () => {
        calls += 1;
        if (calls === 2) throw new Error("settling failed");
        return { ...counts, delivered: 1 };
      },
      (batch) => reports.push(batch),
    );
    vi.spyOn(process.stdout, "write").mockImplementation(() => true);
    vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    const response = await handler(event(3));
    const none = makeDeliverHandler(
      "apns",
      () => async () => {
        throw new Error("settling failed");
      },
      (batch) => reports.push(batch),
    );
    await none(event(2));
    vi.restoreAllMocks();

    expect(response.batchItemFailures).toEqual([{ itemIdentifier: "m1" }]);
    expect(reports).toHaveLength(1);
    expect(reports[0]).toHaveLength(2);
  });

  it("publishes the finished jobs before the deadline when a job still runs (Lambda would cut the invocation)", async () => {
    const published: JobReport[][] = [];
    let release: () => void = () => {};
    const stuck = new Promise<void>((resolve) => {
      release = resolve;
    });
    let calls = 0;
    const handler = makeDeliverHandler(
      "apns",
      () => async () => {
        calls += 1;
        if (calls === 3) await stuck; // e.g. a DynamoDB write that never answers
        return { ...counts, delivered: 1, credentialProblems: calls === 1 ? 1 : 0 };
      },
      (batch) => published.push(batch),
    );
    const context = {
      getRemainingTimeInMillis: () => METRICS_DEADLINE_MARGIN_MS + 50,
    } as unknown as Context;
    const running = handler(event(3), context);
    await new Promise((resolve) => setTimeout(resolve, 200));
    // Two jobs finished, one still runs: their line (with the alarmed count) is out before the cut.
    expect(published).toHaveLength(1);
    expect(sumJobReports(published[0]!)).toMatchObject({ delivered: 2, credentialProblems: 1 });

    release();
    await running;
    // Had the invocation lived on, the last job gets a line of its own; nothing is counted twice.
    expect(published.map((batch) => batch.length)).toEqual([2, 1]);
  });
});
