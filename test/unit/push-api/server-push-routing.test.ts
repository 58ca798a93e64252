import { beforeEach, describe, expect, it } from "vitest";
import type {
  PushCondition,
  PushTask,
  ServerPushEvent,
  ServerPushTask,
} from "../../../lib/push-api/ports.js";
import type { MessageContent } from "../../../lib/routing/compose.js";
import { routerHarness } from "../routing/harness.js";
import { CapturingPushQueue, MemoryPushProfiles, MemoryPushTasks } from "./memory.js";

const NOW = 1_764_085_300_000;
const TASK = "push_6925f3b4_00000000000000aa";

let h: ReturnType<typeof routerHarness>;
let profiles: MemoryPushProfiles;
let tasks: MemoryPushTasks;
let pushQueue: CapturingPushQueue;

function content(overrides: Partial<MessageContent> = {}): MessageContent {
  return {
    conversationId: "c2c_administrator",
    messageKey: TASK,
    sentAt: NOW,
    title: "",
    bodies: { en: "", zh: "" },
    ext: "{}",
    options: { desc: "Big sale today", noBadge: true },
    purpose: "operations",
    ...overrides,
  };
}

function task(audience: ServerPushTask["audience"], overrides: Partial<ServerPushTask> = {}): ServerPushTask {
  return {
    taskId: TASK,
    audience,
    content: content(),
    from: "administrator",
    page: 0,
    acceptedAt: NOW,
    ...overrides,
  };
}

const route = (body: ServerPushTask) =>
  h.router.handle({ command: "chatpush.ServerPushPage", acceptedAt: NOW, body });

/** Routes page 0, then every page it and its successors queue, as the ingest queue would. */
async function drain(first: ServerPushTask): Promise<number> {
  const queue: ServerPushTask[] = [first];
  let pages = 0;
  while (queue.length > 0) {
    const seen = pushQueue.events.length;
    await route(queue.shift()!);
    pages += 1;
    for (const event of pushQueue.events.slice(seen) as ServerPushEvent[])
      if (event.command === "chatpush.ServerPushPage") queue.push(event.body);
  }
  return pages;
}

async function user(userId: string, vendor: "apns" | "fcm" | "vivo" = "fcm", tags: string[] = []) {
  await h.register({ userId, deviceId: `${userId}-phone`, vendor, token: `${userId}-token-0123456789` });
  await h.presence.applyAppState(userId, "background", NOW - 60_000);
  await profiles.addUser(userId, NOW - 3_600_000);
  if (tags.length > 0) await profiles.updateProfile(userId, (p) => ({ ...p, tags }));
}

const pushedUsers = () => [...new Set(h.queue.jobs.flatMap((j) => j.targets.map((t) => t.userId)))].sort();

beforeEach(async () => {
  profiles = new MemoryPushProfiles(4);
  tasks = new MemoryPushTasks();
  pushQueue = new CapturingPushQueue();
  h = routerHarness(NOW, {
    serverPush: { profiles, audience: profiles, tasks, queue: pushQueue },
    admin: { identifier: "administrator", displayName: "Acme" },
    // Small pages, so a handful of users spans several pages per shard.
    fanoutPageSize: 3,
  });
  const stored: PushTask = { taskId: TASK, kind: "push", from: "administrator", createdAt: NOW, counts: {} };
  await tasks.claim("broadcast", 1, stored, NOW);
});

