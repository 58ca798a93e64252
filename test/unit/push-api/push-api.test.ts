import { beforeEach, describe, expect, it } from "vitest";
import type { HttpRequest } from "../../../lib/http/types.js";
import type { ServerPushTask } from "../../../lib/push-api/ports.js";
import { makePushApi } from "../../../lib/push-api/push-api.js";
import { FixedClock } from "../../support/fakes.js";
import { tencentUserSig } from "../../support/tencent-usersig.js";
import { CapturingPushQueue, MemoryPushProfiles, MemoryPushTasks } from "./memory.js";

const SDK_APP_ID = 1400123456;
const SECRET = "push-api-secret-key";
// Now (Tencent's tls-sig-api-v2 dates the admin UserSig now), in whole seconds.
const NOW = Math.floor(Date.now() / 1000) * 1000;
const TASK_1 = `batch_${(NOW / 1000).toString(16)}_0000000000000001`;

let clock: FixedClock;
let profiles: MemoryPushProfiles;
let tasks: MemoryPushTasks;
let queue: CapturingPushQueue;
let api: ReturnType<typeof makePushApi>;
let randomBytes = 0;

beforeEach(() => {
  randomBytes = 0;
  clock = new FixedClock(NOW);
  profiles = new MemoryPushProfiles();
  tasks = new MemoryPushTasks();
  queue = new CapturingPushQueue();
  api = makePushApi({
    sdkAppId: SDK_APP_ID,
    adminIdentifier: "administrator",
    userSigKey: async () => SECRET,
    clock,
    profiles,
    tasks,
    queue,
    broadcastsPerDay: 3,
    random: () => {
      randomBytes += 1;
      return Buffer.from(randomBytes.toString(16).padStart(16, "0"), "hex");
    },
  });
});

// Valid for 30 days: some tests move the clock by days.
const sig = tencentUserSig(SDK_APP_ID, SECRET, "administrator", 30 * 86_400);

async function call(path: string, body: unknown, method = "POST") {
  const request: HttpRequest = {
    method,
    path,
    query: {
      sdkappid: String(SDK_APP_ID),
      identifier: "administrator",
      usersig: sig,
      random: "7",
      contenttype: "json",
    },
    headers: {},
    body: typeof body === "string" ? body : JSON.stringify(body),
  };
  const response = await api(request);
  if (response === undefined) return undefined;
  return { status: response.status, answer: JSON.parse(response.body) as Record<string, unknown> };
}

const batch = (extra: Record<string, unknown> = {}) => ({
  From_Account: "administrator",
  To_Account: ["bob", "carol", "bob"],
  MsgRandom: 42,
  OfflinePushInfo: { Title: "Order shipped", Desc: "On its way", Ext: '{"route":"orders/1"}' },
  ...extra,
});
const pages = () =>
  queue.events.filter((e) => e.command === "chatpush.ServerPushPage").map((e) => e.body as ServerPushTask);

