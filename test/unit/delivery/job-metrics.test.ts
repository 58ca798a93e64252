import { afterEach, describe, expect, it, vi } from "vitest";
import { JOB_METRICS, recordJobMetrics } from "../../../functions/shared/powertools.js";
import type { JobReport } from "../../../lib/delivery/worker.js";

afterEach(() => {
  vi.restoreAllMocks();
});

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
});
