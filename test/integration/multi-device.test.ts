import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChatpushClient, waitFor } from "../../local/client.js";
import { type LocalRuntime, startLocalRuntime } from "../../local/runtime.js";
import type { SimulatedDelivery } from "../../local/simulators/hub.js";

/**
 * The multi-device story end to end against `npm start`'s components, all through the documented
 * HTTP contract (device API, signed callbacks, /_local/*): bob has an iPhone, an iPad and an Android
 * phone; presence per device and per platform, kicks, a Logout raced by a message, sender push
 * options, badges on group pushes, recall of the older of two messages, a Chinese-language device.
 */
const SDK_APP_ID = "1400123456";
const TOKEN = "multi-device-callback-token";
const SECRET = "multi-device-usersig-secret";
const IPHONE = "7f3c9a1e5b2d4c6f8a0e1b3d5f7a9c2e4b6d8f0a1c3e5b7d9f2a4c6e8b0d1f3a";
const IPAD = "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b";
const PIXEL = "dQw4w9WgXcQ:APA91bHun4MxP5egoKMwt2KZFBaFUH-1RYqx1cRmWb5gDX7vFtQ0wLLw9H2k";
const LEI_HUAWEI = "IQAAAACy0kYhAADtN3fNd8wqUf2xqHG0PhyAHd2fz5FrQe9mVb8eVZPY7v5z4zYJXLmH0rAv8gU3sLq1m9Qb";

let runtime: LocalRuntime;
let client: ChatpushClient;
let seq = 0;
let clock = Date.now();
/** EventTimes strictly increasing, as Tencent's are for one user's changes. */
const tick = () => {
  clock = Math.max(clock + 1, Date.now());
  return clock;
};

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
  const ok = (status: number, expected: number) => expect(status).toBe(expected);
  ok((await client.registerDevice("bob", "bob-iphone", { vendor: "apns", token: IPHONE })).status, 200);
  ok(
    (await client.registerDevice("bob", "bob-ipad", { vendor: "apns", token: IPAD, platform: "iPad" }))
      .status,
    200,
  );
  ok((await client.registerDevice("bob", "bob-pixel", { vendor: "fcm", token: PIXEL })).status, 200);
  ok((await client.setPresence("bob", { state: "background", unreadCount: 2 })).status, 204);
  await state("bob", "Login", "Android");
});
afterAll(async () => {
  await runtime?.stop();
});

async function state(user: string, Action: string, optPlatform: string, extra: Record<string, unknown> = {}) {
  const answer = await client.postCallback(
    { CallbackCommand: "State.StateChange", OptPlatform: optPlatform },
    { CallbackCommand: "State.StateChange", EventTime: tick(), Info: { Action, To_Account: user }, ...extra },
  );
  expect(answer.status).toBe(200);
}

function c2c(overrides: Record<string, unknown> = {}) {
  seq += 1;
  const now = Math.floor(Date.now() / 1000);
  return {
    CallbackCommand: "C2C.CallbackAfterSendMsg",
    From_Account: "alice",
    To_Account: "bob",
    MsgSeq: seq,
    MsgRandom: 7000 + seq,
    MsgTime: now,
    MsgKey: `${seq}_${7000 + seq}_${now}`,
    OnlineOnlyFlag: 0,
    SendMsgResult: 0,
    UnreadMsgNum: 1,
    MsgBody: [{ MsgType: "TIMTextElem", MsgContent: { Text: `message ${seq}` } }],
    ...overrides,
  };
}
const C2C = { CallbackCommand: "C2C.CallbackAfterSendMsg", OptPlatform: "iOS" };

/** Posts a message and waits until the journal shows what became of it; returns its deliveries. */
async function send(body: ReturnType<typeof c2c>, query: Record<string, string> = C2C, key = body.MsgKey) {
  await client.clearDeliveries();
  expect((await client.postCallback(query, body)).status).toBe(200);
  return settled(key);
}

async function settled(messageKey: string): Promise<SimulatedDelivery[]> {
  let last = -1;
  const entries = await waitFor(
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
    20_000,
    150,
  );
  expect(entries.length).toBeGreaterThan(0);
  return client.deliveries();
}