describe("timpush/batch", () => {
  it("answers Tencent's OK with a TaskId once page 0 of the fan-out is queued", async () => {
    const result = await call("/v4/timpush/batch", batch({ DataId: "d-1" }));
    expect(result).toEqual({
      status: 200,
      answer: { ActionStatus: "OK", ErrorCode: 0, ErrorInfo: "", TaskId: TASK_1 },
    });
    expect(pages()).toEqual([
      {
        taskId: TASK_1,
        audience: { kind: "accounts", accounts: ["bob", "carol"] },
        content: {
          conversationId: "c2c_administrator",
          messageKey: TASK_1,
          sentAt: NOW,
          title: "",
          bodies: { en: "", zh: "" },
          ext: "{}",
          options: { title: "Order shipped", desc: "On its way", ext: '{"route":"orders/1"}', noBadge: true },
          purpose: "operations",
        },
        from: "administrator",
        page: 0,
        acceptedAt: NOW,
      },
    ]);
    expect(await tasks.get(TASK_1)).toMatchObject({
      kind: "batch",
      dataId: "d-1",
    });
  });

  it("counts the badge only when ApnsInfo.BadgeMode is 0, and maps the vendors' overrides", async () => {
    await call(
      "/v4/timpush/batch",
      batch({
        OfflinePushInfo: {
          Desc: "x",
          ApnsInfo: { BadgeMode: 0, Sound: "ring.caf" },
          AndroidInfo: {
            HuaWeiCategory: "IM",
            VIVOCategory: "IM",
            OPPOCategory: "IM",
            XiaoMiChannelID: "im",
          },
        },
      }),
    );
    expect(pages()[0]?.content.options).toEqual({
      desc: "x",
      ios: { sound: "ring.caf" },
      android: { huaweiCategory: "IM", vivoCategory: "IM", oppoCategory: "IM", xiaomiChannelId: "im" },
    });
  });

  it("pushes the same MsgRandom once within 7 days, answering its TaskId again", async () => {
    const first = await call("/v4/timpush/batch", batch());
    clock.nowMs += 6 * 86_400_000;
    const again = await call("/v4/timpush/batch", batch({ OfflinePushInfo: { Desc: "changed" } }));
    expect(again?.answer.TaskId).toBe(first?.answer.TaskId);
    expect(pages()).toHaveLength(1);
    clock.nowMs += 2 * 86_400_000;
    const later = await call("/v4/timpush/batch", batch());
    expect(later?.answer.TaskId).not.toBe(first?.answer.TaskId);
    expect(pages()).toHaveLength(2);
  });

  it("a retry after a call that failed before queueing pushes it once, with the same page 0", async () => {
    queue.failNext = new Error("SQS unavailable");
    const failed = await call("/v4/timpush/batch", batch());
    expect(failed).toEqual({
      status: 500,
      answer: {
        ActionStatus: "FAIL",
        ErrorCode: 91000,
        ErrorInfo: "internal error; retry the call with the same MsgRandom",
      },
    });
    clock.nowMs += 5000;
    const retried = await call("/v4/timpush/batch", batch());
    expect(retried?.answer).toMatchObject({ ActionStatus: "OK", TaskId: TASK_1 });
    expect(pages()).toHaveLength(1);
    expect(pages()[0]).toMatchObject({ acceptedAt: NOW, content: { sentAt: NOW } });
    await call("/v4/timpush/batch", batch());
    expect(pages()).toHaveLength(1);
  });

  it.each([
    ["no MsgRandom", { MsgRandom: undefined }, 90005, "MsgRandom is missing"],
    ["a MsgRandom beyond 32 bits", { MsgRandom: 4294967296 }, 90005, "MsgRandom must be an integer"],
    [
      "501 accounts",
      { To_Account: Array.from({ length: 501 }, (_, i) => `u${i}`) },
      90018,
      "To_Account holds more than 500",
    ],
    ["no account", { To_Account: [] }, 90003, "To_Account must hold 1 to 500"],
    [
      "an account that is no UserID",
      { To_Account: ["bob", "has space"] },
      90003,
      "To_Account[1] must be visible ASCII",
    ],
    ["no From_Account", { From_Account: undefined }, 90008, "From_Account must be a UserID"],
    ["no OfflinePushInfo", { OfflinePushInfo: undefined }, 90043, "OfflinePushInfo is missing"],
    [
      "a bad OPPONotifyLevel",
      { OfflinePushInfo: { Desc: "x", AndroidInfo: { OPPONotifyLevel: 3 } } },
      90043,
      "OfflinePushInfo.AndroidInfo.OPPONotifyLevel must be 1, 2 or 16",
    ],
    [
      "an Ext that is not JSON",
      { OfflinePushInfo: { Desc: "x", Ext: "route=1" } },
      90043,
      "OfflinePushInfo.Ext must be a JSON string",
    ],
    [
      "nothing to show",
      { OfflinePushInfo: { Title: "t", Desc: "" } },
      90043,
      "OfflinePushInfo.Desc is needed",
    ],
    ["a DataId over 64 bytes", { DataId: "d".repeat(65) }, 90010, "DataId must be at most 64 bytes"],
  ])("refuses %s, naming the field", async (_name, change, code, info) => {
    const result = await call("/v4/timpush/batch", batch(change));
    expect(result?.status).toBe(200);
    expect(result?.answer).toMatchObject({ ActionStatus: "FAIL", ErrorCode: code });
    expect(String(result?.answer.ErrorInfo)).toContain(info);
    expect(queue.events).toEqual([]);
  });

  it("accepts PushFlag 1 without a text and pushes nothing offline", async () => {
    const result = await call("/v4/timpush/batch", batch({ OfflinePushInfo: { PushFlag: 1, Ext: "{}" } }));
    expect(result?.answer).toMatchObject({ ActionStatus: "OK" });
    expect(pages()).toEqual([]);
    expect((await tasks.get(String(result?.answer.TaskId)))?.counts).toEqual({ "skipped:online only": 1 });
  });
});

