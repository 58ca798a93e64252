import { beforeEach, describe, expect, it } from "vitest";
import { makeRouter } from "../../../lib/routing/router.js";
import type { C2CAfterSendMsg } from "../../../lib/tencent/callback.schema.js";
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
  MemoryPresenceStore,
  MemoryProfileStore,
  MemoryRecipients,
} from "../../support/memory-stores.js";

const NOW = 1_764_085_300_000;
const APNS_TOKEN = "7f3c9a1e5b2d4c6f8a0e1b3d5f7a9c2e4b6d8f0a1c3e5b7d9f2a4c6e8b0d1f3a";

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

describe("router: one-to-one messages", () => {
  let devices: MemoryDeviceStore;
  let presence: MemoryPresenceStore;
  let profiles: MemoryProfileStore;
  let queue: CapturingDeliveryQueue;
  let journal: RecordingJournal;
  let router: ReturnType<typeof makeRouter>;

  beforeEach(async () => {
    devices = new MemoryDeviceStore();
    presence = new MemoryPresenceStore();
    profiles = new MemoryProfileStore();
    queue = new CapturingDeliveryQueue();
    journal = new RecordingJournal();
    router = makeRouter({
      users: new MemoryRecipients(devices, presence, profiles),
      presence,
      profiles,
      queue,
      groups: new MemoryGroupStore(),
      fanout: new CapturingFanoutQueue(),
      deliveries: new MemoryDeliveryLog(),
      journal,
      clock: new FixedClock(NOW),
      maxTargetsPerJob: () => 500,
    });
    await devices.put({
      userId: "bob",
      deviceId: "iphone",
      vendor: "apns",
      token: APNS_TOKEN,
      certificateId: 7,
      environment: "sandbox",
      updatedAt: 1,
    });
    await devices.put({
      userId: "bob",
      deviceId: "pixel",
      vendor: "fcm",
      token: "fcm-token-1",
      updatedAt: 2,
    });
    await presence.applyConnection("bob", { action: "Login", at: NOW - 60_000, kicked: false });
    await presence.applyAppState("bob", "background", NOW - 30_000, 2);
  });

  const route = (body: C2CAfterSendMsg) =>
    router.handle({ command: "C2C.CallbackAfterSendMsg", acceptedAt: NOW, body });

  it("queues one job per vendor for a background recipient, with title, body, badge and ext", async () => {
    await profiles.setNickname("alice", "Alice Chen", NOW - 1);
    await route(message());

    expect(queue.jobs.map((j) => j.vendor).sort()).toEqual(["apns", "fcm"]);
    const apns = queue.jobs.find((j) => j.vendor === "apns")!;
    expect(apns.notification).toEqual({
      title: "Alice Chen",
      body: "dinner at 7?",
      ext: '{"conversationID":"c2c_alice"}',
      badge: 3,
      conversationId: "c2c_alice",
      messageKey: "1_2_3",
      sentAt: NOW,
    });
    expect(apns.targets).toEqual([
      { userId: "bob", deviceId: "iphone", token: APNS_TOKEN, certificateId: 7, environment: "sandbox" },
    ]);
    expect(
      journal.entries
        .filter((e) => e.stage === "queued")
        .map((e) => e.deviceId)
        .sort(),
    ).toEqual(["iphone", "pixel"]);
  });

  it("titles the push with the sender's user ID when no nickname is known", async () => {
    await route(message());
    expect(queue.jobs[0]!.notification.title).toBe("alice");
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
    expect(queue.jobs).toEqual([]);
    expect(journal.entries).toEqual([expect.objectContaining({ stage: "skipped", reason })]);
  });

  it("does not push a recipient in the foreground", async () => {
    await presence.applyAppState("bob", "foreground", NOW - 1000);
    await route(message());
    expect(queue.jobs).toEqual([]);
    expect(journal.entries[0]).toMatchObject({ stage: "skipped", reason: "online in the foreground" });
  });

  it("does not push a recipient who logged out, until they log in again", async () => {
    await router.handle({
      command: "State.StateChange",
      acceptedAt: NOW,
      optPlatform: "Android",
      body: { EventTime: NOW - 10_000, Info: { Action: "Logout", To_Account: "bob" } },
    });
    await route(message());
    expect(queue.jobs).toEqual([]);

    await router.handle({
      command: "State.StateChange",
      acceptedAt: NOW,
      optPlatform: "Android",
      body: {
        EventTime: NOW - 5_000,
        Info: { Action: "Disconnect", To_Account: "bob", Reason: "LinkClose" },
      },
    });
    await route(message());
    expect(queue.jobs).toEqual([]);

    await router.handle({
      command: "State.StateChange",
      acceptedAt: NOW,
      optPlatform: "Android",
      body: { EventTime: NOW - 4_000, Info: { Action: "Login", To_Account: "bob" } },
    });
    await route(message());
    expect(queue.jobs).toHaveLength(2);
  });

  it("pushes a recipient whose app was killed (Disconnect), even if it last said foreground", async () => {
    await presence.applyAppState("bob", "foreground", NOW - 20_000);
    await presence.applyConnection("bob", { action: "Disconnect", at: NOW - 10_000, kicked: false });
    await route(message());
    expect(queue.jobs).toHaveLength(2);
  });

  it("ignores a Web logout: the phone is what gets pushed", async () => {
    await router.handle({
      command: "State.StateChange",
      acceptedAt: NOW,
      optPlatform: "Web",
      body: { EventTime: NOW - 1000, Info: { Action: "Logout", To_Account: "bob" } },
    });
    await route(message());
    expect(queue.jobs).toHaveLength(2);
  });

  it("skips a recipient with no device", async () => {
    await route(message({ To_Account: "dave" }));
    expect(journal.entries[0]).toMatchObject({ stage: "skipped", reason: "no registered device" });
  });

  it("keeps the newest nickname from Profile.CallbackPortraitSet", async () => {
    const portrait = (Value: string, EventTime: number) =>
      router.handle({
        command: "Profile.CallbackPortraitSet",
        acceptedAt: NOW,
        body: { From_Account: "alice", EventTime, ProfileItem: [{ Tag: "Tag_Profile_IM_Nick", Value }] },
      });
    await portrait("Alice", NOW - 100);
    await portrait("Old Alice", NOW - 200);
    await route(message());
    expect(queue.jobs[0]!.notification.title).toBe("Alice");
  });
});
