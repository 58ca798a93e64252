/**
 * APNs senders side by side against the local APNs simulator (HTTP/2 over TLS, ES256 JWT checked,
 * one stream per connection until a valid JWT, SETTINGS_MAX_CONCURRENT_STREAMS 1,000): chatpush's
 * ApnsSender next to `@parse/node-apn` used plainly — one Provider, `send(note, chunk)` chunk after
 * chunk, at several chunk sizes (its best is the baseline) — at several added latencies (a simulated
 * round trip to Apple; 100 ms is the China → Apple reality), each over `tokens` distinct tokens.
 * Prints sends/s, sessions, peak memory and the ratios issue 10 sets targets for. A benchmark, not a
 * test: run it alone with `npx tsx bench/senders-apns.ts` (BENCH_APNS_TOKENS, BENCH_APNS_LATENCIES="0,20,100",
 * BENCH_APNS_ONLY=<part of a configuration's name>, BENCH_APNS_CAPS="1000,2000" to add runs at other in-flight caps).
 *
 * The simulator runs in a child process, so the client's CPU and memory are its own. Its added
 * latency delays every answer, and a new connection's first answers by two more round trips (the TCP
 * and TLS handshakes), so opening sessions is not free.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

import { type ChildProcess, fork } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath, pathToFileURL } from "node:url";
import v8 from "node:v8";
import vm from "node:vm";
import apn from "@parse/node-apn";
import type { DeliveryTarget, Notification } from "../lib/model/index.js";
import { ApnsSender, buildApnsRequest } from "../lib/vendors/apns.js";
import type { ApnsTokenCredential } from "../lib/vendors/credentials.js";
import { generateApnsCredential, startApnsSimulator } from "../local/simulators/apns.js";
import { SimulatorHub } from "../local/simulators/hub.js";

export interface BenchRow {
  configuration: string;
  latencyMs: number;
  sends: number;
  /** Sends APNs accepted (200). */
  delivered: number;
  sendsPerSecond: number;
  /** HTTP/2 connections the simulator accepted during the run (warm-up excluded). */
  sessionsOpened: number;
  /** Peak resident set size of the client process during the run, in MB. */
  peakRssMb: number;
  /** Peak of heap + external memory above the run's baseline, in MB. */
  peakHeapMb: number;
  /** The client's CPU time per 1,000 sends, in ms: what a Lambda pays for. */
  clientCpuMsPer1k: number;
  /** The simulator's, for reading the figures: a client cannot go faster than the simulator answers. */
  simulatorCpuMsPer1k: number;
}

const SIMULATOR_FLAG = "--apns-simulator";
/** Rows of one worker invocation (bench/senders.ts) start with this. */
export const WORKER_PREFIX = "chatpush worker";
const BUNDLE_ID = "com.example.bench";
/** A job carries up to 500 targets and a Lambda batch is 10 jobs (lib/vendors/settings.ts). */
export const JOB_TARGETS = 500;
export const LAMBDA_BATCH_JOBS = 10;
/** node-apn's chunk sizes to try (local-tooling.md §5: 500 and 1,000 were its best; 100 for completeness). */
const NODE_APN_CHUNKS = [100, 500, 1000];

export const NOTIFICATION: Notification = {
  title: "Alice Chen",
  body: "Are we still on for dinner at 7?",
  ext: '{"conversationID":"c2c_alice"}',
  badge: 3,
  conversationId: "c2c_alice",
  messageKey: "144115233406627467_3_1709281815",
  sentAt: Date.now(),
};

interface SimulatorHandle {
  production: { host: string; port: number };
  sandbox: { host: string; port: number };
  ca: string;
  ask(message: Record<string, unknown>): Promise<Record<string, unknown>>;
  stop(): void;
}

/** Starts the simulator in a child process and talks to it over IPC, one question at a time. */
async function startChildSimulator(): Promise<SimulatorHandle> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [SIMULATOR_FLAG], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  let chain = Promise.resolve<unknown>(undefined);
  const ask = (message: Record<string, unknown>) => {
    const answer = chain.then(
      () =>
        new Promise<Record<string, unknown>>((resolve) => {
          child.once("message", (reply) => resolve(reply as Record<string, unknown>));
          child.send(message);
        }),
    );
    chain = answer.catch(() => undefined);
    return answer;
  };
  const ready = await ask({ type: "start" });
  return {
    production: ready.production as SimulatorHandle["production"],
    sandbox: ready.sandbox as SimulatorHandle["sandbox"],
    ca: String(ready.ca),
    ask,
    stop: () => child.kill(),
  };
}

