import { randomBytes } from "node:crypto";
import { createServer as createHttpServer } from "node:http";
import { createServer } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { DeliveryTarget, Notification, OutcomeKind } from "../../lib/model/index.js";
import type { Clock } from "../../lib/ports/index.js";
import { conversationNotifyId } from "../../lib/vendors/android-text.js";
import type { XiaomiCredential } from "../../lib/vendors/credentials.js";
import { REAL_URL_HEADER } from "../../lib/vendors/endpoint.js";
import { XIAOMI_HOSTS, XiaomiSender } from "../../lib/vendors/xiaomi.js";
import { type FaultRule, SimulatorHub } from "../../local/simulators/hub.js";
import {
  generateXiaomiCredential,
  startXiaomiSimulator,
  type XiaomiSimulator,
} from "../../local/simulators/xiaomi.js";

const DAY_MS = 24 * 60 * 60 * 1000;
/** 08:30 UTC = 16:30 in Beijing: 7.5 hours to the daily quota's reset. */
const NOW = Date.UTC(2025, 2, 1, 8, 30, 0, 0);
const clock: Clock = { now: () => NOW };
const EXT = '{"conversationID":"c2c_alice"}';
const CLICK_INTENT = "intent://com.example.chatpush/chat#Intent;scheme=tim;launchFlags=0x4000000;end";

const notification: Notification = {
  title: "Alice",
  body: "Lunch at noon? 🍜",
  ext: EXT,
  badge: 7,
  conversationId: "c2c_alice",
  messageKey: "144115233406627467_3_1709281815",
  sentAt: NOW - 60_000,
};

const hub = new SimulatorHub();
let simulator: XiaomiSimulator;
let registered: XiaomiCredential;
let wrongSecret: XiaomiCredential;
let sender: XiaomiSender;

/** Xiaomi regIds are base64 text, "+" and "/" included: they must survive form encoding. */
const newToken = () => randomBytes(48).toString("base64");

function target(overrides: Partial<DeliveryTarget> = {}): DeliveryTarget {
  const token = overrides.token ?? newToken();
  return { userId: "bob", deviceId: `mi-${token.slice(0, 6)}`, token, certificateId: 30001, ...overrides };
}

function fault(rule: Omit<FaultRule, "vendor" | "count"> & { count?: number }): void {
  hub.addFault({ vendor: "xiaomi", count: 1, ...rule });
}

/** The regId lists of the send requests the simulator saw, one per request. */
function requests(): string[] {
  const lists = hub.list().map((d) => (d.request.body as { registration_id: string }).registration_id);
  return [...new Set(lists)];
}

beforeAll(async () => {
  simulator = await startXiaomiSimulator({ hub });
  registered = {
    ...generateXiaomiCredential({ certificateId: 30001, endpointUrl: simulator.url }),
    clickIntent: CLICK_INTENT,
  };
  // Same app, but a secret Xiaomi never issued.
  wrongSecret = { ...registered, certificateId: 30002, appSecret: randomBytes(16).toString("base64") };
  simulator.addApp(registered);
  sender = new XiaomiSender({ credentials: [registered, wrongSecret], clock });
});

afterAll(async () => {
  await sender?.close();
  await simulator?.close();
});

beforeEach(() => {
  hub.clear();
  hub.clearFaults();
  simulator.setDailyQuota(undefined);
});

