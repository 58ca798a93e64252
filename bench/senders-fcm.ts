/**
 * FCM senders side by side against the local FCM simulator (HTTP/2 over TLS, OAuth grant checked):
 * chatpush's FcmSender next to firebase-admin used plainly (`sendEach` of 500, one batch at a time
 * and four in flight) and a plain node:http2 client, at several added latencies (a simulated round
 * trip to Google), each over `tokens` distinct tokens. Prints sends/s, sessions, peak memory and the
 * ratios issue 10 sets targets for. A benchmark, not a test: run it alone with
 * `npx tsx bench/senders-fcm.ts` (BENCH_FCM_TOKENS, BENCH_FCM_LATENCIES="0,20,100" to change).
 *
 * The simulator runs in a child process, so the client's CPU and memory are its own. The added
 * latency delays each answer; it does not slow TCP or TLS handshakes, which flatters clients that
 * open a connection per batch (firebase-admin's sendEach) — real figures favour chatpush more.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

import { type ChildProcess, fork } from "node:child_process";
import http2 from "node:http2";
import { fileURLToPath, pathToFileURL } from "node:url";
import v8 from "node:v8";
import vm from "node:vm";
import { deleteApp, initializeApp } from "firebase-admin/app";
import { getMessaging, type TokenMessage } from "firebase-admin/messaging";
import type { DeliveryTarget, Notification } from "../lib/model/index.js";
import type { FcmCredential } from "../lib/vendors/credentials.js";
import { buildFcmMessage, FCM_TTL_MS, FcmSender, fcmSendUrl } from "../lib/vendors/fcm.js";
import { ServiceAccountCredential } from "../lib/vendors/fcm-auth.js";
import { generateFcmCredential, startFcmSimulator } from "../local/simulators/fcm.js";
import { SimulatorHub } from "../local/simulators/hub.js";

export interface BenchRow {
  configuration: string;
  latencyMs: number;
  sends: number;
  /** Sends FCM accepted (200). */
  delivered: number;
  sendsPerSecond: number;
  /** TLS connections the simulator accepted during the run (the token grant's included). */
  sessions: number;
  /** Peak of heap + external memory above the run's baseline, in MB. */
  peakMemoryMb: number;
  /** The client's CPU time per 1,000 sends, in ms: what a Lambda pays for. */
  clientCpuMsPer1k: number;
  /** The simulator's, for reading the figures: a client cannot go faster than the simulator answers. */
  simulatorCpuMsPer1k: number;
}

const SIMULATOR_FLAG = "--fcm-simulator";
/** Rows of one worker invocation (bench/senders.ts) start with this. */
export const WORKER_PREFIX = "chatpush worker";
const PROJECT = "chatpush-bench";
/** firebase-admin's `sendEach` takes at most 500 messages (FCM_MAX_BATCH_SIZE in its messaging.js). */
const SEND_EACH_MAX = 500;
/** A job carries up to 500 targets and a Lambda batch is 10 jobs (lib/vendors/settings.ts). */
export const JOB_TARGETS = 500;
export const LAMBDA_BATCH_JOBS = 10;

export const NOTIFICATION: Notification = {
  title: "Alice Chen",
  body: "Are we still on for dinner at 7?",
  ext: '{"conversationID":"c2c_alice"}',
  badge: 3,
  conversationId: "c2c_alice",
  messageKey: "144115233406627467_3_1709281815",
  sentAt: Date.UTC(2025, 2, 1, 8, 30),
};

/** The same message as firebase-admin takes it (camelCase, ttl in ms). */
function adminMessage(token: string): TokenMessage {
  return {
    token,
    notification: { title: NOTIFICATION.title, body: NOTIFICATION.body },
    data: { ext: NOTIFICATION.ext, conversationID: NOTIFICATION.conversationId },
    android: {
      priority: "high",
      ttl: FCM_TTL_MS,
      notification: {
        channelId: "chat_messages",
        tag: NOTIFICATION.messageKey,
        sound: "default",
        notificationCount: 3,
      },
    },
  };
}