/** The child: one simulator, answering the parent's questions. */
async function serveSimulator(): Promise<void> {
  const hub = new SimulatorHub();
  const sim = await startApnsSimulator({ hub });
  sim.allowTopic(BUNDLE_ID);
  // Count and forget: the bench's 20,000 × configurations requests would otherwise pile up in the log.
  let accepted = 0;
  hub.onDelivery((delivery) => {
    if (delivery.status === 200) accepted += 1;
    hub.clear();
  });
  process.on("message", (message: { type: string; [key: string]: unknown }) => {
    const reply = (answer: Record<string, unknown>) => process.send?.(answer);
    switch (message.type) {
      case "start":
        return reply({ production: sim.production, sandbox: sim.sandbox, ca: sim.ca });
      case "key":
        sim.addKey(message as never);
        return reply({});
      case "latency":
        sim.setLatency(Number(message.ms));
        return reply({});
      case "stats": {
        const stats = sim.stats();
        const { user, system } = process.cpuUsage();
        const answer = { ...stats, accepted, cpuMs: (user + system) / 1000 };
        accepted = 0;
        sim.resetStats();
        return reply(answer);
      }
    }
  });
  process.on("disconnect", () => {
    void sim.close().then(() => process.exit(0));
  });
}

/** Samples memory while `work` runs; the peak RSS, and heap + external above the starting baseline. */
async function measured<T>(
  work: () => Promise<T>,
): Promise<{ result: T; seconds: number; peakHeapMb: number; peakRssMb: number; cpuMs: number }> {
  collectGarbage();
  const heap = () => {
    const { heapUsed, external } = process.memoryUsage();
    return heapUsed + external;
  };
  const baseline = heap();
  let peakHeap = baseline;
  let peakRss = process.memoryUsage.rss();
  const sample = () => {
    peakHeap = Math.max(peakHeap, heap());
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
  };
  const sampler = setInterval(sample, 10);
  const started = performance.now();
  const cpu = process.cpuUsage();
  try {
    const result = await work();
    sample();
    const { user, system } = process.cpuUsage(cpu);
    return {
      result,
      seconds: (performance.now() - started) / 1000,
      peakHeapMb: (peakHeap - baseline) / 2 ** 20,
      peakRssMb: peakRss / 2 ** 20,
      cpuMs: (user + system) / 1000,
    };
  } finally {
    clearInterval(sampler);
  }
}

let collect: (() => void) | undefined;
function collectGarbage(): void {
  if (collect === undefined) {
    v8.setFlagsFromString("--expose_gc");
    collect = vm.runInNewContext("gc") as () => void;
  }
  collect();
}

export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export type Runner = (tokens: readonly string[]) => Promise<void>;

export interface Configuration {
  name: string;
  /** Makes the client (warmed up with one send, so its connection is authenticated) and its runner. */
  setUp(): Promise<{ run: Runner; tearDown(): Promise<void> }>;
}

export interface ApnsBenchOptions {
  latenciesMs: number[];
  tokens: number;
  /** Each configuration runs this many times, interleaved with the others; its fastest run is kept. */
  rounds?: number;
  /** node-apn's chunk sizes (default 100, 500 and 1,000). */
  nodeApnChunks?: number[];
  /** More configurations against the same simulator (bench/senders.ts: one worker invocation). */
  extra?: (credential: ApnsTokenCredential) => Configuration[];
}