describe("timpush/push and all_member_push/im_push", () => {
  it("a push to all, a tag and an attribute queue page 0 with their condition", async () => {
    await profiles.setAttrNames({ "0": "city" });
    await call("/v4/timpush/push", { MsgRandom: 1, OfflinePushInfo: { Desc: "all" } });
    clock.nowMs += 1500;
    await call("/v4/timpush/push", {
      MsgRandom: 2,
      Condition: { TagsOr: ["a"], TagsNot: ["b"] },
      OfflinePushInfo: { Desc: "tag" },
    });
    clock.nowMs += 1500;
    await call("/v4/timpush/push", {
      MsgRandom: 3,
      Condition: { AttrsAnd: { city: "SZ" } },
      OfflinePushInfo: { Desc: "attr" },
    });
    expect(pages().map((p) => p.audience)).toEqual([
      { kind: "segments" },
      { kind: "segments", condition: { tagsOr: ["a"], tagsNot: ["b"] } },
      { kind: "segments", condition: { attrsAnd: { city: "SZ" } } },
    ]);
    expect(pages()[0]?.from).toBe("administrator");
  });

  it("keeps broadcasts more than 1 s apart (90024) and within the daily quota (90047)", async () => {
    const push = (random: number) =>
      call("/v4/timpush/push", { MsgRandom: random, OfflinePushInfo: { Desc: "x" } });
    expect((await push(1))?.answer.ErrorCode).toBe(0);
    clock.nowMs += 500;
    expect((await push(2))?.answer).toMatchObject({ ActionStatus: "FAIL", ErrorCode: 90024 });
    clock.nowMs += 1000;
    // The refused call's MsgRandom was given back: it is a new push now.
    expect((await push(2))?.answer.ErrorCode).toBe(0);
    clock.nowMs += 1500;
    expect((await push(3))?.answer.ErrorCode).toBe(0);
    clock.nowMs += 1500;
    expect((await push(4))?.answer).toMatchObject({ ActionStatus: "FAIL", ErrorCode: 90047 });
    expect(pages()).toHaveLength(3);
    // A batch is not a broadcast: no quota.
    expect((await call("/v4/timpush/batch", batch({ MsgRandom: 4 })))?.answer.ErrorCode).toBe(0);
  });

  it("im_push carries the message's text, and MsgLifeTime 0 (its default) reaches online users only", async () => {
    const message = { MsgBody: [{ MsgType: "TIMTextElem", MsgContent: { Text: "hi, beauty" } }] };
    const online = await call("/v4/all_member_push/im_push", { MsgRandom: 9, ...message });
    expect(online?.answer).toMatchObject({ ActionStatus: "OK" });
    expect(pages()).toEqual([]);
    clock.nowMs += 1500;
    await call("/v4/all_member_push/im_push", {
      MsgRandom: 10,
      MsgLifeTime: 3600,
      From_Account: "shop",
      ...message,
    });
    expect(pages()[0]).toMatchObject({
      from: "shop",
      content: { bodies: { en: "hi, beauty", zh: "hi, beauty" }, ext: '{"conversationID":"c2c_shop"}' },
    });
    expect(await tasks.get(pages()[0]!.taskId)).toMatchObject({ kind: "im_push", lifetimeSeconds: 3600 });
  });

  it.each([
    ["im_push without MsgBody", "/v4/all_member_push/im_push", { MsgRandom: 1 }, 90002],
    [
      "a MsgLifeTime over 7 days",
      "/v4/all_member_push/im_push",
      { MsgRandom: 1, MsgLifeTime: 604801, MsgBody: [{ MsgType: "TIMTextElem", MsgContent: { Text: "x" } }] },
      90026,
    ],
    [
      "MsgBody not an array",
      "/v4/timpush/push",
      { MsgRandom: 1, MsgBody: {}, OfflinePushInfo: { Desc: "x" } },
      90007,
    ],
    [
      "tags and attributes mixed",
      "/v4/timpush/push",
      { MsgRandom: 1, Condition: { TagsOr: ["a"], AttrsOr: { city: "SZ" } }, OfflinePushInfo: { Desc: "x" } },
      90039,
    ],
  ])("refuses %s", async (_name, path, body, code) => {
    await profiles.setAttrNames({ "0": "city" });
    const result = await call(path, body);
    expect(result?.answer).toMatchObject({ ActionStatus: "FAIL", ErrorCode: code });
  });
});