describe("XiaomiSender against the Mi Push simulator", () => {
  it("delivers, and Xiaomi receives every header and form field", async () => {
    const bob = target();

    const [result] = await sender.send(notification, [bob]);

    expect(result).toEqual({
      target: bob,
      status: 200,
      outcome: { kind: "delivered", vendorId: expect.stringMatching(/^scm/) },
    });
    const [delivery] = hub.list();
    expect(delivery).toMatchObject({
      vendor: "xiaomi",
      token: bob.token,
      status: 200,
      endpoint: "https://api.xmpush.xiaomi.com/v3/message/regid",
    });
    expect(Number.isNaN(Date.parse(delivery!.at))).toBe(false);
    expect(delivery!.request.headers.authorization).toBe("key=<redacted>");
    expect(delivery!.request.headers["content-type"]).toBe("application/x-www-form-urlencoded;charset=UTF-8");
    expect(delivery!.request.body).toEqual({
      registration_id: bob.token,
      restricted_package_name: "com.example.chatpush",
      pass_through: "0",
      title: "Alice",
      description: "Lunch at noon? 🍜",
      payload: { conversationID: "c2c_alice" },
      notify_type: "-1",
      notify_id: String(conversationNotifyId(notification.messageKey)),
      time_to_live: String(7 * DAY_MS - 60_000),
      "extra.channel_id": registered.channelId,
      "extra.template_id": registered.templateId,
      // The emoji is not allowed in a template value and goes; the description keeps it.
      "extra.template_param": { sender: "Alice", text: "Lunch at noon?" },
      "extra.notify_foreground": "1",
      "extra.notify_effect": "2",
      "extra.intent_uri": `${CLICK_INTENT.slice(0, -"end".length)}S.ext=${encodeURIComponent(EXT)};end`,
      "extra.ext": { conversationID: "c2c_alice" },
    });
  });

  it("drops a lone dead regId Xiaomi lists in bad_regids", async () => {
    const bob = target();
    fault({ token: bob.token, status: 410 });

    const [result] = await sender.send(notification, [bob]);

    expect(result?.outcome).toEqual({ kind: "drop-token", reason: "Xiaomi bad_regids invalid regId" });
  });

  it("sends one multicast per credential and drops only the dead regId Xiaomi lists in bad_regids", async () => {
    const targets = [target(), target(), target()];
    fault({ token: targets[1]!.token, status: 410 });

    const results = await sender.send(notification, targets);

    expect(results.map((r) => r.target)).toEqual(targets);
    expect(results.map((r) => r.outcome)).toEqual([
      { kind: "delivered", vendorId: expect.any(String) },
      { kind: "drop-token", reason: "Xiaomi bad_regids invalid regId" },
      { kind: "delivered", vendorId: expect.any(String) },
    ]);
    expect(requests()).toEqual([targets.map((t) => t.token).join(",")]);
    expect(hub.list().map((d) => d.status)).toEqual([200, 200, 200]);
  });

  it("never drops a token for 20301 (no valid target: a wrong region looks the same): a credential problem", async () => {
    const bob = target();
    fault({ token: bob.token, status: 200, reason: "20301" });

    const [result] = await sender.send(notification, [bob]);

    expect(result).toEqual({
      target: bob,
      status: 20301,
      outcome: { kind: "credential-problem", reason: "Xiaomi 20301 No valid targets!" },
    });
  });

  it("answers a refused AppSecret (21301) with credential-problem, sent once: there is no token to refresh", async () => {
    const bob = target();
    fault({ token: bob.token, status: 401 });

    const [result] = await sender.send(notification, [bob]);

    expect(result).toEqual({
      target: bob,
      status: 21301,
      outcome: { kind: "credential-problem", reason: "Xiaomi 21301 Authentication failed" },
    });
    expect(hub.list()).toHaveLength(1);
  });

  it("is refused by the simulator when the AppSecret is wrong, and does not count it delivered", async () => {
    const bob = target({ certificateId: wrongSecret.certificateId });

    const [result] = await sender.send(notification, [bob]);

    expect(result?.outcome).toEqual({
      kind: "credential-problem",
      reason: "Xiaomi 21301 Authentication failed",
    });
    expect(hub.list()).toMatchObject([{ token: bob.token, status: 200 }]);
    expect(hub.list()[0]!.request.headers.authorization).toBe("key=<redacted>");
  });

  it("holds the daily quota (10034) until Beijing midnight", async () => {
    simulator.setDailyQuota(1);
    const first = target();
    const second = target();

    const [accepted] = await sender.send(notification, [first]);
    const [refused] = await sender.send(notification, [second]);

    expect(accepted?.outcome.kind).toBe("delivered");
    expect(refused).toEqual({
      target: second,
      status: 10034,
      outcome: {
        kind: "quota",
        reason: expect.stringMatching(/^Xiaomi 10034 /),
        retryAfterSeconds: 7.5 * 60 * 60,
      },
    });
  });

  it("reads a 429 fault as the daily quota too", async () => {
    const bob = target();
    fault({ token: bob.token, status: 429 });

    const [result] = await sender.send(notification, [bob]);

    expect(result?.outcome).toEqual({
      kind: "quota",
      reason: "Xiaomi 10034 Daily quota exceeded",
      retryAfterSeconds: 7.5 * 60 * 60,
    });
  });

  it.each([
    { rule: { status: 503 }, status: 503, outcome: { kind: "retry", reason: "Xiaomi 10002 System busy" } },
    {
      rule: { status: 503, retryAfter: 30 },
      status: 503,
      outcome: { kind: "retry", reason: "Xiaomi 10002 System busy", retryAfterSeconds: 30 },
    },
    {
      rule: { status: 500 },
      status: 500,
      outcome: { kind: "retry", reason: "Xiaomi 10003 Remote service timeout" },
    },
    {
      rule: { status: 400 },
      status: 10017,
      outcome: { kind: "bad-request", reason: "Xiaomi 10017 Invalid parameter" },
    },
  ])("maps a $rule.status fault (Retry-After $rule.retryAfter) to $outcome.kind", async (c) => {
    const bob = target();
    fault({ token: bob.token, ...c.rule });

    const [result] = await sender.send(notification, [bob]);

    expect(result).toEqual({ target: bob, status: c.status, outcome: c.outcome });
    expect(hub.list()).toHaveLength(1);
  });

  it.each<[code: string, kind: OutcomeKind]>([
    ["10027", "quota"],
    ["65003", "retry"],
    ["22022", "credential-problem"],
    ["27001", "credential-problem"],
    ["65029", "retry"],
  ])("answers with the code a fault names: %s → %s", async (code, kind) => {
    const bob = target();
    fault({ token: bob.token, status: 400, reason: code });

    const [result] = await sender.send(notification, [bob]);

    expect(result?.status).toBe(Number(code));
    expect(result?.outcome.kind).toBe(kind);
  });

  it("still delivers when Xiaomi answers slowly", async () => {
    const bob = target();
    fault({ token: bob.token, status: 200, delayMs: 300 });
    const started = Date.now();

    const [result] = await sender.send(notification, [bob]);

    expect(result?.outcome.kind).toBe("delivered");
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
  });

  it("splits 2,001 targets into requests of at most 1,000 regIds, all delivered in order", async () => {
    const targets = Array.from({ length: 2001 }, () => target());

    const results = await sender.send(notification, targets);

    expect(results.map((r) => r.target)).toEqual(targets);
    expect(results.filter((r) => r.outcome.kind === "delivered")).toHaveLength(2001);
    expect(
      requests()
        .map((list) => list.split(",").length)
        .sort((a, b) => b - a),
    ).toEqual([1000, 1000, 1]);
  });

  it("sends a registered-twice device once and answers both targets", async () => {
    const phone = target();
    const again = { ...phone, deviceId: "same-phone-again" };

    const results = await sender.send(notification, [phone, again]);

    expect(results.map((r) => r.outcome.kind)).toEqual(["delivered", "delivered"]);
    expect(requests()).toEqual([phone.token]);
  });

  it("keeps each credential's targets in their own request, results in target order", async () => {
    const good = target();
    const refused = target({ certificateId: wrongSecret.certificateId });
    const viaDefault = target({ certificateId: undefined });

    const results = await sender.send(notification, [refused, good, viaDefault]);

    expect(results.map((r) => r.outcome.kind)).toEqual(["credential-problem", "delivered", "delivered"]);
    expect(requests().sort()).toEqual([refused.token, [good.token, viaDefault.token].join(",")].sort());
  });

  it("answers bad-request without calling Xiaomi for a certificate id it has no credential for", async () => {
    const bob = target({ certificateId: 99 });

    const [result] = await sender.send(notification, [bob]);

    expect(result).toEqual({
      target: bob,
      outcome: { kind: "bad-request", reason: "no xiaomi credential 99" },
    });
    expect(hub.list()).toEqual([]);
  });

  it("reuses its keep-alive connection on a second send (there is no token to cache: the secret is static)", async () => {
    await sender.send(notification, [target()]);
    const before = simulator.stats();

    const [result] = await sender.send(notification, [target()]);

    expect(result?.outcome.kind).toBe("delivered");
    expect(simulator.stats()).toEqual({
      connections: before.connections,
      sendRequests: before.sendRequests + 1,
    });
  });

  it("answers retry when Xiaomi cannot be reached", async () => {
    const port = await closedPort();
    const offline = { ...registered, certificateId: 30003, endpoint: { url: `http://127.0.0.1:${port}` } };
    const offlineSender = new XiaomiSender({ credentials: [offline], clock });
    const bob = target({ certificateId: 30003 });

    const [result] = await offlineSender.send(notification, [bob]);
    await offlineSender.close();

    expect(result).toEqual({
      target: bob,
      outcome: { kind: "retry", reason: "Xiaomi network TypeError: fetch failed (ECONNREFUSED)" },
    });
  });
});