function configurations(credential: ApnsTokenCredential, nodeApnChunks: readonly number[]): Configuration[] {
  const targetsOf = (tokens: readonly string[]): DeliveryTarget[] =>
    tokens.map((token, i) => ({ userId: `u${i}`, deviceId: `d${i}`, token, environment: "production" }));
  const chatpush = (name: string, jobsAtOnce: number, maxInFlight?: number): Configuration => ({
    name,
    async setUp() {
      const sender = new ApnsSender({
        credentials: [credential],
        ...(maxInFlight !== undefined && { maxInFlight }),
      });
      // A warm container: its sessions were opened by an earlier batch (node-apn's one session is
      // opened by its own warm-up send).
      const warmUp = Array.from({ length: JOB_TARGETS * jobsAtOnce }, () => randomBytes(32).toString("hex"));
      await Promise.all(chunks(targetsOf(warmUp), JOB_TARGETS).map((job) => sender.send(NOTIFICATION, job)));
      return {
        async run(tokens) {
          for (const batch of chunks(chunks(targetsOf(tokens), JOB_TARGETS), jobsAtOnce)) {
            await Promise.all(batch.map((job) => sender.send(NOTIFICATION, job)));
          }
        },
        tearDown: () => sender.close(),
      };
    },
  });
  const nodeApn = (chunk: number): Configuration => ({
    name: `@parse/node-apn Provider, send() of ${chunk} one after another`,
    async setUp() {
      const endpoint = credential.endpoint!;
      const provider = new apn.Provider({
        token: { key: credential.privateKey, keyId: credential.keyId, teamId: credential.teamId },
        address: endpoint.production.host,
        port: endpoint.production.port,
        ca: [endpoint.ca!],
        production: true,
      });
      // The same request chatpush sends, as node-apn's own Notification (one for every token).
      const built = buildApnsRequest(NOTIFICATION, { deviceId: "any" }, credential, Date.now());
      if (!built.ok) throw new Error(built.reason);
      const { headers, payload } = built.request;
      const note = new apn.Notification();
      note.topic = headers["apns-topic"];
      note.pushType = headers["apns-push-type"];
      note.priority = 10;
      note.expiry = Number(headers["apns-expiration"]);
      note.collapseId = headers["apns-collapse-id"] ?? "";
      note.rawPayload = payload;
      await provider.send(note, randomBytes(32).toString("hex"));
      return {
        async run(tokens) {
          for (const part of chunks(tokens, chunk)) await provider.send(note, part);
        },
        tearDown: () => new Promise<void>((resolve) => provider.shutdown(resolve)),
      };
    },
  });
  return [
    chatpush("chatpush ApnsSender, 10 jobs of 500 at once (one Lambda batch)", LAMBDA_BATCH_JOBS),
    chatpush("chatpush ApnsSender, jobs of 500 one at a time", 1),
    ...(process.env.BENCH_APNS_CAPS ?? "")
      .split(",")
      .filter(Boolean)
      .map((cap) => chatpush(`chatpush ApnsSender, 10 jobs, cap ${cap}`, LAMBDA_BATCH_JOBS, Number(cap))),
    ...nodeApnChunks.map(nodeApn),
  ];
}

/** One run of one configuration over every token: its rate, sessions, memory and CPU. */
async function runOnce(
  sim: SimulatorHandle,
  configuration: Configuration,
  tokens: readonly string[],
  latencyMs: number,
): Promise<BenchRow> {
  await sim.ask({ type: "stats" });
  const client = await configuration.setUp();
  // Clears the warm-up (and its connection) from the simulator's count.
  const warmUp = await sim.ask({ type: "stats" });
  const { seconds, peakHeapMb, peakRssMb, cpuMs } = await measured(() => client.run(tokens));
  const after = await sim.ask({ type: "stats" });
  await client.tearDown();
  return {
    configuration: configuration.name,
    latencyMs,
    sends: tokens.length,
    delivered: Number(after.accepted),
    sendsPerSecond: Math.round(tokens.length / seconds),
    // The warm-up's session is still open and serves the run; count it once.
    sessionsOpened: Number(after.sessionsOpened) + Number(warmUp.sessionsOpened),
    peakRssMb: Math.round(peakRssMb),
    peakHeapMb: Math.round(peakHeapMb * 10) / 10,
    clientCpuMsPer1k: Math.round((1000 * cpuMs) / tokens.length),
    simulatorCpuMsPer1k: Math.round((1000 * (Number(after.cpuMs) - Number(warmUp.cpuMs))) / tokens.length),
  };
}

export async function benchApns(opts: ApnsBenchOptions): Promise<BenchRow[]> {
  const sim = await startChildSimulator();
  try {
    const { credential, publicKey } = generateApnsCredential({
      certificateId: 1,
      bundleId: BUNDLE_ID,
      endpoint: { production: sim.production, sandbox: sim.sandbox, ca: sim.ca },
    });
    await sim.ask({ type: "key", keyId: credential.keyId, teamId: credential.teamId, publicKey });
    const tokens = Array.from({ length: opts.tokens }, () => randomBytes(32).toString("hex"));
    const rows: BenchRow[] = [];
    const only = process.env.BENCH_APNS_ONLY;
    const all = [
      ...configurations(credential, opts.nodeApnChunks ?? NODE_APN_CHUNKS),
      ...(opts.extra?.(credential) ?? []),
    ].filter((c) => only === undefined || c.name.includes(only));
    for (const latencyMs of opts.latenciesMs) {
      await sim.ask({ type: "latency", ms: latencyMs });
      const best = new Map<string, BenchRow>();
      for (let round = 0; round < (opts.rounds ?? 1); round += 1) {
        for (const configuration of all) {
          const row = await runOnce(sim, configuration, tokens, latencyMs);
          const kept = best.get(configuration.name);
          if (kept === undefined || row.sendsPerSecond > kept.sendsPerSecond)
            best.set(configuration.name, row);
        }
      }
      rows.push(...all.map((c) => best.get(c.name)!));
    }
    return rows;
  } finally {
    sim.stop();
  }
}

