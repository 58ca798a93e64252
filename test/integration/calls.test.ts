import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChatpushClient, waitFor } from "../../local/client.js";
import { type LocalRuntime, startLocalRuntime } from "../../local/runtime.js";
import type { SimulatedDelivery } from "../../local/simulators/hub.js";

/**
 * Issue 11's calls "Done when", end to end against `npm start`'s components through the documented
 * HTTP contract: a TUICallKit-style video call from alice to bob (an iPhone with its alert token and
 * its PushKit token, an Android phone) is one VoIP push and one high-priority FCM data message; its
 * cancellation is no VoIP push, replaces the Android notification and leaves a quiet "Missed call" on
 * the iPhone's alert token; an online-only invitation and a
 * hang-up push nothing; a ring nobody ends stops at its timeout (chatpush's own expiry).
 */
const SDK_APP_ID = "1400123456";
const TOKEN = "calls-callback-token";
const SECRET = "calls-usersig-secret";
const ALERT = "7f3c9a1e5b2d4c6f8a0e1b3d5f7a9c2e4b6d8f0a1c3e5b7d9f2a4c6e8b0d1f3a";
const VOIP = "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00";
const PIXEL = "dQw4w9WgXcQ:APA91bHun4MxP5egoKMwt2KZFBaFUH-1RYqx1cRmWb5gDX7vFtQ0wLLw9H2k";

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
  const registrations = [
    ["bob-iphone", { vendor: "apns", token: ALERT, locale: "en" }],
    ["bob-iphone", { vendor: "apns", token: VOIP, pushType: "voip" }],
    ["bob-pixel", { vendor: "fcm", token: PIXEL }],
  ] as const;
  for (const [deviceId, registration] of registrations) {
    expect((await client.registerDevice("bob", deviceId, registration)).status).toBe(200);
  }
  expect((await client.setPresence("bob", { state: "background" })).status).toBe(204);
});
afterAll(async () => {
  await runtime?.stop();
});

/** TUICallKit's signaling message: the envelope (businessID 1) and its double-encoded call JSON. */
function signaling(inviteId: string, actionType: number, call: Record<string, unknown>, extra = {}) {
  return JSON.stringify({
    businessID: 1,
    inviteID: inviteId,
    inviter: "alice",
    actionType,
    inviteeList: ["bob"],
    groupID: "",
    timeout: 30,
    data: JSON.stringify({ version: 4, businessID: "av_call", platform: "iOS", ...call }),
    ...extra,
  });
}
const video = { call_type: 2, room_id: 91544, data: { cmd: "videoCall", room_id: 91544, userIDs: ["bob"] } };

function c2c(data: string, overrides: Record<string, unknown> = {}) {
  seq += 1;
  const now = Math.floor(Date.now() / 1000);
  return {
    CallbackCommand: "C2C.CallbackAfterSendMsg",
    From_Account: "alice",
    To_Account: "bob",
    MsgSeq: seq,
    MsgRandom: 9000 + seq,
    MsgTime: now,
    MsgKey: `${seq}_${9000 + seq}_${now}`,
    OnlineOnlyFlag: 0,
    SendMsgResult: 0,
    UnreadMsgNum: 1,
    MsgBody: [{ MsgType: "TIMCustomElem", MsgContent: { Data: data, Desc: "", Ext: "", Sound: "" } }],
    ...overrides,
  };
}

/** Posts a callback and waits until the journal shows what became of it; returns the deliveries since. */
async function send(body: ReturnType<typeof c2c>): Promise<SimulatedDelivery[]> {
  await client.clearDeliveries();
  const answer = await client.postCallback(
    { CallbackCommand: body.CallbackCommand, OptPlatform: "iOS" },
    body,
  );
  expect(answer.status).toBe(200);
  return settled(body.MsgKey);
}

async function settled(messageKey: string, timeoutMs = 20_000): Promise<SimulatedDelivery[]> {
  let last = -1;
  await waitFor(
    async () => {
      const mine = (await client.journal()).filter((e) => e.messageKey === messageKey);
      const queued = mine.filter((e) => e.stage === "queued").length;
      const done = mine.filter((e) =>
        ["delivered", "token-removed", "dead-lettered"].includes(e.stage),
      ).length;
      const quiet = mine.length === last;
      last = mine.length;
      return mine.length > 0 && done >= queued && quiet ? mine : undefined;
    },
    timeoutMs,
    150,
  );
  return client.deliveries();
}

type FcmBody = { message: { token: string; data: Record<string, string>; android: Record<string, unknown> } };

