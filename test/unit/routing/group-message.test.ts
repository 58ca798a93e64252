import { beforeEach, describe, expect, it } from "vitest";
import { FANOUT_COMMAND } from "../../../lib/routing/fanout.js";
import type { GroupAfterSendMsg } from "../../../lib/tencent/callback.schema.js";
import { FakeDirectory, routerHarness } from "./harness.js";

const NOW = Date.UTC(2026, 10, 25, 12, 0, 0);
const G = "@TGS#2Q7ZWBTEA";
const CONV = `group_${G}`;
const COMMUNITY = "@TGS#_@TGS#cQVLVHIM62CJ";
const TOPIC = `${COMMUNITY}@TOPIC#_gear`;

describe("group messages", () => {
  let h: ReturnType<typeof routerHarness>;

  const build = async (overrides: Parameters<typeof routerHarness>[1] = {}) => {
    h = routerHarness(NOW, overrides);
    for (const user of ["alice", "bob", "carol", "dave", "erin", "frank", "grace"]) {
      await h.register({ userId: user, deviceId: `${user}-phone`, vendor: "fcm", token: `tok-${user}` });
      await h.presence.applyAppState(user, "background", NOW - 60_000);
    }
    await h.router.handle({
      command: "Group.CallbackAfterCreateGroup",
      acceptedAt: NOW,
      body: {
        GroupId: G,
        Owner_Account: "alice",
        Type: "Public",
        Name: "Weekend hiking",
        MemberList: ["bob", "carol", "dave", "erin"].map((m) => ({ Member_Account: m })),
      },
    });
    await h.router.handle({
      command: "Group.CallbackAfterNewMemberJoin",
      acceptedAt: NOW,
      body: { GroupId: G, NewMemberList: [{ Member_Account: "frank" }] },
    });
  };
  beforeEach(() => build());

  const message = (overrides: Partial<GroupAfterSendMsg> = {}): GroupAfterSendMsg => ({
    GroupId: G,
    Type: "Public",
    From_Account: "alice",
    MsgSeq: 42,
    MsgTime: NOW / 1000,
    MsgBody: [{ MsgType: "TIMTextElem", MsgContent: { Text: "meet at 8" } }],
    ...overrides,
  });
  const send = (overrides: Partial<GroupAfterSendMsg> = {}) =>
    h.router.handle({ command: "Group.CallbackAfterSendMsg", acceptedAt: NOW, body: message(overrides) });
  const recipients = () =>
    h
      .pushed()
      .map((p) => p.to.split("/")[0])
      .sort();

  it("pushes every member but the sender, titled with the group, each with a counted badge", async () => {
    await send();
    expect(recipients()).toEqual(["bob", "carol", "dave", "erin", "frank"]);
    expect(h.queue.jobs[0]!.notification).toMatchObject({
      title: "Weekend hiking",
      body: "alice: meet at 8",
      ext: `{"conversationID":"${CONV}"}`,
      conversationId: CONV,
      messageKey: `${G}#42`,
    });
    expect(h.pushed().map((p) => p.badge)).toEqual([1, 1, 1, 1, 1]);
    await h.presence.setUnreadCount("bob", 7, NOW);
    await send({ MsgSeq: 43 });
    const bob = h.pushed(h.queue.jobs.slice(1)).find((p) => p.to.startsWith("bob/"));
    expect(bob?.badge).toBe(8);
  });

  it("skips foreground members, muted members and members inside do-not-disturb", async () => {
    await h.presence.applyAppState("carol", "foreground", NOW - 1000);
    await h.preferences.setConversationOpt("dave", CONV, 2, NOW - 1000);
    await h.preferences.setGlobalOpt("frank", {
      receiveOpt: 2,
      startHour: 11,
      startMinute: 0,
      startSecond: 0,
      duration: 7200,
      at: NOW - 1000,
    });
    await send();
    expect(recipients()).toEqual(["bob", "erin"]);
    expect(h.skipped()).toEqual([
      { who: "carol/carol-phone", reason: "online in the foreground" },
      { who: "dave", reason: "conversation muted" },
      { who: "frank", reason: "do not disturb" },
    ]);
  });

  it("lets an @mention through 'notify only when @mentioned', and says so in the device's language", async () => {
    await h.register({
      userId: "erin",
      deviceId: "erin-phone",
      vendor: "fcm",
      token: "tok-erin",
      locale: "zh-CN",
    });
    await h.preferences.setConversationOpt("erin", CONV, 3, NOW - 1000);
    await h.preferences.setConversationOpt("bob", CONV, 3, NOW - 1000);
    await send({ GroupAtInfo: [{ GroupAtAllFlag: 0, GroupAt_Account: "erin" }] });
    expect(h.pushed().find((p) => p.to.startsWith("erin/"))?.body).toBe("[有人@我] alice: meet at 8");
    expect(recipients()).not.toContain("bob");
  });

  it("@all reaches 'notify only when @mentioned' members, but not muted ones", async () => {
    await h.preferences.setConversationOpt("bob", CONV, 3, NOW - 1000);
    await h.preferences.setConversationOpt("dave", CONV, 2, NOW - 1000);
    await send({ GroupAtInfo: [{ GroupAtAllFlag: 1 }] });
    expect(recipients()).toEqual(["bob", "carol", "erin", "frank"]);
    expect(h.queue.jobs.every((j) => j.notification.body.startsWith("[@All] "))).toBe(true);
  });

  it("names the sender by group name card, else nickname, else a directory look-up", async () => {
    const directory = new FakeDirectory({ alice: "Alice Chen" });
    await build({ directory });
    await send({ NameCard: "Trail lead" } as Partial<GroupAfterSendMsg>);
    expect(h.queue.jobs[0]!.notification.body).toBe("Trail lead: meet at 8");
    expect(directory.asked).toEqual([]);
    await send({ MsgSeq: 43 });
    expect(h.queue.jobs.at(-1)!.notification.body).toBe("Alice Chen: meet at 8");
    await send({ MsgSeq: 44 });
    expect(directory.asked).toEqual([["alice"]]);
  });

  it("pushes what the sender's OfflinePushInfo asks, and nothing for PushFlag 1", async () => {
    await send({
      CloudCustomData: JSON.stringify({ OfflinePushInfo: { Title: "Hike", Desc: "Moved to 9" } }),
    });
    expect(h.queue.jobs[0]!.notification).toMatchObject({ title: "Hike", body: "Moved to 9" });
    await send({ MsgSeq: 43, CloudCustomData: JSON.stringify({ OfflinePushInfo: { PushFlag: 1 } }) });
    expect(h.queue.jobs).toHaveLength(1);
  });

  it("opens a Community topic's own conversation, keys it by topic, and honours the topic's receive option", async () => {
    await h.router.handle({
      command: "Group.CallbackAfterCreateGroup",
      acceptedAt: NOW,
      body: {
        GroupId: COMMUNITY,
        Type: "Community",
        Name: "Hikers",
        MemberList: [{ Member_Account: "bob" }, { Member_Account: "carol" }, { Member_Account: "dave" }],
      },
    });
    // carol muted this topic; dave muted the whole community (a topic without its own option follows it).
    await h.preferences.setConversationOpt("carol", `group_${TOPIC}`, 2, NOW - 1000);
    await h.preferences.setConversationOpt("dave", `group_${COMMUNITY}`, 2, NOW - 1000);
    await h.preferences.setConversationOpt("bob", `group_${COMMUNITY}`, 2, NOW - 1000);
    await h.preferences.setConversationOpt("bob", `group_${TOPIC}`, 0, NOW - 1000);
    await send({ GroupId: COMMUNITY, Type: "Community", TopicId: TOPIC, MsgSeq: 5 });
    expect(recipients()).toEqual(["bob"]);
    expect(h.queue.jobs[0]!.notification).toMatchObject({
      conversationId: `group_${TOPIC}`,
      ext: `{"conversationID":"group_${TOPIC}"}`,
      messageKey: `${TOPIC}#5`,
      title: "Hikers",
    });
  });

  it("does not push online-only group types unless configured", async () => {
    await send({ Type: "AVChatRoom" });
    await send({ Type: "Meeting", MsgSeq: 43 });
    expect(h.queue.jobs).toEqual([]);
    await build({ pushOnlineOnlyGroups: true });
    await send({ Type: "Meeting", MsgSeq: 44 });
    expect(recipients()).toHaveLength(5);
  });

  it("fans out page by page: queues the next page before working on its own", async () => {
    await build({ fanoutPageSize: 2 });
    await send();
    expect(recipients()).toEqual(["bob", "carol"]); // page 0: the first two members after alice
    expect(h.fanout.tasks).toEqual([expect.objectContaining({ groupId: G, page: 1, cursor: "2" })]);
    await h.router.handle({ command: FANOUT_COMMAND, acceptedAt: NOW, body: h.fanout.tasks[0]! });
    await h.router.handle({ command: FANOUT_COMMAND, acceptedAt: NOW, body: h.fanout.tasks[1]! });
    expect(h.fanout.tasks).toHaveLength(2);
    expect(recipients()).toEqual(["bob", "carol", "dave", "erin", "frank"]);
  });

  it("still delivers a page queued by the release before per-language texts", async () => {
    await h.router.handle({
      command: FANOUT_COMMAND,
      acceptedAt: NOW,
      body: {
        groupId: G,
        page: 1,
        senderId: "alice",
        content: {
          groupId: G,
          groupName: "Weekend hiking",
          senderName: "alice",
          text: "old",
          messageKey: `${G}#9`,
          sentAt: NOW,
        },
        mentionAll: false,
        mentioned: [],
        acceptedAt: NOW,
      } as never,
    });
    expect(h.queue.jobs[0]!.notification).toMatchObject({
      title: "Weekend hiking",
      body: "alice: old",
      conversationId: CONV,
    });
  });

  it("forgets a destroyed group", async () => {
    await h.router.handle({
      command: "Group.CallbackAfterGroupDestroyed",
      acceptedAt: NOW,
      body: { GroupId: G },
    });
    await send();
    expect(h.queue.jobs).toEqual([]);
    expect(h.journal.entries.at(-1)?.reason).toMatch(/no members known/);
  });
});
