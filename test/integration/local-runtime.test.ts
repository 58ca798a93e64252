import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ChatpushClient, waitFor } from "../../local/client.js";
import { type LocalRuntime, startLocalRuntime } from "../../local/runtime.js";
import type { SimulatedDelivery } from "../../local/simulators/hub.js";
import { tencentUserSig } from "../support/tencent-usersig.js";

/**
 * The walking skeleton end to end, over real sockets: the device API, a signed callback, the ingest
 * queue, the router, the vendor queues and workers, and the APNs and FCM simulators.
 */
const SDK_APP_ID = "1400123456";
const TOKEN = "e2e-callback-token";
const SECRET = "e2e-usersig-secret";
const APNS_TOKEN = "7f3c9a1e5b2d4c6f8a0e1b3d5f7a9c2e4b6d8f0a1c3e5b7d9f2a4c6e8b0d1f3a";
const FCM_TOKEN = "dQw4w9WgXcQ:APA91bHun4MxP5egoKMwt2KZFBaFUH-1RYqx1cRmWb5gDX7vFtQ0wLLw9H2k";

let runtime: LocalRuntime;
let client: ChatpushClient;
let seq = 0;

beforeAll(async () => {
  runtime = await startLocalRuntime({
    sdkAppId: SDK_APP_ID,
    callbackToken: TOKEN,
    secretKey: SECRET,
    port: 0,
    maxAttempts: 3,
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

/** The UserSig comes from Tencent's own package, as an app would get it from its server. */
const asUser = (userId: string) => tencentUserSig(Number(SDK_APP_ID), SECRET, userId);

async function registerBob(): Promise<void> {
  const apns = await client.deviceApi(
    "PUT",
    "/v1/devices/bob-iphone",
    "bob",
    { vendor: "apns", token: APNS_TOKEN, appId: "com.example.chatpush", environment: "production" },
    asUser("bob"),
  );
  expect(apns.status).toBe(200);
  const fcm = await client.deviceApi(
    "PUT",
    "/v1/devices/bob-pixel",
    "bob",
    { vendor: "fcm", token: FCM_TOKEN, appId: "com.example.chatpush" },
    asUser("bob"),
  );
  expect(fcm.status).toBe(200);
  const presence = await client.deviceApi(
    "PUT",
    "/v1/presence",
    "bob",
    { state: "background", unreadCount: 2 },
    asUser("bob"),
  );
  expect(presence.status).toBe(204);
}

function c2c(overrides: Record<string, unknown> = {}) {
  seq += 1;
  const now = Math.floor(Date.now() / 1000);
  return {
    CallbackCommand: "C2C.CallbackAfterSendMsg",
    From_Account: "alice",
    To_Account: "bob",
    MsgSeq: seq,
    MsgRandom: 1000 + seq,
    MsgTime: now,
    MsgKey: `${seq}_${1000 + seq}_${now}`,
    OnlineOnlyFlag: 0,
    SendMsgResult: 0,
    ErrorInfo: "send msg succeed",
    UnreadMsgNum: 5,
    MsgBody: [{ MsgType: "TIMTextElem", MsgContent: { Text: "Are we still on for dinner at 7?" } }],
    ...overrides,
  };
}

const QUERY = { CallbackCommand: "C2C.CallbackAfterSendMsg", OptPlatform: "iOS", ClientIP: "203.0.113.7" };

/** Waits until the journal shows the message settled (skipped, or every queued device finished). */
async function settled(messageKey: string) {
  return waitFor(async () => {
    const entries = (await client.journal()).filter((e) => e.messageKey === messageKey);
    if (entries.some((e) => e.stage === "skipped")) return entries;
    const queued = entries.filter((e) => e.stage === "queued").length;
    const done = entries.filter((e) =>
      ["delivered", "token-removed", "dead-lettered"].includes(e.stage),
    ).length;
    return queued > 0 && done >= queued ? entries : undefined;
  }, 15_000);
}

const byVendor = (deliveries: SimulatedDelivery[], vendor: string) =>
  deliveries.filter((d) => d.vendor === vendor);

beforeEach(async () => {
  await client.clearDeliveries();
  await fetch(`${runtime.url}/_local/faults`, { method: "DELETE" });
  await registerBob();
});

describe("one-to-one message to a background recipient", () => {
  it("reaches each of bob's phones exactly once, with title, body, badge and ext", async () => {
    await client.postCallback(
      { CallbackCommand: "Profile.CallbackPortraitSet", OptPlatform: "iOS" },
      {
        From_Account: "alice",
        EventTime: Date.now(),
        ProfileItem: [{ Tag: "Tag_Profile_IM_Nick", Value: "Alice Chen" }],
      },
    );
    await waitFor(async () =>
      (await client.journal()).some((e) => e.stage === "profile") ? true : undefined,
    );

    const body = c2c();
    const answer = await client.postCallback(QUERY, body);
    expect(answer).toEqual({ status: 200, body: '{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}' });
    await settled(body.MsgKey);

    const deliveries = await client.deliveries();
    const [apns, ...moreApns] = byVendor(deliveries, "apns");
    const [fcm, ...moreFcm] = byVendor(deliveries, "fcm");
    expect(moreApns).toEqual([]);
    expect(moreFcm).toEqual([]);

    expect(apns).toMatchObject({ token: APNS_TOKEN, status: 200, environment: "production" });
    expect(apns!.request.body).toEqual({
      aps: {
        alert: { title: "Alice Chen", body: "Are we still on for dinner at 7?" },
        // The unread count bob's app reported (2) plus this push: Tencent's iOS badge.
        badge: 3,
        sound: "default",
        "thread-id": "c2c_alice",
      },
      ext: '{"conversationID":"c2c_alice"}',
    });
    expect(apns!.request.headers).toMatchObject({
      "apns-push-type": "alert",
      "apns-priority": "10",
      "apns-topic": "com.example.chatpush",
      // Per message, so a newer message never replaces (nor a recall hits) another one's notification.
      "apns-collapse-id": body.MsgKey,
    });

    expect(fcm).toMatchObject({ token: FCM_TOKEN, status: 200 });
    const message = (fcm!.request.body as { message: Record<string, unknown> }).message;
    expect(message.token).toBe(FCM_TOKEN);
    expect(message.notification).toEqual({ title: "Alice Chen", body: "Are we still on for dinner at 7?" });
    expect(message.data).toMatchObject({ ext: '{"conversationID":"c2c_alice"}' });
    expect(message.android).toMatchObject({
      priority: "HIGH",
      notification: { tag: body.MsgKey, notification_count: 3 },
    });
  });

  it.each([
    ["a wrong Sign", (url: URL) => url.searchParams.set("Sign", "0".repeat(64)), 401],
    [
      "a stale RequestTime",
      (url: URL) => url.searchParams.set("RequestTime", String(Math.floor(Date.now() / 1000) - 120)),
      401,
    ],
    ["another app's SdkAppid", (url: URL) => url.searchParams.set("SdkAppid", "1400999999"), 403],
  ])("refuses a callback with %s and delivers nothing", async (_name, tamper, status) => {
    const body = c2c();
    const url = new URL(client.callbackUrl(QUERY));
    tamper(url);
    const answer = await fetch(url, { method: "POST", body: JSON.stringify(body) });
    expect(answer.status).toBe(status);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await client.deliveries()).toEqual([]);
    expect((await client.journal()).filter((e) => e.messageKey === body.MsgKey)).toEqual([]);
  });

  it("pushes a callback that arrives twice (Tencent retrying after a timeout) only once", async () => {
    const body = c2c();
    expect((await client.postCallback(QUERY, body)).status).toBe(200);
    expect((await client.postCallback(QUERY, body)).status).toBe(200);
    await settled(body.MsgKey);
    await new Promise((resolve) => setTimeout(resolve, 700));
    const deliveries = await client.deliveries();
    expect(byVendor(deliveries, "apns")).toHaveLength(1);
    expect(byVendor(deliveries, "fcm")).toHaveLength(1);
    const queued = (await client.journal()).filter(
      (e) => e.messageKey === body.MsgKey && e.stage === "queued",
    );
    expect(queued).toHaveLength(2);
  });

  it("delivers nothing to a recipient in the foreground", async () => {
    await client.deviceApi("PUT", "/v1/presence", "bob", { state: "foreground" }, asUser("bob"));
    const body = c2c();
    await client.postCallback(QUERY, body);
    const entries = await settled(body.MsgKey);
    // Presence is per device: each of bob's devices is skipped on its own.
    expect(entries.map((e) => [e.deviceId, e.stage, e.reason]).sort()).toEqual([
      ["bob-iphone", "skipped", "online in the foreground"],
      ["bob-pixel", "skipped", "online in the foreground"],
    ]);
    expect(await client.deliveries()).toEqual([]);
  });

  it("delivers nothing for an online-only message", async () => {
    const body = c2c({ OnlineOnlyFlag: 1 });
    expect((await client.postCallback(QUERY, body)).status).toBe(200);
    expect(await settled(body.MsgKey)).toEqual([
      expect.objectContaining({ stage: "skipped", reason: "online-only message" }),
    ]);
    expect(await client.deliveries()).toEqual([]);
  });

  it("answers 400 naming the field for a malformed callback, and queues nothing", async () => {
    const answer = await client.postCallback(QUERY, { ...c2c(), To_Account: 42 });
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toMatchObject({ ActionStatus: "FAIL", field: "To_Account" });
  });
});

describe("vendor failures", () => {
  it("removes the device on APNs 410 Unregistered", async () => {
    await client.addFault({ vendor: "apns", token: APNS_TOKEN, status: 410, reason: "Unregistered" });
    const body = c2c();
    await client.postCallback(QUERY, body);
    const entries = await settled(body.MsgKey);
    expect(entries).toContainEqual(
      expect.objectContaining({ stage: "token-removed", deviceId: "bob-iphone" }),
    );
    const listed = JSON.parse(
      (await client.deviceApi("GET", "/v1/devices", "bob", undefined, asUser("bob"))).body,
    );
    expect(listed.devices.map((d: { deviceId: string }) => d.deviceId)).toEqual(["bob-pixel"]);
  });

  it("retries an APNs 503 through the queue and then delivers", async () => {
    await client.addFault({ vendor: "apns", token: APNS_TOKEN, status: 503, count: 1 });
    const body = c2c();
    await client.postCallback(QUERY, body);
    const entries = await settled(body.MsgKey);
    expect(entries.filter((e) => e.deviceId === "bob-iphone").map((e) => e.stage)).toEqual([
      "queued",
      "retrying",
      "delivered",
    ]);
    const apns = byVendor(await client.deliveries(), "apns");
    expect(apns.map((d) => d.status)).toEqual([503, 200]);
  });

  it("parks a device that always fails in the vendor's dead-letter queue with its reason", async () => {
    await client.addFault({ vendor: "fcm", token: FCM_TOKEN, status: 503, retryAfter: 1, count: 100 });
    const body = c2c();
    await client.postCallback(QUERY, body);
    const entries = await settled(body.MsgKey);
    const fcmStages = entries.filter((e) => e.deviceId === "bob-pixel").map((e) => e.stage);
    expect(fcmStages).toEqual(["queued", "retrying", "retrying", "dead-lettered"]);

    const parked = await client.deadLetters("fcm");
    const ours = parked.find((p) => p.job.notification.messageKey === body.MsgKey);
    expect(ours?.reason).toMatch(/^gave up after 3 attempts: FCM 503/);
    expect(ours?.job.targets.map((t) => t.deviceId)).toEqual(["bob-pixel"]);
  });
});
