import { beforeEach, describe, expect, it } from "vitest";
import type { DeliveryJob } from "../../../lib/model/index.js";
import { CALL_EXPIRY_COMMAND, callCollapseKey, expiryKey } from "../../../lib/routing/calls.js";
import type { C2CAfterSendMsg, GroupAfterSendMsg } from "../../../lib/tencent/callback.schema.js";
import { FixedClock } from "../../support/fakes.js";
import { CapturingExpiryQueue, MemoryCallStore } from "../../support/memory-call-store.js";
import { FakeDirectory, IPAD_TOKEN, routerHarness } from "./harness.js";

const NOW = Date.UTC(2026, 11, 2, 12, 0, 0);
const INVITE = "7f3c9a1e-call";
const G = "@TGS#2Q7ZWBTEA";
const VOIP_TOKEN = "c0ffee00".repeat(8);
const ALERT_TOKEN = "a1e47000".repeat(8);

/** TUICallKit's signaling Data: the envelope (businessID 1) around its double-encoded call JSON. */
function signaling(actionType: number, cmd: string | undefined, extra: Record<string, unknown> = {}) {
  const call = {
    version: 4,
    businessID: "av_call",
    platform: "Android",
    call_type: cmd === "audioCall" ? 1 : 2,
    room_id: 91544,
    ...(cmd !== undefined ? { data: { cmd, room_id: 91544, userIDs: ["bob"] } } : {}),
  };
  return JSON.stringify({
    businessID: 1,
    inviteID: INVITE,
    inviter: "alice",
    actionType,
    inviteeList: ["bob"],
    groupID: "",
    timeout: 30,
    data: JSON.stringify(call),
    ...extra,
  });
}

function c2c(data: string, overrides: Partial<C2CAfterSendMsg> = {}): C2CAfterSendMsg {
  return {
    From_Account: "alice",
    To_Account: "bob",
    MsgSeq: 1,
    MsgRandom: 2,
    MsgTime: NOW / 1000,
    MsgKey: "1_2_invite",
    OnlineOnlyFlag: 0,
    SendMsgResult: 0,
    UnreadMsgNum: 1,
    MsgBody: [{ MsgType: "TIMCustomElem", MsgContent: { Data: data, Desc: "", Ext: "", Sound: "" } }],
    ...overrides,
  };
}

