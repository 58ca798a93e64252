import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChatpushClient, waitFor } from "../../local/client.js";
import { type LocalRuntime, startLocalRuntime } from "../../local/runtime.js";
import { tencentUserSig } from "../support/tencent-usersig.js";

/**
 * Issue 11 item 1, done when: with the local runtime, through Tencent's REST shapes and an admin UserSig
 * made by Tencent's own tls-sig-api-v2, timpush/batch reaches two users with the OfflinePushInfo title
 * and desc; im_add_tag then a TagsOr push reaches only the tagged users; a push to all reaches every
 * registered background user; a user's own UserSig is refused; the same MsgRandom twice pushes once;
 * a Chinese-vendor device gets the operations push without the IM classification. Real DynamoDB and
 * SQS APIs (dynalite, chatpush's SQS server) and the vendor simulators over sockets.
 */
const SDK_APP_ID = "1400123456";
const SECRET = "server-push-usersig-secret-key";
const ADMIN = "administrator";
const TOKENS = {
  bob: "dQw4w9WgXcQ:APA91bHun4MxP5egoKMwt2KZFBaFUH-1RYqx1cRmWb5gDX7vFtQ0wLLw9H2kserverpush",
  carol: "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00",
  dave: "16204857_3a1c9e7b5d2f4a6c8e0b",
  erin: "IQAAAACy0kYhAADtN3fNd8wqUf2xqHG0PhyAHd2fz5FrQe9mVb8eVZPY7v5z4zYJXLmH0rServerPush",
  frank: "f4a1f4a1f4a1f4a1f4a1f4a1f4a1f4a1f4a1f4a1f4a1f4a1f4a1f4a1f4a1f4a1",
};

let runtime: LocalRuntime;
let client: ChatpushClient;
let random = 1000;
const adminSig = () => tencentUserSig(Number(SDK_APP_ID), SECRET, ADMIN);
const rest = (path: string, body: unknown) => client.restPush(path, body, { userSig: adminSig() });

beforeAll(async () => {
  runtime = await startLocalRuntime({
    sdkAppId: SDK_APP_ID,
    secretKey: SECRET,
    port: 0,
    adminDisplayName: "Acme",
  });
  client = new ChatpushClient({ baseUrl: runtime.url, sdkAppId: SDK_APP_ID, secretKey: SECRET });
  const register = async (userId: string, registration: Record<string, unknown>, state = "background") => {
    expect((await client.registerDevice(userId, `${userId}-phone`, registration)).status).toBe(200);
    expect((await client.setPresence(userId, { state: state as "background" })).status).toBe(204);
  };
  await register("bob", { vendor: "fcm", token: TOKENS.bob });
  await register("carol", { vendor: "apns", token: TOKENS.carol });
  await register("dave", { vendor: "vivo", token: TOKENS.dave });
  await register("erin", { vendor: "huawei", token: TOKENS.erin });
  // frank's app is in the foreground: online, so no offline push.
  await register("frank", { vendor: "apns", token: TOKENS.frank }, "foreground");
}, 60_000);
afterAll(async () => {
  await runtime?.stop();
});

/** Waits until every device the task was queued for has the vendor's answer. */
async function settled(taskId: string): Promise<void> {
  await waitFor(async () => {
    const entries = runtime.journal.filter((e) => e.messageKey === taskId);
    const queued = entries.filter((e) => e.stage === "queued").length;
    const done = entries.filter((e) => ["delivered", "dead-lettered", "retrying"].includes(e.stage)).length;
    return queued > 0 && done >= queued ? true : undefined;
  }, 20_000);
}

const userOf = new Map(Object.entries(TOKENS).map(([user, token]) => [token, user]));

/** Who received a request whose body carries `text` (a task's desc), sorted. */
function deliveriesWith(text: string): string[] {
  return runtime.hub
    .list()
    .filter((d) => JSON.stringify(d.request.body).includes(text))
    .map((d) => userOf.get(d.token) ?? d.token)
    .sort();
}

/** The body of the newest request `user`'s phone received carrying `text`. */
function requestTo(user: keyof typeof TOKENS, text: string): Record<string, unknown> {
  const delivery = runtime.hub
    .list()
    .findLast((d) => d.token === TOKENS[user] && JSON.stringify(d.request.body).includes(text));
  if (delivery === undefined) throw new Error(`${user} received nothing with ${text}`);
  return delivery.request.body as Record<string, unknown>;
}

