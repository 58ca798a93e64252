import { createServer } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { DeliveryTarget, Notification } from "../../lib/model/index.js";
import { conversationNotifyId } from "../../lib/vendors/android-text.js";
import type { HuaweiCredential } from "../../lib/vendors/credentials.js";
import { HuaweiSender } from "../../lib/vendors/huawei.js";
import { FLOW_CONTROL_BACKOFF_SECONDS } from "../../lib/vendors/huawei-outcomes.js";
import {
  generateHuaweiCredential,
  type HuaweiSimulator,
  startHuaweiSimulator,
} from "../../local/simulators/huawei.js";
import { type FaultRule, type SimulatedDelivery, SimulatorHub } from "../../local/simulators/hub.js";

const SEVEN_DAYS_S = 7 * 24 * 60 * 60;
const CLICK_INTENT = "intent://com.example.chatpush/chat#Intent;scheme=tpns;launchFlags=0x4000000;end";
const BADGE_CLASS = "com.example.chatpush.MainActivity";

const notification: Notification = {
  title: "Alice",
  body: "Lunch at noon? 🍜",
  ext: '{"conversationID":"c2c_alice"}',
  badge: 7,
  conversationId: "c2c_alice",
  messageKey: "144115233406627467_3_1709281815",
  sentAt: Date.now(),
};

const hub = new SimulatorHub();
let sim: HuaweiSimulator;
/** The default app: click intent, channel and badge class configured. */
let main: HuaweiCredential;
/** A second registered app. */
let other: HuaweiCredential;
/** Its app is registered, but with another secret than the one it holds. */
let wrongSecret: HuaweiCredential;
/** Points at a port nobody listens on. */
let unreachable: HuaweiCredential;
let sender: HuaweiSender;
const extraSenders: HuaweiSender[] = [];

let serial = 0;
/** A fresh Huawei-shaped token per call, so each test reads only its own deliveries. */
function target(overrides: Partial<DeliveryTarget> = {}): DeliveryTarget {
  serial += 1;
  return {
    userId: `user-${serial}`,
    deviceId: `device-${serial}`,
    token: `IQAAAACy0${String(serial).padStart(6, "0")}AADSOqxBZYk_OORFIk1zxXtorU6pQ4micVrADEja`,
    certificateId: main.certificateId,
    ...overrides,
  };
}

function fault(rule: Omit<FaultRule, "vendor" | "count"> & { count?: number }): void {
  hub.addFault({ vendor: "huawei", count: 1, ...rule });
}

function newSender(credentials: HuaweiCredential[], clock?: { now(): number }): HuaweiSender {
  const created = new HuaweiSender({ credentials, ...(clock !== undefined && { clock }) });
  extraSenders.push(created);
  return created;
}

const sent = (token: string): SimulatedDelivery[] => hub.list().filter((d) => d.token === token);
const bodyOf = (delivery: SimulatedDelivery | undefined) =>
  delivery?.request.body as { message: { token: string[] } };

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

beforeAll(async () => {
  sim = await startHuaweiSimulator({ hub });
  main = {
    ...generateHuaweiCredential({ certificateId: 1, endpointUrl: sim.url }),
    isDefault: true,
    clickIntent: CLICK_INTENT,
    channelId: "chat_messages",
    badgeClass: BADGE_CLASS,
  };
  other = generateHuaweiCredential({
    certificateId: 2,
    packageName: "com.example.other",
    endpointUrl: sim.url,
  });
  wrongSecret = generateHuaweiCredential({ certificateId: 3, endpointUrl: sim.url });
  unreachable = generateHuaweiCredential({
    certificateId: 4,
    endpointUrl: `http://127.0.0.1:${await closedPort()}`,
  });
  sim.addApp(main);
  sim.addApp(other);
  sim.addApp({ appId: wrongSecret.appId, clientSecret: "f".repeat(64) });
  sender = new HuaweiSender({ credentials: [main, other, wrongSecret, unreachable] });
});