describe("the REST surface", () => {
  it("answers JSON that does not parse with 90001, other REST paths with 60009, other methods with 60002", async () => {
    expect((await call("/v4/timpush/push", "{"))?.answer).toMatchObject({ ErrorCode: 90001 });
    expect((await call("/v4/timpush/push", "[]"))?.answer).toMatchObject({ ErrorCode: 90001 });
    expect((await call("/v4/openim/sendmsg", {}))?.answer).toMatchObject({ ErrorCode: 60009 });
    expect((await call("/v4/timpush/push", {}, "GET"))?.answer).toMatchObject({ ErrorCode: 60002 });
    expect(await call("/v1/devices", {})).toBeUndefined();
  });

  it("answers an internal failure with 91000 and a 5xx, so the app server retries", async () => {
    profiles.getAttrNames = async () => {
      throw new Error("DynamoDB unavailable");
    };
    const result = await call("/v4/timpush/push", { MsgRandom: 1, Condition: { AttrsOr: { city: "x" } } });
    expect(result).toMatchObject({ status: 500, answer: { ActionStatus: "FAIL", ErrorCode: 91000 } });
  });
});

describe("timpush/revoke", () => {
  async function pushed(): Promise<string> {
    return String((await call("/v4/timpush/batch", batch()))?.answer.TaskId);
  }

  it("stops the task and, with a text, queues the replacement", async () => {
    const taskId = await pushed();
    const result = await call("/v4/timpush/revoke", {
      TaskId: taskId,
      OfflinePushInfo: { Title: "Sorry", Desc: "Sent by mistake" },
    });
    expect(result?.answer).toEqual({ ActionStatus: "OK", ErrorCode: 0, ErrorInfo: "" });
    expect((await tasks.get(taskId))?.revokedAt).toBe(NOW);
    expect(queue.events.at(-1)).toEqual({
      command: "chatpush.ServerPushRevoke",
      acceptedAt: NOW,
      body: { taskId, title: "Sorry", desc: "Sent by mistake" },
    });
  });

  it("without a text only stops the task", async () => {
    const taskId = await pushed();
    await call("/v4/timpush/revoke", { TaskId: taskId });
    expect(queue.events.map((e) => e.command)).toEqual(["chatpush.ServerPushPage"]);
  });

  it("refuses an unknown task (90049), a second revoke (90050) and one after 24 h (90052)", async () => {
    expect(
      (await call("/v4/timpush/revoke", { TaskId: "batch_00000000_0000000000000000" }))?.answer.ErrorCode,
    ).toBe(90049);
    expect((await call("/v4/timpush/revoke", { TaskId: "nonsense" }))?.answer.ErrorCode).toBe(90049);
    const taskId = await pushed();
    await call("/v4/timpush/revoke", { TaskId: taskId });
    expect((await call("/v4/timpush/revoke", { TaskId: taskId }))?.answer.ErrorCode).toBe(90050);
    const late = String((await call("/v4/timpush/batch", batch({ MsgRandom: 43 })))?.answer.TaskId);
    clock.nowMs += 24 * 3_600_000 + 1;
    expect((await call("/v4/timpush/revoke", { TaskId: late }))?.answer.ErrorCode).toBe(90052);
  });
});

