import { beforeEach, describe, expect, it } from "vitest";
import { collapseKeyOf } from "../../../lib/model/index.js";
import { routerHarness } from "./harness.js";

const NOW = 1_764_085_300_000;
const G = "@TGS#2Q7ZWBTEA";
const TOPIC = "@TGS#_@TGS#cQVLVHIM62CJ@TOPIC#_gear";

describe("recall", () => {
  let h: ReturnType<typeof routerHarness>;
  beforeEach(async () => {
    h = routerHarness(NOW);
    await h.register({ userId: "bob", deviceId: "iphone", vendor: "apns", token: "a".repeat(64) });
    await h.register({ userId: "bob", deviceId: "mate", vendor: "huawei", token: "hw-1", locale: "zh-CN" });
    await h.profiles.setNickname("alice", "Alice Chen", 1);
  });

  it("replaces the older of two messages on its own key, not the newer one's, quietly and without a badge", async () => {
    for (const key of ["older", "newer"]) {
      await h.deliveries.recordDelivered(key, "apns", [
        { userId: "bob", deviceId: "iphone", token: "a".repeat(64), badge: 5 },
      ]);
    }
    await h.router.handle({
      command: "C2C.CallbackAfterMsgWithDraw",
      acceptedAt: NOW,
      body: { From_Account: "alice", To_Account: "bob", MsgKey: "older" },
    });
    expect(h.queue.jobs).toHaveLength(1);
    const { notification, targets } = h.queue.jobs[0]!;
    expect(collapseKeyOf(notification)).toBe("older");
    expect(notification).toMatchObject({
      title: "Alice Chen",
      body: "A message is recalled",
      conversationId: "c2c_alice",
      messageKey: "older:recall",
      quiet: true,
    });
    expect(notification.badge).toBeUndefined();
    expect(targets).toEqual([{ userId: "bob", deviceId: "iphone", token: "a".repeat(64) }]);
  });

  it("writes the replacement in each device's language, on exactly the devices that got the original", async () => {
    await h.deliveries.recordDelivered(`${G}#42`, "huawei", [
      { userId: "bob", deviceId: "mate", token: "hw-1" },
    ]);
    await h.router.handle({
      command: "Group.CallbackAfterRecallMsg",
      acceptedAt: NOW,
      body: { GroupId: G, MsgSeqList: [{ MsgSeq: 42 }, { MsgSeq: 41 }] },
    });
    expect(h.pushed()).toEqual([expect.objectContaining({ to: "bob/mate", body: "有一条消息被撤回" })]);
    expect(h.journal.entries).toContainEqual(
      expect.objectContaining({
        stage: "skipped",
        messageKey: `${G}#41:recall`,
        reason: "nobody was notified of it",
      }),
    );
  });

  it("keys a topic's recall by the topic, so two topics' messages never collide", async () => {
    await h.deliveries.recordDelivered(`${TOPIC}#7`, "apns", [
      { userId: "bob", deviceId: "iphone", token: "a".repeat(64) },
    ]);
    await h.deliveries.recordDelivered("@TGS#_@TGS#cQVLVHIM62CJ@TOPIC#_food#7", "apns", [
      { userId: "bob", deviceId: "iphone", token: "a".repeat(64) },
    ]);
    await h.router.handle({
      command: "Group.CallbackAfterRecallMsg",
      acceptedAt: NOW,
      body: { GroupId: "@TGS#_@TGS#cQVLVHIM62CJ", TopicId: TOPIC, MsgSeqList: [{ MsgSeq: 7 }] },
    });
    expect(h.queue.jobs).toHaveLength(1);
    expect(collapseKeyOf(h.queue.jobs[0]!.notification)).toBe(`${TOPIC}#7`);
    expect(h.queue.jobs[0]!.notification.conversationId).toBe(`group_${TOPIC}`);
  });
});
