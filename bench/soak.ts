/**
 * `npm run soak [-- --rate 100 --minutes 5 --users 200]`: `npm start` as its own process, fed one-to-one
 * callbacks at a steady rate for minutes. Prints, per minute: callbacks answered (p50/p99 answer time),
 * pushes received by the simulators (p50/p99 from "callback answered" to "simulator received"), and
 * the runtime's memory; then whether memory levelled off and whether every push arrived.
 * Not a test: it prints figures (issue 9: 100 callbacks/s for 5 minutes).
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

import { mkdtempSync, rmSync } from "node:fs";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { ChatpushClient } from "../local/client.js";
import { LOCAL_DEFAULTS } from "../local/defaults.js";
import { followStream, spawnRuntime } from "../local/spawned.js";

interface MinuteFigures {
  minute: number;
  sent: number;
  answers: number[];
  latencies: number[];
  rssMb: number;
  heapMb: number;
  externalMb: number;
  dynamoHeapMb: number;
}

/**
 * Tencent's callbacks as a client that keeps its connections: at most 64 open, reused (an HTTP
 * keep-alive pool), instead of fetch's new connection per request when all are busy, which under
 * 100/s piles up thousands of sockets on a slow runtime and ends in connect timeouts.
 */
const callbackAgent = new Agent({ keepAlive: true, maxSockets: 64 });

function postCallback(url: string, body: unknown): Promise<number> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: "POST",
        agent: callbackAgent,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(payload) },
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