describe("timpush/all_member_push_statistics", () => {
  it("reports a task's counts in Tencent's shape, with chatpush's detail", async () => {
    const taskId = String((await call("/v4/timpush/batch", batch({ DataId: "campaign-7" })))?.answer.TaskId);
    await tasks.count(taskId, {
      recipients: 3,
      queued: 4,
      "queued:apns": 1,
      "queued:vivo": 3,
      "skipped:online in the foreground": 1,
    });
    await tasks.count(taskId, { delivered: 3, "delivered:apns": 1, "delivered:vivo": 2, deadLettered: 1 });
    const result = await call("/v4/timpush/all_member_push_statistics", {
      StartTime: NOW / 1000 - 60,
      EndTime: NOW / 1000 + 60,
      TaskID: [taskId, "batch_00000000_0000000000000000"],
    });
    expect(result?.answer).toEqual({
      ActionStatus: "OK",
      ErrorCode: 0,
      ErrorInfo: "",
      Results: [
        {
          TaskID: taskId,
          TotalCount: 3,
          SentCount: 4,
          DeliveredCount: 3,
          ClickCount: 0,
          PlatformStatistics: [
            { PushPlatform: "apns", TotalCount: 1, SentCount: 1, DeliveredCount: 1, ClickCount: 0 },
            { PushPlatform: "vivo", TotalCount: 3, SentCount: 3, DeliveredCount: 2, ClickCount: 0 },
          ],
          Chatpush: {
            Kind: "batch",
            StartTime: NOW / 1000,
            DataId: "campaign-7",
            Recipients: 3,
            Queued: 4,
            Skipped: { "online in the foreground": 1 },
            Delivered: 3,
            TokenRemoved: 0,
            DeadLettered: 1,
            Retrying: 0,
          },
        },
      ],
    });
  });

  it("names 1 to 5 tasks, over at most 30 days", async () => {
    expect((await call("/v4/timpush/all_member_push_statistics", { TaskID: [] }))?.answer.ErrorCode).toBe(
      90010,
    );
    const six = Array.from({ length: 6 }, (_, i) => `batch_00000000_000000000000000${i}`);
    expect((await call("/v4/timpush/all_member_push_statistics", { TaskID: six }))?.answer.ErrorCode).toBe(
      90010,
    );
    expect(
      (
        await call("/v4/timpush/all_member_push_statistics", {
          StartTime: 0,
          EndTime: 31 * 86400,
          TaskID: ["x"],
        })
      )?.answer.ErrorCode,
    ).toBe(90010);
  });
});

