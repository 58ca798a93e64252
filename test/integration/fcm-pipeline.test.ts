import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ChatpushClient, waitFor } from "../../local/client.js";
import { type LocalRuntime, startLocalRuntime } from "../../local/runtime.js";

/**
 * FCM through the whole local pipeline (callback → router → FCM queue → worker → FcmSender → FCM
 * simulator over HTTP/2), with faults armed through `POST /_local/faults` as a person would.
 */
const SDK_APP_ID = "1400123456";
const TOKEN = "fcm-pipeline-callback-token";
const SECRET = "fcm-pipeline-usersig-secret";
const QUERY = { CallbackCommand: "C2C.CallbackAfterSendMsg", OptPlatform: "iOS", ClientIP: "203.0.113.7" };

let runtime: LocalRuntime;
let client: ChatpushClient;
let seq = 0;

beforeAll(async () => {
  runtime = await startLocalRuntime({
    sdkAppId: SDK_APP_ID,
    callbackToken: TOKEN,
    secretKey: SECRET,
    port: 0,
  });
  client = new ChatpushClient({
    baseUrl: runtime.url,
    sdkAppId: SDK_APP_ID,
    callbackToken: TOKEN,
    secretKey: SECRET,
  });
});
afterAll(async () => {
  await runtime?.stop();
});
beforeEach(async () => {
  await client.clearDeliveries();
  await fetch(`${runtime.url}/_local/faults`, { method: "DELETE" });
});

/** A fresh user with one FCM phone; returns the user and the phone's token. */
async function phone(): Promise<{ userId: string; token: string }> {
  seq += 1;
  const userId = `fcm-user-${seq}`;
  const token = `fcm-pipeline-${seq}:APA91bHun4MxP5egoKMwt2KZFBaFUH-1RYqx1cRmWb5gDX7vFtQ0`;
  const registered = await client.registerDevice(userId, `pixel-${seq}`, {
    vendor: "fcm",
    token,
    certificateId: 20001,
    appId: "com.example.chatpush",
  });
  expect(registered.status).toBe(200);
  // Tencent never reported this user connected, so they are reachable by push (README, "Presence").
  return { userId, token };
}

async function message(to: string): Promise<string> {
  seq += 1;
  const now = Math.floor(Date.now() / 1000);
  const body = {
    CallbackCommand: "C2C.CallbackAfterSendMsg",
    From_Account: "alice",
    To_Account: to,
    MsgSeq: seq,
    MsgRandom: 5000 + seq,
    MsgTime: now,
    MsgKey: `${seq}_${5000 + seq}_${now}`,
    OnlineOnlyFlag: 0,
    SendMsgResult: 0,
    ErrorInfo: "send msg succeed",
    UnreadMsgNum: 1,
    MsgBody: [{ MsgType: "TIMTextElem", MsgContent: { Text: "Are we still on for dinner at 7?" } }],
  };
  expect((await client.postCallback(QUERY, body)).status).toBe(200);
  return body.MsgKey;
}

const statusesFor = async (token: string) =>
  (await client.deliveries()).filter((d) => d.token === token).map((d) => d.status);

describe("FCM through the local pipeline", () => {
  it("delivers exactly one copy after a 503 with Retry-After: the worker retries, nothing else does", async () => {
    const { userId, token } = await phone();
    await client.addFault({ vendor: "fcm", token, status: 503, retryAfter: 2, count: 1 });

    await message(userId);

    const statuses = await waitFor(async () => {
      const seen = await statusesFor(token);
      return seen.includes(200) ? seen : undefined;
    }, 20_000);
    expect(statuses).toEqual([503, 200]);
    // Long past the Retry-After: still one accepted request.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(await statusesFor(token)).toEqual([503, 200]);
  });

  it("records the real FCM URL as each delivery's endpoint", async () => {
    const { userId, token } = await phone();

    await message(userId);

    const delivery = await waitFor(async () => (await client.deliveries()).find((d) => d.token === token));
    expect(delivery.endpoint).toBe("https://fcm.googleapis.com/v1/projects/chatpush-local/messages:send");
  });

  it("keeps the device and parks the job as a credential problem on SENDER_ID_MISMATCH", async () => {
    const { userId, token } = await phone();
    await client.addFault({ vendor: "fcm", token, status: 403, reason: "SENDER_ID_MISMATCH", count: 1 });

    const messageKey = await message(userId);

    const parked = await waitFor(async () =>
      (await client.deadLetters("fcm")).find((d) => d.job.notification.messageKey === messageKey),
    );
    expect(parked.reason).toContain("credential problem");
    expect(parked.reason).toContain("SENDER_ID_MISMATCH");
    expect(parked.job.targets.map((t) => t.token)).toEqual([token]);
    const journal = (await client.journal()).filter((e) => e.messageKey === messageKey);
    expect(journal.map((e) => e.stage)).not.toContain("token-removed");
    const devices = await client.deviceApi("GET", "/v1/devices", userId);
    expect(devices.status).toBe(200);
    expect(JSON.parse(devices.body).devices).toHaveLength(1);
  });
});