const tokens = (deliveries: SimulatedDelivery[]) => deliveries.map((d) => d.token).sort();
type Aps = { aps: { alert: { title: string; body: string }; badge?: number }; ext?: string };

describe("bob's iPhone, iPad and Android phone", () => {
  it("the iPad in the foreground (reported with its deviceId) gets nothing; the iPhone and the phone are pushed", async () => {
    expect(
      (await client.deviceApi("PUT", "/v1/presence", "bob", { state: "foreground", deviceId: "bob-ipad" }))
        .status,
    ).toBe(204);
    expect(tokens(await send(c2c()))).toEqual([IPHONE, PIXEL].sort());
  });

  it("a Login on Android that kicked iOS: the next message does not reach the iPhone", async () => {
    await state("bob", "Login", "Android", { KickedDevice: [{ Platform: "iOS" }] });
    const body = c2c();
    expect(tokens(await send(body))).toEqual([PIXEL]);
    const skipped = (await client.journal()).find(
      (e) => e.messageKey === body.MsgKey && e.deviceId === "bob-iphone",
    );
    expect(skipped).toMatchObject({ stage: "skipped", reason: "logged out: kicked by a login on Android" });
  });

  it("a Logout followed at once by a message: no push", async () => {
    await state("bob", "Logout", "Android");
    expect(await send(c2c())).toEqual([]);
    await state("bob", "Login", "Android");
    await state("bob", "Login", "IOS");
    expect(tokens(await send(c2c()))).toEqual([IPHONE, PIXEL].sort());
  });

  it("a message whose CloudCustomData carries OfflinePushInfo arrives with its title, body and ext", async () => {
    const info = { Title: "Order #42", Desc: "Out for delivery", Ext: '{"route":"orders/42"}' };
    const deliveries = await send(c2c({ CloudCustomData: JSON.stringify({ OfflinePushInfo: info }) }));
    const apns = deliveries.find((d) => d.token === IPHONE)!.request.body as Aps;
    expect(apns.aps.alert).toMatchObject({ title: "Order #42", body: "Out for delivery" });
    expect(apns.ext).toBe(info.Ext);
    const fcm = (
      deliveries.find((d) => d.token === PIXEL)!.request.body as {
        message: { notification: { title: string; body: string }; data: { ext: string } };
      }
    ).message;
    expect(fcm.notification).toMatchObject({ title: "Order #42", body: "Out for delivery" });
    expect(fcm.data.ext).toBe(info.Ext);
  });

  it('one with "PushFlag":1 produces no request', async () => {
    const body = c2c({ CloudCustomData: JSON.stringify({ OfflinePushInfo: { PushFlag: 1 } }) });
    expect(await send(body)).toEqual([]);
    expect((await client.journal()).find((e) => e.messageKey === body.MsgKey)).toMatchObject({
      stage: "skipped",
      reason: "the sender switched offline push off (OfflinePushInfo.PushFlag 1)",
    });
  });

  it("a group message carries a badge: the reported unread count plus the pushes since", async () => {
    expect((await client.deviceApi("PUT", "/v1/badge", "bob", { unreadCount: 10 })).status).toBe(204);
    const group = "@TGS#2MULTIDEV";
    await client.postCallback(
      { CallbackCommand: "Group.CallbackAfterCreateGroup" },
      {
        GroupId: group,
        Owner_Account: "alice",
        Type: "Public",
        Name: "Dinner",
        MemberList: [{ Member_Account: "bob" }],
        EventTime: tick(),
      },
    );
    await waitFor(async () =>
      (await client.journal()).some((e) => e.reason?.startsWith(`created ${group}`)) ? true : undefined,
    );
    const deliveries = await send(
      { ...c2c(), CallbackCommand: "Group.CallbackAfterSendMsg", GroupId: group, MsgSeq: 1 } as never,
      { CallbackCommand: "Group.CallbackAfterSendMsg" },
      `${group}#1`,
    );
    const apns = deliveries.find((d) => d.token === IPHONE)!.request.body as Aps;
    expect(apns.aps.badge).toBe(11);
    const fcm = deliveries.find((d) => d.token === PIXEL)!.request.body as {
      message: { android: { notification: { notification_count?: number } } };
    };
    expect(fcm.message.android.notification.notification_count).toBe(11);
  });

  it("recalling the older of two messages reuses the older one's collapse id, not the newer one's", async () => {
    const older = c2c();
    const collapseOf = (deliveries: SimulatedDelivery[]) =>
      deliveries.find((d) => d.token === IPHONE)!.request.headers["apns-collapse-id"];
    const olderId = collapseOf(await send(older));
    const newerId = collapseOf(await send(c2c()));
    expect(olderId).not.toBe(newerId);
    await client.clearDeliveries();
    await client.postCallback(
      { CallbackCommand: "C2C.CallbackAfterMsgWithDraw" },
      { From_Account: "alice", To_Account: "bob", MsgKey: older.MsgKey, EventTime: tick() },
    );
    const recalled = await settled(`${older.MsgKey}:recall`);
    expect(tokens(recalled)).toEqual([IPHONE, PIXEL].sort());
    expect(collapseOf(recalled)).toBe(olderId);
    expect((recalled.find((d) => d.token === IPHONE)!.request.body as Aps).aps.alert.body).toBe(
      "A message is recalled",
    );
  });

  it('a device registered with "locale":"zh-CN" sees [图片] for an image', async () => {
    await client.registerDevice("lei", "lei-mate", { vendor: "huawei", token: LEI_HUAWEI, locale: "zh-CN" });
    await client.setPresence("lei", { state: "background" });
    const deliveries = await send(
      c2c({
        To_Account: "lei",
        MsgBody: [{ MsgType: "TIMImageElem", MsgContent: { UUID: "x", ImageFormat: 1 } }],
      }),
    );
    const huawei = deliveries.find((d) => d.token === LEI_HUAWEI)!.request.body as {
      message: { android: { notification: { body: string } } };
    };
    expect(huawei.message.android.notification.body).toBe("[图片]");
  });
});

