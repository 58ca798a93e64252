import { afterEach, describe, expect, it, vi } from "vitest";
import {
  JOB_METRICS,
  LATENCY_METRIC,
  LATENCY_VALUES_PER_LINE,
  recordJobMetrics,
} from "../../../functions/shared/powertools.js";
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
