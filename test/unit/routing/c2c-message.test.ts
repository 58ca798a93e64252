import { beforeEach, describe, expect, it } from "vitest";
import type { C2CAfterSendMsg } from "../../../lib/tencent/callback.schema.js";
import { APNS_TOKEN, FakeDirectory, IPAD_TOKEN, routerHarness } from "./harness.js";

const NOW = 1_764_085_300_000;

function message(overrides: Partial<C2CAfterSendMsg> = {}): C2CAfterSendMsg {
  return {
    From_Account: "alice",
    To_Account: "bob",
    MsgSeq: 1,
    MsgRandom: 2,
    MsgTime: NOW / 1000,
    MsgKey: "1_2_3",
    OnlineOnlyFlag: 0,
    SendMsgResult: 0,
    UnreadMsgNum: 3,
    MsgBody: [{ MsgType: "TIMTextElem", MsgContent: { Text: "dinner at 7?" } }],
    ...overrides,
  };
}

describe("one-to-one messages", () => {
  let h: ReturnType<typeof routerHarness>;
  const route = (body: C2CAfterSendMsg) =>
    h.router.handle({ command: "C2C.CallbackAfterSendMsg", acceptedAt: NOW, body });
  const state = (action: string, optPlatform: string, extra: Record<string, unknown> = {}, at = NOW - 1000) =>
    h.router.handle({
      command: "State.StateChange",
      acceptedAt: NOW,
      optPlatform,
      body: { EventTime: at, Info: { Action: action, To_Account: "bob" }, ...extra },
    });

  beforeEach(async () => {
    h = routerHarness(NOW);
    // bob: an iPhone, an iPad and an Android phone, all in the background.
    await h.register({
      userId: "bob",
      deviceId: "iphone",
      vendor: "apns",
      token: APNS_TOKEN,
      certificateId: 7,
    });
    await h.register({
      userId: "bob",
      deviceId: "ipad",
      vendor: "apns",
      token: IPAD_TOKEN,
      platform: "iPad",
    });
    await h.register({ userId: "bob", deviceId: "pixel", vendor: "fcm", token: "fcm-1" });
    await h.presence.applyAppState("bob", "background", NOW - 30_000, 2);
  });

  it("queues one job per vendor with title, body, ext, the counted badge and each device's platform", async () => {
    await h.profiles.setNickname("alice", "Alice Chen", NOW - 1);
    await route(message());
    const apns = h.queue.jobs.find((j) => j.vendor === "apns")!;
    expect(apns.notification).toEqual({
      title: "Alice Chen",
      body: "dinner at 7?",
      ext: '{"conversationID":"c2c_alice"}',
      conversationId: "c2c_alice",
      messageKey: "1_2_3",
      sentAt: NOW,
    });
    expect(apns.targets).toEqual([
      { userId: "bob", deviceId: "ipad", token: IPAD_TOKEN, platform: "iPad", badge: 3 },
      { userId: "bob", deviceId: "iphone", token: APNS_TOKEN, certificateId: 7, platform: "iOS", badge: 3 },
    ]);
    expect(h.queue.jobs.find((j) => j.vendor === "fcm")!.targets).toEqual([
      { userId: "bob", deviceId: "pixel", token: "fcm-1", platform: "Android", badge: 3 },
    ]);
  });

  it("skips the iPad that reported foreground with its deviceId and pushes the phones", async () => {
    await h.presence.applyAppState("bob", "foreground", NOW - 1000, undefined, "ipad");
    await route(message());
    expect(
      h
        .pushed()
        .map((p) => p.to)
        .sort(),
    ).toEqual(["bob/iphone", "bob/pixel"]);
    expect(h.skipped()).toEqual([{ who: "bob/ipad", reason: "online in the foreground" }]);
  });

  it("stops pushing a platform kicked by a login elsewhere, until it logs in again", async () => {
    await state("Login", "Android", { KickedDevice: [{ Platform: "iOS" }] });
    await h.presence.applyAppState("bob", "background", NOW - 900);
    await route(message());
    expect(
      h
        .pushed()
        .map((p) => p.to)
        .sort(),
    ).toEqual(["bob/ipad", "bob/pixel"]);
    expect(h.skipped()).toEqual([{ who: "bob/iphone", reason: "logged out: kicked by a login on Android" }]);

    await state("Login", "IOS", {}, NOW - 500);
    await route(message({ MsgKey: "2" }));
    expect(
      h
        .pushed(h.queue.jobs.slice(2))
        .map((p) => p.to)
        .sort(),
    ).toEqual(["bob/ipad", "bob/iphone", "bob/pixel"]);
  });

  it("stops pushing the devices of a platform that logged out, not the others", async () => {
    await state("Logout", "Android");
    await route(message());
    expect(
      h
        .pushed()
        .map((p) => p.to)
        .sort(),
    ).toEqual(["bob/ipad", "bob/iphone"]);
    expect(h.skipped()).toEqual([{ who: "bob/pixel", reason: "logged out" }]);
  });

  it("ignores a Web logout: the phones are what gets pushed", async () => {
    await state("Logout", "Web");
    await route(message());
    expect(h.pushed()).toHaveLength(3);
  });

  it("counts the badge once per push since the app's last report, and not for a retried routing", async () => {
    await route(message());
    await route(message({ MsgKey: "m2" }));
    await route(message({ MsgKey: "m2" }));
    expect(h.pushed().map((p) => p.badge)).toEqual([3, 3, 3, 4, 4, 4, 4, 4, 4]);
    await h.presence.setUnreadCount("bob", 0, NOW);
    await route(message({ MsgKey: "m3" }));
    expect(h.pushed(h.queue.jobs.slice(-2)).map((p) => p.badge)).toEqual([1, 1, 1]);
  });

  it("leaves the badge alone for BadgeMode 1, and does not count it", async () => {
    await route(
      message({ CloudCustomData: JSON.stringify({ OfflinePushInfo: { ApnsInfo: { BadgeMode: 1 } } }) }),
    );
    expect(h.pushed().every((p) => p.badge === undefined)).toBe(true);
    await route(message({ MsgKey: "next" }));
    expect(h.pushed(h.queue.jobs.slice(-2))[0]!.badge).toBe(3);
  });

  it("counts no badge for a user whose devices show no number (Xiaomi, OPPO, vivo, Meizu)", async () => {
    await h.register({ userId: "carol", deviceId: "mi", vendor: "xiaomi", token: "mi-1" });
    await route(message({ To_Account: "carol" }));
    expect(h.pushed()).toEqual([expect.objectContaining({ to: "carol/mi", badge: undefined })]);
    await h.register({ userId: "carol", deviceId: "pixel", vendor: "fcm", token: "fcm-c" });
    await route(message({ To_Account: "carol", MsgKey: "k2" }));
    // The first push was not counted: carol's first badge-showing push is number 1.
    expect(
      h
        .pushed(h.queue.jobs.slice(1))
        .map((p) => [p.to, p.badge])
        .sort(),
    ).toEqual([
      ["carol/mi", undefined],
      ["carol/pixel", 1],
    ]);
  });

  it("pushes what the sender's OfflinePushInfo asks, and nothing for PushFlag 1", async () => {
    const info = { Title: "Order #42", Desc: "Out for delivery", Ext: '{"route":"orders/42"}' };
    await route(message({ CloudCustomData: JSON.stringify({ OfflinePushInfo: info }) }));
    expect(h.queue.jobs[0]!.notification).toMatchObject({
      title: "Order #42",
      body: "Out for delivery",
      ext: info.Ext,
    });

    await route(
      message({ MsgKey: "nopush", CloudCustomData: JSON.stringify({ OfflinePushInfo: { PushFlag: 1 } }) }),
    );
    expect(h.queue.jobs).toHaveLength(2);
    expect(h.journal.entries.at(-1)).toMatchObject({
      stage: "skipped",
      reason: "the sender switched offline push off (OfflinePushInfo.PushFlag 1)",
    });
  });

  it("logs each ignored option and still pushes", async () => {
    await route(
      message({
        CloudCustomData: JSON.stringify({
          OfflinePushInfo: { Title: 1, AndroidInfo: { VIVOClassification: 5 } },
        }),
      }),
    );
    expect(h.queue.jobs).toHaveLength(2);
    expect(h.journal.entries.filter((e) => e.stage === "ignored").map((e) => e.reason)).toEqual([
      "sender push option: OfflinePushInfo.Title must be a string",
      "sender push option: OfflinePushInfo.AndroidInfo.VIVOClassification must be 0 or 1",
    ]);
  });

  it("uses the custom element's Ext as the ext, and pushes a Desc-less custom element when OfflinePushInfo gives a Desc", async () => {
    await route(
      message({ MsgBody: [{ MsgType: "TIMCustomElem", MsgContent: { Desc: "Order", Ext: '{"o":7}' } }] }),
    );
    expect(h.queue.jobs[0]!.notification.ext).toBe('{"o":7}');
    await route(
      message({
        MsgKey: "x",
        MsgBody: [{ MsgType: "TIMCustomElem", MsgContent: { Data: "{}" } }],
        CloudCustomData: JSON.stringify({ OfflinePushInfo: { Desc: "You have a parcel" } }),
      }),
    );
    expect(h.queue.jobs.at(-1)!.notification.body).toBe("You have a parcel");
  });

  it("writes each device's notification in its language, one job per language", async () => {
    await h.register({ userId: "lei", deviceId: "mate", vendor: "huawei", token: "hw-1", locale: "zh-CN" });
    await h.register({ userId: "lei", deviceId: "pixel", vendor: "fcm", token: "fcm-l", locale: "en-GB" });
    await route(message({ To_Account: "lei", MsgBody: [{ MsgType: "TIMImageElem", MsgContent: {} }] }));
    expect(
      h
        .pushed()
        .map((p) => [p.to, p.body])
        .sort(),
    ).toEqual([
      ["lei/mate", "[图片]"],
      ["lei/pixel", "[Image]"],
    ]);
  });

  it("uses the configured default language for devices without a locale", async () => {
    h = routerHarness(NOW, { defaultLanguage: "zh" });
    await h.register({ userId: "bob", deviceId: "pixel", vendor: "fcm", token: "fcm-1" });
    await route(message({ MsgBody: [{ MsgType: "TIMSoundElem", MsgContent: {} }] }));
    expect(h.pushed()[0]!.body).toBe("[语音]");
  });

  it("never sends a message to a PushKit (VoIP) token", async () => {
    await h.register({
      userId: "dave",
      deviceId: "voip",
      vendor: "apns",
      token: "c".repeat(64),
      pushType: "voip",
    });
    await route(message({ To_Account: "dave" }));
    expect(h.skipped()).toEqual([{ who: "dave", reason: "no registered device" }]);
  });

  it("asks Tencent's directory once for a sender without a known nickname, and keeps the answer", async () => {
    const directory = new FakeDirectory({ erin: "Erin Wu" });
    h = routerHarness(NOW, { directory });
    await h.register({ userId: "bob", deviceId: "pixel", vendor: "fcm", token: "fcm-1" });
    await route(message({ From_Account: "erin" }));
    await route(message({ From_Account: "erin", MsgKey: "again" }));
    await route(message({ From_Account: "frank", MsgKey: "f1" }));
    await route(message({ From_Account: "frank", MsgKey: "f2" }));
    expect(h.pushed().map((p) => p.title)).toEqual(["Erin Wu", "Erin Wu", "frank", "frank"]);
    expect(directory.asked).toEqual([["erin"], ["frank"]]);
  });

  it("reads nothing of the sender when their OfflinePushInfo gives the title", async () => {
    const directory = new FakeDirectory({ erin: "Erin Wu" });
    h = routerHarness(NOW, { directory });
    await h.register({ userId: "bob", deviceId: "pixel", vendor: "fcm", token: "fcm-1" });
    const titled = JSON.stringify({ OfflinePushInfo: { Title: "Order #42" } });
    await route(message({ From_Account: "erin", CloudCustomData: titled }));
    expect(directory.asked).toEqual([]);
    await route(message({ From_Account: "erin", MsgKey: "untitled" }));
    expect(h.pushed().map((p) => p.title)).toEqual(["Order #42", "Erin Wu"]);
    expect(directory.asked).toEqual([["erin"]]);
  });

  it("titles the push with the user ID when the look-up fails, and asks again next time", async () => {
    const directory = new FakeDirectory();
    directory.failWith = new Error("Tencent REST v4/profile/portrait_get failed: ErrorCode 60007");
    h = routerHarness(NOW, { directory });
    await h.register({ userId: "bob", deviceId: "pixel", vendor: "fcm", token: "fcm-1" });
    await route(message());
    await route(message({ MsgKey: "2" }));
    expect(h.pushed().map((p) => p.title)).toEqual(["alice", "alice"]);
    expect(directory.asked).toHaveLength(2);
  });

  it.each([
    ["an online-only message", { OnlineOnlyFlag: 1 }, "online-only message"],
    ["a failed send", { SendMsgResult: 80001, UnreadMsgNum: -1 }, "send failed (80001)"],
    ["a message to oneself", { To_Account: "alice" }, "recipient is the sender"],
    [
      "a custom element without Desc",
      { MsgBody: [{ MsgType: "TIMCustomElem", MsgContent: { Data: "{}" } }] },
      "nothing to show (custom element without Desc)",
    ],
  ])("does not push %s", async (_name, overrides, reason) => {
    await route(message(overrides as Partial<C2CAfterSendMsg>));
    expect(h.queue.jobs).toEqual([]);
    expect(h.journal.entries).toEqual([expect.objectContaining({ stage: "skipped", reason })]);
  });

  it("skips a recipient with no device, and one who muted the conversation", async () => {
    await route(message({ To_Account: "dave" }));
    await h.preferences.setConversationOpt("bob", "c2c_alice", 2, NOW - 1);
    await route(message());
    expect(h.skipped()).toEqual([
      { who: "dave", reason: "no registered device" },
      { who: "bob", reason: "conversation muted" },
    ]);
  });
});