/** The table, then per latency chatpush's ratio to node-apn's best chunking and issue 10's targets. */
export function formatApnsBench(rows: readonly BenchRow[]): string {
  const lines = [
    "APNs senders against the local APNs simulator (HTTP/2 + TLS, ES256 JWT, 1,000 streams per session), added latency per answer",
    "",
    `${"configuration".padEnd(72)} ${"latency".padStart(7)} ${"sends/s".padStart(8)} ${"ok".padStart(5)} ${"sessions".padStart(8)} ${"RSS MB".padStart(7)} ${"heap MB".padStart(8)} ${"CPU ms/1k".padStart(9)} ${"sim CPU".padStart(8)}`,
  ];
  for (const row of rows) {
    lines.push(
      `${row.configuration.padEnd(72)} ${`${row.latencyMs} ms`.padStart(7)} ${String(row.sendsPerSecond).padStart(8)} ${`${Math.round((100 * row.delivered) / row.sends)}%`.padStart(5)} ${String(row.sessionsOpened).padStart(8)} ${String(row.peakRssMb).padStart(7)} ${row.peakHeapMb.toFixed(1).padStart(8)} ${String(row.clientCpuMsPer1k).padStart(9)} ${String(row.simulatorCpuMsPer1k).padStart(8)}`,
    );
  }
  const targets: Record<number, number> = { 20: 1.3, 100: 2 };
  for (const latencyMs of [...new Set(rows.map((r) => r.latencyMs))]) {
    const at = rows.filter((r) => r.latencyMs === latencyMs);
    const rate = (prefix: string) =>
      at.find((r) => r.configuration.startsWith(prefix))?.sendsPerSecond ?? Number.NaN;
    const best = at
      .filter((r) => r.configuration.startsWith("@parse/node-apn") && r.delivered === r.sends)
      .sort((a, b) => b.sendsPerSecond - a.sendsPerSecond)[0];
    const batch = rate("chatpush ApnsSender, 10 jobs");
    const perJob = rate("chatpush ApnsSender, jobs");
    const ratio = (a: number) => (best === undefined ? "n/a" : `${(a / best.sendsPerSecond).toFixed(2)}×`);
    lines.push(
      "",
      `at ${latencyMs} ms: node-apn's best = ${best?.configuration ?? "none delivered everything"} (${best?.sendsPerSecond ?? "–"}/s)`,
      `           chatpush (Lambda batch) = ${ratio(batch)} node-apn's best; chatpush (one job at a time) = ${ratio(perJob)}`,
    );
    const target = targets[latencyMs];
    if (target !== undefined && best !== undefined) {
      const met = batch / best.sendsPerSecond >= target ? "met" : "NOT met";
      lines.push(`           target ≥${target}× node-apn's best: ${met}`);
    }
    const worker = at.find((r) => r.configuration.startsWith(WORKER_PREFIX));
    if (worker !== undefined) {
      const share = worker.sendsPerSecond / batch;
      lines.push(
        `           one worker invocation = ${(100 * share).toFixed(0)}% of the bare sender's Lambda batch; target ≥80%: ${share >= 0.8 ? "met" : "NOT met"}`,
      );
    }
  }
  return lines.join("\n");
}

const invokedAs = process.argv[1] === undefined ? undefined : pathToFileURL(process.argv[1]).href;
if (process.argv[2] === SIMULATOR_FLAG) {
  await serveSimulator();
} else if (invokedAs === import.meta.url) {
  const latenciesMs = (process.env.BENCH_APNS_LATENCIES ?? "0,20,100").split(",").map(Number);
  const tokens = Number(process.env.BENCH_APNS_TOKENS ?? 20_000);
  const rounds = Number(process.env.BENCH_APNS_ROUNDS ?? 1);
  const rows = await benchApns({ latenciesMs, tokens, rounds });
  console.log(formatApnsBench(rows));
  process.exit(
    rows.every((row) => row.delivered === row.sends || row.configuration.startsWith("@parse")) ? 0 : 1,
  );
}