describe("a TUICallKit video call from alice to bob", () => {
  const inviteId = `invite-${Date.now()}`;

  it("rings once: one VoIP push on <bundle>.voip to the PushKit token, one high-priority FCM data message", async () => {
    const delivered = await send(c2c(signaling(inviteId, 1, video)));
    expect(delivered.map((d) => `${d.vendor} ${d.token} ${d.status}`).sort()).toEqual(
      [`apns ${VOIP} 200`, `fcm ${PIXEL} 200`].sort(),
    );
    const apns = delivered.find((d) => d.vendor === "apns")!;
    expect(apns.request.headers).toMatchObject({ "apns-push-type": "voip", "apns-priority": "10" });
    expect(apns.request.headers["apns-topic"]).toMatch(/\.voip$/);
    expect(apns.request.body).toMatchObject({
      call: { inviteId, callerId: "alice", media: "video", invitees: ["bob"], timeout: 30, roomId: "91544" },
    });
    expect(apns.request.body).not.toHaveProperty("aps");

    const fcm = (delivered.find((d) => d.vendor === "fcm")!.request.body as FcmBody).message;
    expect(fcm).not.toHaveProperty("notification");
    expect(fcm.android).toMatchObject({ priority: "HIGH", ttl: "30s", collapse_key: `call_${inviteId}` });
    expect(fcm.data).toMatchObject({
      callAction: "ring",
      inviteID: inviteId,
      inviter: "alice",
      media: "video",
      body: "You have a new call",
      notificationTag: `call_${inviteId}`,
    });
  });

  it("the same invitation again (another callback) rings nobody", async () => {
    expect(await send(c2c(signaling(inviteId, 1, video)))).toEqual([]);
  });

  it("the cancellation sends no VoIP push, replaces the Android notification and tells the iPhone's alert token Missed call", async () => {
    const delivered = await send(c2c(signaling(inviteId, 2, {})));
    expect(delivered.map((d) => `${d.vendor} ${d.token}`).sort()).toEqual(
      [`apns ${ALERT}`, `fcm ${PIXEL}`].sort(),
    );
    const apns = delivered.find((d) => d.vendor === "apns")!;
    expect(apns.request.headers).toMatchObject({ "apns-push-type": "alert", "apns-collapse-id": inviteId });
    expect(apns.request.headers["apns-topic"]).not.toMatch(/\.voip$/);
    expect(apns.request.body).toMatchObject({
      aps: { alert: { body: "Missed call" }, "interruption-level": "passive" },
    });
    expect(apns.request.body).not.toHaveProperty("aps.sound");
    const fcm = (delivered.find((d) => d.vendor === "fcm")!.request.body as FcmBody).message;
    expect(fcm.android).toMatchObject({ priority: "HIGH", collapse_key: `call_${inviteId}` });
    expect(fcm.data).toMatchObject({
      callAction: "cancel",
      inviteID: inviteId,
      endReason: "cancelled",
      body: "Missed call",
      notificationTag: `call_${inviteId}`,
    });
  });

  it("an OnlineOnlyFlag 1 invitation pushes nothing", async () => {
    expect(await send(c2c(signaling(`online-${Date.now()}`, 1, video), { OnlineOnlyFlag: 1 }))).toEqual([]);
  });

  it("a hang-up (TUICalling's invite with call_end) pushes nothing", async () => {
    const hangup = signaling(
      `hangup-${Date.now()}`,
      1,
      { call_type: 2, room_id: 91544, call_end: 63 },
      { timeout: 0 },
    );
    expect(await send(c2c(hangup))).toEqual([]);
  });

  it("a ring nobody ends stops at its timeout: chatpush's expiry replaces it, never over PushKit", async () => {
    const short = `short-${Date.now()}`;
    const rung = await send(c2c(signaling(short, 1, video, { timeout: 3 })));
    expect(rung.map((d) => d.vendor).sort()).toEqual(["apns", "fcm"]);
    await client.clearDeliveries();
    const expired = await settled(`call:${short}:timeout`, 30_000);
    expect(expired.map((d) => `${d.vendor} ${d.token}`).sort()).toEqual(
      [`apns ${ALERT}`, `fcm ${PIXEL}`].sort(),
    );
    expect(expired.find((d) => d.vendor === "apns")!.request.headers["apns-push-type"]).toBe("alert");
    expect((expired.find((d) => d.vendor === "fcm")!.request.body as FcmBody).message.data).toMatchObject({
      callAction: "cancel",
      endReason: "timeout",
      body: "Missed call",
      notificationTag: `call_${short}`,
    });
  });
});
