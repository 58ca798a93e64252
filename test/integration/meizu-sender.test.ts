import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { DeliveryTarget, Notification } from "../../lib/model/index.js";
import type { MeizuCredential } from "../../lib/vendors/credentials.js";
import { REAL_URL_HEADER } from "../../lib/vendors/endpoint.js";
import { type MeizuMessage, MeizuSender, meizuNotifyKey, meizuSign } from "../../lib/vendors/meizu.js";
import { type FaultRule, SimulatorHub } from "../../local/simulators/hub.js";
import {
  generateMeizuCredential,
  type MeizuSimulator,
  startMeizuSimulator,
} from "../../local/simulators/meizu.js";

const PUSH_PATH = "/garcia/api/server/push/varnished/pushByPushId";
const MEIZU_URL = `https://server-api-push.meizu.com${PUSH_PATH}`;
/** 23:30 in Beijing: a daily quota holds for 1800 more seconds. */
const LATE_EVENING = Date.UTC(2025, 2, 1, 15, 30, 0);
const SENT_AT = Date.now();

const notification: Notification = {
  title: "Alice",
  body: "Lunch at noon? 🍜",
  ext: '{"conversationID":"c2c_alice"}',
  badge: 7,
  conversationId: "c2c_alice",
  messageKey: "144115233406627467_3_1709281815",
  sentAt: SENT_AT,
};

const hub = new SimulatorHub();
let simulator: MeizuSimulator;
/** Registered with the simulator; opens an activity on tap. */
let app: MeizuCredential;
/** A second registered app, to see targets split by credential. */
let otherApp: MeizuCredential;
/** The first app's id with a secret Meizu does not know. */
let wrongSecret: MeizuCredential;
/** Never registered. */
let unknownApp: MeizuCredential;
/** Registered, used only by the daily-quota test so other tests do not eat its quota. */
let quotaApp: MeizuCredential;
let sender: MeizuSender;
let lateSender: MeizuSender;

/** Meizu pushIds are letters and digits ("J0476035d625e…"). */
const newToken = () => `J${randomBytes(22).toString("hex")}`;

function target(overrides: Partial<DeliveryTarget> = {}): DeliveryTarget {
  const token = overrides.token ?? newToken();
  return { userId: "bob", deviceId: `meizu-${token.slice(1, 7)}`, token, certificateId: 1, ...overrides };
}

function fault(rule: Omit<FaultRule, "vendor" | "count"> & { count?: number }): void {
  hub.addFault({ vendor: "meizu", count: 1, ...rule });
}

beforeAll(async () => {
  simulator = await startMeizuSimulator({ hub });
  const endpointUrl = simulator.url;
  app = {
    ...generateMeizuCredential({ certificateId: 1, endpointUrl }),
    clickActivity: "com.example.chatpush.ChatActivity",
  };
  otherApp = generateMeizuCredential({ certificateId: 2, packageName: "com.example.other", endpointUrl });
  wrongSecret = { ...app, certificateId: 3, appSecret: randomBytes(16).toString("hex") };
  unknownApp = generateMeizuCredential({ certificateId: 4, endpointUrl });
  quotaApp = generateMeizuCredential({ certificateId: 5, endpointUrl });
  for (const registered of [app, otherApp, quotaApp]) simulator.addApp(registered);
  const credentials = [app, otherApp, wrongSecret, unknownApp, quotaApp];
  sender = new MeizuSender({ credentials });
  lateSender = new MeizuSender({ credentials, clock: { now: () => LATE_EVENING } });
});

afterAll(async () => {
  await sender?.close();
  await lateSender?.close();
  await simulator?.close();
});

beforeEach(() => {
  hub.clear();
  hub.clearFaults();
});