describe("calls", () => {
  let h: ReturnType<typeof routerHarness>;
  let store: MemoryCallStore;
  let expiry: CapturingExpiryQueue;
  let clock: FixedClock;

  const route = (body: C2CAfterSendMsg, at = NOW) =>
    h.router.handle({ command: "C2C.CallbackAfterSendMsg", acceptedAt: at, body });
  const invite = (overrides: Partial<C2CAfterSendMsg> = {}) =>
    route(c2c(signaling(1, "videoCall"), overrides));
  /** The jobs queued since `from`, as (device, vendor, call action, body, collapse key, VoIP?). */
  const sent = (jobs: DeliveryJob[]) =>
    jobs.flatMap((job) =>
      job.targets.map((t) => ({
        to: `${t.userId}/${t.deviceId}`,
        vendor: job.vendor,
        voip: t.pushType === "voip",
        action: job.notification.call?.action,
        body: job.notification.body,
        collapseKey: job.notification.collapseKey,
      })),
    );
  const since = (n: number) => sent(h.queue.jobs.slice(n));

  beforeEach(async () => {
    // One clock for the router and the call store (records expire by it).
    clock = new FixedClock(NOW);
    store = new MemoryCallStore(clock);
    expiry = new CapturingExpiryQueue();
    h = routerHarness(NOW, {
      directory: new FakeDirectory({ alice: "Alice Chen" }),
      calls: { store, expiry },
      clock,
    });
    // bob: an iPhone with its alert token and its PushKit token, and an Android phone.
    await h.register({ userId: "bob", deviceId: "iphone", vendor: "apns", token: ALERT_TOKEN, locale: "en" });
    await h.register({
      userId: "bob",
      deviceId: "iphone",
      vendor: "apns",
      token: VOIP_TOKEN,
      pushType: "voip",
    });
    await h.register({ userId: "bob", deviceId: "pixel", vendor: "fcm", token: "fcm-bob" });
    await h.presence.applyAppState("bob", "background", NOW - 30_000);
  });

  it("rings each of bob's phones once: a VoIP push to the iPhone (not its alert token), FCM to the Android", async () => {
    await invite();
    expect(sent(h.queue.jobs)).toEqual([
      {
        to: "bob/iphone",
        vendor: "apns",
        voip: true,
        action: "ring",
        body: "You have a new call",
        collapseKey: callCollapseKey(INVITE),
      },
      {
        to: "bob/pixel",
        vendor: "fcm",
        voip: false,
        action: "ring",
        body: "You have a new call",
        collapseKey: callCollapseKey(INVITE),
      },
    ]);
    const ring = h.queue.jobs[0]!.notification;
    expect(ring).toMatchObject({
      title: "Alice Chen",
      purpose: "call",
      conversationId: "c2c_alice",
      call: {
        action: "ring",
        inviteId: INVITE,
        callerId: "alice",
        callerName: "Alice Chen",
        media: "video",
        invitees: ["bob"],
        timeoutSeconds: 30,
        invitedAt: NOW,
        roomId: "91544",
      },
      ios: { subtitle: "Video Call" },
    });
    // TUIKit's push ext: action 2 = REDIRECT_ACTION_CALL, content = TUICalling's CallModel.
    const entity = JSON.parse(ring.ext!).entity;
    expect(entity).toMatchObject({ chatType: 1, action: 2, sender: "alice", nickname: "Alice Chen" });
    expect(JSON.parse(entity.content)).toMatchObject({ call_id: INVITE, call_type: 2, room_id: 91544 });
    // chatpush's own end at the timeout (plus the grace), on the ingest queue.
    expect(expiry.scheduled).toEqual([
      { task: { inviteId: INVITE, endsAt: NOW + 30_000, hop: 0 }, delaySeconds: 32 },
    ]);
  });

  it("an audio call says so on iOS", async () => {
    await route(c2c(signaling(1, "audioCall")));
    expect(h.queue.jobs[0]!.notification).toMatchObject({
      call: { media: "audio" },
      ios: { subtitle: "Voice Call" },
    });
  });

  it("never rings twice for one invitation (another callback naming it), but a retry re-queues the same ring", async () => {
    await invite();
    const first = h.queue.jobs.length;
    await invite({ MsgKey: "9_9_dup", MsgSeq: 9 });
    expect(since(first)).toEqual([]);
    expect(h.skipped()).toContainEqual({ who: "bob", reason: "already rung for this invitation" });
    // The same callback again (an ingest retry): the same jobs, which the delivery log de-duplicates.
    await invite();
    expect(since(first)).toEqual(sent(h.queue.jobs.slice(0, first)));
  });

  it.each([
    ["cancel (2) from the caller", c2c(signaling(2, undefined), { MsgKey: "2_2_cancel" }), "Missed call"],
    ["timeout (5)", c2c(signaling(5, undefined), { MsgKey: "5_5_timeout" }), "Missed call"],
    [
      "accept (3) from bob",
      c2c(signaling(3, undefined), { From_Account: "bob", To_Account: "alice", MsgKey: "3_3_accept" }),
      "Connected",
    ],
    [
      "reject (4) from bob",
      c2c(signaling(4, undefined), { From_Account: "bob", To_Account: "alice", MsgKey: "4_4_reject" }),
      "Declined",
    ],
    [
      "busy (4, line_busy) from bob",
      c2c(
        signaling(4, undefined, { data: JSON.stringify({ businessID: "av_call", line_busy: "line_busy" }) }),
        {
          From_Account: "bob",
          To_Account: "alice",
          MsgKey: "4_4_busy",
        },
      ),
      "Missed call",
    ],
  ])(
    "%s ends the ring on the rung Android phone with the same key, and sends no VoIP push",
    async (_, end, body) => {
      await invite();
      const rung = h.queue.jobs.length;
      await route(end);
      const missed = body === "Missed call";
      const replaced = (to: string, vendor: string) => ({
        to,
        vendor,
        voip: false,
        action: "ended",
        body,
        collapseKey: callCollapseKey(INVITE),
      });
      // The iPhone rang over PushKit: a missed call is told on its alert token (never a VoIP push); an
      // answer or a decline there is the app's own business.
      expect(since(rung)).toEqual([
        ...(missed ? [replaced("bob/iphone", "apns")] : []),
        replaced("bob/pixel", "fcm"),
      ]);
      const iphone = h.queue.jobs
        .slice(rung)
        .flatMap((j) => j.targets.filter((t) => t.deviceId === "iphone"));
      expect(iphone.map((t) => t.token)).toEqual(missed ? [ALERT_TOKEN] : []);
      for (const job of h.queue.jobs.slice(rung)) {
        expect(job.notification).toMatchObject({ quiet: true, purpose: "call", title: "Alice Chen" });
      }
      if (!missed) {
        expect(h.skipped()).toContainEqual({
          who: "bob/iphone",
          reason: "rang over PushKit: no VoIP push ends a call, the app ends its CallKit call",
        });
      }
      // Ended once: the same end from another callback, or chatpush's expiry, queues nothing more.
      const ended = h.queue.jobs.length;
      await route({ ...end, MsgKey: `${end.MsgKey}-again` });
      clock.nowMs = NOW + 32_000;
      await h.router.handle({
        command: CALL_EXPIRY_COMMAND,
        acceptedAt: NOW + 32_000,
        body: { inviteId: INVITE, endsAt: NOW + 30_000, hop: 0 },
      });
      expect(since(ended)).toEqual([]);
    },
  );

  it("replaces an iPhone alert ring (no VoIP token) with a quiet Missed call on the same key", async () => {
    await h.register({
      userId: "bob",
      deviceId: "ipad",
      vendor: "apns",
      token: IPAD_TOKEN,
      platform: "iPad",
    });
    await invite();
    expect(since(0).filter((s) => s.to === "bob/ipad")).toEqual([
      {
        to: "bob/ipad",
        vendor: "apns",
        voip: false,
        action: "ring",
        body: "You have a new call",
        collapseKey: callCollapseKey(INVITE),
      },
    ]);
    const rung = h.queue.jobs.length;
    await route(c2c(signaling(2, undefined), { MsgKey: "2_2_cancel" }));
    expect(since(rung).map((s) => `${s.to} ${s.vendor} ${s.body}`)).toEqual([
      "bob/ipad apns Missed call",
      "bob/iphone apns Missed call",
      "bob/pixel fcm Missed call",
    ]);
  });

  it("a phone rung over PushKit without an alert token gets nothing for the end", async () => {
    await h.devices.remove("bob", "iphone", ALERT_TOKEN);
    await invite();
    const rung = h.queue.jobs.length;
    await route(c2c(signaling(2, undefined), { MsgKey: "2_2_cancel" }));
    expect(since(rung).map((s) => s.to)).toEqual(["bob/pixel"]);
    expect(h.skipped()).toContainEqual({
      who: "bob/iphone",
      reason: "rang over PushKit and no alert token for the Missed call: the app ends its CallKit call",
    });
  });

  it("writes the ring and the Missed call in each device's language", async () => {
    await h.register({ userId: "bob", deviceId: "pixel", vendor: "fcm", token: "fcm-bob", locale: "zh-CN" });
    await invite();
    expect(since(0).find((s) => s.to === "bob/pixel")!.body).toBe("您有一个新的通话");
    const rung = h.queue.jobs.length;
    await route(c2c(signaling(2, undefined), { MsgKey: "2_2_cancel" }));
    // The iPhone (its alert registration says "en") reads English, the Android phone Chinese.
    expect(since(rung).map((s) => `${s.to} ${s.body}`)).toEqual([
      "bob/iphone Missed call",
      "bob/pixel 未接来电",
    ]);
  });

  it("chatpush's own expiry ends a ring nobody ended, once it is due", async () => {
    await invite();
    const rung = h.queue.jobs.length;
    // Too early (a clock apart): put back, nothing sent.
    await h.router.handle({
      command: CALL_EXPIRY_COMMAND,
      acceptedAt: NOW + 5_000,
      body: { inviteId: INVITE, endsAt: NOW + 30_000, hop: 0 },
    });
    expect(since(rung)).toEqual([]);
    expect(expiry.scheduled.at(-1)).toMatchObject({ task: { hop: 1 } });
    clock.nowMs = NOW + 32_000;
    await h.router.handle({
      command: CALL_EXPIRY_COMMAND,
      acceptedAt: NOW + 32_000,
      body: { inviteId: INVITE, endsAt: NOW + 30_000, hop: 0 },
    });
    expect(since(rung)).toEqual([
      expect.objectContaining({ to: "bob/iphone", voip: false, action: "ended", body: "Missed call" }),
      expect.objectContaining({ to: "bob/pixel", action: "ended", body: "Missed call" }),
    ]);
    expect(h.queue.jobs.at(-1)!.notification.messageKey).toBe(expiryKey(INVITE));
    // The SDK's late timeout finds it over.
    const ended = h.queue.jobs.length;
    await route(c2c(signaling(5, undefined), { MsgKey: "5_5_timeout" }));
    expect(since(ended)).toEqual([]);
  });

  it("an accept routed before its invite keeps the late invite from ringing", async () => {
    await route(
      c2c(signaling(3, undefined), { From_Account: "bob", To_Account: "alice", MsgKey: "3_3_accept" }),
    );
    await invite();
    expect(h.queue.jobs).toEqual([]);
    expect(h.skipped()).toContainEqual({ who: "bob", reason: "the call already ended for them (answered)" });
  });

  it("a cancel routed before its invite keeps the invite from ringing anybody", async () => {
    await route(c2c(signaling(2, undefined), { MsgKey: "2_2_cancel" }));
    await invite();
    expect(h.queue.jobs).toEqual([]);
    expect(h.skipped()).toContainEqual({ who: "", reason: "the call already ended (cancelled)" });
  });

  it.each([
    ["an OnlineOnlyFlag 1 invitation", c2c(signaling(1, "videoCall"), { OnlineOnlyFlag: 1 })],
    ["a failed send", c2c(signaling(1, "videoCall"), { SendMsgResult: 20003 })],
    [
      "a hang-up (call_end)",
      c2c(
        signaling(1, undefined, {
          inviteID: "hangup-1",
          timeout: 0,
          data: JSON.stringify({ businessID: "av_call", call_end: 63 }),
        }),
      ),
    ],
    ["a hang-up (cmd)", c2c(signaling(1, "hangup", { inviteID: "hangup-2" }))],
    ["a media switch", c2c(signaling(1, "switchToAudio"))],
    [
      "TUICalling's online-only helper",
      c2c(JSON.stringify({ businessID: "av_call", call_type: 2 }), { OnlineOnlyFlag: 1 }),
    ],
  ])("%s pushes nothing", async (_, message) => {
    await route(message);
    expect(h.queue.jobs).toEqual([]);
    expect(expiry.scheduled).toEqual([]);
  });

  it("drops an invitation older than MsgTime + timeout", async () => {
    clock.nowMs = NOW + 31_000;
    await invite();
    expect(h.queue.jobs).toEqual([]);
    expect(h.skipped()[0]!.reason).toMatch(/rang out/);
  });

  it("does not ring an iPhone in the foreground (the SDK rings it)", async () => {
    await h.presence.applyAppState("bob", "foreground", NOW - 1000, undefined, "iphone");
    await invite();
    expect(since(0).map((s) => s.to)).toEqual(["bob/pixel"]);
  });

  it("rings through a chat mute (receive without notification) but not 'receive nothing' nor do-not-disturb", async () => {
    await h.preferences.setConversationOpt("bob", "c2c_alice", 2, NOW - 1);
    await invite();
    expect(since(0)).toHaveLength(2);
    await h.preferences.setConversationOpt("bob", "c2c_alice", 1, NOW);
    await invite({ MsgKey: "x", MsgBody: c2c(signaling(1, "videoCall", { inviteID: "second" })).MsgBody });
    expect(since(2)).toEqual([]);
    expect(h.skipped()).toContainEqual({
      who: "bob",
      reason: "conversation muted: receive nothing (calls too)",
    });
  });

  it("an av_call custom message sent for offline users (not TUICalling's online-only helper) is pushed by its Desc", async () => {
    await route(
      c2c("", {
        MsgBody: [
          {
            MsgType: "TIMCustomElem",
            MsgContent: { Data: '{"businessID":"av_call","call_type":2}', Desc: "Incoming video call" },
          },
        ],
      }),
    );
    expect(sent(h.queue.jobs).map((s) => `${s.to} ${s.body}`)).toEqual([
      "bob/iphone Incoming video call",
      "bob/pixel Incoming video call",
    ]);
  });

  it("a message that is not signaling goes on to the chat handler", async () => {
    await route(c2c("", { MsgBody: [{ MsgType: "TIMTextElem", MsgContent: { Text: '{"businessID":1}' } }] }));
    expect(sent(h.queue.jobs).map((s) => s.body)).toEqual(['{"businessID":1}', '{"businessID":1}']);
    expect(h.queue.jobs.every((j) => j.notification.purpose !== "call")).toBe(true);
  });

  describe("group calls", () => {
    const group = (data: string, overrides: Partial<GroupAfterSendMsg> = {}) =>
      h.router.handle({
        command: "Group.CallbackAfterSendMsg",
        acceptedAt: NOW,
        body: {
          GroupId: G,
          Type: "Work",
          From_Account: "alice",
          MsgSeq: 42,
          MsgTime: NOW / 1000,
          MsgBody: [{ MsgType: "TIMCustomElem", MsgContent: { Data: data, Desc: "", Ext: "", Sound: "" } }],
          ...overrides,
        },
      });

    beforeEach(async () => {
      for (const user of ["alice", "carol", "erin"]) {
        await h.register({ userId: user, deviceId: `${user}-phone`, vendor: "fcm", token: `tok-${user}` });
        await h.presence.applyAppState(user, "background", NOW - 60_000);
      }
      await h.router.handle({
        command: "Group.CallbackAfterCreateGroup",
        acceptedAt: NOW,
        body: {
          GroupId: G,
          Owner_Account: "alice",
          Type: "Work",
          Name: "Design team",
          MemberList: ["alice", "bob", "carol", "erin"].map((m) => ({ Member_Account: m })),
        },
      });
    });

    const groupInvite = (overrides: Partial<GroupAfterSendMsg> = {}) =>
      group(signaling(1, "videoCall", { groupID: G, inviteeList: ["bob", "erin", "alice"] }), overrides);

    it("rings the inviteeList only (never the caller nor the whole group), once", async () => {
      await groupInvite();
      expect(since(0).map((s) => `${s.to} ${s.vendor}${s.voip ? " voip" : ""}`)).toEqual([
        "bob/iphone apns voip",
        "bob/pixel fcm",
        "erin/erin-phone fcm",
      ]);
      expect(h.queue.jobs[0]!.notification).toMatchObject({
        conversationId: `group_${G}`,
        call: { groupId: G, invitees: ["bob", "erin", "alice"] },
      });
      expect(JSON.parse(JSON.parse(h.queue.jobs[0]!.notification.ext!).entity.content).group_id).toBe(G);
      // TUICalling's per-invitee helper (C2C, online only) and another group callback: no second ring.
      const rung = h.queue.jobs.length;
      await route(c2c(JSON.stringify({ businessID: "av_call", call_type: 2 }), { OnlineOnlyFlag: 1 }));
      await groupInvite({ MsgSeq: 43 });
      expect(since(rung)).toEqual([]);
    });

    it("a reject by one invitee ends only theirs; the cancel ends the rest", async () => {
      await groupInvite();
      const rung = h.queue.jobs.length;
      await group(signaling(4, undefined, { groupID: G, inviteeList: ["erin"] }), {
        From_Account: "erin",
        MsgSeq: 44,
      });
      expect(since(rung)).toEqual([expect.objectContaining({ to: "erin/erin-phone", body: "Declined" })]);
      const rejected = h.queue.jobs.length;
      await group(signaling(2, undefined, { groupID: G, inviteeList: ["bob", "erin"] }), { MsgSeq: 45 });
      expect(since(rejected).map((s) => `${s.to} ${s.vendor} ${s.body}`)).toEqual([
        "bob/iphone apns Missed call",
        "bob/pixel fcm Missed call",
      ]);
    });

    it("an online-only group call or an AVChatRoom's rings nobody", async () => {
      await groupInvite({ OnlineOnlyFlag: 1 });
      await group(signaling(1, "videoCall", { groupID: G, inviteeList: ["bob"], inviteID: "av" }), {
        Type: "AVChatRoom",
        MsgSeq: 50,
      });
      expect(h.queue.jobs).toEqual([]);
    });
  });
});