afterAll(async () => {
  await Promise.all([sender, ...extraSenders].map((s) => s?.close()));
  await sim?.close();
});

beforeEach(() => {
  hub.clear();
  hub.clearFaults();
});

describe("HuaweiSender against the Huawei simulator", () => {
  it("delivers after a real OAuth grant, and Push Kit receives every field", async () => {
    const bob = target();

    const [result] = await sender.send(notification, [bob]);

    expect(result).toEqual({
      target: bob,
      status: 200,
      outcome: { kind: "delivered", vendorId: expect.stringMatching(/^\d+$/) },
    });
    const deliveries = hub.list();
    expect(deliveries).toHaveLength(1);
    const [delivery] = deliveries;
    const realUrl = `https://push-api.cloud.huawei.com/v1/${main.appId}/messages:send`;
    expect(delivery).toMatchObject({ vendor: "huawei", token: bob.token, status: 200, endpoint: realUrl });
    expect(Number.isNaN(Date.parse(delivery!.at))).toBe(false);
    expect(delivery!.request.headers).toMatchObject({
      authorization: "Bearer <redacted>",
      "content-type": "application/json;charset=utf-8",
      "x-chatpush-vendor-url": realUrl,
    });
    const body = delivery!.request.body as {
      message: { android: { ttl: string } };
    };
    const ttl = Number.parseInt(body.message.android.ttl, 10);
    expect(ttl).toBeGreaterThan(SEVEN_DAYS_S - 60);
    expect(ttl).toBeLessThanOrEqual(SEVEN_DAYS_S);
    expect(body).toEqual({
      validate_only: false,
      message: {
        data: notification.ext,
        android: {
          category: "IM",
          ttl: `${ttl}s`,
          notification: {
            title: "Alice",
            body: "Lunch at noon? 🍜",
            click_action: {
              type: 1,
              intent: `intent://com.example.chatpush/chat#Intent;scheme=tpns;launchFlags=0x4000000;S.ext=${encodeURIComponent(notification.ext)};end`,
            },
            importance: "NORMAL",
            channel_id: "chat_messages",
            tag: notification.messageKey,
            notify_id: conversationNotifyId(notification.messageKey),
            group: "c2c_alice",
            default_sound: true,
            badge: { set_num: 7, class: BADGE_CLASS },
          },
        },
        token: [bob.token],
      },
    });
  });

  it("drops only the dead token of a multicast: one request, the others delivered, in target order", async () => {
    const targets = [target(), target(), target()];
    fault({ token: targets[1]!.token, status: 410 });

    const results = await sender.send(notification, targets);

    expect(results.map((r) => r.target)).toEqual(targets);
    expect(results.map((r) => [r.status, r.outcome])).toEqual([
      [200, { kind: "delivered", vendorId: expect.any(String) }],
      [200, { kind: "drop-token", reason: "Huawei 80100000 illegal_tokens" }],
      [200, { kind: "delivered", vendorId: expect.any(String) }],
    ]);
    expect(hub.list()).toHaveLength(3);
    expect(bodyOf(hub.list()[0]).message.token).toEqual(targets.map((t) => t.token));
  });

  it("keeps every token when every one is invalid (80300007): a credential problem, not dead devices", async () => {
    const targets = [target(), target()];
    for (const { token } of targets) fault({ token, status: 404 });

    const results = await sender.send(notification, targets);

    expect(results.map((r) => [r.status, r.outcome])).toEqual([
      [400, { kind: "credential-problem", reason: "Huawei 80300007 All the tokens are invalid." }],
      [400, { kind: "credential-problem", reason: "Huawei 80300007 All the tokens are invalid." }],
    ]);
  });

  it("answers a whole multicast with a fault naming 80300007, dropping none of it", async () => {
    const targets = [target(), target(), target()];
    fault({ status: 400, reason: "80300007" });

    const results = await sender.send(notification, targets);

    expect(results.map((r) => r.outcome.kind)).toEqual([
      "credential-problem",
      "credential-problem",
      "credential-problem",
    ]);
    expect(hub.list().map((d) => d.status)).toEqual([400, 400, 400]);
  });

  it("hands ext to the app as message.data with a credential that has no click intent", async () => {
    const bob = target({ certificateId: other.certificateId });

    const [result] = await newSender([other]).send(notification, [bob]);

    expect(result?.outcome.kind).toBe("delivered");
    const body = sent(bob.token)[0]?.request.body as {
      message: { data?: string; android: { notification: { click_action: unknown } } };
    };
    expect(body.message.data).toBe(notification.ext);
    expect(body.message.android.notification.click_action).toEqual({ type: 3 });
  });

  it("sends an operations push as marketing and a VOIP-approved call as VOIP, both accepted", async () => {
    const voip = newSender([{ ...main, voipCategory: true }]);
    const [bob, carol] = [target(), target()];
    const call = {
      action: "ring" as const,
      inviteId: "inv-1",
      callerId: "alice",
      callerName: "Alice",
      media: "audio" as const,
      invitees: ["carol"],
      timeoutSeconds: 30,
      invitedAt: Date.now(),
    };

    const [notice] = await sender.send({ ...notification, purpose: "operations" }, [bob]);
    const [ring] = await voip.send({ ...notification, purpose: "call", call, collapseKey: "call_inv-1" }, [
      carol,
    ]);

    expect([notice?.outcome.kind, ring?.outcome.kind]).toEqual(["delivered", "delivered"]);
    type Android = { category: string; notification: { importance: string; tag: string } };
    const android = (token: string) =>
      (sent(token)[0]!.request.body as { message: { android: Android } }).message.android;
    expect(android(bob.token).category).toBe("MARKETING");
    expect(android(bob.token).notification.importance).toBe("LOW");
    expect(android(carol.token).category).toBe("VOIP");
    expect(android(carol.token).notification.tag).toBe("call_inv-1");
  });

  it("answers with the Huawei code a fault names", async () => {
    const bob = target();
    fault({ token: bob.token, status: 400, reason: "80300002" });

    const [result] = await sender.send(notification, [bob]);

    expect(result?.outcome).toEqual({
      kind: "credential-problem",
      reason: "Huawei 80300002 No permission to send message to these tokens.",
    });
  });

  it("after the access tokens expire, fetches exactly one new token and resends once", async () => {
    const fresh = newSender([main]);
    const before = sim.stats().tokensIssued;
    await fresh.send(notification, [target()]);
    sim.expireAccessTokens();
    hub.clear();
    const bob = target();

    const [result] = await fresh.send(notification, [bob]);

    expect(result?.outcome.kind).toBe("delivered");
    expect(sim.stats().tokensIssued - before).toBe(2);
    expect(sent(bob.token).map((d) => d.status)).toEqual([401, 200]);
  });

  it("refreshes once on an 80200003 answer to a token it still holds, and delivers", async () => {
    const fresh = newSender([main]);
    await fresh.send(notification, [target()]);
    const before = sim.stats().tokensIssued;
    const bob = target();
    fault({ token: bob.token, status: 401 });

    const [result] = await fresh.send(notification, [bob]);

    expect(result?.outcome.kind).toBe("delivered");
    expect(sim.stats().tokensIssued - before).toBe(1);
    expect(sent(bob.token).map((d) => d.status)).toEqual([401, 200]);
  });

  it("parks a credential problem when the resent request is refused again with a new token", async () => {
    const bob = target();
    fault({ token: bob.token, status: 401, count: 2 });

    const [result] = await sender.send(notification, [bob]);

    expect(result).toEqual({
      target: bob,
      status: 401,
      outcome: {
        kind: "credential-problem",
        reason: "Huawei 80200003 Oauth Token expired (refused again with a new access token)",
      },
    });
    expect(sent(bob.token).map((d) => d.status)).toEqual([401, 401]);
  });

  it("is refused an access token for a wrong secret, and never sends", async () => {
    const before = sim.stats().tokensIssued;
    const bob = target({ certificateId: wrongSecret.certificateId });

    const [result] = await sender.send(notification, [bob]);

    expect(result).toEqual({
      target: bob,
      status: 400,
      outcome: {
        kind: "credential-problem",
        reason: "Huawei OAuth 1101 invalid client_secret (sub_error 12304)",
      },
    });
    expect(sim.stats().tokensIssued).toBe(before);
    expect(hub.list()).toEqual([]);
  });

  it("holds a 429 for moments, never until Beijing midnight: Huawei documents no such quota", async () => {
    const bob = target();
    fault({ token: bob.token, status: 429 });

    const [result] = await sender.send(notification, [bob]);

    expect(result).toEqual({
      target: bob,
      status: 429,
      outcome: {
        kind: "quota",
        reason: "Huawei HTTP 429 Too Many Requests",
        retryAfterSeconds: FLOW_CONTROL_BACKOFF_SECONDS,
      },
    });
  });

  it.each([
    {
      name: "503 flow control",
      rule: { status: 503 },
      status: 503,
      outcome: {
        kind: "quota",
        reason: "Huawei HTTP 503 Flow control",
        retryAfterSeconds: FLOW_CONTROL_BACKOFF_SECONDS,
      },
    },
    {
      name: "503 with Retry-After",
      rule: { status: 503, retryAfter: 30 },
      status: 503,
      outcome: { kind: "quota", reason: "Huawei HTTP 503 Flow control", retryAfterSeconds: 30 },
    },
    {
      name: "500 internal error",
      rule: { status: 500 },
      status: 500,
      outcome: { kind: "retry", reason: "Huawei 81000001 Inner Error." },
    },
    {
      name: "400 parameter error",
      rule: { status: 400 },
      status: 400,
      outcome: {
        kind: "bad-request",
        reason: "Huawei 80100003 Illegal payload, rejected by a simulated fault.",
      },
    },
  ])(
    "maps a $name answer, asking Huawei once (retries are the worker's)",
    async ({ rule, status, outcome }) => {
      const bob = target();
      fault({ token: bob.token, ...rule });

      const [result] = await sender.send(notification, [bob]);

      expect(result).toEqual({ target: bob, status, outcome });
      expect(sent(bob.token).map((d) => d.status)).toEqual([status]);
    },
  );

  it("answers retry when Huawei cannot be reached", async () => {
    const bob = target({ certificateId: unreachable.certificateId });

    const [result] = await sender.send(notification, [bob]);

    expect(result).toEqual({
      target: bob,
      outcome: {
        kind: "retry",
        reason: expect.stringMatching(/^Huawei OAuth network fetch failed.*ECONNREFUSED/),
      },
    });
  });

  it("waits out a slow success", async () => {
    const bob = target();
    fault({ token: bob.token, status: 200, delayMs: 300 });
    const started = Date.now();

    const [result] = await sender.send(notification, [bob]);

    expect(result?.outcome.kind).toBe("delivered");
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
  });

  it("splits 2,500 targets into requests of at most 1,000 tokens, all delivered", async () => {
    const targets = Array.from({ length: 2500 }, () => target());

    const results = await sender.send(notification, targets);

    expect(results.filter((r) => r.outcome.kind === "delivered")).toHaveLength(2500);
    expect(new Set(hub.list().map((d) => d.token)).size).toBe(2500);
    // One recorded delivery per token: the one naming its request's first token stands for the request.
    const requests = hub.list().filter((d) => d.token === bodyOf(d).message.token[0]);
    expect(requests.map((d) => bodyOf(d).message.token.length).sort()).toEqual([1000, 1000, 500]);
  });

  it("groups targets by credential, the default for none, and refuses an unknown certificate id", async () => {
    const mine = target();
    const theirs = target({ certificateId: other.certificateId });
    const unknown = target({ certificateId: 99 });
    const unsaid = target({ certificateId: undefined });

    const results = await sender.send(notification, [mine, theirs, unknown, unsaid]);

    expect(results.map((r) => r.target)).toEqual([mine, theirs, unknown, unsaid]);
    expect(results.map((r) => r.outcome.kind)).toEqual([
      "delivered",
      "delivered",
      "bad-request",
      "delivered",
    ]);
    expect(results[2]?.outcome).toEqual({ kind: "bad-request", reason: "no huawei credential 99" });
    expect(sent(theirs.token)).toHaveLength(1);
    expect(bodyOf(sent(mine.token)[0]).message.token).toEqual([mine.token, unsaid.token]);
    expect(bodyOf(sent(theirs.token)[0]).message.token).toEqual([theirs.token]);
    expect(sent(unknown.token)).toEqual([]);
  });

  it("sends a token two targets share once, and answers both", async () => {
    const first = target();
    const second = { ...target(), token: first.token };

    const results = await sender.send(notification, [first, second]);

    expect(results.map((r) => r.outcome.kind)).toEqual(["delivered", "delivered"]);
    expect(sent(first.token)).toHaveLength(1);
  });

  it("reuses the cached access token and the kept-alive connection on a second send", async () => {
    const fresh = newSender([main]);
    const start = sim.stats();
    await fresh.send(notification, [target()]);
    const afterFirst = sim.stats();

    const [result] = await fresh.send(notification, [target()]);

    expect(result?.outcome.kind).toBe("delivered");
    expect(afterFirst.tokensIssued - start.tokensIssued).toBe(1);
    expect(sim.stats().tokensIssued).toBe(afterFirst.tokensIssued);
    expect(sim.stats().connections).toBe(afterFirst.connections);
  });
});