describe("the tag and attribute APIs", () => {
  it("adds, reads and removes tags, keeping the index in step", async () => {
    const add = await call("/v4/all_member_push/im_add_tag", {
      UserTags: [
        { To_Account: "bob", Tags: ["a", "b"] },
        { To_Account: "carol", Tags: ["a"] },
      ],
    });
    expect(add?.answer).toEqual({ ActionStatus: "OK", ErrorCode: 0, ErrorInfo: "" });
    expect(
      (await call("/v4/all_member_push/im_get_tag", { To_Account: ["bob", "dave"] }))?.answer.UserTags,
    ).toEqual([
      { To_Account: "bob", Tags: ["a", "b"] },
      { To_Account: "dave", Tags: [] },
    ]);
    await call("/v4/all_member_push/im_remove_tag", { UserTags: [{ To_Account: "bob", Tags: ["a"] }] });
    await call("/v4/all_member_push/im_remove_all_tags", { To_Account: ["carol"] });
    expect(
      (await profiles.page({ kind: "tag", tag: "a" }, profiles.shardOf("carol"), undefined, 10)).userIds,
    ).not.toContain("carol");
    expect(
      (await call("/v4/all_member_push/im_get_tag", { To_Account: ["bob", "carol"] }))?.answer.UserTags,
    ).toEqual([
      { To_Account: "bob", Tags: ["b"] },
      { To_Account: "carol", Tags: [] },
    ]);
  });

  it.each([
    [
      "101 accounts",
      { UserTags: Array.from({ length: 101 }, (_, i) => ({ To_Account: `u${i}`, Tags: ["a"] })) },
      90018,
    ],
    [
      "11 tags for one user",
      { UserTags: [{ To_Account: "bob", Tags: Array.from({ length: 11 }, (_, i) => `t${i}`) }] },
      90032,
    ],
    ["an empty tag", { UserTags: [{ To_Account: "bob", Tags: [""] }] }, 90040],
    ["a tag over 50 bytes", { UserTags: [{ To_Account: "bob", Tags: ["x".repeat(51)] }] }, 90020],
  ])("im_add_tag refuses %s", async (_name, body, code) => {
    expect((await call("/v4/all_member_push/im_add_tag", body))?.answer.ErrorCode).toBe(code);
  });

  it("refuses the tag that would give a user more than 100, writing nothing", async () => {
    await profiles.updateProfile("bob", () => ({
      tags: Array.from({ length: 95 }, (_, i) => `t${i}`),
      attrs: {},
    }));
    const result = await call("/v4/all_member_push/im_add_tag", {
      UserTags: [
        { To_Account: "carol", Tags: ["x"] },
        { To_Account: "bob", Tags: ["n0", "n1", "n2", "n3", "n4", "n5"] },
      ],
    });
    expect(result?.answer).toMatchObject({ ErrorCode: 90032 });
    expect(String(result?.answer.ErrorInfo)).toContain("more than 100 tags");
    expect((await profiles.getProfiles(["carol"])).get("carol")?.tags).toEqual([]);
  });

  it("sets attribute names (keys 0–9), then attributes by those names only", async () => {
    expect(
      (await call("/v4/all_member_push/im_set_attr_name", { AttrNames: { "0": "sex", "1": "city" } }))?.answer
        .ErrorCode,
    ).toBe(0);
    expect((await call("/v4/all_member_push/im_get_attr_name", {}))?.answer.AttrNames).toEqual({
      "0": "sex",
      "1": "city",
    });
    expect(
      (await call("/v4/all_member_push/im_set_attr_name", { AttrNames: { "10": "x" } }))?.answer.ErrorCode,
    ).toBe(90033);
    expect(
      (await call("/v4/all_member_push/im_set_attr_name", { AttrNames: { "2": "sex" } }))?.answer.ErrorCode,
    ).toBe(90033);

    await call("/v4/all_member_push/im_set_attr", {
      UserAttrs: [{ To_Account: "bob", Attrs: { sex: "M", city: "SZ" } }],
    });
    expect(
      (
        await call("/v4/all_member_push/im_set_attr", {
          UserAttrs: [{ To_Account: "bob", Attrs: { age: "30" } }],
        })
      )?.answer.ErrorCode,
    ).toBe(90033);
    await call("/v4/all_member_push/im_set_attr", {
      UserAttrs: [{ To_Account: "bob", Attrs: { city: "BJ" } }],
    });
    await call("/v4/all_member_push/im_remove_attr", { UserAttrs: [{ To_Account: "bob", Attrs: ["sex"] }] });
    expect(
      (await call("/v4/all_member_push/im_get_attr", { To_Account: ["bob"] }))?.answer.UserAttrs,
    ).toEqual([{ To_Account: "bob", Attrs: { city: "BJ" } }]);
    const shard = profiles.shardOf("bob");
    expect(
      (await profiles.page({ kind: "attr", name: "city", value: "SZ" }, shard, undefined, 10)).userIds,
    ).toEqual([]);
    expect(
      (await profiles.page({ kind: "attr", name: "city", value: "BJ" }, shard, undefined, 10)).userIds,
    ).toEqual(["bob"]);
  });
});
