import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { VENDORS, type Vendor } from "../../lib/model/index.js";
import { ChatpushClient, waitFor } from "../../local/client.js";
import { type DeviceSample, jsonFiles, loadCallbackSample, loadDeviceSample } from "../../local/events.js";
import { type LocalRuntime, startLocalRuntime } from "../../local/runtime.js";
import type { SimulatedDelivery } from "../../local/simulators/hub.js";

/**
 * Contract test of every vendor channel through the whole local pipeline: the sample user erin has one
 * phone per vendor (events/devices/erin-*.json); one one-to-one message to her must reach each
 * vendor's simulator once, in that vendor's documented shape, classified as instant messaging.
 */
const SDK_APP_ID = "1400123456";
const TOKEN = "contract-callback-token";
const SECRET = "contract-secret";

let runtime: LocalRuntime;
let client: ChatpushClient;
const erin = jsonFiles("events/devices")
  .map(loadDeviceSample)
  .filter((d) => d.userId === "erin");
const sample = loadCallbackSample("events/tencent/16-c2c-text-alice-to-erin-every-vendor.json");
const device = (vendor: Vendor): DeviceSample => erin.find((d) => d.registration.vendor === vendor)!;
let seq = 0;

beforeAll(async () => {
  runtime = await startLocalRuntime({
    sdkAppId: SDK_APP_ID,
    callbackToken: TOKEN,
    secretKey: SECRET,
    port: 0,
  });
  client = new ChatpushClient({
    baseUrl: runtime.url,
    sdkAppId: SDK_APP_ID,
    callbackToken: TOKEN,
    secretKey: SECRET,
  });
});
afterAll(async () => {
  await runtime?.stop();
});
beforeEach(async () => {
  await client.clearDeliveries();
  for (const d of erin) {
    expect((await client.registerDevice(d.userId, d.deviceId, d.registration)).status).toBe(200);
    await client.setPresence(d.userId, { state: "background" });
  }
});

/** Posts the sample message (fresh key and time) and waits until every device settled. */
async function sendToErin(stages: string[] = ["delivered", "token-removed", "retrying", "dead-lettered"]) {
  seq += 1;
  const now = Math.floor(Date.now() / 1000);
  const body = { ...sample.body, MsgKey: `contract-${seq}-${now}`, MsgSeq: 9000 + seq, MsgTime: now };
  expect((await client.postCallback(sample.query, body)).status).toBe(200);
  return waitFor(async () => {
    const entries = (await client.journal()).filter((e) => e.messageKey === body.MsgKey);
    const settled = entries.filter((e) => stages.includes(e.stage));
    return settled.length >= erin.length ? entries : undefined;
  }, 20_000);
}

const TITLE = "alice";
const BODY = "Erin, the slides are in the shared folder 📎";
const EXT = '{"conversationID":"c2c_alice"}';
type Loose = Record<string, any>;