describe("MeizuSender against the Meizu simulator", () => {
  it("delivers, and Meizu receives every form field", async () => {
    const bob = target();

    const [result] = await sender.send(notification, [bob]);

    expect(result).toEqual({
      target: bob,
      status: 200,
      outcome: { kind: "delivered", vendorId: expect.stringMatching(/^[0-9a-f]{32}$/) },
    });
    const [delivery, ...others] = hub.list();
    expect(others).toEqual([]);
    expect(delivery).toMatchObject({ vendor: "meizu", token: bob.token, status: 200 });
    expect(Number.isNaN(Date.parse(delivery!.at))).toBe(false);
    expect(delivery!.request.headers["content-type"]).toBe("application/x-www-form-urlencoded;charset=UTF-8");
    // Addressed to Meizu's own URL, which the simulator records as the delivery's endpoint.
    expect(delivery!.request.headers[REAL_URL_HEADER]).toBe(MEIZU_URL);
    expect(delivery!.endpoint).toBe(MEIZU_URL);
    expect(delivery!.request.body).toEqual({
      appId: app.appId,
      pushIds: bob.token,
      messageJson: {
        noticeBarInfo: { noticeMsgType: 1, noticeBarType: 0, title: "Alice", content: "Lunch at noon? 🍜" },
        clickTypeInfo: {
          clickType: 1,
          activity: "com.example.chatpush.ChatActivity",
          parameters: { ext: '{"conversationID":"c2c_alice"}' },
        },
        pushTimeInfo: { offLine: 1, validTime: 72 },
        advanceInfo: {
          notifyKey: meizuNotifyKey(notification),
          notificationType: { vibrate: 1, lights: 1, sound: 1 },
        },
      },
      sign: "<redacted>",
    });
  });

  it("opens the app (clickType 0) for a credential without clickActivity", async () => {
    const carol = target({ certificateId: otherApp.certificateId });

    const [result] = await sender.send(notification, [carol]);

    expect(result?.outcome.kind).toBe("delivered");
    const body = hub.list()[0]!.request.body as { appId: string; messageJson: { clickTypeInfo: unknown } };
    expect(body.appId).toBe(otherApp.appId);
    expect(body.messageJson.clickTypeInfo).toEqual({
      clickType: 0,
      parameters: { ext: '{"conversationID":"c2c_alice"}' },
    });
  });

  it("drops only the dead pushId of a multicast and delivers to the others, in one request", async () => {
    const targets = [target(), target(), target()];
    fault({ token: targets[1]!.token, status: 410 });
    const before = simulator.stats().pushRequests;

    const results = await sender.send(notification, targets);

    expect(results.map((r) => r.target)).toEqual(targets);
    expect(results.map((r) => r.outcome)).toEqual([
      { kind: "delivered", vendorId: expect.any(String) },
      { kind: "drop-token", reason: "Meizu 110002 pushId not subscribed" },
      { kind: "delivered", vendorId: expect.any(String) },
    ]);
    expect(results[1]?.status).toBe(110002);
    expect(simulator.stats().pushRequests - before).toBe(1);
    expect(hub.list().map((d) => [d.token, d.status])).toEqual(targets.map((t) => [t.token, 200]));
  });

  it.each([
    {
      name: "404 (pushId unsubscribed, per pushId)",
      rule: { status: 404 },
      status: 110002,
      outcome: { kind: "drop-token", reason: "Meizu 110002 pushId not subscribed" },
      http: 200,
    },
    {
      name: "an explicit 110003 (pushId illegal)",
      rule: { status: 404, reason: "110003" },
      status: 110003,
      outcome: { kind: "drop-token", reason: "Meizu 110003 pushId illegal" },
      http: 200,
    },
    {
      name: "an explicit 520 (collapsed on the device)",
      rule: { status: 429, reason: "520" },
      status: 520,
      outcome: {
        kind: "quota",
        reason: "Meizu 520 message collapsed: more than 5 to this device in 1 minute",
        retryAfterSeconds: 60,
      },
      http: 200,
    },
    {
      name: "an explicit 513 (push failed, per pushId)",
      rule: { status: 500, reason: "513" },
      status: 513,
      outcome: { kind: "retry", reason: "Meizu 513 push failed" },
      http: 200,
    },
    {
      name: "401 (Meizu's sign refusal: no token to refresh, so no resend)",
      rule: { status: 401 },
      status: 1006,
      outcome: { kind: "credential-problem", reason: "Meizu 1006 签名认证失败" },
      http: 200,
    },
    {
      name: "110010 for this pushId (its user switched messages off)",
      rule: { status: 200, reason: "110010" },
      status: 110010,
      outcome: { kind: "declined", reason: "Meizu 110010 message switch off" },
      http: 200,
    },
    {
      name: "an explicit 110051 (the app's push count: a daily quota)",
      rule: { status: 429, reason: "110051" },
      status: 110051,
      outcome: {
        kind: "quota",
        reason: "Meizu 110051 超过该应用的次数限制",
        retryAfterSeconds: expect.any(Number),
      },
      http: 200,
    },
    {
      name: "an explicit 110033 (appSecret invalid)",
      rule: { status: 401, reason: "110033" },
      status: 110033,
      outcome: { kind: "credential-problem", reason: "Meizu 110033 非法的appSecret" },
      http: 200,
    },
    {
      name: "503 with Retry-After (server busy)",
      rule: { status: 503, retryAfter: 30 },
      status: 1003,
      outcome: { kind: "retry", reason: "Meizu 1003 服务器忙", retryAfterSeconds: 30 },
      http: 503,
    },
    {
      name: "500 (system error)",
      rule: { status: 500 },
      status: 1001,
      outcome: { kind: "retry", reason: "Meizu 1001 系统错误" },
      http: 500,
    },
    {
      name: "400 (parameter error)",
      rule: { status: 400 },
      status: 1005,
      outcome: { kind: "bad-request", reason: "Meizu 1005 参数错误，请参考API文档" },
      http: 200,
    },
  ])("maps $name, asking Meizu once", async ({ rule, status, outcome, http }) => {
    const bob = target();
    fault({ token: bob.token, ...rule });

    const [result] = await sender.send(notification, [bob]);

    expect(result).toEqual({ target: bob, status, outcome });
    expect(hub.list().map((d) => d.status)).toEqual([http]);
  });

  it("keeps the device that declined (110010) and delivers to the rest of the multicast", async () => {
    const targets = [target(), target(), target()];
    fault({ token: targets[0]!.token, status: 200, reason: "110010" });

    const results = await sender.send(notification, targets);

    expect(results.map((r) => r.outcome)).toEqual([
      { kind: "declined", reason: "Meizu 110010 message switch off" },
      { kind: "delivered", vendorId: expect.any(String) },
      { kind: "delivered", vendorId: expect.any(String) },
    ]);
  });

  it("reads a 110010 for the whole request (no token armed) as the app's rate limit", async () => {
    const targets = [target(), target()];
    hub.addFault({ vendor: "meizu", status: 200, reason: "110010", count: 1 });

    const results = await sender.send(notification, targets);

    const outcome = { kind: "quota", reason: "Meizu 110010 应用请求频率超过限制", retryAfterSeconds: 10 };
    expect(results.map((r) => r.outcome)).toEqual([outcome, outcome]);
  });

  it("sends an operations push as a public message and a quiet replacement silently, which Meizu accepts", async () => {
    const bob = target();
    const carol = target();

    await sender.send({ ...notification, purpose: "operations" }, [bob]);
    await sender.send(
      { ...notification, messageKey: "m2", collapseKey: notification.messageKey, quiet: true },
      [carol],
    );

    const messageOf = (token: string) =>
      (
        hub.list().find((d) => d.token === token)!.request.body as {
          messageJson: Pick<MeizuMessage, "noticeBarInfo" | "advanceInfo">;
        }
      ).messageJson;
    expect(hub.list().map((d) => d.status)).toEqual([200, 200]);
    expect(messageOf(bob.token).noticeBarInfo.noticeMsgType).toBe(0);
    expect(messageOf(carol.token).advanceInfo).toEqual({
      notifyKey: meizuNotifyKey(notification),
      notificationType: { vibrate: 0, lights: 0, sound: 0 },
      suspend: 0,
    });
  });

  it("puts a daily-quota answer (110019) off until midnight in Beijing, from the sender's clock", async () => {
    simulator.setDailyQuota(2);
    try {
      const lateNotification = { ...notification, sentAt: LATE_EVENING };
      const first = await lateSender.send(lateNotification, [
        target({ certificateId: quotaApp.certificateId }),
        target({ certificateId: quotaApp.certificateId }),
      ]);
      const bob = target({ certificateId: quotaApp.certificateId });

      const [result] = await lateSender.send(lateNotification, [bob]);

      expect(first.map((r) => r.outcome.kind)).toEqual(["delivered", "delivered"]);
      expect(result).toEqual({
        target: bob,
        status: 110019,
        outcome: {
          kind: "quota",
          reason: "Meizu 110019 超过该应用每天推送次数限制",
          retryAfterSeconds: 1800,
        },
      });
    } finally {
      simulator.setDailyQuota(undefined);
    }
  });

  it("resends once after Meizu's catch-all 500 and delivers when the resend succeeds", async () => {
    const bob = target();
    fault({ token: bob.token, status: 500, reason: "500" });

    const [result] = await sender.send(notification, [bob]);

    expect(result?.outcome.kind).toBe("delivered");
    expect(hub.list().map((d) => d.status)).toEqual([500, 200]);
  });

  it("gives up with bad-request when the resent request gets 500 again", async () => {
    const bob = target();
    fault({ token: bob.token, status: 500, reason: "500", count: 2 });

    const [result] = await sender.send(notification, [bob]);

    expect(result).toEqual({
      target: bob,
      status: 500,
      outcome: { kind: "bad-request", reason: "Meizu 500 其他异常" },
    });
    expect(hub.list().map((d) => d.status)).toEqual([500, 500]);
  });

  it("is refused (1006) when signed with a wrong appSecret, and does not resend: there is no token to refresh", async () => {
    const bob = target({ certificateId: wrongSecret.certificateId });

    const [result] = await sender.send(notification, [bob]);

    expect(result).toEqual({
      target: bob,
      status: 1006,
      outcome: { kind: "credential-problem", reason: "Meizu 1006 签名认证失败" },
    });
    expect(hub.list()).toHaveLength(1);
  });

  it("is refused (110000) for an appId Meizu does not know", async () => {
    const bob = target({ certificateId: unknownApp.certificateId });

    const [result] = await sender.send(notification, [bob]);

    expect(result).toEqual({
      target: bob,
      status: 110000,
      outcome: { kind: "credential-problem", reason: "Meizu 110000 appId不合法" },
    });
  });

  it("answers bad-request without calling Meizu for a certificate id it has no credential for", async () => {
    const bob = target({ certificateId: 99 });

    const [result] = await sender.send(notification, [bob]);

    expect(result).toEqual({
      target: bob,
      outcome: { kind: "bad-request", reason: "no meizu credential 99" },
    });
    expect(hub.list()).toEqual([]);
  });

  it("answers retry when Meizu cannot be reached", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", () => resolve()));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const unreachable = new MeizuSender({
      credentials: [{ ...app, endpoint: { url: `http://127.0.0.1:${port}` } }],
    });
    const bob = target();

    const [result] = await unreachable.send(notification, [bob]);

    expect(result).toEqual({ target: bob, outcome: { kind: "retry", reason: "Meizu network ECONNREFUSED" } });
  });

  it("still delivers when Meizu answers slowly", async () => {
    const bob = target();
    fault({ token: bob.token, status: 200, delayMs: 300 });
    const started = Date.now();

    const [result] = await sender.send(notification, [bob]);

    expect(result?.outcome.kind).toBe("delivered");
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
  });

  it("splits 250 targets into requests of at most 100 pushIds and delivers them all", async () => {
    const targets = Array.from({ length: 250 }, () => target());
    const before = simulator.stats().pushRequests;

    const results = await sender.send(notification, targets);

    expect(results.map((r) => r.target)).toEqual(targets);
    expect(results.filter((r) => r.outcome.kind === "delivered")).toHaveLength(250);
    expect(simulator.stats().pushRequests - before).toBe(3);
    const requests = new Set(hub.list().map((d) => (d.request.body as { pushIds: string }).pushIds));
    expect([...requests].map((ids) => ids.split(",").length).sort()).toEqual([100, 100, 50]);
    expect(new Set(hub.list().map((d) => d.token)).size).toBe(250);
  });

  it("signs each credential's targets with its own app and answers in target order", async () => {
    const targets = [
      target({ certificateId: otherApp.certificateId }),
      target(),
      target({ certificateId: 99 }),
      target({ certificateId: otherApp.certificateId }),
    ];

    const results = await sender.send(notification, targets);

    expect(results.map((r) => [r.target, r.outcome.kind])).toEqual([
      [targets[0], "delivered"],
      [targets[1], "delivered"],
      [targets[2], "bad-request"],
      [targets[3], "delivered"],
    ]);
    const appOf = (token: string) =>
      (hub.list().find((d) => d.token === token)?.request.body as { appId: string } | undefined)?.appId;
    expect(appOf(targets[0]!.token)).toBe(otherApp.appId);
    expect(appOf(targets[1]!.token)).toBe(app.appId);
    expect(appOf(targets[3]!.token)).toBe(otherApp.appId);
  });

  it("sends a token registered twice once, and answers both targets", async () => {
    const token = newToken();
    const twice = [target({ token, deviceId: "a" }), target({ token, deviceId: "b" })];

    const results = await sender.send(notification, twice);

    expect(results.map((r) => r.outcome.kind)).toEqual(["delivered", "delivered"]);
    expect(hub.list()).toHaveLength(1);
  });

  it("reuses its kept-alive connection on a second send (no token to cache: the sign is per request)", async () => {
    await sender.send(notification, [target()]);
    const warm = simulator.stats();

    const [result] = await sender.send(notification, [target()]);

    expect(result?.outcome.kind).toBe("delivered");
    expect(simulator.stats()).toEqual({ connections: warm.connections, pushRequests: warm.pushRequests + 1 });
  });
});