describe("XiaomiSender regions, templates and channels", () => {
  /** A sender and a simulator app of `region`, the app's devices registered in `appRegion`. */
  async function regionalSend(region: XiaomiCredential["region"], appRegion = region) {
    const credential: XiaomiCredential = {
      ...generateXiaomiCredential({ certificateId: 31001, endpointUrl: simulator.url }),
      region,
    };
    simulator.addApp(credential, { region: appRegion });
    const regional = new XiaomiSender({ credentials: [credential], clock });
    const bob = target({ certificateId: 31001 });
    const [result] = await regional.send(notification, [bob]);
    await regional.close();
    return result!;
  }

  it.each([
    ["global", "https://sgp-api.xmpush.global.xiaomi.com/v3/message/regid"],
    ["eu", "https://fr-api.xmpush.global.xiaomi.com/v3/message/regid"],
    ["ru", "https://ru-api.xmpush.global.xiaomi.com/v3/message/regid"],
    ["in", "https://idmb-api.xmpush.global.xiaomi.com/v3/message/regid"],
  ] as const)("sends a %s credential's devices to its region host %s", async (region, url) => {
    const result = await regionalSend(region);

    expect(result.outcome.kind).toBe("delivered");
    expect(hub.list().map((d) => d.endpoint)).toEqual([url]);
    expect(hub.list()[0]!.request.headers[REAL_URL_HEADER]).toBe(url);
  });

  it("is refused at another region's host and keeps every device: a credential problem", async () => {
    const result = await regionalSend("global", "eu");

    expect(result.outcome).toEqual({
      kind: "credential-problem",
      reason: expect.stringMatching(/^Xiaomi 20301 No valid targets!/),
    });
    expect(hub.list().map((d) => d.endpoint)).toEqual([`${XIAOMI_HOSTS.global}/v3/message/regid`]);
  });

  it("parks a private-channel message as a credential problem, unsent, when the credential has no templateId", async () => {
    const { templateId: _, ...untemplated } = { ...registered, certificateId: 31002 };
    const noTemplate = new XiaomiSender({ credentials: [untemplated], clock });

    const [result] = await noTemplate.send(notification, [target({ certificateId: 31002 })]);
    await noTemplate.close();

    expect(result?.outcome).toEqual({
      kind: "credential-problem",
      reason: expect.stringContaining("has no templateId"),
    });
    expect(hub.list()).toEqual([]);
  });

  it("sends an operations push on the public channel, without the private channel's template", async () => {
    const [result] = await sender.send({ ...notification, purpose: "operations" }, [target()]);

    expect(result?.outcome.kind).toBe("delivered");
    const body = hub.list()[0]!.request.body as Record<string, unknown>;
    expect(body["extra.channel_id"]).toBe(registered.publicChannelId);
    expect(body).not.toHaveProperty("extra.template_id");
    expect(body.time_to_live).toBe(String(DAY_MS));
  });

  it("never moves an operations push onto the IM channel: without publicChannelId it is parked, unsent", async () => {
    const { publicChannelId: _, ...privateOnly } = { ...registered, certificateId: 31003 };
    const noPublic = new XiaomiSender({ credentials: [privateOnly], clock });

    const [result] = await noPublic.send({ ...notification, purpose: "operations" }, [
      target({ certificateId: 31003 }),
    ]);
    await noPublic.close();

    expect(result?.outcome.kind).toBe("credential-problem");
    expect(hub.list()).toEqual([]);
  });

  it("replaces a recalled message's notification quietly (light only) on its own notify_id", async () => {
    const recall = {
      ...notification,
      body: "This message was recalled",
      quiet: true,
      collapseKey: "older-key",
    };

    const [result] = await sender.send(recall, [target()]);

    expect(result?.outcome.kind).toBe("delivered");
    expect(hub.list()[0]!.request.body).toMatchObject({
      notify_type: "4",
      notify_id: String(conversationNotifyId("older-key")),
    });
  });
});