function nextRandom(): number {
  random += 1;
  return random;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("Tencent's REST push API on the local runtime", () => {
  it("timpush/batch reaches both users' devices with the OfflinePushInfo title and desc", async () => {
    const { status, answer } = await rest("/v4/timpush/batch", {
      From_Account: ADMIN,
      To_Account: ["bob", "carol"],
      MsgRandom: nextRandom(),
      OfflinePushInfo: { PushFlag: 0, Title: "Order shipped", Desc: "Your order #4512 is on its way" },
      DataId: "order-4512",
    });
    expect(status).toBe(200);
    expect(answer).toMatchObject({ ActionStatus: "OK", ErrorCode: 0, ErrorInfo: "" });
    const taskId = String(answer.TaskId);
    expect(taskId).toMatch(/^batch_[0-9a-f]{8}_[0-9a-f]{16}$/);
    await settled(taskId);
    expect(deliveriesWith("Your order #4512 is on its way")).toEqual(["bob", "carol"]);
    const fcm = requestTo("bob", "#4512") as { message: { notification: unknown } };
    expect(fcm.message.notification).toEqual({
      title: "Order shipped",
      body: "Your order #4512 is on its way",
    });
    const apns = requestTo("carol", "#4512") as { aps: { alert: unknown } };
    expect(apns.aps.alert).toMatchObject({ title: "Order shipped", body: "Your order #4512 is on its way" });

    // The worker counts a job's outcomes after the vendor answered (and after the journal saw it):
    // read the statistics once the count has caught up, then check all of it.
    const stats = await waitFor(async () => {
      const read = await rest("/v4/timpush/all_member_push_statistics", { TaskID: [taskId] });
      const [result] = (read.answer.Results ?? []) as { DeliveredCount?: number }[];
      return (result?.DeliveredCount ?? 0) >= 2 ? read : undefined;
    }, 10_000);
    expect(stats.answer).toMatchObject({
      ActionStatus: "OK",
      Results: [
        {
          TaskID: taskId,
          TotalCount: 2,
          SentCount: 2,
          DeliveredCount: 2,
          Chatpush: { DataId: "order-4512" },
        },
      ],
    });
  });

  it("im_add_tag, then a TagsOr push reaches only the tagged users", async () => {
    const tagged = await rest("/v4/all_member_push/im_add_tag", {
      UserTags: [
        { To_Account: "carol", Tags: ["stock-a"] },
        { To_Account: "dave", Tags: ["stock-a", "vip"] },
      ],
    });
    expect(tagged.answer).toMatchObject({ ActionStatus: "OK", ErrorCode: 0 });
    expect(
      (await rest("/v4/all_member_push/im_get_tag", { To_Account: ["dave", "bob"] })).answer,
    ).toMatchObject({
      UserTags: [
        { To_Account: "dave", Tags: ["stock-a", "vip"] },
        { To_Account: "bob", Tags: [] },
      ],
    });
    const { answer } = await rest("/v4/timpush/push", {
      MsgRandom: nextRandom(),
      Condition: { TagsOr: ["stock-a"] },
      OfflinePushInfo: { Title: "Market alert", Desc: "Stock A moved 5%" },
    });
    expect(answer).toMatchObject({ ActionStatus: "OK", ErrorCode: 0 });
    await settled(String(answer.TaskId));
    await pause(300);
    expect(deliveriesWith("Stock A moved 5%")).toEqual(["carol", "dave"]);
  });

  it("a push to all reaches every registered background user, and a Chinese vendor files it as operations", async () => {
    await pause(1100); // broadcasts are more than 1 s apart (Tencent's 90024)
    const { answer } = await rest("/v4/timpush/push", {
      MsgRandom: nextRandom(),
      OfflinePushInfo: { Desc: "The app is down for maintenance at 02:00" },
    });
    expect(answer).toMatchObject({ ActionStatus: "OK", ErrorCode: 0 });
    const taskId = String(answer.TaskId);
    await settled(taskId);
    await pause(300);
    expect(deliveriesWith("down for maintenance")).toEqual(["bob", "carol", "dave", "erin"]);
    const skipped = runtime.journal.filter((e) => e.messageKey === taskId && e.stage === "skipped");
    expect(skipped.map((e) => [e.userId, e.reason])).toEqual([["frank", "online in the foreground"]]);

    // No Title: the admin's configured display name, not "administrator".
    expect(requestTo("dave", "down for maintenance")).toMatchObject({
      title: "Acme",
      classification: 0,
      category: "MARKETING",
    });
    const huawei = requestTo("erin", "down for maintenance") as {
      message: { android: { category: string } };
    };
    expect(huawei.message.android.category).toBe("MARKETING");
  });

  it("keeps the IM classification only when the request's OfflinePushInfo says so", async () => {
    await pause(1100);
    const { answer } = await rest("/v4/timpush/push", {
      MsgRandom: nextRandom(),
      Condition: { TagsAnd: ["stock-a", "vip"] },
      OfflinePushInfo: {
        Title: "Your advisor",
        Desc: "New message from your advisor",
        AndroidInfo: { VIVOCategory: "IM", HuaWeiCategory: "IM" },
      },
    });
    await settled(String(answer.TaskId));
    expect(deliveriesWith("New message from your advisor")).toEqual(["dave"]);
    expect(requestTo("dave", "New message from your advisor")).toMatchObject({
      classification: 1,
      category: "IM",
    });
  });

  it("refuses a user's own UserSig, and a bad one, with Tencent's codes", async () => {
    const body = { From_Account: ADMIN, To_Account: ["bob"], MsgRandom: 1, OfflinePushInfo: { Desc: "x" } };
    const own = await client.restPush("/v4/timpush/batch", body, {
      identifier: "bob",
      userSig: tencentUserSig(Number(SDK_APP_ID), SECRET, "bob"),
    });
    expect(own.answer).toMatchObject({ ActionStatus: "FAIL", ErrorCode: 90009 });
    const passedOff = await client.restPush("/v4/timpush/batch", body, {
      userSig: tencentUserSig(Number(SDK_APP_ID), SECRET, "bob"),
    });
    expect(passedOff.answer).toMatchObject({ ActionStatus: "FAIL", ErrorCode: 70013 });
    const otherKey = await client.restPush("/v4/timpush/batch", body, {
      userSig: tencentUserSig(Number(SDK_APP_ID), "another-apps-secret-key", ADMIN),
    });
    expect(otherKey.answer).toMatchObject({ ActionStatus: "FAIL", ErrorCode: 70009 });
    expect(deliveriesWith('"x"')).toEqual([]);
  });

  it("pushes the same MsgRandom once and answers its TaskId again", async () => {
    const body = {
      From_Account: ADMIN,
      To_Account: ["bob"],
      MsgRandom: nextRandom(),
      OfflinePushInfo: { Title: "Coupon", Desc: "A coupon just for you" },
    };
    const first = await rest("/v4/timpush/batch", body);
    const second = await rest("/v4/timpush/batch", body);
    expect(second.answer).toMatchObject({ ActionStatus: "OK", TaskId: first.answer.TaskId });
    await settled(String(first.answer.TaskId));
    await pause(500);
    expect(deliveriesWith("A coupon just for you")).toEqual(["bob"]);
  });

  it("answers bad input with Tencent's code naming the field, never a 5xx", async () => {
    const tooMany = await rest("/v4/timpush/batch", {
      From_Account: ADMIN,
      To_Account: Array.from({ length: 501 }, (_, i) => `u${i}`),
      MsgRandom: 5,
      OfflinePushInfo: { Desc: "x" },
    });
    expect(tooMany.status).toBe(200);
    expect(tooMany.answer).toMatchObject({ ActionStatus: "FAIL", ErrorCode: 90018 });
    expect(String(tooMany.answer.ErrorInfo)).toMatch(/^To_Account /);
    const mixed = await rest("/v4/timpush/push", {
      MsgRandom: 6,
      Condition: { TagsOr: ["a"], AttrsOr: { city: "SZ" } },
      OfflinePushInfo: { Desc: "x" },
    });
    expect(mixed.answer).toMatchObject({ ActionStatus: "FAIL", ErrorCode: 90033 });
    const notJson = await client.restPush("/v4/timpush/push", "{", { userSig: adminSig() });
    expect(notJson).toMatchObject({ status: 200, answer: { ActionStatus: "FAIL", ErrorCode: 90001 } });
  });
});
