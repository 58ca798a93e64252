import { beforeEach, describe, expect, it } from "vitest";
import type { C2CAfterSendMsg, GroupAfterSendMsg } from "../../../lib/tencent/callback.schema.js";
import { routerHarness } from "../routing/harness.js";

/**
 * Issue 11 item 2: messages an app server sends with REST `sendmsg` / `send_group_msg` reach Tencent's
 * callbacks with `OptPlatform` RESTAPI (tencent-chat.md §5.2) and, without `From_Account`, the admin as
 * sender. Their OfflinePushInfo travels in CloudCustomData (issue 6's convention) and is honoured; the
 * title is the configured display name, not the account id "administrator".
 */
const NOW = 1_764_085_300_000;

function c2c(overrides: Partial<C2CAfterSendMsg> = {}): C2CAfterSendMsg {
  return {
    From_Account: "administrator",
    To_Account: "bob",
    MsgSeq: 9,
    MsgRandom: 99,
    MsgTime: NOW / 1000,
    MsgKey: "9_99_1764085300",
    OnlineOnlyFlag: 0,
    SendMsgResult: 0,
    MsgBody: [{ MsgType: "TIMTextElem", MsgContent: { Text: "Your parcel is at the door" } }],
    ...overrides,
  };
}

describe("messages the admin sends over REST", () => {
  let h: ReturnType<typeof routerHarness>;
  const route = (body: C2CAfterSendMsg) =>
    h.router.handle({ command: "C2C.CallbackAfterSendMsg", acceptedAt: NOW, optPlatform: "RESTAPI", body });

  beforeEach(async () => {
    h = routerHarness(NOW, { admin: { identifier: "administrator", displayName: "Acme Delivery" } });
    await h.register({ userId: "bob", deviceId: "pixel", vendor: "fcm", token: "fcm-1" });
    await h.register({ userId: "bob", deviceId: "mate", vendor: "huawei", token: "hw-1" });
    await h.presence.applyAppState("bob", "background", NOW - 30_000);
  });

  it("are titled with the admin's display name", async () => {
    await route(c2c());
    expect(h.pushed().map((p) => [p.to, p.title, p.body])).toEqual(
      expect.arrayContaining([
        ["bob/pixel", "Acme Delivery", "Your parcel is at the door"],
        ["bob/mate", "Acme Delivery", "Your parcel is at the door"],
      ]),
    );
    expect(h.pushed()).toHaveLength(2);
  });

  it("honour the OfflinePushInfo in CloudCustomData: title, desc and the vendors' classification", async () => {
    const info = {
      Title: "Parcel delivered",
      Desc: "Left with your neighbour",
      AndroidInfo: { HuaWeiCategory: "EXPRESS", GooglePriority: "normal" },
    };
    await route(c2c({ CloudCustomData: JSON.stringify({ OfflinePushInfo: info }) }));
    const [job] = h.queue.jobs.filter((j) => j.vendor === "huawei");
    expect(job?.notification).toMatchObject({
      title: "Parcel delivered",
      body: "Left with your neighbour",
      android: { huaweiCategory: "EXPRESS", googlePriority: "normal" },
    });
  });

  it("are titled with the account id when no display name is configured, as before", async () => {
    h = routerHarness(NOW);
    await h.register({ userId: "bob", deviceId: "pixel", vendor: "fcm", token: "fcm-1" });
    await h.presence.applyAppState("bob", "background", NOW - 30_000);
    await route(c2c());
    expect(h.pushed()[0]?.title).toBe("administrator");
  });

  it("name the admin in a group body too", async () => {
    await h.groups.putGroup({ groupId: "@TGS#1", name: "Hikers", updatedAt: NOW - 1 });
    await h.groups.addMembers("@TGS#1", ["bob", "administrator"]);
    const body: GroupAfterSendMsg = {
      GroupId: "@TGS#1",
      Type: "Public",
      From_Account: "administrator",
      MsgSeq: 3,
      MsgTime: NOW / 1000,
      OnlineOnlyFlag: 0,
      MsgBody: [{ MsgType: "TIMTextElem", MsgContent: { Text: "Trail closed today" } }],
    } as GroupAfterSendMsg;
    await h.router.handle({
      command: "Group.CallbackAfterSendMsg",
      acceptedAt: NOW,
      optPlatform: "RESTAPI",
      body,
    });
    expect(h.pushed()[0]).toMatchObject({ title: "Hikers", body: "Acme Delivery: Trail closed today" });
  });
});