describe("XiaomiSender reading answers that are not Xiaomi's JSON", () => {
  it.each([
    {
      name: "a proxy's HTML 502",
      status: 502,
      body: "<html>Bad Gateway</html>",
      outcome: { kind: "retry", reason: "Xiaomi HTTP 502 <html>Bad Gateway</html>" },
    },
    {
      name: "a 200 whose code is empty",
      status: 200,
      body: '{"result":"ok","code":"","data":{"id":"scm1"}}',
      outcome: { kind: "retry", reason: "Xiaomi HTTP 200" },
    },
    {
      name: "a code sent as a string",
      status: 200,
      body: '{"result":"error","code":"10034","reason":"quota"}',
      outcome: { kind: "quota", reason: "Xiaomi 10034 quota", retryAfterSeconds: 7.5 * 60 * 60 },
    },
  ])("maps $name", async ({ status, body, outcome }) => {
    const proxy = createHttpServer((_, response) => response.writeHead(status).end(body));
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    const { port } = proxy.address() as { port: number };
    const behindProxy = { ...registered, endpoint: { url: `http://127.0.0.1:${port}` } };
    const proxied = new XiaomiSender({ credentials: [behindProxy], clock });

    const [result] = await proxied.send(notification, [target()]);
    await proxied.close();
    proxy.closeAllConnections();
    await new Promise<void>((resolve) => proxy.close(() => resolve()));

    expect(result?.outcome).toEqual(outcome);
  });
});