describe("presence applied at ingest: a Logout and a message sent back to back", () => {
  it("never pushes a message sent right after a Logout, and always pushes one sent right after a Login", async () => {
    const PHONE = "fA1bC2dE3fG:APA91bGracerTokenQm8Xk2Lp9Rz4Tv7Wy0Ab3Cd6Ef9Gh2Ij5Kl8Mn1Op4Qr7St0Uv3";
    await client.registerDevice("racer", "racer-phone", { vendor: "fcm", token: PHONE });
    await client.setPresence("racer", { state: "background" });
    await client.clearDeliveries();
    const ROUNDS = 15;
    const afterLogout: string[] = [];
    const afterLogin: string[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      // Each message callback is posted the moment the state change is answered, as Tencent would.
      await state("racer", "Logout", "Android");
      const out = c2c({ To_Account: "racer" });
      afterLogout.push(out.MsgKey);
      expect((await client.postCallback(C2C, out)).status).toBe(200);
      await state("racer", "Login", "Android");
      const back = c2c({ To_Account: "racer" });
      afterLogin.push(back.MsgKey);
      expect((await client.postCallback(C2C, back)).status).toBe(200);
    }
    for (const key of afterLogin) await settled(key);
    const journal = await client.journal();
    for (const key of afterLogout) {
      await waitFor(async () =>
        (await client.journal()).some((e) => e.messageKey === key) ? true : undefined,
      );
    }
    const final = await client.journal();
    // What was decided for the recipient; the sender's nickname look-up (a "profile" entry of the
    // first message whose sender chatpush has no name for, or again after a failed look-up) is not.
    for (const key of afterLogout) {
      expect(
        final.filter((e) => e.messageKey === key && e.userId === "racer").map((e) => [e.stage, e.reason]),
      ).toEqual([["skipped", "logged out"]]);
    }
    expect(
      journal.filter((e) => afterLogin.includes(e.messageKey ?? "") && e.stage === "delivered"),
    ).toHaveLength(ROUNDS);
    // Exactly one push per message sent after a Login, none for those sent after a Logout.
    expect((await client.deliveries()).filter((d) => d.token === PHONE)).toHaveLength(ROUNDS);
  });
});
