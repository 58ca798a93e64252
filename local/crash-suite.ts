import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ChatpushClient } from "./client.js";
import { LOCAL_DEFAULTS } from "./defaults.js";
import { type SpawnedRuntime, spawnRuntime } from "./spawned.js";

/**
 * The crash suite (issue 9): `npm start` as its own process, a burst of one-to-one callbacks, SIGKILL
 * once half of them were answered 200, a restart on the same data folder — and then every callback
 * answered 200 before the kill must reach both of its user's phones. What the simulators accepted is
 * counted from the delivery file (CHATPUSH_RECORD_DELIVERIES), which survives the kill; the in-memory
 * list does not.
 */
export interface CrashSuiteOptions {
  messages: number;
  users: number;
  /** How long after the restart the dead process's events are routed again (CHATPUSH_RESTART_GRACE_MS). */
  graceMs?: number;
  /** Give up waiting after this long. */
  timeoutMs?: number;
  onProgress?: (line: string) => void;
}

export interface CrashSuiteResult {
  answeredBeforeKill: number;
  /** (message, device) pairs of those callbacks. */
  pairs: number;
  /** Pairs with no accepted request once the wait ended. */
  lost: number;
  /** Pairs the vendors accepted more than once. */
  duplicated: number;
  /** From the restart until nothing was missing (or the wait ended). */
  recoveredInMs: number;
}

/** Zero-padded, so no two users share a token (padded with "d", user 13 and user 0xdd would). */
const apnsToken = (user: number) => user.toString(16).padStart(64, "0");
const fcmToken = (user: number) => `crash-fcm-token-${user}`;

export async function runCrashSuite(options: CrashSuiteOptions): Promise<CrashSuiteResult> {
  const dataDir = mkdtempSync(join(tmpdir(), "chatpush-crash-"));
  const log = join(dataDir, "deliveries.jsonl");
  const env: Record<string, string> = { CHATPUSH_RECORD_DELIVERIES: log };
  if (options.graceMs !== undefined) env.CHATPUSH_RESTART_GRACE_MS = String(options.graceMs);
  let runtime: SpawnedRuntime | undefined = await spawnRuntime({ dataDir, env });
  const clientFor = (url: string) =>
    new ChatpushClient({
      baseUrl: url,
      sdkAppId: LOCAL_DEFAULTS.CHATPUSH_SDK_APP_ID,
      callbackToken: LOCAL_DEFAULTS.CHATPUSH_CALLBACK_TOKEN,
      secretKey: LOCAL_DEFAULTS.CHATPUSH_SECRET_KEY,
    });
  try {
    const client = clientFor(runtime.url);
    for (let u = 0; u < options.users; u += 1) {
      await client.registerDevice(`crash${u}`, "iphone", { vendor: "apns", token: apnsToken(u) });
      await client.registerDevice(`crash${u}`, "pixel", { vendor: "fcm", token: fcmToken(u) });
      await client.setPresence(`crash${u}`, { state: "background" });
    }

    const answered: number[] = [];
    let killed: Promise<void> | undefined;
    let next = 0;
    const sender = async () => {
      while (next < options.messages && killed === undefined) {
        const i = next++;
        const now = Math.floor(Date.now() / 1000);
        try {
          const result = await client.postCallback(
            { CallbackCommand: "C2C.CallbackAfterSendMsg", OptPlatform: "iOS" },
            {
              CallbackCommand: "C2C.CallbackAfterSendMsg",
              From_Account: "alice",
              To_Account: `crash${i % options.users}`,
              MsgSeq: i + 1,
              MsgRandom: i + 1,
              MsgTime: now,
              MsgKey: `${i + 1}_${i + 1}_${now}`,
              SendMsgResult: 0,
              MsgBody: [{ MsgType: "TIMTextElem", MsgContent: { Text: `crash #${i} mid-burst` } }],
            },
          );
          // Only what was answered 200 before the kill is promised.
          if (result.status === 200 && killed === undefined) answered.push(i);
        } catch {
          // the process is gone
        }
        if (answered.length >= options.messages / 2 && killed === undefined)
          killed = runtime!.kill("SIGKILL");
      }
    };
    await Promise.all(Array.from({ length: 10 }, sender));
    await killed;
    options.onProgress?.(`killed with SIGKILL after ${answered.length} callbacks were answered 200`);

    runtime = await spawnRuntime({ dataDir, env });
    const restarted = Date.now();
    const counts = new Map<string, number>();
    const recount = () => {
      counts.clear();
      if (!existsSync(log)) return;
      for (const line of readFileSync(log, "utf8").split("\n")) {
        if (line === "") continue;
        const delivery = JSON.parse(line) as { status: number; token: string; request: { body: unknown } };
        if (delivery.status !== 200) continue;
        const match = /crash #(\d+) /.exec(JSON.stringify(delivery.request.body));
        if (match === null) continue;
        const key = `${match[1]}|${delivery.token}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
    };
    const keys = answered.flatMap((i) => {
      const user = i % options.users;
      return [`${i}|${apnsToken(user)}`, `${i}|${fcmToken(user)}`];
    });
    const missing = () => keys.filter((key) => !counts.has(key)).length;
    const deadline = restarted + (options.timeoutMs ?? 120_000);
    recount();
    while (missing() > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      recount();
      options.onProgress?.(
        `${Math.round((Date.now() - restarted) / 1000)} s after the restart: ${missing()} missing`,
      );
    }
    const recoveredInMs = Date.now() - restarted;
    // Late copies would come from events routed twice: wait past the retry delay before counting.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    recount();
    return {
      answeredBeforeKill: answered.length,
      pairs: keys.length,
      lost: missing(),
      duplicated: keys.filter((key) => (counts.get(key) ?? 0) > 1).length,
      recoveredInMs,
    };
  } finally {
    await runtime?.kill();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
