/**
 * Local end-to-end latency: from "callback answered" to "simulator received", over N one-to-one
 * messages replayed through the whole local pipeline (signed callback → ingest queue → router →
 * vendor queues → workers → APNs and FCM simulators). Run: `npx tsx bench/e2e.ts [messages]`.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

import { performance } from "node:perf_hooks";
import { ChatpushClient } from "../local/client.js";
import { startLocalRuntime } from "../local/runtime.js";

export interface E2eResult {
  messages: number;
  /** Callbacks per second offered; undefined = as fast as IN_FLIGHT concurrent callers go. */
  ratePerSecond?: number;
  deliveries: number;
  answerP50Ms: number;
  answerP99Ms: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  wallSeconds: number;
  deliveriesPerSecond: number;
  /** DynamoDB and SQS API calls per message, by operation (registration and presence calls excluded). */
  callsPerMessage: Record<string, number>;
}

const SDK_APP_ID = "1400000000";
const TOKEN = "bench-callback-token";
const SECRET = "bench-secret";
const USERS = 50;
const IN_FLIGHT = 20;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export async function runE2eBench(messages = 1000, ratePerSecond?: number): Promise<E2eResult> {
  const runtime = await startLocalRuntime({
    sdkAppId: SDK_APP_ID,
    callbackToken: TOKEN,
    secretKey: SECRET,
    port: 0,
  });
  const client = new ChatpushClient({
    baseUrl: runtime.url,
    sdkAppId: SDK_APP_ID,
    callbackToken: TOKEN,
    secretKey: SECRET,
  });
  try {
    // USERS recipients, each with an iPhone (APNs) and an Android phone (FCM), app in the background.
    for (let u = 0; u < USERS; u += 1) {
      const user = `user${u}`;
      await client.registerDevice(user, "iphone", {
        vendor: "apns",
        token: u.toString(16).padStart(64, "a"),
      });
      await client.registerDevice(user, "pixel", { vendor: "fcm", token: `bench-fcm-token-${u}` });
      await client.setPresence(user, { state: "background" });
    }

    const answeredAt = new Map<string, number>();
    const latencies: number[] = [];
    let lastDelivery = 0;
    const expected = messages * 2;
    let resolveAll: () => void = () => undefined;
    const allDelivered = new Promise<void>((resolve) => {
      resolveAll = resolve;
    });
    runtime.hub.onDelivery((delivery) => {
      const at = performance.now();
      const body = delivery.request.body as {
        aps?: { alert?: { body?: string } };
        message?: { notification?: { body?: string } };
      };
      const text = body.aps?.alert?.body ?? body.message?.notification?.body ?? "";
      const sent = answeredAt.get(text);
      if (sent === undefined || delivery.status !== 200) return;
      latencies.push(at - sent);
      lastDelivery = at;
      if (latencies.length === expected) resolveAll();
    });

    const answers: number[] = [];
    const callsBefore = runtime.apiCalls();
    const started = performance.now();
    async function post(i: number): Promise<void> {
      const text = `bench message #${i}`;
      const now = Math.floor(Date.now() / 1000);
      const t0 = performance.now();
      const result = await client.postCallback(
        { CallbackCommand: "C2C.CallbackAfterSendMsg", OptPlatform: "iOS" },
        {
          CallbackCommand: "C2C.CallbackAfterSendMsg",
          From_Account: "alice",
          To_Account: `user${i % USERS}`,
          MsgSeq: i,
          MsgRandom: i,
          MsgTime: now,
          MsgKey: `${i}_${i}_${now}`,
          SendMsgResult: 0,
          UnreadMsgNum: 1,
          MsgBody: [{ MsgType: "TIMTextElem", MsgContent: { Text: text } }],
        },
      );
      const t1 = performance.now();
      if (result.status !== 200) throw new Error(`callback answered ${result.status}: ${result.body}`);
      answers.push(t1 - t0);
      answeredAt.set(text, t1);
    }
    if (ratePerSecond === undefined) {
      let next = 0;
      const caller = async () => {
        while (next < messages) await post(next++);
      };
      await Promise.all(Array.from({ length: IN_FLIGHT }, caller));
    } else {
      // Paced: one callback every 1/rate s, whatever the answers take (as Tencent would send them).
      const posts: Promise<void>[] = [];
      for (let i = 0; i < messages; i += 1) {
        const due = started + (i * 1000) / ratePerSecond;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        posts.push(post(i));
      }
      await Promise.all(posts);
    }
    const timeout = setTimeout(resolveAll, 60_000);
    await allDelivered;
    clearTimeout(timeout);

    latencies.sort((a, b) => a - b);
    answers.sort((a, b) => a - b);
    const callsAfter = runtime.apiCalls();
    const callsPerMessage: Record<string, number> = {};
    for (const api of ["dynamodb", "sqs"] as const)
      for (const [operation, count] of Object.entries(callsAfter[api])) {
        const delta = count - (callsBefore[api][operation] ?? 0);
        if (delta > 0) callsPerMessage[`${api} ${operation}`] = delta / messages;
      }
    const wallSeconds = (lastDelivery - started) / 1000;
    return {
      messages,
      ...(ratePerSecond !== undefined ? { ratePerSecond } : {}),
      deliveries: latencies.length,
      answerP50Ms: percentile(answers, 50),
      answerP99Ms: percentile(answers, 99),
      latencyP50Ms: percentile(latencies, 50),
      latencyP99Ms: percentile(latencies, 99),
      wallSeconds,
      deliveriesPerSecond: latencies.length / wallSeconds,
      callsPerMessage,
    };
  } finally {
    await runtime.stop();
  }
}

export function formatE2e(r: E2eResult): string {
  return [
    `end to end, local runtime: ${r.messages} one-to-one messages to ${USERS} users × (APNs + FCM), ${
      r.ratePerSecond === undefined
        ? `flood (${IN_FLIGHT} callbacks in flight)`
        : `paced at ${r.ratePerSecond} callbacks/s`
    }`,
    `  callback answered:              p50 ${r.answerP50Ms.toFixed(1)} ms   p99 ${r.answerP99Ms.toFixed(1)} ms`,
    `  answered → simulator received:  p50 ${r.latencyP50Ms.toFixed(1)} ms   p99 ${r.latencyP99Ms.toFixed(1)} ms`,
    `  ${r.deliveries} deliveries in ${r.wallSeconds.toFixed(2)} s = ${r.deliveriesPerSecond.toFixed(0)} deliveries/s (${(r.messages / r.wallSeconds).toFixed(0)} messages/s)`,
    `  API calls per message: ${Object.values(r.callsPerMessage)
      .reduce((sum, n) => sum + n, 0)
      .toFixed(1)} (${Object.entries(r.callsPerMessage)
      .sort(([, a], [, b]) => b - a)
      .map(([call, n]) => `${call} ${n.toFixed(2)}`)
      .join(", ")})`,
  ].join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const messages = Number(process.argv[2] ?? 1000);
  const rate = process.argv[3] === undefined ? undefined : Number(process.argv[3]);
  runE2eBench(messages, rate)
    .then((r) => {
      console.log(formatE2e(r));
      process.exit(0);
    })
    .catch((error) => {
      console.error(error);
      process.exit(1);
    });
}
