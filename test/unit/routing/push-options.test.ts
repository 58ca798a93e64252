import { describe, expect, it } from "vitest";
import { composeNotification, type MessageContent } from "../../../lib/routing/compose.js";
import { senderPushOptions } from "../../../lib/routing/push-options.js";

const data = (info: unknown) => JSON.stringify({ OfflinePushInfo: info, appField: 1 });

describe("senderPushOptions: Tencent's OfflinePushInfo inside CloudCustomData", () => {
  it("reads Tencent's REST field names into the notification's options", () => {
    const { options, problems } = senderPushOptions(
      data({
        PushFlag: 0,
        Title: "Order #42",
        Desc: "Your parcel is out for delivery",
        Ext: '{"route":"orders/42"}',
        AndroidInfo: {
          Sound: "parcel",
          HuaWeiChannelID: "orders",
          HuaWeiCategory: "EXPRESS",
          HuaWeiImportance: "NORMAL",
          HuaWeiImage: "https://example.com/h.png",
          HonorImportance: "LOW",
          XiaoMiChannelID: "high_system",
          OPPOChannelID: "orders",
          OPPOCategory: "EXPRESS",
          OPPONotifyLevel: 16,
          VIVOClassification: 1,
          VIVOCategory: "EXPRESS",
          GoogleChannelID: "orders",
          GoogleImage: "https://example.com/g.png",
          GooglePriority: "high",
          MeiZuNoticeMsgType: 1,
          PushStyle: 1,
        },
        ApnsInfo: {
          Sound: "parcel.caf",
          BadgeMode: 0,
          Title: "Order #42 (iOS)",
          SubTitle: "Today",
          Image: "https://example.com/a.png",
          MutableContent: 1,
          InterruptionLevel: "time-sensitive",
        },
      }),
    );
    expect(problems).toEqual([]);
    expect(options).toEqual({
      title: "Order #42",
      desc: "Your parcel is out for delivery",
      ext: '{"route":"orders/42"}',
      android: {
        sound: "parcel",
        huaweiChannelId: "orders",
        huaweiCategory: "EXPRESS",
        huaweiImportance: "NORMAL",
        huaweiImage: "https://example.com/h.png",
        honorImportance: "LOW",
        xiaomiChannelId: "high_system",
        oppoChannelId: "orders",
        oppoCategory: "EXPRESS",
        oppoNotifyLevel: 16,
        vivoClassification: 1,
        vivoCategory: "EXPRESS",
        googleChannelId: "orders",
        googleImage: "https://example.com/g.png",
        googlePriority: "high",
        meizuNoticeMsgType: 1,
      },
      ios: {
        sound: "parcel.caf",
        title: "Order #42 (iOS)",
        subtitle: "Today",
        image: "https://example.com/a.png",
        mutableContent: true,
        interruptionLevel: "time-sensitive",
      },
    });
  });

  it("reads PushFlag 1 as no push and BadgeMode 1 as leave the badge alone", () => {
    expect(senderPushOptions(data({ PushFlag: 1 })).options).toEqual({ noPush: true });
    expect(senderPushOptions(data({ ApnsInfo: { BadgeMode: "1" } })).options).toEqual({ noBadge: true });
  });

  it('reads ApnsInfo.Sound "push.no_sound" as silent, never as a file name', () => {
    expect(senderPushOptions(data({ ApnsInfo: { Sound: "push.no_sound" } })).options).toEqual({
      ios: { silent: true },
    });
  });

  it("drops each invalid field on its own, says why, and keeps the rest", () => {
    const { options, problems } = senderPushOptions(
      data({
        PushFlag: 7,
        Title: 42,
        Desc: "still here",
        Ext: "not json",
        AndroidInfo: {
          OPPONotifyLevel: 3,
          HuaWeiImage: "http://insecure.example/x.png",
          XiaoMiChannelID: "ok",
        },
        ApnsInfo: { InterruptionLevel: "loud", Sound: "" },
      }),
    );
    expect(options).toEqual({ desc: "still here", android: { xiaomiChannelId: "ok" } });
    expect(problems).toEqual([
      "OfflinePushInfo.PushFlag must be 0 or 1",
      "OfflinePushInfo.Title must be a string",
      "OfflinePushInfo.Ext must be a JSON string (some Android vendors drop a push whose ext is not JSON)",
      "OfflinePushInfo.AndroidInfo.HuaWeiImage must be an https:// URL",
      "OfflinePushInfo.AndroidInfo.OPPONotifyLevel must be 1, 2 or 16",
      "OfflinePushInfo.ApnsInfo.Sound is empty",
      'OfflinePushInfo.ApnsInfo.InterruptionLevel must be "passive", "active", "time-sensitive" or "critical"',
    ]);
  });

  it("ignores CloudCustomData that is the app's own business, and reports a broken one", () => {
    expect(senderPushOptions(undefined)).toEqual({ options: {}, problems: [] });
    expect(senderPushOptions("plain text the app stores")).toEqual({ options: {}, problems: [] });
    expect(senderPushOptions('{"OfflinePushInfo": {')).toEqual({
      options: {},
      problems: ["CloudCustomData mentions OfflinePushInfo but is not JSON"],
    });
    expect(senderPushOptions('{"OfflinePushInfo": "Title"}').problems).toEqual([
      "OfflinePushInfo must be a JSON object",
    ]);
  });
});

describe("composeNotification", () => {
  const content: MessageContent = {
    conversationId: "c2c_alice",
    messageKey: "k1",
    sentAt: 1,
    title: "Alice",
    bodies: { en: "[Image]", zh: "[图片]" },
    ext: '{"custom":true}',
    sound: "ring.caf",
    options: {},
  };

  it("writes the body in the device's language, with the mention marker first", () => {
    expect(composeNotification(content, "zh", "you").body).toBe("[有人@我] [图片]");
    expect(composeNotification(content, "en", "all").body).toBe("[@All] [Image]");
  });

  it("lets the sender's options win over the custom element's, and silence drop its sound", () => {
    const n = composeNotification(
      {
        ...content,
        options: { title: "T", desc: "D", ext: '{"o":1}', ios: { silent: true }, android: { sound: "x" } },
      },
      "en",
    );
    expect(n).toMatchObject({
      title: "T",
      body: "D",
      ext: '{"o":1}',
      ios: { silent: true },
      android: { sound: "x" },
    });
    expect(n.ios?.sound).toBeUndefined();
    expect(composeNotification(content, "en").ios).toEqual({ sound: "ring.caf" });
  });
});