const percentile = (values: number[], p: number) => {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
};

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rate: { type: "string", default: "100" },
      minutes: { type: "string", default: "5" },
      users: { type: "string", default: "200" },
    },
  });
  const rate = Number(values.rate);
  const minutes = Number(values.minutes);
  const users = Number(values.users);
  const dataDir = mkdtempSync(join(tmpdir(), "chatpush-soak-"));
  // CHATPUSH_SOAK_NODE_FLAGS: node flags for the runtime (e.g. "--cpu-prof --cpu-prof-dir=prof").
  const flags = process.env.CHATPUSH_SOAK_NODE_FLAGS?.split(" ").filter(Boolean);
  const runtime = await spawnRuntime({ dataDir, ...(flags ? { execArgv: flags } : {}) });
  const client = new ChatpushClient({
    baseUrl: runtime.url,
    sdkAppId: LOCAL_DEFAULTS.CHATPUSH_SDK_APP_ID,
    callbackToken: LOCAL_DEFAULTS.CHATPUSH_CALLBACK_TOKEN,
    secretKey: LOCAL_DEFAULTS.CHATPUSH_SECRET_KEY,
  });
  try {
    for (let u = 0; u < users; u += 1) {
      const user = `soak${u}`;
      await client.registerDevice(user, "iphone", {
        vendor: "apns",
        // Zero-padded: padded with a hex digit, user 0xc0's token would be user 0's.
        token: u.toString(16).padStart(64, "0"),
      });
      await client.registerDevice(user, "pixel", { vendor: "fcm", token: `soak-fcm-token-${u}` });
      await client.setPresence(user, { state: "background" });
    }

    const answeredAt = new Map<number, { at: number; minute: number }>();
    const figures: MinuteFigures[] = Array.from({ length: minutes }, (_, minute) => ({
      minute: minute + 1,
      sent: 0,
      answers: [],
      latencies: [],
      rssMb: 0,
      heapMb: 0,
      externalMb: 0,
      dynamoHeapMb: 0,
    }));
    let received = 0;
    const arrived = new Set<string>();
    const stream = await followStream(runtime.url, {
      onDelivery: (delivery) => {
        if (delivery.status !== 200) return;
        const match = /soak #(\d+)\b/.exec(JSON.stringify(delivery.request.body));
        const sent = match === null ? undefined : answeredAt.get(Number(match[1]));
        if (sent === undefined) return;
        received += 1;
        arrived.add(`${match![1]} ${delivery.vendor}`);
        figures[sent.minute]?.latencies.push(performance.now() - sent.at);
      },
    });

    const started = performance.now();
    const total = Math.round(rate * minutes * 60);
    const posts: Promise<void>[] = [];
    let sending = true;
    const sampler = setInterval(async () => {
      // Memory is sampled while callbacks are sent; the drain after them (load falling to nothing,
      // the heap shrinking) would read as the last minute's figure.
      if (!sending) return;
      const minute = Math.min(minutes - 1, Math.floor((performance.now() - started) / 60_000));
      const stats = (await (await fetch(`${runtime.url}/_local/stats`)).json()) as {
        rssBytes: number;
        heapUsedBytes: number;
        externalBytes?: number;
        dynamoHeapUsedBytes?: number;
      };
      figures[minute]!.rssMb = stats.rssBytes / 2 ** 20;
      figures[minute]!.heapMb = stats.heapUsedBytes / 2 ** 20;
      figures[minute]!.externalMb = (stats.externalBytes ?? 0) / 2 ** 20;
      figures[minute]!.dynamoHeapMb = (stats.dynamoHeapUsedBytes ?? 0) / 2 ** 20;
    }, 5_000);
    let failures = 0;
    const refusals = new Map<string, number>();
    const refused = (reason: string) => {
      failures += 1;
      refusals.set(reason, (refusals.get(reason) ?? 0) + 1);
    };
    for (let i = 0; i < total; i += 1) {
      const due = started + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const minute = Math.min(minutes - 1, Math.floor((performance.now() - started) / 60_000));
      figures[minute]!.sent += 1;
      const now = Math.floor(Date.now() / 1000);
      const t0 = performance.now();
      posts.push(
        postCallback(
          client.callbackUrl({ CallbackCommand: "C2C.CallbackAfterSendMsg", OptPlatform: "iOS" }),
          {
            CallbackCommand: "C2C.CallbackAfterSendMsg",
            From_Account: "alice",
            To_Account: `soak${i % users}`,
            MsgSeq: i,
            MsgRandom: i,
            MsgTime: now,
            MsgKey: `${i}_${i}_${now}`,
            SendMsgResult: 0,
            MsgBody: [{ MsgType: "TIMTextElem", MsgContent: { Text: `soak #${i} message` } }],
          },
        ).then(
          (status) => {
            const t1 = performance.now();
            figures[minute]!.answers.push(t1 - t0);
            if (status === 200) answeredAt.set(i, { at: t1, minute });
            else refused(`HTTP ${status}`);
          },
          (error: unknown) => {
            refused((error as { code?: string }).code ?? String(error));
          },
        ),
      );
    }
    await Promise.all(posts);
    sending = false;
    // Let the tail drain: every callback pushes to two devices.
    const drainUntil = performance.now() + 60_000;
    while (received < total * 2 && performance.now() < drainUntil) {
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    clearInterval(sampler);
    stream.close();

    console.log(
      `soak: ${total} one-to-one callbacks at ${rate}/s for ${minutes} min to ${users} users × (APNs + FCM), npm start as its own process`,
    );
    console.log(
      "minute  sent  answer p50/p99 ms  pushes  answered→received p50/p99 ms  rss MB  heap MB  external MB  dynalite heap MB",
    );
    for (const f of figures) {
      console.log(
        `${String(f.minute).padStart(6)}  ${String(f.sent).padStart(4)}  ${percentile(f.answers, 50).toFixed(1).padStart(7)} / ${percentile(f.answers, 99).toFixed(1).padEnd(7)}  ${String(f.latencies.length).padStart(6)}  ${percentile(f.latencies, 50).toFixed(0).padStart(12)} / ${percentile(f.latencies, 99).toFixed(0).padEnd(12)}  ${f.rssMb.toFixed(0).padStart(6)}  ${f.heapMb.toFixed(0).padStart(7)}  ${f.externalMb.toFixed(0).padStart(11)}  ${f.dynamoHeapMb.toFixed(0).padStart(16)}`,
      );
    }
    // The verdict is the process's resident memory (both threads' heaps, buffers and LevelDB's native
    // memory); heapUsed alone swings with the collector. Minute 1 is the warm-up (JIT, clients, pools).
    const settled = figures
      .slice(1)
      .map((f) => f.rssMb)
      .filter((rss) => rss > 0);
    if (settled.length >= 2) {
      const growth = settled[settled.length - 1]! / settled[0]!;
      const lastMinute = settled[settled.length - 1]! - settled[settled.length - 2]!;
      console.log(
        `rss from minute 2 to minute ${minutes}: ×${growth.toFixed(2)}, last minute ${lastMinute >= 0 ? "+" : ""}${lastMinute.toFixed(0)} MB (levels off: close to ×1, the last minute near 0)`,
      );
    }
    const missing = [...answeredAt.keys()].flatMap((i) =>
      ["apns", "fcm"].filter((vendor) => !arrived.has(`${i} ${vendor}`)).map((vendor) => `${i} ${vendor}`),
    );
    if (missing.length > 0) console.log(`not received (first 10): ${missing.slice(0, 10).join(", ")}`);
    console.log(
      `pushes received: ${received} of ${total * 2}; callbacks not answered 200: ${failures}${
        refusals.size > 0 ? ` (${[...refusals].map(([reason, n]) => `${reason} ${n}`).join(", ")})` : ""
      }; lost (answered 200, never received): ${missing.length}`,
    );
  } finally {
    await runtime.kill("SIGTERM");
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
