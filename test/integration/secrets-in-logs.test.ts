import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { logger } from "../../functions/shared/powertools.js";
import { ChatpushClient, waitFor } from "../../local/client.js";
import { simulatorCredentials } from "../../local/credentials.js";
import {
  isDeviceSample,
  isRestPushSample,
  jsonFiles,
  loadCallbackSample,
  loadDeviceSample,
  loadRestPushSample,
} from "../../local/events.js";
import { type LocalRuntime, startLocalRuntime } from "../../local/runtime.js";

/**
 * A full replay of events/ against the local runtime, with vendor faults on the way, and every log
 * line and journal entry scanned: no device token, UserSig, callback token, UserSig key, vendor key
 * or secret, or OAuth token may appear whole (issue 9 item 8).
 */
const SDK_APP_ID = "1400000000";
const CALLBACK_TOKEN = "secrets-scan-callback-token-7Hq2";
const SECRET_KEY = "secrets-scan-usersig-key-9Zt4Wm";

/** Records every UserSig it makes, so the scan knows them. */
class RecordingClient extends ChatpushClient {
  readonly userSigs = new Set<string>();
  override userSig(userId: string, expireSeconds?: number): string {
    const sig = super.userSig(userId, expireSeconds);
    this.userSigs.add(sig);
    return sig;
  }
}

let runtime: LocalRuntime;
let client: RecordingClient;
let dataDir: string;
const lines: string[] = [];
const restore: (() => void)[] = [];

beforeAll(async () => {
  // Powertools writes to process.stdout / stderr; keep every line (routine ones too).
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream);
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      lines.push(String(chunk));
      return (write as (...args: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof stream.write;
    restore.push(() => {
      stream.write = write;
    });
  }
  logger.setLogLevel("DEBUG");
  dataDir = mkdtempSync(join(tmpdir(), "chatpush-secrets-"));
  runtime = await startLocalRuntime({
    sdkAppId: SDK_APP_ID,
    callbackToken: CALLBACK_TOKEN,
    secretKey: SECRET_KEY,
    port: 0,
    dataDir,
    maxAttempts: 2,
    onJournal: (entry) => lines.push(JSON.stringify(entry)),
    onError: (error) => {
      const e = error as Error;
      lines.push(`${e.name}: ${e.message}\n${e.stack ?? ""}`);
    },
  });
  client = new RecordingClient({
    baseUrl: runtime.url,
    sdkAppId: SDK_APP_ID,
    callbackToken: CALLBACK_TOKEN,
    secretKey: SECRET_KEY,
  });
}, 60_000);
afterAll(async () => {
  await runtime?.stop();
  for (const undo of restore) undo();
  logger.setLogLevel("INFO");
  rmSync(dataDir, { recursive: true, force: true });
});

/** Every string under a secret-bearing name in the generated vendor credentials (keys, app secrets). */
function credentialSecrets(value: unknown, name = ""): string[] {
  if (typeof value === "string") {
    if (!/key|secret/i.test(name) || /id$/i.test(name)) return [];
    // A PEM key is checked line by line: no line of its base64 body may appear.
    return value.includes("-----BEGIN") ? value.split("\n").filter((l) => l.length >= 32) : [value];
  }
  if (value === null || typeof value !== "object") return [];
  return Object.entries(value).flatMap(([key, v]) => credentialSecrets(v, key));
}

describe("a full replay of events/", () => {
  it("writes no secret whole into any log line or journal entry", async () => {
    const files = jsonFiles("events");
    const devices = files.filter(isDeviceSample).map(loadDeviceSample);
    for (const device of devices) {
      // The app's unread count is left out: a concurrent change to badge counting (issue 8) is in progress.
      const presence = device.presence && { state: device.presence.state };
      await client.seedDevice({ ...device, ...(presence ? { presence } : {}) });
    }
    // Faults on the way: a dead token and vendor errors make the workers log their answers.
    const [first, second] = devices.filter((d) => d.registration.vendor === "fcm");
    await client.addFault({ vendor: "fcm", token: first!.registration.token, status: 404, count: 5 });
    await client.addFault({ vendor: "fcm", token: second!.registration.token, status: 500, count: 5 });
    for (const file of files.filter((f) => !isDeviceSample(f))) {
      if (isRestPushSample(file)) {
        // Tencent's REST push API samples (events/v4), with the admin's UserSig.
        const { path, body } = loadRestPushSample(file);
        expect((await client.restPush(path, body)).status).toBe(200);
        continue;
      }
      const sample = loadCallbackSample(file);
      const body = { ...sample.body, ...("EventTime" in sample.body ? { EventTime: Date.now() } : {}) };
      expect((await client.postCallback(sample.query, body)).status).toBe(200);
    }
    // Settled: the journal has stopped growing for a second.
    let last = -1;
    let stableSince = Date.now();
    await waitFor(
      async () => {
        if (runtime.journal.length !== last) {
          last = runtime.journal.length;
          stableSince = Date.now();
        }
        return runtime.journal.length > 0 && Date.now() - stableSince > 1500 ? true : undefined;
      },
      60_000,
      100,
    );
    // Hostile requests whose logs would carry secrets: a UserSig in a rejected header, a bad Sign.
    await client.deviceApi("PUT", "/v1/devices/x", "bob", { vendor: "apns", token: "zz" });
    await fetch(`${runtime.url}/callback?SdkAppid=${SDK_APP_ID}&Sign=${"a".repeat(64)}&RequestTime=1`, {
      method: "POST",
      body: "{}",
    });

    const secrets = [
      CALLBACK_TOKEN,
      SECRET_KEY,
      ...devices.map((d) => d.registration.token),
      ...client.userSigs,
      ...credentialSecrets(simulatorCredentials(dataDir)),
    ].filter((s) => s.length >= 16);
    const logged = [...lines, ...runtime.journal.map((entry) => JSON.stringify(entry))];
    expect(logged.length).toBeGreaterThan(50);
    expect(secrets.length).toBeGreaterThan(20);
    const leaks = secrets.flatMap((secret) =>
      logged
        .filter((line) => line.includes(secret))
        .map((line) => `${secret.slice(0, 8)}… in ${line.slice(0, 160)}`),
    );
    expect(leaks).toEqual([]);
    // OAuth tokens the simulators issue (FCM, Huawei, Honor) never appear whole either.
    const oauth = /ya29\.local-[A-Za-z0-9_-]{32}|honor-local-[A-Za-z0-9_-]{32}|CgB6e3x9[A-Za-z0-9+/=]{64}/;
    expect(logged.filter((line) => oauth.test(line))).toEqual([]);
  }, 120_000);
});
