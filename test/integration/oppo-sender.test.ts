import { createHash, randomBytes } from "node:crypto";
import { createServer } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { DeliveryTarget, Notification } from "../../lib/model/index.js";
import type { Clock } from "../../lib/ports/index.js";
import { conversationNotifyId } from "../../lib/vendors/android-text.js";
import type { OppoCredential } from "../../lib/vendors/credentials.js";
import { REAL_URL_HEADER } from "../../lib/vendors/endpoint.js";
import { OPPO_HOSTS, OppoSender } from "../../lib/vendors/oppo.js";
import { RATE_LIMIT_BACKOFF_SECONDS } from "../../lib/vendors/oppo-outcomes.js";
import { secondsUntilDailyQuotaReset } from "../../lib/vendors/quota.js";
import { type FaultRule, SimulatorHub } from "../../local/simulators/hub.js";
import {
  generateOppoCredential,
  type OppoSimulator,
  startOppoSimulator,
} from "../../local/simulators/oppo.js";

/** Frozen at a real instant, so auth timestamps pass OPPO's 10-minute window and quota waits are exact. */
const NOW = Date.now();
const clock: Clock = { now: () => NOW };
const EXT = '{"conversationID":"c2c_alice"}';

const notification: Notification = {
  title: "Alice",
  body: "Lunch at noon? 🍜",
  ext: EXT,
  badge: 7,
  conversationId: "c2c_alice",
  messageKey: "144115233406627467_3_1709281815",
  sentAt: NOW - 5_000,
};

const hub = new SimulatorHub();
let simulator: OppoSimulator;
let main: OppoCredential;
let second: OppoCredential;
let sender: OppoSender;

const newToken = () => `CN_${randomBytes(16).toString("hex")}`;
/** A regId of a phone registered outside mainland China (OPPO id=11238: not CN where the rule looks). */
const overseasToken = () => `SG_${randomBytes(16).toString("hex")}`;
const BATCH_PATH = "/server/v1/message/notification/unicast_batch";

function target(overrides: Partial<DeliveryTarget> = {}): DeliveryTarget {
  const token = overrides.token ?? newToken();
  return { userId: "bob", deviceId: `oppo-${token.slice(3, 9)}`, token, certificateId: 1, ...overrides };
}

function fault(rule: Omit<FaultRule, "vendor" | "count"> & { count?: number }): void {
  hub.addFault({ vendor: "oppo", count: 1, ...rule });
}

/** What the simulator counted during `work`. */
async function counting<T>(
  work: () => Promise<T>,
): Promise<{ result: T; tokensIssued: number; sendRequests: number }> {
  const before = simulator.stats();
  const result = await work();
  const after = simulator.stats();
  return {
    result,
    tokensIssued: after.tokensIssued - before.tokensIssued,
    sendRequests: after.sendRequests - before.sendRequests,
  };
}