describe("Meizu simulator checks requests as Meizu does", () => {
  const validMessage = () => ({
    noticeBarInfo: { noticeMsgType: 1, noticeBarType: 0, title: "Alice", content: "hi" },
    clickTypeInfo: { clickType: 0, parameters: { ext: "{}" } },
    pushTimeInfo: { offLine: 1, validTime: 24 },
    advanceInfo: { notifyKey: "abc_-12", notificationType: { vibrate: 1, lights: 1, sound: 1 } },
  });

  interface Raw {
    fields?: Record<string, string | undefined>;
    message?: unknown;
    secret?: string;
    contentType?: string;
    path?: string;
  }

  async function post(raw: Raw = {}): Promise<{ status: number; body: Record<string, unknown> }> {
    const unsigned = Object.fromEntries(
      Object.entries({
        appId: app.appId,
        pushIds: newToken(),
        messageJson:
          typeof raw.message === "string" ? raw.message : JSON.stringify(raw.message ?? validMessage()),
        ...raw.fields,
      }).filter((entry): entry is [string, string] => entry[1] !== undefined),
    );
    const fields =
      "sign" in (raw.fields ?? {})
        ? unsigned
        : { ...unsigned, sign: meizuSign(unsigned, raw.secret ?? app.appSecret) };
    const response = await fetch(`${simulator.url}${raw.path ?? PUSH_PATH}`, {
      method: "POST",
      headers: { "content-type": raw.contentType ?? "application/x-www-form-urlencoded;charset=UTF-8" },
      body: new URLSearchParams(fields).toString(),
    });
    const text = await response.text();
    return {
      status: response.status,
      body: response.headers.get("content-type")?.includes("json") ? JSON.parse(text) : { text },
    };
  }

  it('accepts a valid request: code "200" as a string, an empty value map and a msgId', async () => {
    const response = await post();

    expect(response).toEqual({
      status: 200,
      body: {
        code: "200",
        message: "",
        value: {},
        redirect: "",
        msgId: expect.stringMatching(/^[0-9a-f]{32}$/),
      },
    });
  });

  it.each<{ name: string; raw: Raw; code: string }>([
    { name: "no sign", raw: { fields: { sign: undefined } }, code: "110004" },
    { name: "no messageJson", raw: { fields: { messageJson: undefined } }, code: "110004" },
    { name: "no pushIds", raw: { fields: { pushIds: undefined } }, code: "110004" },
    { name: "a JSON body instead of a form", raw: { contentType: "application/json" }, code: "110004" },
    { name: "an unknown appId", raw: { fields: { appId: "1" } }, code: "110000" },
    { name: "a sign made with another secret", raw: { secret: "not-the-secret" }, code: "1006" },
    { name: "a sign that is not lowercase", raw: { fields: { sign: "ABC" } }, code: "1006" },
    {
      name: "101 pushIds",
      raw: { fields: { pushIds: Array.from({ length: 101 }, newToken).join(",") } },
      code: "1005",
    },
    { name: "messageJson that is not JSON", raw: { message: "{noticeBarInfo:" }, code: "1005" },
    { name: "no noticeBarInfo", raw: { message: { pushTimeInfo: { offLine: 0 } } }, code: "1005" },
    {
      name: "a 33-character title",
      raw: { message: { ...validMessage(), noticeBarInfo: { title: "t".repeat(33), content: "hi" } } },
      code: "1005",
    },
    {
      name: "an empty title",
      raw: { message: { ...validMessage(), noticeBarInfo: { title: "", content: "hi" } } },
      code: "1005",
    },
    {
      name: "a 101-character content",
      raw: { message: { ...validMessage(), noticeBarInfo: { title: "t", content: "c".repeat(101) } } },
      code: "1005",
    },
    {
      name: "noticeMsgType 2",
      raw: { message: { ...validMessage(), noticeBarInfo: { title: "t", content: "c", noticeMsgType: 2 } } },
      code: "1005",
    },
    {
      name: "clickType 1 without an activity",
      raw: { message: { ...validMessage(), clickTypeInfo: { clickType: 1 } } },
      code: "1005",
    },
    {
      name: "parameters that are not a JSON object",
      raw: { message: { ...validMessage(), clickTypeInfo: { clickType: 0, parameters: "ext" } } },
      code: "1005",
    },
    {
      name: "validTime 73",
      raw: { message: { ...validMessage(), pushTimeInfo: { offLine: 1, validTime: 73 } } },
      code: "1005",
    },
    {
      name: "validTime 0",
      raw: { message: { ...validMessage(), pushTimeInfo: { offLine: 1, validTime: 0 } } },
      code: "1005",
    },
    {
      name: "a 9-character notifyKey",
      raw: { message: { ...validMessage(), advanceInfo: { notifyKey: "123456789" } } },
      code: "1005",
    },
    {
      name: "a notifyKey with a dot",
      raw: { message: { ...validMessage(), advanceInfo: { notifyKey: "a.b" } } },
      code: "1005",
    },
  ])("refuses $name: $code", async ({ raw, code }) => {
    const response = await post(raw);

    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ code, value: "", redirect: "" });
    expect(String(response.body.message)).not.toBe("");
  });

  it("checks the signature over the raw values, not the URL-encoded ones", async () => {
    const message = JSON.stringify(validMessage());
    const unsigned = { appId: app.appId, pushIds: newToken(), messageJson: message };
    const encodedSign = meizuSign({ ...unsigned, messageJson: encodeURIComponent(message) }, app.appSecret);

    const response = await post({ fields: { ...unsigned, sign: encodedSign } });

    expect(response.body.code).toBe("1006");
  });

  it("lists an illegal pushId under 110003 and accepts the rest", async () => {
    const good = newToken();

    const response = await post({ fields: { pushIds: `${good},bad!id` } });

    expect(response.body).toMatchObject({ code: "200", value: { "110003": ["bad!id"] } });
  });

  it("records one delivery per pushId with messageJson parsed and the sign redacted", async () => {
    const [a, b] = [newToken(), newToken()];

    await post({ fields: { pushIds: `${a},${b}` } });

    expect(hub.list().map((d) => d.token)).toEqual([a, b]);
    const [delivery] = hub.list();
    expect(delivery).toMatchObject({ vendor: "meizu", status: 200 });
    expect(delivery!.request.headers["content-type"]).toBe("application/x-www-form-urlencoded;charset=UTF-8");
    expect(delivery!.request.body).toEqual({
      appId: app.appId,
      pushIds: `${a},${b}`,
      messageJson: validMessage(),
      sign: "<redacted>",
    });
  });

  it("records Meizu's own URL as the endpoint of a request that names no real URL", async () => {
    await post();

    expect(hub.list().map((d) => d.endpoint)).toEqual([MEIZU_URL]);
  });

  it("lists a pushId armed with 110010 under 110010 (its user switched messages off), the rest accepted", async () => {
    const [off, on] = [newToken(), newToken()];
    hub.addFault({ vendor: "meizu", token: off, status: 200, reason: "110010", count: 1 });

    const response = await post({ fields: { pushIds: `${off},${on}` } });

    expect(response.body).toMatchObject({ code: "200", value: { "110010": [off] } });
  });

  it("records refused requests too, with the status they got", async () => {
    const token = newToken();

    await post({ fields: { pushIds: token }, secret: "wrong" });

    expect(hub.list()).toEqual([
      expect.objectContaining({ vendor: "meizu", token, status: 200, request: expect.anything() }),
    ]);
  });

  it("answers 404 for other paths without recording them", async () => {
    const response = await post({ path: "/garcia/api/server/push/varnished/pushByPushIds" });

    expect(response.status).toBe(404);
    expect(hub.list()).toEqual([]);
  });

  it("refuses a request that would pass the daily quota whole, with 110019", async () => {
    const quotaCredential = generateMeizuCredential({ certificateId: 6 });
    simulator.addApp(quotaCredential);
    simulator.setDailyQuota(3);
    try {
      const send = (count: number) =>
        post({
          fields: {
            appId: quotaCredential.appId,
            pushIds: Array.from({ length: count }, newToken).join(","),
          },
          secret: quotaCredential.appSecret,
        });

      expect((await send(2)).body.code).toBe("200");
      expect((await send(2)).body).toMatchObject({ code: "110019", value: "" });
      expect((await send(1)).body.code).toBe("200");
      expect((await send(1)).body.code).toBe("110019");
    } finally {
      simulator.setDailyQuota(undefined);
    }
  });
});