interface SimulatorHandle {
  url: string;
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
  return { url: String(ready.url), ca: String(ready.ca), ask, stop: () => child.kill() };
}

/** The child: one simulator, answering the parent's questions. */
async function serveSimulator(): Promise<void> {
  const hub = new SimulatorHub();
  const sim = await startFcmSimulator({ hub });
  process.on("message", (message: { type: string; [key: string]: unknown }) => {
    const reply = (answer: Record<string, unknown>) => process.send?.(answer);
    switch (message.type) {
      case "start":
        return reply({ url: sim.url, ca: sim.ca });
      case "account":
        sim.addServiceAccount(message as never);
        return reply({});
      case "latency":
        sim.setLatency(Number(message.ms));
        return reply({});
      case "stats": {
        const deliveries = hub.list();
        const accepted = deliveries.filter((d) => d.status === 200).length;
        hub.clear();
        const { user, system } = process.cpuUsage();
        return reply({ connections: sim.stats().connections, accepted, cpuMs: (user + system) / 1000 });
      }
    }
  });
  process.on("disconnect", () => {
    void sim.close().then(() => process.exit(0));
  });
}

/** Samples heap + external memory while `work` runs; returns the peak above the starting baseline. */
async function measured<T>(
  work: () => Promise<T>,
): Promise<{ result: T; seconds: number; peakMb: number; cpuMs: number }> {
  collectGarbage();
  const used = () => {
    const { heapUsed, external } = process.memoryUsage();
    return heapUsed + external;
  };
  const baseline = used();
  let peak = baseline;
  const sampler = setInterval(() => {
    peak = Math.max(peak, used());
  }, 20);
  const started = performance.now();
  const cpu = process.cpuUsage();
  try {
    const result = await work();
    peak = Math.max(peak, used());
    const { user, system } = process.cpuUsage(cpu);
    return {
      result,
      seconds: (performance.now() - started) / 1000,
      peakMb: (peak - baseline) / 2 ** 20,
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

/**
 * firebase-admin connects its HTTP/2 sessions to a hard-coded https://fcm.googleapis.com
 * (Http2SessionHandler in lib/utils/api-request.js) and sends ':scheme' as "https:" with the colon,
 * which node's server refuses (local-tooling.md §6): both are rewritten here, for the bench only.
 */
function redirectFirebaseAdmin(url: string, ca: string): () => void {
  const original = http2.connect;
  const patched = ((authority: string | URL, ...rest: unknown[]) => {
    if (String(authority).replace(/\/$/, "") !== "https://fcm.googleapis.com") {
      return (original as (...args: unknown[]) => http2.ClientHttp2Session)(authority, ...rest);
    }
    const options = (typeof rest[0] === "object" ? rest[0] : {}) as http2.SecureClientSessionOptions;
    const session = original(url, { ...options, ca });
    const request = session.request.bind(session);
    session.request = ((
      headers: http2.OutgoingHttpHeaders,
      requestOptions?: http2.ClientSessionRequestOptions,
    ) => request({ ...headers, ":scheme": "https" }, requestOptions)) as typeof session.request;
    return session;
  }) as typeof http2.connect;
  http2.connect = patched;
  return () => {
    http2.connect = original;
  };
}

export type Runner = (tokens: readonly string[]) => Promise<void>;

export interface FcmBenchOptions {
  latenciesMs: number[];
  tokens: number;
  /** Each configuration runs this many times, interleaved with the others; its fastest run is kept. */
  rounds?: number;
  /** More configurations against the same simulator (bench/senders.ts: one worker invocation). */
  extra?: (credential: FcmCredential) => Configuration[];
}

export interface Configuration {
  name: string;
  /** Makes the client (warmed up with one send) and the function that sends to every token. */
  setUp(): Promise<{ run: Runner; tearDown(): Promise<void> }>;
}

function configurations(credential: FcmCredential): Configuration[] {
  const targetsOf = (tokens: readonly string[]): DeliveryTarget[] =>
    tokens.map((token, i) => ({ userId: `u${i}`, deviceId: `d${i}`, token }));
  const chatpush = (name: string, jobsAtOnce: number): Configuration => ({
    name,
    async setUp() {
      const sender = new FcmSender({ credentials: [credential] });
      await sender.send(NOTIFICATION, targetsOf(["warm-up"]));
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
  let appSerial = 0;
  const sendEach = (name: string, inFlight: number): Configuration => ({
    name,
    async setUp() {
      appSerial += 1;
      const app = initializeApp(
        { credential: new ServiceAccountCredential(credential), projectId: credential.projectId },
        `bench-${appSerial}`,
      );
      const messaging = getMessaging(app);
      await messaging.sendEach([adminMessage("warm-up")]);
      return {
        async run(tokens) {
          for (const group of chunks(chunks(tokens, SEND_EACH_MAX), inFlight)) {
            await Promise.all(group.map((batch) => messaging.sendEach(batch.map(adminMessage))));
          }
        },
        tearDown: () => deleteApp(app),
      };
    },
  });
  const plainHttp2: Configuration = {
    name: "plain node:http2, one session, SETTINGS_MAX_CONCURRENT_STREAMS in flight",
    async setUp() {
      const { access_token } = await new ServiceAccountCredential(credential).getAccessToken();
      const endpoint = credential.endpoint!;
      const session = http2.connect(endpoint.url, { ca: endpoint.ca! });
      await new Promise<void>((resolve, reject) => {
        session.once("remoteSettings", () => resolve());
        session.once("error", reject);
      });
      const path = new URL(fcmSendUrl(credential.projectId)).pathname;
      const post = (token: string) =>
        new Promise<void>((resolve, reject) => {
          const body = JSON.stringify({
            message: buildFcmMessage(NOTIFICATION, { userId: "u", deviceId: "d", token }, credential),
          });
          const stream = session.request({
            ":method": "POST",
            ":path": path,
            authorization: `Bearer ${access_token}`,
            "content-type": "application/json",
          });
          stream.on("data", () => undefined);
          stream.on("end", () => resolve());
          stream.on("error", reject);
          stream.end(body);
        });
      return {
        async run(tokens) {
          const limit = session.remoteSettings.maxConcurrentStreams ?? 100;
          let next = 0;
          const lane = async () => {
            while (next < tokens.length) await post(tokens[next++]!);
          };
          await Promise.all(Array.from({ length: limit }, lane));
        },
        tearDown: () => new Promise<void>((resolve) => session.close(() => resolve())),
      };
    },
  };
  return [
    chatpush("chatpush FcmSender, jobs of 500 one at a time", 1),
    chatpush("chatpush FcmSender, 10 jobs of 500 at once (one Lambda batch)", LAMBDA_BATCH_JOBS),
    sendEach("firebase-admin sendEach(500), one batch at a time", 1),
    sendEach("firebase-admin sendEach(500), 4 batches in flight", 4),
    plainHttp2,
  ];
}

/** One run of one configuration over every token: its rate, sessions, memory and CPU. */
async function runOnce(
  sim: SimulatorHandle,
  configuration: Configuration,
  tokens: readonly string[],
  latencyMs: number,
): Promise<BenchRow> {
  const start = await sim.ask({ type: "stats" });
  const client = await configuration.setUp();
  // Clears the warm-up from the simulator's count.
  const before = await sim.ask({ type: "stats" });
  const { seconds, peakMb, cpuMs } = await measured(() => client.run(tokens));
  const after = await sim.ask({ type: "stats" });
  await client.tearDown();
  const per1k = (ms: number) => Math.round((1000 * ms) / tokens.length);
  return {
    configuration: configuration.name,
    latencyMs,
    sends: tokens.length,
    delivered: Number(after.accepted),
    sendsPerSecond: Math.round(tokens.length / seconds),
    sessions: Number(after.connections) - Number(start.connections),
    peakMemoryMb: Math.round(peakMb * 10) / 10,
    clientCpuMsPer1k: per1k(cpuMs),
    simulatorCpuMsPer1k: per1k(Number(after.cpuMs) - Number(before.cpuMs)),
  };
}

export async function benchFcm(opts: FcmBenchOptions): Promise<BenchRow[]> {
  const sim = await startChildSimulator();
  const restore = redirectFirebaseAdmin(sim.url, sim.ca);
  try {
    const { credential, publicKey } = generateFcmCredential({
      certificateId: 1,
      projectId: PROJECT,
      androidChannelId: "chat_messages",
      endpoint: { url: sim.url, ca: sim.ca },
    });
    await sim.ask({ type: "account", projectId: PROJECT, clientEmail: credential.clientEmail, publicKey });
    const tokens = Array.from(
      { length: opts.tokens },
      (_, i) => `bench-${i}:APA91b${i.toString(36).padStart(8, "0")}`,
    );
    const rows: BenchRow[] = [];
    const all = [...configurations(credential), ...(opts.extra?.(credential) ?? [])];
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
    restore();
    sim.stop();
  }
}

/** The table, then per latency chatpush's ratios to each other client and issue 10's targets at 100 ms. */
export function formatFcmBench(rows: readonly BenchRow[]): string {
  const lines = [
    "FCM senders against the local FCM simulator (HTTP/2 + TLS, OAuth), added latency per answer",
    "",
    `${"configuration".padEnd(78)} ${"latency".padStart(7)} ${"sends/s".padStart(8)} ${"ok".padStart(6)} ${"sessions".padStart(8)} ${"peak MB".padStart(8)} ${"CPU ms/1k".padStart(9)} ${"sim CPU".padStart(8)}`,
  ];
  for (const row of rows) {
    lines.push(
      `${row.configuration.padEnd(78)} ${`${row.latencyMs} ms`.padStart(7)} ${String(row.sendsPerSecond).padStart(8)} ${`${Math.round((100 * row.delivered) / row.sends)}%`.padStart(6)} ${String(row.sessions).padStart(8)} ${row.peakMemoryMb.toFixed(1).padStart(8)} ${String(row.clientCpuMsPer1k).padStart(9)} ${String(row.simulatorCpuMsPer1k).padStart(8)}`,
    );
  }
  for (const latencyMs of [...new Set(rows.map((r) => r.latencyMs))]) {
    const at = rows.filter((r) => r.latencyMs === latencyMs);
    const rate = (prefix: string) =>
      at.find((r) => r.configuration.startsWith(prefix))?.sendsPerSecond ?? Number.NaN;
    const perJob = rate("chatpush FcmSender, jobs");
    const batch = rate("chatpush FcmSender, 10 jobs");
    const one = rate("firebase-admin sendEach(500), one");
    const four = rate("firebase-admin sendEach(500), 4");
    const plain = rate("plain node:http2");
    const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
    lines.push(
      "",
      `at ${latencyMs} ms: chatpush (Lambda batch) = ${ratio(batch, one)} sendEach one at a time, ${ratio(batch, four)} four in flight, ${ratio(batch, plain)} plain HTTP/2`,
      `           chatpush (one job at a time) = ${ratio(perJob, one)} sendEach one at a time, ${ratio(perJob, four)} four in flight, ${ratio(perJob, plain)} plain HTTP/2`,
    );
    if (latencyMs === 100) {
      const met = (value: number, target: number) => (value >= target ? "met" : "NOT met");
      lines.push(
        `           targets: ≥5× sendEach one at a time ${met(batch / one, 5)}; ≥1.5× four in flight ${met(batch / four, 1.5)}`,
      );
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
  const latenciesMs = (process.env.BENCH_FCM_LATENCIES ?? "0,20,100").split(",").map(Number);
  const tokens = Number(process.env.BENCH_FCM_TOKENS ?? 20_000);
  const rounds = Number(process.env.BENCH_FCM_ROUNDS ?? 1);
  const rows = await benchFcm({ latenciesMs, tokens, rounds });
  console.log(formatFcmBench(rows));
  process.exit(rows.every((row) => row.delivered === row.sends) ? 0 : 1);
}
