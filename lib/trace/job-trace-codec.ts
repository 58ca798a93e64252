import { brotliCompressSync, brotliDecompressSync, constants as zlib } from "node:zlib";
import type { JobTrace, TargetAnswer } from "../ports/index.js";

/**
 * A job run's trace as the `t` attribute of its record (lib/adapters/dynamodb/delivery-log.ts): brotli
 * JSON, answers as rows and their reasons once each, so a 500-device job whose answers are all alike
 * adds a few hundred bytes.
 */
const BROTLI = { params: { [zlib.BROTLI_PARAM_QUALITY]: 5 } };

/** The packed `t` of a job record. */
export function packJobTrace(trace: JobTrace): Buffer {
  const reasons: string[] = [];
  const x = trace.answers.map((a) => {
    let r = -1;
    if (a.reason !== undefined) {
      r = reasons.indexOf(a.reason);
      if (r < 0) r = reasons.push(a.reason) - 1;
    }
    return [a.position, a.userId, a.deviceId, a.outcome, a.status ?? null, r];
  });
  return brotliCompressSync(
    JSON.stringify({
      a: trace.attempt,
      c: trace.acceptedAt,
      s: trace.startedAt,
      e: trace.answeredAt,
      ...(trace.deliveredStatus !== undefined ? { ds: trace.deliveredStatus } : {}),
      x,
      rs: reasons,
    }),
    BROTLI,
  );
}

export function unpackJobTrace(blob: Uint8Array): JobTrace {
  const t = JSON.parse(brotliDecompressSync(blob).toString("utf8")) as {
    a: number;
    c: number;
    s: number;
    e: number;
    ds?: number;
    x: [number, string, string, TargetAnswer["outcome"], number | null, number][];
    rs: string[];
  };
  return {
    attempt: t.a,
    acceptedAt: t.c,
    startedAt: t.s,
    answeredAt: t.e,
    ...(t.ds !== undefined ? { deliveredStatus: t.ds } : {}),
    answers: t.x.map(([position, userId, deviceId, outcome, status, r]) => ({
      position,
      userId,
      deviceId,
      outcome,
      ...(status !== null ? { status } : {}),
      ...(r >= 0 && t.rs[r] !== undefined ? { reason: t.rs[r] } : {}),
    })),
  };
}