describe("a server push page", () => {
  it("pushes a batch's background devices as operations, titled with the admin's display name, jobs carrying the TaskId", async () => {
    await user("bob");
    await user("carol", "vivo");
    await user("frank", "apns");
    await h.presence.applyAppState("frank", "foreground", NOW - 1000);
    await route(task({ kind: "accounts", accounts: ["bob", "carol", "frank", "nobody"] }));

    expect(h.pushed()).toEqual([
      { to: "bob/bob-phone", vendor: "fcm", title: "Acme", body: "Big sale today", badge: undefined },
      { to: "carol/carol-phone", vendor: "vivo", title: "Acme", body: "Big sale today", badge: undefined },
    ]);
    expect(h.queue.jobs.every((j) => j.taskId === TASK && j.notification.purpose === "operations")).toBe(
      true,
    );
    expect(h.skipped()).toEqual([
      { who: "frank/frank-phone", reason: "online in the foreground" },
      { who: "nobody", reason: "no registered device" },
    ]);
    // One count write for the whole page, never one per device.
    expect(tasks.countWrites).toEqual([
      {
        taskId: TASK,
        counts: {
          recipients: 4,
          queued: 2,
          "queued:fcm": 1,
          "queued:vivo": 1,
          "skipped:online in the foreground": 1,
          "skipped:no registered device": 1,
        },
      },
    ]);
  });

  it("titles a push from an impersonated account with that account's nickname", async () => {
    await user("bob");
    await h.profiles.setNickname("shop", "The Shop", NOW - 1);
    await route(
      task(
        { kind: "accounts", accounts: ["bob"] },
        { from: "shop", content: content({ conversationId: "c2c_shop" }) },
      ),
    );
    expect(h.pushed()[0]?.title).toBe("The Shop");
  });

  it("keeps OfflinePushInfo's Title and counts the badge only when asked", async () => {
    await user("bob");
    await route(
      task(
        { kind: "accounts", accounts: ["bob"] },
        { content: content({ title: "Sale", options: { desc: "50% off" } }) },
      ),
    );
    expect(h.pushed()).toEqual([
      { to: "bob/bob-phone", vendor: "fcm", title: "Sale", body: "50% off", badge: 1 },
    ]);
  });

  it("a push to all reads the index of every user with a device, one chain per shard, everyone once", async () => {
    const everyone = Array.from({ length: 23 }, (_, i) => `u${String(i).padStart(2, "0")}`);
    for (const id of everyone) await user(id);
    const pages = await drain(task({ kind: "segments" }));
    expect(pushedUsers()).toEqual(everyone);
    expect(h.queue.jobs.flatMap((j) => j.targets).length).toBe(23);
    expect(pages).toBeGreaterThan(4);
    expect(profiles.pageCalls.every((c) => c.segment.kind === "all")).toBe(true);
    expect(new Set(profiles.pageCalls.map((c) => c.shard))).toEqual(new Set([0, 1, 2, 3]));
    expect(tasks.tasks.get(TASK)?.counts).toMatchObject({ recipients: 23, queued: 23 });
    // Page 0 decided the title once; every later page says the same.
    expect(new Set(h.queue.jobs.map((j) => j.notification.title))).toEqual(new Set(["Acme"]));
  });

  it("TagsOr reads each tag's index and pushes a user holding both tags once", async () => {
    await user("a1", "fcm", ["a"]);
    await user("ab", "fcm", ["a", "b"]);
    await user("b1", "fcm", ["b"]);
    await user("none", "fcm", ["c"]);
    const condition: PushCondition = { tagsOr: ["a", "b"] };
    await drain(task({ kind: "segments", condition }));
    expect(pushedUsers()).toEqual(["a1", "ab", "b1"]);
    expect(h.queue.jobs.flatMap((j) => j.targets).filter((t) => t.userId === "ab")).toHaveLength(1);
    expect(profiles.pageCalls.every((c) => c.segment.kind === "tag")).toBe(true);
  });

  it("TagsAnd reads its first tag's index and checks the others; TagsNot excludes holders of all its tags", async () => {
    await user("ab", "fcm", ["a", "b"]);
    await user("abc", "fcm", ["a", "b", "c"]);
    await user("abcd", "fcm", ["a", "b", "c", "d"]);
    await user("a", "fcm", ["a"]);
    await drain(task({ kind: "segments", condition: { tagsAnd: ["a", "b"], tagsNot: ["c", "d"] } }));
    expect(pushedUsers()).toEqual(["ab", "abc"]);
    expect(new Set(profiles.pageCalls.map((c) => JSON.stringify(c.segment)))).toEqual(
      new Set([JSON.stringify({ kind: "tag", tag: "a" })]),
    );
  });

  it("takes users found without devices out of the push-to-all index, unless they registered just now", async () => {
    await user("bob");
    await profiles.addUser("gone", NOW - 3_600_000);
    await profiles.addUser("racing", NOW - 1000);
    await drain(task({ kind: "segments" }));
    expect(profiles.dropped).toEqual(["gone"]);
    expect(profiles.allUsers()).toEqual(["bob", "racing"]);
  });

  it("pushes nothing for a revoked task", async () => {
    await user("bob");
    await tasks.revoke(TASK, NOW);
    await drain(task({ kind: "segments" }));
    expect(h.queue.jobs).toEqual([]);
    expect(h.journal.entries).toContainEqual({
      stage: "skipped",
      messageKey: TASK,
      reason: "push task revoked",
    });
  });
});

describe("a server push revoke", () => {
  it("replaces the notification on exactly the devices that got it, on the task's key, quietly, without a task", async () => {
    await user("bob");
    await user("carol");
    await h.deliveries.recordDelivered(TASK, "fcm", [
      { userId: "bob", deviceId: "bob-phone", token: "bob-token-0123456789", badge: 4 },
    ]);
    await h.router.handle({
      command: "chatpush.ServerPushRevoke",
      acceptedAt: NOW + 5000,
      body: { taskId: TASK, title: "Sorry", desc: "That sale was sent by mistake" },
    });
    expect(h.queue.jobs).toHaveLength(1);
    const [job] = h.queue.jobs;
    expect(job?.taskId).toBeUndefined();
    expect(job?.targets).toEqual([{ userId: "bob", deviceId: "bob-phone", token: "bob-token-0123456789" }]);
    expect(job?.notification).toEqual({
      title: "Sorry",
      body: "That sale was sent by mistake",
      ext: "{}",
      conversationId: "c2c_administrator",
      messageKey: `${TASK}:revoke`,
      collapseKey: TASK,
      quiet: true,
      purpose: "operations",
      sentAt: NOW + 5000,
    });
  });
});