/** A port nothing listens on: bound once, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("Mi Push simulator checks requests as Xiaomi does", () => {
  interface Raw {
    path?: string;
    authorization?: string | undefined;
    form?: Record<string, string | undefined>;
    /** The real URL the request says it was addressed to. */
    realUrl?: string;
  }

  function validForm(): Record<string, string> {
    return {
      registration_id: newToken(),
      restricted_package_name: registered.packageName,
      pass_through: "0",
      title: "t".repeat(49),
      description: "d".repeat(127),
      payload: EXT,
      notify_type: "-1",
      notify_id: "12345",
      time_to_live: String(7 * DAY_MS),
      "extra.channel_id": registered.channelId,
      "extra.template_id": registered.templateId!,
      "extra.template_param": JSON.stringify({ sender: "Alice", text: "Lunch" }),
      "extra.notify_foreground": "1",
      "extra.notify_effect": "1",
      "extra.ext": EXT,
    };
  }

  async function post(raw: Raw = {}): Promise<{ status: number; body: Record<string, unknown> | string }> {
    const form = Object.entries({ ...validForm(), ...raw.form }).filter(
      (entry): entry is [string, string] => entry[1] !== undefined,
    );
    const authorization = "authorization" in raw ? raw.authorization : `key=${registered.appSecret}`;
    const response = await fetch(`${simulator.url}${raw.path ?? "/v3/message/regid"}`, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded;charset=UTF-8",
        ...(authorization !== undefined && { authorization }),
        ...(raw.realUrl !== undefined && { [REAL_URL_HEADER]: raw.realUrl }),
      },
      body: new URLSearchParams(form).toString(),
    });
    const text = await response.text();
    return {
      status: response.status,
      body: response.ok ? (JSON.parse(text) as Record<string, unknown>) : text,
    };
  }

  it("accepts the longest title and description chatpush sends, answering Xiaomi's success shape", async () => {
    const response = await post();

    expect(response).toEqual({
      status: 200,
      body: {
        result: "ok",
        trace_id: expect.any(String),
        code: 0,
        data: { id: expect.stringMatching(/^scm/) },
        description: "成功",
        info: "Received push messages for 1 REGID",
      },
    });
  });

  it.each<{ name: string; raw: Raw; code: number }>([
    { name: "no authorization", raw: { authorization: undefined }, code: 21301 },
    { name: "a secret Xiaomi never issued", raw: { authorization: "key=bm90LWEtc2VjcmV0" }, code: 21301 },
    { name: "no registration_id", raw: { form: { registration_id: undefined } }, code: 10016 },
    {
      name: "1,001 regIds",
      raw: { form: { registration_id: Array.from({ length: 1001 }, newToken).join(",") } },
      code: 10017,
    },
    { name: "an empty regId in the list", raw: { form: { registration_id: "abc,,def" } }, code: 10017 },
    { name: "no package name", raw: { form: { restricted_package_name: undefined } }, code: 10016 },
    { name: "another app's package", raw: { form: { restricted_package_name: "com.other" } }, code: 22022 },
    { name: "pass_through 2", raw: { form: { pass_through: "2" } }, code: 10017 },
    { name: "no title", raw: { form: { title: undefined } }, code: 10016 },
    { name: "a title of white space", raw: { form: { title: "   " } }, code: 10017 },
    { name: "a 50-character title", raw: { form: { title: "t".repeat(50) } }, code: 65009 },
    { name: "a 128-character description", raw: { form: { description: "d".repeat(128) } }, code: 65009 },
    { name: "notify_type 8", raw: { form: { notify_type: "8" } }, code: 10017 },
    { name: "a notify_id over 31 bits", raw: { form: { notify_id: "2147483648" } }, code: 10017 },
    { name: "a TTL over 10 days", raw: { form: { time_to_live: String(10 * DAY_MS + 1) } }, code: 10017 },
    { name: "a channel the app does not own", raw: { form: { "extra.channel_id": "999" } }, code: 27001 },
    { name: "notify_foreground 2", raw: { form: { "extra.notify_foreground": "2" } }, code: 10017 },
    { name: "notify_effect 4", raw: { form: { "extra.notify_effect": "4" } }, code: 10017 },
    {
      name: "notify_effect 2 without intent_uri",
      raw: { form: { "extra.notify_effect": "2" } },
      code: 10016,
    },
    {
      name: "11 custom extras",
      raw: { form: Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`extra.k${i}`, "v"])) },
      code: 10017,
    },
    {
      name: "a custom extra over 1024 characters",
      raw: { form: { "extra.ext": "e".repeat(1025) } },
      code: 10017,
    },
    // Xiaomi's template rules (pId=2314).
    {
      name: "a private-channel message without a template id",
      raw: { form: { "extra.template_id": undefined, "extra.template_param": undefined } },
      code: 10016,
    },
    { name: "a template the app has not", raw: { form: { "extra.template_id": "1" } }, code: 10017 },
    {
      name: "template_param that is not JSON",
      raw: { form: { "extra.template_param": "sender=Alice" } },
      code: 10017,
    },
    {
      name: "a template variable missing",
      raw: { form: { "extra.template_param": JSON.stringify({ sender: "Alice" }) } },
      code: 10017,
    },
    {
      name: "a template variable the template has not",
      raw: { form: { "extra.template_param": JSON.stringify({ sender: "A", text: "B", extra: "C" }) } },
      code: 10017,
    },
    {
      name: "an emoji in a template value",
      raw: { form: { "extra.template_param": JSON.stringify({ sender: "Alice", text: "Lunch 🍜" }) } },
      code: 10017,
    },
    {
      name: "an empty template value",
      raw: { form: { "extra.template_param": JSON.stringify({ sender: "Alice", text: "" }) } },
      code: 10017,
    },
    {
      name: "a white-space template value",
      raw: { form: { "extra.template_param": JSON.stringify({ sender: "Alice", text: "   " }) } },
      code: 10017,
    },
    {
      name: "a 129-character template value",
      raw: { form: { "extra.template_param": JSON.stringify({ sender: "Alice", text: "x".repeat(129) }) } },
      code: 10017,
    },
    {
      name: "a request at another region's host",
      raw: { realUrl: `${XIAOMI_HOSTS.eu}/v3/message/regid` },
      code: 20301,
    },
  ])("refuses $name with $code", async ({ raw, code }) => {
    const response = await post(raw);

    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ result: "error", code, reason: expect.any(String) });
    expect(hub.list().at(-1)?.status).toBe(200);
  });

  it("takes a template value of 128 characters, Chinese ones counted one each", async () => {
    const response = await post({
      form: { "extra.template_param": JSON.stringify({ sender: "爱丽丝", text: "字".repeat(128) }) },
    });

    expect(response.body).toMatchObject({ result: "ok", code: 0 });
  });

  it("takes a public-channel message without a template, and records where a request was addressed", async () => {
    const url = `${XIAOMI_HOSTS.cn}/v3/message/regid`;
    const response = await post({
      realUrl: url,
      form: {
        "extra.channel_id": registered.publicChannelId,
        "extra.template_id": undefined,
        "extra.template_param": undefined,
      },
    });

    expect(response.body).toMatchObject({ result: "ok", code: 0 });
    expect(hub.list().map((d) => d.endpoint)).toEqual([url]);
  });

  it("answers 404 on a path Xiaomi does not serve, recording nothing", async () => {
    const response = await post({ path: "/v2/message/regid" });

    expect(response.status).toBe(404);
    expect(hub.list()).toEqual([]);
  });

  it("records one entry per regId, secret redacted and JSON fields parsed", async () => {
    const tokens = [newToken(), newToken()];

    await post({ form: { registration_id: tokens.join(",") } });

    expect(hub.list().map((d) => d.token)).toEqual(tokens);
    for (const delivery of hub.list()) {
      expect(delivery.request.headers.authorization).toBe("key=<redacted>");
      expect(delivery.request.body).toMatchObject({
        payload: { conversationID: "c2c_alice" },
        "extra.ext": { conversationID: "c2c_alice" },
        title: "t".repeat(49),
      });
    }
  });

  it("sends Retry-After with a 503 fault that sets it, and bad_regids for dead tokens", async () => {
    const busy = newToken();
    const live = newToken();
    const dead = newToken();
    fault({ token: busy, status: 503, retryAfter: 30 });
    fault({ token: dead, status: 410 });

    const busyResponse = await fetch(`${simulator.url}/v3/message/regid`, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        authorization: `key=${registered.appSecret}`,
      },
      body: new URLSearchParams({ ...validForm(), registration_id: busy }).toString(),
    });
    const partial = await post({ form: { registration_id: `${live},${dead}` } });

    expect(busyResponse.status).toBe(503);
    expect(busyResponse.headers.get("retry-after")).toBe("30");
    expect(await busyResponse.json()).toMatchObject({ result: "error", code: 10002 });
    expect(partial.body).toMatchObject({ result: "ok", code: 0, data: { bad_regids: dead } });
  });
});

describe("the Mi Push simulator's Tracer (what npm run doctor checks the AppSecret with)", () => {
  const trace = (secret: string, query = "?msg_id=chatpush-doctor-probe") =>
    fetch(`${simulator.url}/v1/trace/message/status${query}`, {
      headers: { authorization: `key=${secret}` },
    }).then(async (response) => ({
      status: response.status,
      body: (await response.json()) as Record<string, unknown>,
    }));

  it("answers a registered AppSecret in Xiaomi's shape, a wrong one with 21301, and records nothing", async () => {
    const accepted = await trace(registered.appSecret);
    const refused = await trace(wrongSecret.appSecret);
    const missing = await trace(registered.appSecret, "");

    expect(accepted).toMatchObject({ status: 200, body: { result: "ok", code: 0 } });
    expect(refused).toMatchObject({
      status: 200,
      body: { result: "error", code: 21301, description: "认证失败", reason: "Authentication failed" },
    });
    expect(missing.body).toMatchObject({ result: "error", code: 10016 });
    expect(hub.list()).toEqual([]);
  });
});