describe("Huawei simulator checks requests as Push Kit does", () => {
  async function post(path: string, body: string, headers: Record<string, string> = {}) {
    const response = await fetch(`${sim.url}${path}`, { method: "POST", headers, body });
    return {
      status: response.status,
      headers: response.headers,
      json: (await response.json()) as Record<string, unknown>,
    };
  }

  const grant = (form: Record<string, string>) =>
    post("/oauth2/v3/token", new URLSearchParams(form).toString(), {
      "content-type": "application/x-www-form-urlencoded",
    });

  async function accessToken(credential: HuaweiCredential = main): Promise<string> {
    const { json } = await grant({
      grant_type: "client_credentials",
      client_id: credential.appId,
      client_secret: credential.clientSecret,
    });
    return json.access_token as string;
  }

  function validMessage(token = target().token): Record<string, unknown> {
    return {
      android: {
        category: "IM",
        ttl: "3600s",
        notification: {
          title: "Alice",
          body: "hi",
          click_action: { type: 3 },
          importance: "NORMAL",
          badge: { set_num: 1, class: BADGE_CLASS },
        },
      },
      token: [token],
    };
  }

  async function send(body: unknown, auth?: string) {
    const authorization = auth ?? `Bearer ${await accessToken()}`;
    return post(`/v1/${main.appId}/messages:send`, typeof body === "string" ? body : JSON.stringify(body), {
      authorization,
      "content-type": "application/json",
    });
  }

  it("grants a token for the app's id and secret, on v3 and the older v2 path", async () => {
    const form = {
      grant_type: "client_credentials",
      client_id: main.appId,
      client_secret: main.clientSecret,
    };

    const v3 = await grant(form);
    const v2 = await post("/oauth2/v2/token", new URLSearchParams(form).toString());

    for (const answer of [v3, v2]) {
      expect(answer.status).toBe(200);
      expect(answer.json).toEqual({
        access_token: expect.any(String),
        expires_in: 3600,
        token_type: "Bearer",
      });
    }
  });

  it.each([
    [
      "a wrong secret",
      { grant_type: "client_credentials", client_secret: "0".repeat(64) },
      { error: 1101, error_description: "invalid client_secret", sub_error: 12304 },
    ],
    [
      "an unknown client id",
      { grant_type: "client_credentials", client_id: "999999999" },
      { error: 1101, error_description: "invalid client_secret", sub_error: 12304 },
    ],
    [
      "another grant type",
      { grant_type: "password" },
      { error: 1101, error_description: "parameter invalid", sub_error: 20003 },
    ],
    [
      "no secret",
      { grant_type: "client_credentials", client_secret: "" },
      { error: 1101, error_description: "parameter invalid", sub_error: 20003 },
    ],
  ])("refuses a token for %s with HTTP 400", async (_, overrides, error) => {
    const answer = await grant({ client_id: main.appId, client_secret: main.clientSecret, ...overrides });

    expect([answer.status, answer.json]).toEqual([400, error]);
  });

  it("accepts a valid send with 80000000 and records it with the token redacted", async () => {
    const token = target().token;

    const answer = await send({ validate_only: false, message: validMessage(token) });

    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({
      code: "80000000",
      msg: "Success",
      requestId: expect.stringMatching(/^\d+$/),
    });
    const [delivery] = sent(token);
    expect(delivery).toMatchObject({ vendor: "huawei", token, status: 200 });
    expect(delivery!.request.headers.authorization).toBe("Bearer <redacted>");
    expect(delivery!.request.body).toEqual({ validate_only: false, message: validMessage(token) });
  });

  it.each<{ name: string; body: () => unknown; status: number; code: string }>([
    { name: "a body that is not JSON", body: () => "hello", status: 400, code: "80100003" },
    { name: "no message", body: () => ({ validate_only: false }), status: 400, code: "80100003" },
    {
      name: "no token",
      body: () => ({ message: { ...validMessage(), token: [] } }),
      status: 400,
      code: "80300010",
    },
    {
      name: "1001 tokens",
      body: () => ({
        message: { ...validMessage(), token: Array.from({ length: 1001 }, (_, i) => `t${i}`) },
      }),
      status: 400,
      code: "80300010",
    },
    {
      name: "token and topic together",
      body: () => ({ message: { ...validMessage(), topic: "news" } }),
      status: 400,
      code: "80100003",
    },
    {
      name: "a message over 4096 bytes without its tokens",
      body: () => {
        const message = validMessage();
        const android = message.android as { notification: Record<string, unknown> };
        android.notification.body = "x".repeat(4100);
        return { message };
      },
      status: 400,
      code: "80300008",
    },
    {
      name: "an unknown category",
      body: () => ({ message: withAndroid({ category: "CHAT" }) }),
      status: 400,
      code: "80100001",
    },
    {
      name: "a ttl over 15 days",
      body: () => ({ message: withAndroid({ ttl: "1296001s" }) }),
      status: 400,
      code: "80100001",
    },
    {
      name: "a ttl of 0",
      body: () => ({ message: withAndroid({ ttl: "0s" }) }),
      status: 400,
      code: "80100004",
    },
    {
      name: "an unknown importance",
      body: () => ({ message: withNotification({ importance: "URGENT" }) }),
      status: 400,
      code: "80100001",
    },
    {
      name: "no click_action",
      body: () => ({ message: withNotification({ click_action: undefined }) }),
      status: 400,
      code: "80100003",
    },
    {
      name: "click_action type 1 without intent or action",
      body: () => ({ message: withNotification({ click_action: { type: 1 } }) }),
      status: 400,
      code: "80100001",
    },
    {
      name: "a badge of 100",
      body: () => ({ message: withNotification({ badge: { set_num: 100, class: BADGE_CLASS } }) }),
      status: 400,
      code: "80100001",
    },
    {
      name: "a badge without class",
      body: () => ({ message: withNotification({ badge: { set_num: 1 } }) }),
      status: 400,
      code: "80100001",
    },
    {
      name: "a notify_id that is no integer",
      body: () => ({ message: withNotification({ notify_id: "1" }) }),
      status: 400,
      code: "80100001",
    },
    {
      name: "no title",
      body: () => ({ message: withNotification({ title: undefined }) }),
      status: 400,
      code: "80100003",
    },
    {
      name: "an image that is not HTTPS",
      body: () => ({ message: withNotification({ image: "http://cdn.example.com/a.png" }) }),
      status: 400,
      code: "80100001",
    },
    {
      name: "data that is not a JSON string beside a notification",
      body: () => ({ message: { ...validMessage(), data: "not json" } }),
      status: 400,
      code: "80100003",
    },
  ])("refuses $name: HTTP $status, $code", async ({ body, status, code }) => {
    const answer = await send(body());

    expect([answer.status, answer.json.code]).toEqual([status, code]);
    expect(hub.list().at(-1)?.status).toBe(status);
  });

  function withAndroid(fields: Record<string, unknown>): Record<string, unknown> {
    const message = validMessage();
    return { ...message, android: { ...(message.android as object), ...fields } };
  }

  function withNotification(fields: Record<string, unknown>): Record<string, unknown> {
    const message = validMessage();
    const android = message.android as { notification: object };
    return { ...message, android: { ...android, notification: { ...android.notification, ...fields } } };
  }

  it("records the real Push Kit URL as endpoint, and refuses a request meant for another host", async () => {
    const [here, elsewhere] = [target().token, target().token];
    const realUrl = `https://push-api.cloud.huawei.com/v1/${main.appId}/messages:send`;
    const authorization = `Bearer ${await accessToken()}`;
    const headers = (url: string) => ({
      authorization,
      "content-type": "application/json",
      "x-chatpush-vendor-url": url,
    });

    const plain = await send({ message: validMessage(here) });
    const wrong = await post(
      `/v1/${main.appId}/messages:send`,
      JSON.stringify({ message: validMessage(elsewhere) }),
      headers(`https://api.push.hicloud.com/v1/${main.appId}/messages:send`),
    );

    expect(plain.status).toBe(200);
    expect(sent(here)[0]?.endpoint).toBe(realUrl);
    expect(wrong.status).toBe(404);
    expect(sent(elsewhere)[0]).toMatchObject({
      status: 404,
      endpoint: `https://api.push.hicloud.com/v1/${main.appId}/messages:send`,
    });
  });

  it("refuses a missing, unknown or foreign access token with 80200001", async () => {
    const missing = await send({ message: validMessage() }, "");
    const unknown = await send({ message: validMessage() }, "Bearer nope");
    const foreign = await send({ message: validMessage() }, `Bearer ${await accessToken(other)}`);

    for (const answer of [missing, unknown, foreign]) {
      expect([answer.status, answer.json.code]).toEqual([401, "80200001"]);
    }
  });

  it("answers 503 with the fault's Retry-After, and lists per-token failures in msg as a JSON string", async () => {
    const busy = target().token;
    fault({ token: busy, status: 503, retryAfter: 12 });
    const busyAnswer = await send({ message: validMessage(busy) });
    const [live, dead] = [target().token, target().token];
    fault({ token: dead, status: 410 });

    const partial = await send({ message: { ...validMessage(), token: [live, dead] } });

    expect(busyAnswer.status).toBe(503);
    expect(busyAnswer.headers.get("retry-after")).toBe("12");
    expect(partial.status).toBe(200);
    expect(partial.json.code).toBe("80100000");
    expect(JSON.parse(partial.json.msg as string)).toEqual({
      success: 1,
      failure: 1,
      illegal_tokens: [dead],
    });
  });
});