beforeAll(async () => {
  simulator = await startOppoSimulator({ hub });
  main = generateOppoCredential({ certificateId: 1, endpointUrl: simulator.url });
  second = { ...generateOppoCredential({ certificateId: 2, endpointUrl: simulator.url }), channelId: "im_2" };
  simulator.addApp(main);
  simulator.addApp(second);
  sender = new OppoSender({ credentials: [main, second], clock });
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

describe("OppoSender against the OPPO simulator", () => {
  it("delivers, and OPPO receives every form field and notification field", async () => {
    const bob = target();

    const [result] = await sender.send(notification, [bob]);

    expect(result).toEqual({
      target: bob,
      status: 200,
      outcome: { kind: "delivered", vendorId: expect.stringMatching(/^[\w-]+-1-1-[0-9a-f]{24}$/) },
    });
    const [delivery, ...rest] = hub.list();
    expect(rest).toEqual([]);
    expect(delivery).toMatchObject({
      vendor: "oppo",
      token: bob.token,
      status: 200,
      endpoint: `${OPPO_HOSTS.cn}${BATCH_PATH}`,
    });
    expect(Number.isNaN(Date.parse(delivery!.at))).toBe(false);
    expect(delivery!.request.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    expect(delivery!.request.body).toEqual({
      auth_token: "<redacted>",
      messages: [
        {
          target_type: 2,
          target_value: bob.token,
          notification: {
            style: 1,
            title: "Alice",
            content: "Lunch at noon? 🍜",
            channel_id: "chat_messages",
            category: "IM",
            click_action_type: 0,
            action_parameters: { ext: EXT },
            off_line: true,
            off_line_ttl: 7 * 24 * 60 * 60 - 5,
            notify_id: conversationNotifyId(notification.messageKey),
          },
        },
      ],
    });
  });

  it("sends one request per batch and drops only the dead token of it (per-item 10000)", async () => {
    const targets = Array.from({ length: 5 }, () => target());
    fault({ token: targets[2]!.token, status: 410 });

    const { result: results, sendRequests } = await counting(() => sender.send(notification, targets));

    expect(sendRequests).toBe(1);
    expect(results.map((r) => r.target)).toEqual(targets);
    expect(results.map((r) => r.outcome.kind)).toEqual([
      "delivered",
      "delivered",
      "drop-token",
      "delivered",
      "delivered",
    ]);
    expect(results[2]).toEqual({
      target: targets[2],
      status: 200,
      outcome: { kind: "drop-token", reason: "OPPO 10000 Invalid Registration_id" },
    });
    expect(hub.list().map((d) => d.token)).toEqual(targets.map((t) => t.token));
  });

  it("reuses the cached auth_token and connection on a second send", async () => {
    const fresh = new OppoSender({ credentials: [main], clock });

    const first = await counting(() => fresh.send(notification, [target()]));
    const connectionsBefore = simulator.stats().connections;
    const again = await counting(() => fresh.send(notification, [target()]));

    expect(first.tokensIssued).toBe(1);
    expect(again.tokensIssued).toBe(0);
    expect(again.result[0]?.outcome.kind).toBe("delivered");
    expect(simulator.stats().connections).toBe(connectionsBefore);
    await fresh.close();
  });

  it("fetches a new auth_token once when OPPO says the cached one expired (11), then delivers", async () => {
    const fresh = new OppoSender({ credentials: [main], clock });
    const bob = target();

    const { tokensIssued, sendRequests, result } = await counting(async () => {
      await fresh.send(notification, [target()]);
      simulator.expireAccessTokens();
      return fresh.send(notification, [bob]);
    });

    expect(result).toEqual([
      { target: bob, status: 200, outcome: expect.objectContaining({ kind: "delivered" }) },
    ]);
    expect(tokensIssued).toBe(2);
    // The first send, the refused resend with the expired token, the resend with the new one.
    expect(sendRequests).toBe(3);
    await fresh.close();
  });

  it("refreshes once for a batch split in several requests, however many were refused", async () => {
    const fresh = new OppoSender({ credentials: [main], clock });
    await fresh.send(notification, [target()]);
    simulator.expireAccessTokens();
    const targets = Array.from({ length: 2500 }, () => target());

    const { tokensIssued, result } = await counting(() => fresh.send(notification, targets));

    expect(result.every((r) => r.outcome.kind === "delivered")).toBe(true);
    expect(tokensIssued).toBe(1);
    await fresh.close();
  });

  it("gives up with refresh-credential when the new auth_token is refused too", async () => {
    const bob = target();
    fault({ token: bob.token, status: 401, count: 2 });

    const { result, sendRequests } = await counting(() => sender.send(notification, [bob]));

    expect(result).toEqual([
      {
        target: bob,
        status: 200,
        outcome: { kind: "refresh-credential", reason: "OPPO 11 Invalid AuthToken" },
      },
    ]);
    expect(sendRequests).toBe(2);
  });

  it("is refused auth with a wrong master secret (16) and delivers nothing", async () => {
    const wrongSecret: OppoCredential = { ...main, certificateId: 3, masterSecret: "0".repeat(32) };
    const fresh = new OppoSender({ credentials: [wrongSecret], clock });
    const bob = target({ certificateId: 3 });

    const { result, tokensIssued, sendRequests } = await counting(() => fresh.send(notification, [bob]));

    expect(result).toEqual([
      {
        target: bob,
        status: 200,
        outcome: { kind: "credential-problem", reason: "OPPO 16 Invalid Signature" },
      },
    ]);
    expect([tokensIssued, sendRequests]).toEqual([0, 0]);
    expect(hub.list()).toEqual([]);
    await fresh.close();
  });

  it("is refused auth for an app key OPPO does not know (14)", async () => {
    const unknown = generateOppoCredential({ certificateId: 4, endpointUrl: simulator.url });
    const fresh = new OppoSender({ credentials: [unknown], clock });

    const [result] = await fresh.send(notification, [target({ certificateId: 4 })]);

    expect(result?.outcome).toEqual({ kind: "credential-problem", reason: "OPPO 14 Invalid App Key" });
    await fresh.close();
  });

  it("holds a daily-limit answer (33) until midnight in Beijing", async () => {
    simulator.setDailyQuota(0);
    const bob = target();

    const [result] = await sender.send(notification, [bob]);

    expect(result).toEqual({
      target: bob,
      status: 200,
      outcome: {
        kind: "quota",
        reason: "OPPO 33 The number of messages exceeds the daily limit",
        retryAfterSeconds: secondsUntilDailyQuotaReset(NOW),
      },
    });
    expect(hub.list().map((d) => d.token)).toEqual([bob.token]);
  });

  it("delivers up to the daily limit and holds the rest of the batch until midnight", async () => {
    simulator.setDailyQuota(2);
    const targets = Array.from({ length: 3 }, () => target());

    const results = await sender.send(notification, targets);

    expect(results.map((r) => r.outcome)).toEqual([
      expect.objectContaining({ kind: "delivered" }),
      expect.objectContaining({ kind: "delivered" }),
      expect.objectContaining({ kind: "quota", retryAfterSeconds: secondsUntilDailyQuotaReset(NOW) }),
    ]);
  });

  it.each([
    {
      name: "503 with Retry-After (-2 flow control)",
      rule: { status: 503, retryAfter: 30 },
      status: 503,
      outcome: { kind: "retry", reason: "OPPO -2 Service in Flow Control", retryAfterSeconds: 30 },
    },
    {
      name: "500 (-1 service unavailable)",
      rule: { status: 500 },
      status: 500,
      outcome: { kind: "retry", reason: "OPPO -1 Service Currently Unavailable" },
    },
    {
      name: "429 (33 daily limit)",
      rule: { status: 429 },
      status: 200,
      outcome: {
        kind: "quota",
        reason: "OPPO 33 The number of messages exceeds the daily limit",
        retryAfterSeconds: secondsUntilDailyQuotaReset(NOW),
      },
    },
    {
      name: "an explicit 55 (frequency limit)",
      rule: { status: 429, reason: "55" },
      status: 200,
      outcome: {
        kind: "quota",
        reason: "OPPO 55 App Call Frequency Limit",
        retryAfterSeconds: RATE_LIMIT_BACKOFF_SECONDS,
      },
    },
    {
      name: "400 (41 invalid arguments)",
      rule: { status: 400 },
      status: 200,
      outcome: { kind: "bad-request", reason: "OPPO 41 Invalid Arguments" },
    },
    {
      name: "an explicit 67 (category refused)",
      rule: { status: 400, reason: "OPPO 67" },
      status: 200,
      outcome: {
        kind: "credential-problem",
        reason: "OPPO 67 Category error/Private classify channel notify_level invalid",
      },
    },
  ])("maps a $name answer for the whole batch, asking OPPO once", async ({ rule, status, outcome }) => {
    const targets = [target(), target()];
    fault({ token: targets[1]!.token, ...rule });

    const { result, sendRequests } = await counting(() => sender.send(notification, targets));

    expect(result).toEqual(targets.map((t) => ({ target: t, status, outcome })));
    expect(sendRequests).toBe(1);
    expect(hub.list().map((d) => d.status)).toEqual([status, status]);
  });

  it("still delivers when OPPO answers slowly", async () => {
    const bob = target();
    fault({ token: bob.token, status: 200, delayMs: 300 });
    const started = Date.now();

    const [result] = await sender.send(notification, [bob]);

    expect(result?.outcome.kind).toBe("delivered");
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
  });

  it("splits 2,500 targets into requests of at most 1000 and delivers them all", async () => {
    const targets = Array.from({ length: 2500 }, () => target());

    const { result, sendRequests } = await counting(() => sender.send(notification, targets));

    expect(sendRequests).toBe(3);
    expect(result.map((r) => r.target)).toEqual(targets);
    expect(result.filter((r) => r.outcome.kind === "delivered")).toHaveLength(2500);
    expect(new Set(hub.list().map((d) => d.token)).size).toBe(2500);
  });

  it("sends each credential's targets with its own auth_token and channel, results in target order", async () => {
    const targets = [target({ certificateId: 2 }), target(), target({ certificateId: 2 })];

    const { result, sendRequests } = await counting(() => sender.send(notification, targets));

    expect(result.map((r) => [r.target, r.outcome.kind])).toEqual(targets.map((t) => [t, "delivered"]));
    expect(sendRequests).toBe(2);
    const channelOf = (token: string) => {
      const body = hub.list().find((d) => d.token === token)?.request.body as {
        messages: { notification: { channel_id: string } }[];
      };
      return body.messages[0]?.notification.channel_id;
    };
    expect(targets.map((t) => channelOf(t.token))).toEqual(["im_2", "chat_messages", "im_2"]);
  });

  it("answers bad-request without calling OPPO for a certificate id it has no credential for", async () => {
    const bob = target({ certificateId: 99 });

    const [result] = await sender.send(notification, [bob]);

    expect(result).toEqual({
      target: bob,
      outcome: { kind: "bad-request", reason: "no oppo credential 99" },
    });
    expect(hub.list()).toEqual([]);
  });

  it("answers retry when OPPO cannot be reached", async () => {
    const closedPort = await freePort();
    const unreachable = { ...main, endpoint: { url: `http://127.0.0.1:${closedPort}` } };
    const fresh = new OppoSender({ credentials: [unreachable], clock });

    const [result] = await fresh.send(notification, [target()]);

    expect(result?.outcome).toEqual({
      kind: "retry",
      reason: expect.stringMatching(/^OPPO network .*ECONNREFUSED/),
    });
    expect(result).not.toHaveProperty("status");
    await fresh.close();
  });
});

/** A port nothing listens on: bound, read, released. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("OppoSender regions, approvals and limits", () => {
  it("sends an overseas regId to OPPO's international host, with an auth_token from that host", async () => {
    const abroad = target({ token: overseasToken() });

    const { result, tokensIssued } = await counting(() => sender.send(notification, [abroad]));

    expect(result[0]?.outcome.kind).toBe("delivered");
    expect(hub.list().map((d) => d.endpoint)).toEqual([`${OPPO_HOSTS.intl}${BATCH_PATH}`]);
    expect(hub.list()[0]!.request.headers[REAL_URL_HEADER]).toBe(`${OPPO_HOSTS.intl}${BATCH_PATH}`);
    expect(tokensIssued).toBeLessThanOrEqual(1);
  });

  it("splits one job's targets by host, one request each, results in target order", async () => {
    const targets = [
      target(),
      target({ token: overseasToken() }),
      target({ token: `OPPO_CN_${randomBytes(8).toString("hex")}` }),
    ];

    const { result, sendRequests } = await counting(() => sender.send(notification, targets));

    expect(result.map((r) => [r.target, r.outcome.kind])).toEqual(targets.map((t) => [t, "delivered"]));
    expect(sendRequests).toBe(2);
    const endpointOf = (token: string) => hub.list().find((d) => d.token === token)?.endpoint;
    expect(targets.map((t) => endpointOf(t.token))).toEqual([
      `${OPPO_HOSTS.cn}${BATCH_PATH}`,
      `${OPPO_HOSTS.intl}${BATCH_PATH}`,
      `${OPPO_HOSTS.cn}${BATCH_PATH}`,
    ]);
  });

  it("sends notify_level 16 for an approved app and is refused with 67 (a credential problem, tokens kept) without the approval", async () => {
    const wanting: OppoCredential = {
      ...generateOppoCredential({ certificateId: 7, endpointUrl: simulator.url }),
      notifyLevel: 16,
    };
    const granted: OppoCredential = {
      ...generateOppoCredential({ certificateId: 8, endpointUrl: simulator.url }),
      notifyLevel: 16,
    };
    simulator.addApp(wanting, { strongReminder: false });
    simulator.addApp(granted);
    const both = new OppoSender({ credentials: [wanting, granted], clock });
    const refused = target({ certificateId: 7 });
    const accepted = target({ certificateId: 8 });

    const results = await both.send(notification, [refused, accepted]);
    await both.close();

    expect(results.map((r) => r.outcome)).toEqual([
      {
        kind: "credential-problem",
        reason: "OPPO 67 Category error/Private classify channel notify_level invalid",
      },
      { kind: "delivered", vendorId: expect.any(String) },
    ]);
    const levels = hub
      .list()
      .map(
        (d) =>
          (d.request.body as { messages: { notification: { notify_level?: number } }[] }).messages[0]!
            .notification.notify_level,
      );
    expect(levels).toEqual([16, 16]);
  });

  it("delivers an ext too long for action_parameters with just its conversationID, never a request OPPO refuses", async () => {
    const ext = JSON.stringify({ conversationID: "group_@TGS#1", blob: "字".repeat(4000) });

    const [result] = await sender.send({ ...notification, ext }, [target()]);

    expect(result?.outcome.kind).toBe("delivered");
    const sent = (
      hub.list()[0]!.request.body as { messages: { notification: { action_parameters: unknown } }[] }
    ).messages[0]!.notification.action_parameters;
    expect(sent).toEqual({ ext: '{"conversationID":"group_@TGS#1"}' });
  });
});

describe("OPPO simulator checks requests as OPPO does", () => {
  /** A form POST as if addressed to `host` (the China host when none). */
  async function post(
    path: string,
    form: Record<string, string>,
    host?: string,
  ): Promise<{ status: number; body: unknown }> {
    const response = await fetch(`${simulator.url}${path}`, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        ...(host !== undefined && { [REAL_URL_HEADER]: `${host}${path}` }),
      },
      body: new URLSearchParams(form).toString(),
    });
    return { status: response.status, body: await response.json() };
  }

  function authForm(overrides: Record<string, string | undefined> = {}): Record<string, string> {
    const timestamp = overrides.timestamp ?? String(Date.now());
    const sign = createHash("sha256").update(`${main.appKey}${timestamp}${main.masterSecret}`).digest("hex");
    const form = { app_key: main.appKey, timestamp, sign, ...overrides };
    return Object.fromEntries(Object.entries(form).filter((e): e is [string, string] => e[1] !== undefined));
  }

  async function authToken(host?: string): Promise<string> {
    const { body } = await post("/server/v1/auth", authForm(), host);
    return (body as { data: { auth_token: string } }).data.auth_token;
  }

  const validNotification = {
    title: "Alice",
    content: "Hi",
    category: "IM",
    notify_level: 2,
    action_parameters: '{"ext":"{}"}',
  };

  function messages(notification: Record<string, unknown> = {}, count = 1, token = newToken): string {
    return JSON.stringify(
      Array.from({ length: count }, () => ({
        target_type: 2,
        target_value: token(),
        notification: { ...validNotification, ...notification },
      })),
    );
  }

  it("refuses notify_level 16 from an app without OPPO's strong-reminder approval: 67 for the whole batch", async () => {
    const answer = await post(BATCH_PATH, {
      auth_token: await authToken(),
      messages: messages({ notify_level: 16 }),
    });

    expect(answer).toEqual({
      status: 200,
      body: { code: 67, message: "Category error/Private classify channel notify_level invalid" },
    });
  });

  it("answers an overseas regId at the China host (and a China one at the international host) with 10000 in its item", async () => {
    const abroad = overseasToken();
    const home = newToken();
    const batch = (id: string) =>
      JSON.stringify([{ target_type: 2, target_value: id, notification: validNotification }]);

    const atChina = await post(BATCH_PATH, { auth_token: await authToken(), messages: batch(abroad) });
    const atIntl = await post(
      BATCH_PATH,
      { auth_token: await authToken(OPPO_HOSTS.intl), messages: batch(home) },
      OPPO_HOSTS.intl,
    );
    const abroadAtIntl = await post(
      BATCH_PATH,
      { auth_token: await authToken(OPPO_HOSTS.intl), messages: batch(abroad) },
      OPPO_HOSTS.intl,
    );

    expect(atChina.body).toMatchObject({ code: 0, data: [{ registrationId: abroad, errorCode: 10000 }] });
    expect(atIntl.body).toMatchObject({ code: 0, data: [{ registrationId: home, errorCode: 10000 }] });
    expect((abroadAtIntl.body as { data: object[] }).data[0]).not.toHaveProperty("errorCode");
    expect(hub.list().map((d) => d.endpoint)).toEqual([
      `${OPPO_HOSTS.cn}${BATCH_PATH}`,
      `${OPPO_HOSTS.intl}${BATCH_PATH}`,
      `${OPPO_HOSTS.intl}${BATCH_PATH}`,
    ]);
  });

  it("takes at each host only the auth_tokens that host issued (11 otherwise), and serves no other host", async () => {
    const chinaToken = await authToken();

    const atIntl = await post(
      BATCH_PATH,
      { auth_token: chinaToken, messages: messages({}, 1, overseasToken) },
      OPPO_HOSTS.intl,
    );
    const elsewhere = await post(
      BATCH_PATH,
      { auth_token: chinaToken, messages: messages() },
      "https://example.com",
    );

    expect(atIntl.body).toEqual({ code: 11, message: "Invalid AuthToken" });
    expect(elsewhere.status).toBe(404);
  });

  it("issues an auth_token with its create_time for a correct sign", async () => {
    const { status, body } = await post("/server/v1/auth", authForm());

    expect(status).toBe(200);
    expect(body).toEqual({
      code: 0,
      message: "Success",
      data: { auth_token: expect.any(String), create_time: expect.any(Number) },
    });
  });

  it.each<[string, number, Record<string, string | undefined>]>([
    ["no app_key", 15, { app_key: undefined }],
    ["an unknown app_key", 14, { app_key: "f".repeat(32) }],
    ["no sign", 17, { sign: undefined }],
    ["no timestamp", 18, { timestamp: undefined, sign: "x" }],
    ["a timestamp 11 minutes old", 19, { timestamp: String(Date.now() - 11 * 60 * 1000) }],
    ["a timestamp in seconds", 19, { timestamp: String(Math.floor(Date.now() / 1000)) }],
    ["a wrong sign", 16, { sign: "0".repeat(64) }],
  ])("refuses auth with %s: code %i", async (_, code, overrides) => {
    const { body } = await post("/server/v1/auth", authForm(overrides));

    expect(body).toMatchObject({ code });
    expect(body).not.toHaveProperty("data");
  });

  it("accepts a valid batch: code 0 and one data item per registration_id", async () => {
    const sent = messages({}, 2);

    const { status, body } = await post("/server/v1/message/notification/unicast_batch", {
      auth_token: await authToken(),
      messages: sent,
    });

    expect(status).toBe(200);
    const ids = (JSON.parse(sent) as { target_value: string }[]).map((m) => m.target_value);
    expect(body).toEqual({
      code: 0,
      message: "Success",
      data: ids.map((registrationId) => ({ messageId: expect.any(String), registrationId })),
    });
  });

  it.each<[string, number, () => string]>([
    ["a title over 50 characters", 41, () => messages({ title: "😀".repeat(51) })],
    ["content over 50 characters in style 1", 41, () => messages({ content: "字".repeat(51) })],
    ["no title", 40, () => messages({ title: undefined })],
    ["action_parameters that are not JSON", 41, () => messages({ action_parameters: "ext=1" })],
    ["action_parameters that are a JSON array", 41, () => messages({ action_parameters: "[1]" })],
    [
      "action_parameters over 4000 characters",
      41,
      () => messages({ action_parameters: JSON.stringify({ ext: "e".repeat(4000) }) }),
    ],
    ["click type 5 without click_action_url", 41, () => messages({ click_action_type: 5 })],
    ["click type 1 without click_action_activity", 41, () => messages({ click_action_type: 1 })],
    ["click type 3", 41, () => messages({ click_action_type: 3 })],
    ["an unknown category", 67, () => messages({ category: "CHAT" })],
    ["notify_level without category", 67, () => messages({ category: undefined })],
    ["notify_level 8", 67, () => messages({ notify_level: 8 })],
    ["messages that are not a JSON array", 41, () => "not json"],
    ["no messages", 41, () => "[]"],
    ["1001 messages", 41, () => messages({}, 1001)],
  ])("refuses %s: code %i, for the whole batch", async (_, code, batch) => {
    const answer = await post("/server/v1/message/notification/unicast_batch", {
      auth_token: await authToken(),
      messages: batch(),
    });

    expect(answer).toEqual({ status: 200, body: { code, message: expect.any(String) } });
    expect(hub.list().length).toBeGreaterThan(0);
    expect(hub.list().every((d) => d.status === 200)).toBe(true);
  });

  it("refuses a missing (29) or unknown (11) auth_token", async () => {
    const missing = await post("/server/v1/message/notification/unicast_batch", { messages: messages() });
    const unknown = await post("/server/v1/message/notification/unicast_batch", {
      auth_token: "made-up",
      messages: messages(),
    });

    expect(missing.body).toEqual({ code: 29, message: "Missing Auth Token" });
    expect(unknown.body).toEqual({ code: 11, message: "Invalid AuthToken" });
  });

  it("answers a malformed registration_id with 10000 in its own item, the rest delivered", async () => {
    const good = newToken();
    const batch = JSON.stringify(
      ["bad token!", good].map((id) => ({
        target_type: 2,
        target_value: id,
        notification: validNotification,
      })),
    );

    const { body } = await post("/server/v1/message/notification/unicast_batch", {
      auth_token: await authToken(),
      messages: batch,
    });

    expect(body).toMatchObject({
      code: 0,
      data: [
        { registrationId: "bad token!", errorCode: 10000, errorMessage: "Invalid Registration_id" },
        { registrationId: good },
      ],
    });
    expect((body as { data: object[] }).data[1]).not.toHaveProperty("errorCode");
  });

  it("answers other methods with 12 and other paths with 20", async () => {
    const get = await fetch(`${simulator.url}/server/v1/auth`);
    const unknown = await post("/server/v1/message/notification/broadcast", {});

    expect([get.status, await get.json()]).toEqual([405, { code: 12, message: "Http Action Not Allowed" }]);
    expect(unknown).toEqual({ status: 404, body: { code: 20, message: "Invalid Method" } });
  });

  it("records one entry per registration_id, each with its own message and the auth_token redacted", async () => {
    const sent = messages({}, 2);
    const ids = (JSON.parse(sent) as { target_value: string }[]).map((m) => m.target_value);

    await post("/server/v1/message/notification/unicast_batch", {
      auth_token: await authToken(),
      messages: sent,
    });

    expect(hub.list().map((d) => d.token)).toEqual(ids);
    for (const [index, delivery] of hub.list().entries()) {
      expect(delivery.request.body).toEqual({
        auth_token: "<redacted>",
        messages: [
          {
            target_type: 2,
            target_value: ids[index],
            notification: { ...validNotification, action_parameters: { ext: "{}" } },
          },
        ],
      });
    }
  });
});