describe("one message to a user with a phone at every vendor", () => {
  it("reaches each vendor exactly once, in its documented shape, classified as instant messaging", async () => {
    const settled = await sendToErin(["delivered"]);
    const deliveries = await client.deliveries();
    expect(deliveries.map((d) => d.vendor).sort()).toEqual([...VENDORS].sort());
    const of = (vendor: Vendor): SimulatedDelivery => {
      const delivery = deliveries.find((d) => d.vendor === vendor)!;
      expect(delivery.token).toBe(device(vendor).registration.token);
      expect(delivery.status).toBe(200);
      return delivery;
    };

    const apns = of("apns").request;
    expect(apns.headers).toMatchObject({ "apns-push-type": "alert", "apns-priority": "10" });
    expect(apns.body).toMatchObject({
      aps: { alert: { title: TITLE, body: BODY }, "thread-id": "c2c_alice" },
      ext: EXT,
    });
    // APNs: replaced per message (collapse id = the message's key), a stable apns-id, Apple's own URL.
    expect(apns.headers["apns-collapse-id"]).toBe(settled.find((e) => e.vendor === "apns")?.messageKey);
    expect(apns.headers["apns-id"]).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(of("apns").endpoint).toBe(
      `https://api${of("apns").environment === "sandbox" ? ".sandbox" : ""}.push.apple.com/3/device/${device("apns").registration.token}`,
    );

    // FCM: high priority on the app's chat channel (vendors.md §10), replaced per message (tag = the
    // message's key), messages:send of the project at Google's own URL.
    const fcm = (of("fcm").request.body as Loose).message;
    expect(fcm.android).toMatchObject({ priority: "HIGH" });
    expect(fcm.android.notification).toMatchObject({
      channel_id: "chat_messages",
      notification_priority: "PRIORITY_HIGH",
      tag: settled.find((e) => e.vendor === "fcm")?.messageKey,
    });
    expect(fcm.notification).toEqual({ title: TITLE, body: BODY });
    expect(fcm.data.ext).toBe(EXT);
    expect(of("fcm").endpoint).toBe("https://fcm.googleapis.com/v1/projects/chatpush-local/messages:send");

    // Huawei: category IM + importance NORMAL = service & communication (vendors.md §3, §10); ext as
    // message.data; replaced per message (tag = the message's key), grouped by conversation.
    const huawei = (of("huawei").request.body as Loose).message;
    expect(huawei.android.category).toBe("IM");
    expect(huawei.android.notification).toMatchObject({
      title: TITLE,
      body: BODY,
      importance: "NORMAL",
      tag: settled.find((e) => e.vendor === "huawei")?.messageKey,
      group: "c2c_alice",
    });
    expect(huawei.data).toBe(EXT);
    expect(huawei.token).toEqual([device("huawei").registration.token]);
    expect(of("huawei").endpoint).toMatch(
      /^https:\/\/push-api\.cloud\.huawei\.com\/v1\/[^/]+\/messages:send$/,
    );

    // Honor: importance NORMAL, camelCase body without a message wrapper (§8).
    const honor = of("honor").request.body as Loose;
    expect(honor.android.notification).toMatchObject({ title: TITLE, body: BODY, importance: "NORMAL" });
    expect(honor.android.data).toBe(EXT);
    expect(honor.android.notification.group).toBe("c2c_alice");
    expect(honor.token).toEqual([device("honor").registration.token]);
    expect(of("honor").endpoint).toMatch(
      /^https:\/\/push-api\.cloud\.honor\.com\/api\/v1\/[^/]+\/sendMessage$/,
    );

    // Xiaomi: the private channel id (§4) with its template (pId=2314), notification message with ext
    // as payload, at the mainland host.
    expect(of("xiaomi").endpoint).toBe("https://api.xmpush.xiaomi.com/v3/message/regid");
    const xiaomi = of("xiaomi").request.body as Loose;
    expect(xiaomi).toMatchObject({
      title: TITLE,
      description: BODY,
      pass_through: "0",
      restricted_package_name: "com.example.chatpush",
    });
    expect(xiaomi["extra.channel_id"]).toMatch(/\S/);
    expect(xiaomi["extra.template_id"]).toMatch(/\S/);
    // Template values carry no emoji (Xiaomi refuses \p{So}).
    expect(xiaomi["extra.template_param"]).toEqual({
      sender: TITLE,
      text: "Erin, the slides are in the shared folder",
    });
    expect(xiaomi.registration_id).toBe(device("xiaomi").registration.token);

    // OPPO: private channel + category IM (§5), no notify_level without OPPO's approval (the local
    // credential has none), action_parameters is JSON; a CN regId at the China host.
    expect(of("oppo").endpoint).toBe(
      "https://api.push.oppomobile.com/server/v1/message/notification/unicast_batch",
    );
    const oppo = (of("oppo").request.body as Loose).messages[0];
    expect(oppo.target_value).toBe(device("oppo").registration.token);
    expect(oppo.notification).toMatchObject({ title: TITLE, content: BODY, category: "IM" });
    expect(oppo.notification).not.toHaveProperty("notify_level");
    expect(oppo.notification.channel_id).toMatch(/\S/);
    expect(oppo.notification.action_parameters).toEqual({ ext: EXT });

    // vivo: classification 1 (system) + category IM (§6), its appId an int, addressed to vivo's host.
    expect(of("vivo").endpoint).toBe("https://api-push.vivo.com.cn/message/send");
    const vivo = of("vivo").request.body as Loose;
    expect(vivo).toMatchObject({
      title: TITLE,
      content: BODY,
      classification: 1,
      category: "IM",
      notifyType: 4,
      regId: device("vivo").registration.token,
    });
    expect(typeof vivo.appId).toBe("number");
    expect(vivo.requestId).toMatch(/^[0-9a-f]{64}$/);
    expect(vivo.clientCustomMap).toEqual({ ext: EXT });

    // Meizu: noticeMsgType 1 = private message (§7), one notifyKey per message.
    expect(of("meizu").endpoint).toBe(
      "https://server-api-push.meizu.com/garcia/api/server/push/varnished/pushByPushId",
    );
    const meizu = of("meizu").request.body as Loose;
    expect(meizu.pushIds).toBe(device("meizu").registration.token);
    expect(meizu.messageJson.noticeBarInfo).toMatchObject({ noticeMsgType: 1, title: TITLE, content: BODY });
    expect(meizu.messageJson.advanceInfo.notifyKey).toMatch(/^[0-9a-z]{1,8}$/);
  });

  it("keeps a Meizu device whose user switched messages off (110010) and parks nothing", async () => {
    const meizu = device("meizu");
    await client.addFault({
      vendor: "meizu",
      token: meizu.registration.token,
      status: 200,
      reason: "110010",
    });

    const entries = await sendToErin(["delivered", "token-removed", "retrying", "dead-lettered", "skipped"]);

    const settled = entries.filter((e) => e.vendor === "meizu" && e.stage !== "queued");
    expect(settled.map((e) => e.stage)).toEqual(["skipped"]);
    expect(settled[0]?.reason).toMatch(/110010/);
    const listed = JSON.parse((await client.deviceApi("GET", "/v1/devices", "erin")).body);
    expect(listed.devices.map((d: { deviceId: string }) => d.deviceId)).toContain(meizu.deviceId);
    expect(await client.deadLetters("meizu")).toEqual([]);
  });

  it("sends an OPPO device registered with an overseas regId to OPPO's international host", async () => {
    const henry = jsonFiles("events/devices")
      .map(loadDeviceSample)
      .find((d) => d.userId === "henry" && d.registration.vendor === "oppo")!;
    await client.registerDevice(henry.userId, henry.deviceId, henry.registration);
    await client.setPresence(henry.userId, { state: "background" });
    seq += 1;
    const now = Math.floor(Date.now() / 1000);
    const body = {
      ...sample.body,
      To_Account: "henry",
      MsgKey: `contract-henry-${seq}-${now}`,
      MsgTime: now,
    };
    expect((await client.postCallback(sample.query, body)).status).toBe(200);

    const delivery = await waitFor(
      async () => (await client.deliveries()).find((d) => d.token === henry.registration.token),
      20_000,
    );

    expect(delivery).toMatchObject({
      vendor: "oppo",
      status: 200,
      endpoint: "https://api-intl.push.oppomobile.com/server/v1/message/notification/unicast_batch",
    });
  });

  it("removes each vendor's device on that vendor's invalid-token answer", async () => {
    for (const d of erin)
      await client.addFault({ vendor: d.registration.vendor, token: d.registration.token, status: 410 });
    const entries = await sendToErin();
    // Huawei answers a request whose every token is invalid with 80300007, which is no proof that the
    // device is gone (a wrong app id or project answers the same): kept, parked as a credential problem.
    // Huawei names dead tokens only in the illegal_tokens of a partial success (huawei-outcomes.ts).
    expect(
      entries
        .filter((e) => e.stage === "token-removed")
        .map((e) => e.vendor)
        .sort(),
    ).toEqual(VENDORS.filter((v) => v !== "huawei").sort());
    expect(entries.find((e) => e.vendor === "huawei" && e.stage !== "queued")).toMatchObject({
      stage: "dead-lettered",
      reason: expect.stringContaining("credential problem: Huawei 80300007"),
    });
    const listed = JSON.parse((await client.deviceApi("GET", "/v1/devices", "erin")).body);
    expect(listed.devices.map((d: { deviceId: string }) => d.deviceId)).toEqual([device("huawei").deviceId]);
  });

  it("holds each Chinese vendor's daily-quota answer back until the quota resets, without spending attempts", async () => {
    // Huawei documents no daily-quota answer and no HTTP 429 (its flow control is 503): a 429 there is a
    // short rate limit (huawei-outcomes.ts), so it is not among the daily quotas.
    const chinese = VENDORS.filter((v) => v !== "apns" && v !== "fcm" && v !== "huawei");
    for (const vendor of chinese) {
      await client.addFault({ vendor, token: device(vendor).registration.token, status: 429, count: 5 });
    }
    const entries = await sendToErin(["delivered", "retrying"]);
    for (const vendor of chinese) {
      const held = entries.find((e) => e.vendor === vendor && e.stage === "retrying");
      expect(held?.reason, vendor).toMatch(/^quota: .*\(again in 900s\)$/);
    }
    // Each vendor was asked once: the quota answer closes the gate instead of a hot loop.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const asked = (await client.deliveries()).filter((d) =>
      chinese.includes(d.vendor as (typeof chinese)[number]),
    );
    expect(asked.map((d) => d.vendor).sort()).toEqual([...chinese].sort());
    // Honor stands for them (Huawei's queue holds the credential problem of the test before).
    expect(await client.deadLetters("honor")).toEqual([]);
  });
});
