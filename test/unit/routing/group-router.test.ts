import { beforeEach, describe, expect, it } from "vitest";
import type { DeliveryJob } from "../../../lib/model/index.js";
import { FANOUT_COMMAND } from "../../../lib/routing/fanout.js";
import { makeRouter } from "../../../lib/routing/router.js";
import type { GroupAfterSendMsg } from "../../../lib/tencent/callback.schema.js";
import {
  CapturingDeliveryQueue,
  CapturingFanoutQueue,
  FixedClock,
  MemoryDeliveryLog,
  MemoryGroupStore,
  RecordingJournal,
} from "../../support/fakes.js";
import {
  MemoryDeviceStore,
  MemoryPreferenceStore,
  MemoryPresenceStore,
  MemoryProfileStore,
  MemoryRecipients,
} from "../../support/memory-stores.js";

const NOW = Date.UTC(2026, 10, 25, 12, 0, 0);
const G = "@TGS#2Q7ZWBTEA";
const CONV = `group_${G}`;

describe("router: group messages", () => {
  let devices: MemoryDeviceStore;
  let presence: MemoryPresenceStore;
  let preferences: MemoryPreferenceStore;
  let groups: MemoryGroupStore;
  let queue: CapturingDeliveryQueue;
  let fanout: CapturingFanoutQueue;
  let deliveries: MemoryDeliveryLog;
  let journal: RecordingJournal;
  let router: ReturnType<typeof makeRouter>;

  const build = (pageSize = 1000, pushOnlineOnlyGroups = false) => {
    const profiles = new MemoryProfileStore();
    router = makeRouter({
      users: new MemoryRecipients(devices, presence, profiles, preferences),
      presence,
      profiles,
      groups,
      queue,
      fanout,
      deliveries,
      journal,
      clock: new FixedClock(NOW),
      maxTargetsPerJob: () => 500,
      fanoutPageSize: pageSize,
      pushOnlineOnlyGroups,
    });
  };

  beforeEach(async () => {
    devices = new MemoryDeviceStore();
    presence = new MemoryPresenceStore();
    preferences = new MemoryPreferenceStore();
    groups = new MemoryGroupStore();
    queue = new CapturingDeliveryQueue();
    fanout = new CapturingFanoutQueue();
    deliveries = new MemoryDeliveryLog();
    journal = new RecordingJournal();
    build();
    for (const user of ["alice", "bob", "carol", "dave", "erin", "frank", "grace"]) {
      await devices.put({
        userId: user,
        deviceId: `${user}-phone`,
        vendor: "fcm",
        token: `tok-${user}`,
        updatedAt: 1,
      });
      await presence.applyAppState(user, "background", NOW - 60_000);
    }
    await router.handle({
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
    await router.handle({
      command: "Group.CallbackAfterNewMemberJoin",
      acceptedAt: NOW,
      body: { GroupId: G, NewMemberList: [{ Member_Account: "frank" }, { Member_Account: "grace" }] },
    });
    await router.handle({
      command: "Group.CallbackAfterMemberExit",
      acceptedAt: NOW,
      body: { GroupId: G, ExitMemberList: [{ Member_Account: "grace" }] },
    });
  });

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
    router.handle({ command: "Group.CallbackAfterSendMsg", acceptedAt: NOW, body: message(overrides) });
  const recipients = (jobs: DeliveryJob[] = queue.jobs) =>
    jobs.flatMap((j) => j.targets.map((t) => t.userId)).sort();

  it("pushes every member but the sender and the member who left, titled with the group", async () => {
    await send();
    expect(recipients()).toEqual(["bob", "carol", "dave", "erin", "frank"]);
    expect(queue.jobs[0]!.notification).toMatchObject({
      title: "Weekend hiking",
      body: "alice: meet at 8",
      ext: `{"conversationID":"${CONV}"}`,
      conversationId: CONV,
      messageKey: `${G}#42`,
    });
  });

  it("skips foreground members, muted members and members inside do-not-disturb", async () => {
    await presence.applyAppState("carol", "foreground", NOW - 1000);
    await preferences.setConversationOpt("dave", CONV, 2, NOW - 1000);
    await preferences.setGlobalOpt("frank", {
      receiveOpt: 2,
      startHour: 11,
      startMinute: 0,
      startSecond: 0,
      duration: 7200,
      at: NOW - 1000,
    });
    await send();
    expect(recipients()).toEqual(["bob", "erin"]);
    const reasons = Object.fromEntries(
      journal.entries.filter((e) => e.stage === "skipped").map((e) => [e.userId, e.reason]),
    );
    expect(reasons).toEqual({
      carol: "online in the foreground",
      dave: "conversation muted",
      frank: "do not disturb",
    });
  });

  it("lets an @mention through 'notify only when @mentioned', and says so", async () => {
    await preferences.setConversationOpt("erin", CONV, 3, NOW - 1000);
    await preferences.setConversationOpt("bob", CONV, 3, NOW - 1000);
    await send({ GroupAtInfo: [{ GroupAtAllFlag: 0, GroupAt_Account: "erin" }] });
    const erin = queue.jobs.find((j) => j.targets.some((t) => t.userId === "erin"))!;
    expect(erin.notification.body).toBe("[@you] alice: meet at 8");
    expect(recipients()).not.toContain("bob");
  });

  it("@all reaches 'notify only when @mentioned' members, but not muted ones", async () => {
    await preferences.setConversationOpt("bob", CONV, 3, NOW - 1000);
    await preferences.setConversationOpt("dave", CONV, 2, NOW - 1000);
    await send({ GroupAtInfo: [{ GroupAtAllFlag: 1 }] });
    expect(recipients()).toEqual(["bob", "carol", "erin", "frank"]);
    expect(queue.jobs.every((j) => j.notification.body.startsWith("[@all] "))).toBe(true);
  });

  it("does not push online-only group types unless configured", async () => {
    await send({ Type: "AVChatRoom" });
    await send({ Type: "Meeting", MsgSeq: 43 });
    expect(queue.jobs).toEqual([]);
    build(1000, true);
    await send({ Type: "Meeting", MsgSeq: 44 });
    expect(recipients()).toHaveLength(5);
  });

  it("fans out page by page: queues the next page before working on its own", async () => {
    build(2);
    await send();
    expect(recipients()).toEqual(["bob", "carol"]); // page 0: the first two members
    expect(fanout.tasks).toEqual([expect.objectContaining({ groupId: G, page: 1, cursor: "2" })]);
    await router.handle({ command: FANOUT_COMMAND, acceptedAt: NOW, body: fanout.tasks[0]! });
    await router.handle({ command: FANOUT_COMMAND, acceptedAt: NOW, body: fanout.tasks[1]! });
    expect(fanout.tasks).toHaveLength(2);
    expect(recipients()).toEqual(["bob", "carol", "dave", "erin", "frank"]);
  });

  it("recalls on exactly the devices that got the original, on the same conversation", async () => {
    await deliveries.recordDelivered(`${G}#42`, "fcm", [
      { userId: "bob", deviceId: "bob-phone", token: "tok-bob" },
    ]);
    await router.handle({
      command: "Group.CallbackAfterRecallMsg",
      acceptedAt: NOW,
      body: { GroupId: G, MsgSeqList: [{ MsgSeq: 42 }, { MsgSeq: 41 }] },
    });
    expect(queue.jobs).toHaveLength(1);
    expect(recipients()).toEqual(["bob"]);
    expect(queue.jobs[0]!.notification).toMatchObject({
      conversationId: CONV,
      body: "This message was recalled",
      messageKey: `${G}#42:recall`,
    });
    expect(journal.entries).toContainEqual(
      expect.objectContaining({
        stage: "skipped",
        messageKey: `${G}#41:recall`,
        reason: "nobody was notified of it",
      }),
    );
  });

  it("forgets a destroyed group", async () => {
    await router.handle({
      command: "Group.CallbackAfterGroupDestroyed",
      acceptedAt: NOW,
      body: { GroupId: G },
    });
    await send();
    expect(queue.jobs).toEqual([]);
    expect(journal.entries.at(-1)?.reason).toMatch(/no members known/);
  });
});