describe("the Meizu simulator's daily statistics (what npm run doctor checks the appSecret with)", () => {
  const statistics = async (credential: MeizuCredential, params: Record<string, string>) => {
    const query = new URLSearchParams({
      appId: credential.appId,
      ...params,
      sign: meizuSign({ appId: credential.appId, ...params }, credential.appSecret),
    });
    const response = await fetch(
      `${simulator.url}/garcia/api/server/push/statistics/dailyPushStatics?${query}`,
    );
    return (await response.json()) as { code: string; message: string; value: unknown };
  };

  it("answers a signed query with a day of figures, a wrong signature 1006, an unknown app 110000", async () => {
    const day = { startTime: "20250301", endTime: "20250301" };

    const accepted = await statistics(app, day);
    const wrongSign = await statistics(wrongSecret, day);
    const unknown = await statistics(unknownApp, day);
    const backwards = await statistics(app, { startTime: "20250302", endTime: "20250301" });

    expect(accepted).toMatchObject({ code: "200", value: [{ date: "2025-03-01", pushedNo: 0 }] });
    expect(wrongSign).toMatchObject({ code: "1006", message: "签名认证失败" });
    expect(unknown).toMatchObject({ code: "110000" });
    expect(backwards).toMatchObject({ code: "500", message: "结束时间不能早于开始时间" });
    expect(hub.list()).toEqual([]);
  });
});
