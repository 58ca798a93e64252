import type { Context } from "aws-lambda";
import { afterEach, describe, expect, it } from "vitest";
import { lambdaEntry, metrics } from "../../../functions/shared/powertools.js";

const context = {
  functionName: "test",
  functionVersion: "$LATEST",
  invokedFunctionArn: "arn:aws:lambda:us-east-1:000000000000:function:test",
  memoryLimitInMB: "512",
  awsRequestId: "c6af9ac6-7b61-11e6-9a41-93e812345678",
  getRemainingTimeInMillis: () => 10_000,
} as unknown as Context;

/** What the invocation writes to stdout and stderr (where Lambda's log lines come from). */
async function written(run: () => Promise<unknown>): Promise<string> {
  let out = "";
  const write = process.stdout.write;
  const writeErr = process.stderr.write;
  const capture = ((chunk: unknown) => {
    out += String(chunk);
    return true;
  }) as typeof process.stdout.write;
  process.stdout.write = capture;
  process.stderr.write = capture;
  try {
    await run();
  } finally {
    process.stdout.write = write;
    process.stderr.write = writeErr;
  }
  return out;
}

describe("lambdaEntry's metrics flush", () => {
  afterEach(() => metrics.clearMetrics());

  it("writes no line for an invocation that recorded no metric (no 'No application metrics' warning)", async () => {
    const handler = lambdaEntry(async () => "ok");
    const out = await written(() => handler({}, context));
    expect(out).not.toContain("No application metrics");
    expect(out).toBe("");
  });

  it("still writes the EMF line when there is a metric", async () => {
    const handler = lambdaEntry(async () => {
      metrics.addMetric("DeliveryEventsFailed", "Count", 1);
      return "ok";
    });
    const out = await written(() => handler({}, context));
    expect(out).toContain('"DeliveryEventsFailed":1');
  });
});
