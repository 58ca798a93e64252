import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { DeliveryTarget, Notification } from "../../lib/model/index.js";
import { conversationNotifyId } from "../../lib/vendors/android-text.js";
import type { HonorCredential } from "../../lib/vendors/credentials.js";
import { HonorSender } from "../../lib/vendors/honor.js";
import { HONOR_DAILY_QUOTA_CODE } from "../../lib/vendors/honor-outcomes.js";
import { secondsUntilDailyQuotaReset } from "../../lib/vendors/quota.js";
import {
  generateHonorCredential,
  type HonorSimulator,
  startHonorSimulator,
} from "../../local/simulators/honor.js";
import { type FaultRule, SimulatorHub } from "../../local/simulators/hub.js";
import { FixedClock } from "../support/fakes.js";

const EXT = '{"conversationID":"c2c_alice"}';
const INTENT = "intent://com.example.chatpush/chat#Intent;scheme=tpns;launchFlags=0x4000000;end";
const BADGE_CLASS = "com.example.chatpush.MainActivity";
/** 2025-03-01 23:00 in Beijing: the daily quota resets in one hour. */
const BEFORE_BEIJING_MIDNIGHT = Date.UTC(2025, 2, 1, 15, 0, 0);

function notification(overrides: Partial<Notification> = {}): Notification {
  return {
    title: "Alice",
    body: "Lunch at noon? 🍜",
    ext: EXT,
    badge: 7,
    conversationId: "c2c_alice",
    messageKey: "144115233406627467_3_1709281815",
    sentAt: Date.now(),
    ...overrides,
  };
}

const hub = new SimulatorHub();
let simulator: HonorSimulator;
/** certificateId 1, the default: opens the conversation intent and sets the badge. */
let app: HonorCredential;
/** certificateId 2: another registered app, opening the app itself. */
let other: HonorCredential;
/** certificateId 3: a client secret the IAM does not know. */
let wrongSecret: HonorCredential;
let sender: HonorSender;

const newToken = () => `IQAAAACy0${randomBytes(24).toString("base64url")}`;

function target(overrides: Partial<DeliveryTarget> = {}): DeliveryTarget {
  const token = overrides.token ?? newToken();
  return { userId: "bob", deviceId: `honor-${token.slice(-6)}`, token, ...overrides };
}

function fault(rule: Omit<FaultRule, "vendor" | "count"> & { count?: number }): void {
  hub.addFault({ vendor: "honor", count: 1, ...rule });
}

beforeAll(async () => {
  simulator = await startHonorSimulator({ hub });
  app = {
    ...generateHonorCredential({ certificateId: 1, endpointUrl: simulator.url }),
    isDefault: true,
    clickIntent: INTENT,
    badgeClass: BADGE_CLASS,
  };
  other = generateHonorCredential({
    certificateId: 2,
    packageName: "com.example.other",
    endpointUrl: simulator.url,
  });
  wrongSecret = generateHonorCredential({ certificateId: 3, endpointUrl: simulator.url });
  simulator.addApp(app);
  simulator.addApp(other);
  simulator.addApp({ ...wrongSecret, clientSecret: "the-secret-in-the-console" });
});

afterAll(async () => {
  await simulator?.close();
});

beforeEach(() => {
  hub.clear();
  hub.clearFaults();
  simulator.setDailyQuota(undefined);
  sender = new HonorSender({ credentials: [app, other, wrongSecret] });
});

afterEach(async () => {
  await sender.close();
});

describe("HonorSender against the Honor simulator", () => {
  it("delivers, and Honor receives every header and body field", async () => {
    const bob = target();
    const before = Date.now();

    const [result] = await sender.send(notification(), [bob]);

    expect(result).toEqual({
      target: bob,
      status: 200,
      outcome: { kind: "delivered", vendorId: expect.stringMatching(/^[0-9a-f]{32}$/) },
    });
    const deliveries = hub.list();
    expect(deliveries).toHaveLength(1);
    const [delivery] = deliveries;
    const realUrl = `https://push-api.cloud.honor.com/api/v1/${app.appId}/sendMessage`;
    expect(delivery).toMatchObject({ vendor: "honor", token: bob.token, status: 200, endpoint: realUrl });
    const headers = delivery!.request.headers;
    expect(headers["x-chatpush-vendor-url"]).toBe(realUrl);
    expect(headers.authorization).toBe("Bearer <redacted>");
    expect(headers["content-type"]).toBe("application/json");
    expect(Number(headers.timestamp)).toBeGreaterThanOrEqual(before);
    expect(Number(headers.timestamp)).toBeLessThanOrEqual(Date.now());
    const body = delivery!.request.body as { android: { ttl: string } };
    expect(body).toEqual({
      notification: { title: "Alice", body: "Lunch at noon? 🍜" },
      android: {
        ttl: expect.stringMatching(/^\d+s$/),
        data: EXT,
        notification: {
          title: "Alice",
          body: "Lunch at noon? 🍜",
          clickAction: { type: 1, intent: `${INTENT.slice(0, -3)}S.ext=${encodeURIComponent(EXT)};end` },
          importance: "NORMAL",
          badge: { setNum: 7, badgeClass: BADGE_CLASS },
          tag: "144115233406627467_3_1709281815",
          notifyId: conversationNotifyId("144115233406627467_3_1709281815"),
          group: "c2c_alice",
        },
      },
      token: [bob.token],
    });
    // Sent within a second or two of the message: all but those seconds of the 7 days remain.
    expect(Number.parseInt(body.android.ttl, 10)).toBeGreaterThan(7 * 24 * 60 * 60 - 5);
  });

  it("opens the app (clickAction type 3) for a credential without a click intent, ext still in android.data", async () => {
    const bob = target({ certificateId: other.certificateId });

    const [result] = await sender.send(notification(), [bob]);

    expect(result?.outcome.kind).toBe("delivered");
    const body = hub.list()[0]!.request.body as {
      android: { data: string; notification: Record<string, unknown> };
    };
    expect(body.android.notification.clickAction).toEqual({ type: 3 });
    expect(body.android.notification).not.toHaveProperty("badge");
    expect(body.android.data).toBe(EXT);
  });

  it("drops only the tokens Honor lists as expired, retries the failed ones, delivers the others", async () => {
    const targets = Array.from({ length: 5 }, () => target());
    fault({ token: targets[1]!.token, status: 410 });
    fault({ token: targets[3]!.token, status: 404 });
    const requestsBefore = simulator.stats().sendRequests;

    const results = await sender.send(notification(), targets);

    expect(results.map((r) => r.target)).toEqual(targets);
    expect(results.map((r) => r.outcome)).toEqual([
      { kind: "delivered", vendorId: expect.any(String) },
      { kind: "drop-token", reason: "Honor expireTokens" },
      { kind: "delivered", vendorId: expect.any(String) },
      { kind: "retry", reason: "Honor failTokens" },
      { kind: "delivered", vendorId: expect.any(String) },
    ]);
    expect(simulator.stats().sendRequests - requestsBefore).toBe(1);
    expect(hub.list().map((d) => d.token)).toEqual(targets.map((t) => t.token));
  });

  it("refreshes an expired access token once and resends: exactly two tokens issued", async () => {
    const issuedBefore = simulator.stats().tokensIssued;
    await sender.send(notification(), [target()]);
    simulator.expireAccessTokens();
    hub.clear();
    const bob = target();

    const [result] = await sender.send(notification(), [bob]);

    expect(result).toEqual({
      target: bob,
      status: 200,
      outcome: { kind: "delivered", vendorId: expect.any(String) },
    });
    expect(hub.list().map((d) => d.status)).toEqual([401, 200]);
    expect(simulator.stats().tokensIssued - issuedBefore).toBe(2);
  });

  it("does not call a code 200 with sendResult false delivered: nothing is removed, all is retried", async () => {
    const targets = [target(), target()];
    for (const { token } of targets) fault({ token, status: 404 });

    const results = await sender.send(notification(), targets);

    expect(hub.list().map((d) => d.status)).toEqual([200, 200]);
    expect(results.map((r) => r.outcome)).toEqual([
      { kind: "retry", reason: "Honor failTokens" },
      { kind: "retry", reason: "Honor failTokens" },
    ]);
  });

  it("gives up with a credential problem when the resent request is refused again", async () => {
    const bob = target();
    fault({ token: bob.token, status: 401, count: 2 });
    const issuedBefore = simulator.stats().tokensIssued;

    const [result] = await sender.send(notification(), [bob]);

    expect(result).toEqual({
      target: bob,
      status: 401,
      outcome: {
        kind: "credential-problem",
        reason: "Honor 80200003 Oauth Token expired (refused again with a new access token)",
      },
    });
    expect(hub.list().map((d) => d.status)).toEqual([401, 401]);
    expect(simulator.stats().tokensIssued - issuedBefore).toBe(2);
  });

  it("is refused a token for a wrong client secret, and sends nothing", async () => {
    const bob = target({ certificateId: wrongSecret.certificateId });
    const issuedBefore = simulator.stats().tokensIssued;

    const [result] = await sender.send(notification(), [bob]);

    expect(result).toEqual({
      target: bob,
      status: 401,
      outcome: {
        kind: "credential-problem",
        reason: "Honor 401 auth unauthorized_client Invalid client secret",
      },
    });
    expect(hub.list()).toEqual([]);
    expect(simulator.stats().tokensIssued).toBe(issuedBefore);
  });

  it("holds a daily-quota answer until midnight in Beijing", async () => {
    const clock = new FixedClock(BEFORE_BEIJING_MIDNIGHT);
    const quotaSender = new HonorSender({ credentials: [app], clock });
    const message = notification({ sentAt: BEFORE_BEIJING_MIDNIGHT });
    simulator.setDailyQuota(2);
    try {
      const first = await quotaSender.send(message, [target(), target()]);
      const [overQuota] = await quotaSender.send(message, [target()]);
      const bob = target();
      fault({ token: bob.token, status: 429 });
      simulator.setDailyQuota(undefined);
      const [faulted] = await quotaSender.send(message, [bob]);

      expect(first.map((r) => r.outcome.kind)).toEqual(["delivered", "delivered"]);
      const quota = {
        kind: "quota",
        reason: `Honor ${HONOR_DAILY_QUOTA_CODE} The daily push quota of the app is exceeded`,
        retryAfterSeconds: 3600,
      };
      expect(overQuota).toMatchObject({ status: 429, outcome: quota });
      expect(faulted).toMatchObject({ status: 429, outcome: quota });
      expect(secondsUntilDailyQuotaReset(BEFORE_BEIJING_MIDNIGHT)).toBe(3600);
    } finally {
      await quotaSender.close();
    }
  });

  it.each([
    {
      name: "503 with Retry-After",
      rule: { status: 503, retryAfter: 30 },
      status: 503,
      outcome: { kind: "retry", reason: "Honor 81000001 Internal system error", retryAfterSeconds: 30 },
    },
    {
      name: "500",
      rule: { status: 500 },
      status: 500,
      outcome: { kind: "retry", reason: "Honor 81000001 Internal system error" },
    },
    {
      name: "400",
      rule: { status: 400 },
      status: 400,
      outcome: { kind: "bad-request", reason: "Honor 80100001 Illegal parameter" },
    },
  ])(
    "maps a $name answer, asking Honor once (retries are the worker's)",
    async ({ rule, status, outcome }) => {
      const bob = target();
      fault({ token: bob.token, ...rule });

      const [result] = await sender.send(notification(), [bob]);

      expect(result).toEqual({ target: bob, status, outcome });
      expect(hub.list().map((d) => d.status)).toEqual([status]);
    },
  );

  it("answers a fault naming Honor's code with it, for the whole request", async () => {
    const targets = [target(), target()];
    fault({ token: targets[0]!.token, status: 400, reason: "80300007" });

    const results = await sender.send(notification(), targets);

    expect(results.map((r) => r.outcome)).toEqual([
      { kind: "credential-problem", reason: "Honor 80300007 Token invalid error" },
      { kind: "credential-problem", reason: "Honor 80300007 Token invalid error" },
    ]);
  });

  it("still delivers when Honor answers slowly", async () => {
    const bob = target();
    fault({ token: bob.token, status: 200, delayMs: 300 });
    const started = Date.now();

    const [result] = await sender.send(notification(), [bob]);

    expect(result?.outcome.kind).toBe("delivered");
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
  });

  it("splits 2,500 targets into requests of at most 1,000 tokens, fetching one access token for all", async () => {
    const targets = Array.from({ length: 2500 }, () => target());
    const before = simulator.stats();

    const results = await sender.send(notification(), targets);

    expect(results.map((r) => r.target)).toEqual(targets);
    expect(results.every((r) => r.outcome.kind === "delivered")).toBe(true);
    const after = simulator.stats();
    expect(after.sendRequests - before.sendRequests).toBe(3);
    expect(after.tokensIssued - before.tokensIssued).toBe(1);
    const sizes = new Map<unknown, number>();
    for (const d of hub.list())
      sizes.set(d.request.body, (d.request.body as { token: string[] }).token.length);
    expect([...sizes.values()].sort((a, b) => a - b)).toEqual([500, 1000, 1000]);
    expect(new Set(hub.list().map((d) => d.token)).size).toBe(2500);
  });

  it("reuses the cached access token and the kept-alive connection on a second send", async () => {
    await sender.send(notification(), [target()]);
    const before = simulator.stats();

    const [result] = await sender.send(notification(), [target()]);

    expect(result?.outcome.kind).toBe("delivered");
    const after = simulator.stats();
    expect(after.tokensIssued).toBe(before.tokensIssued);
    expect(after.connections).toBe(before.connections);
    expect(after.sendRequests - before.sendRequests).toBe(1);
  });

  it("sends each credential's targets in its own request and answers in target order", async () => {
    const targets = [
      target(),
      target({ certificateId: other.certificateId }),
      target({ certificateId: 99 }),
      target({ certificateId: app.certificateId }),
    ];
    const requestsBefore = simulator.stats().sendRequests;

    const results = await sender.send(notification(), targets);

    expect(results.map((r) => r.target)).toEqual(targets);
    expect(results.map((r) => r.outcome.kind)).toEqual([
      "delivered",
      "delivered",
      "bad-request",
      "delivered",
    ]);
    expect(results[2]).toEqual({
      target: targets[2],
      outcome: { kind: "bad-request", reason: "no honor credential 99" },
    });
    expect(simulator.stats().sendRequests - requestsBefore).toBe(2);
    expect(hub.list().map((d) => d.token)).not.toContain(targets[2]!.token);
  });

  it("sends a device registered twice once, and answers both targets", async () => {
    const token = newToken();
    const twice = [target({ token, deviceId: "a" }), target({ token, deviceId: "b" })];

    const results = await sender.send(notification(), twice);

    expect(results.map((r) => r.outcome.kind)).toEqual(["delivered", "delivered"]);
    expect(hub.list()).toHaveLength(1);
    expect((hub.list()[0]!.request.body as { token: string[] }).token).toEqual([token]);
  });

  it("retries when the token endpoint cannot be reached", async () => {
    const closed = await closedPortUrl();
    const unreachable = new HonorSender({ credentials: [{ ...app, endpoint: { url: closed } }] });
    try {
      const [result] = await unreachable.send(notification(), [target()]);

      expect(result?.outcome).toEqual({
        kind: "retry",
        reason: expect.stringMatching(/^Honor network auth /),
      });
      expect(result).not.toHaveProperty("status");
    } finally {
      await unreachable.close();
    }
  });

  it("retries when the connection drops before Honor answers a send", async () => {
    const server = createServer((request, response) => {
      if (request.url === "/auth/token") {
        response.end(JSON.stringify({ access_token: "t", expires_in: 3600, token_type: "Bearer" }));
      } else {
        request.socket.destroy();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const dropping = new HonorSender({ credentials: [{ ...app, endpoint: { url: urlOf(server) } }] });
    try {
      const [result] = await dropping.send(notification(), [target()]);

      expect(result?.outcome).toEqual({
        kind: "retry",
        reason: expect.stringMatching(/^Honor network fetch failed/),
      });
    } finally {
      await dropping.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

function urlOf(server: Server): string {
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A port that was free a moment ago and has nothing listening now. */
async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = urlOf(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return url;
}

describe("Honor simulator checks requests as Honor does", () => {
  async function auth(
    form: Record<string, string>,
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await fetch(`${simulator.url}/auth/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(form),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  async function accessToken(credential: HonorCredential = app): Promise<string> {
    const { body } = await auth({
      grant_type: "client_credentials",
      client_id: credential.clientId,
      client_secret: credential.clientSecret,
    });
    return body.access_token as string;
  }

  interface RawBody {
    notification: Record<string, unknown>;
    android: Record<string, unknown> & { notification: Record<string, unknown> };
    token?: unknown;
  }

  function validBody(): RawBody {
    return {
      notification: { title: "Alice", body: "hi" },
      android: {
        ttl: "86400s",
        data: EXT,
        notification: { title: "Alice", body: "hi", clickAction: { type: 3 }, importance: "NORMAL" },
      },
      token: [newToken()],
    };
  }

  async function send(
    body: unknown,
    options: { token?: string; headers?: Record<string, string | undefined>; appId?: string } = {},
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    const headers = Object.fromEntries(
      Object.entries({
        "content-type": "application/json",
        timestamp: String(Date.now()),
        authorization: `Bearer ${options.token ?? (await accessToken())}`,
        ...options.headers,
      }).filter((entry): entry is [string, string] => entry[1] !== undefined),
    );
    const response = await fetch(`${simulator.url}/api/v1/${options.appId ?? app.appId}/sendMessage`, {
      method: "POST",
      headers,
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  it("grants a client-credentials token that lives an hour", async () => {
    const { status, body } = await auth({
      grant_type: "client_credentials",
      client_id: app.clientId,
      client_secret: app.clientSecret,
    });

    expect(status).toBe(200);
    expect(body).toEqual({ access_token: expect.any(String), expires_in: 3600, token_type: "Bearer" });
    expect(hub.list()).toEqual([]);
  });

  it.each([
    {
      name: "a wrong client secret",
      form: () => ({ grant_type: "client_credentials", client_id: app.clientId, client_secret: "nope" }),
      status: 401,
      error: "unauthorized_client",
    },
    {
      name: "an unknown client id",
      form: () => ({ grant_type: "client_credentials", client_id: "1", client_secret: app.clientSecret }),
      status: 401,
      error: "invalid_client",
    },
    {
      name: "another grant type",
      form: () => ({ grant_type: "password", client_id: app.clientId, client_secret: app.clientSecret }),
      status: 400,
      error: "unsupported_grant_type",
    },
    {
      name: "no grant type",
      form: () => ({ client_id: app.clientId, client_secret: app.clientSecret }),
      status: 400,
      error: "invalid_request",
    },
  ])("refuses a token request with $name: $status $error", async ({ form, status, error }) => {
    const response = await auth(form());

    expect(response.status).toBe(status);
    expect(response.body).toEqual({ error, error_description: expect.any(String) });
  });

  it("accepts a valid send: code 200 with the data block", async () => {
    const response = await send(validBody());

    expect(response).toEqual({
      status: 200,
      body: {
        code: 200,
        message: "success",
        data: { sendResult: true, requestId: expect.any(String), failTokens: [], expireTokens: [] },
      },
    });
  });

  it("answers 401 80200001 without a known token, and 80200003 for an expired one", async () => {
    const stale = await accessToken();
    simulator.expireAccessTokens();

    const missing = await send(validBody(), { headers: { authorization: undefined } });
    const unknown = await send(validBody(), { token: "forged" });
    const expired = await send(validBody(), { token: stale });

    expect([missing.status, missing.body.code]).toEqual([401, 80200001]);
    expect([unknown.status, unknown.body.code]).toEqual([401, 80200001]);
    expect([expired.status, expired.body.code]).toEqual([401, 80200003]);
  });

  it("records the real Honor URL as endpoint, and refuses a request meant for another host", async () => {
    const [here, elsewhere] = [validBody(), validBody()];
    const realUrl = `https://push-api.cloud.honor.com/api/v1/${app.appId}/sendMessage`;
    const oldHost = `https://push-api.cloud.hihonor.com/api/v1/${app.appId}/sendMessage`;

    const plain = await send(here);
    const wrong = await send(elsewhere, { headers: { "x-chatpush-vendor-url": oldHost } });

    expect(plain.status).toBe(200);
    expect(wrong.status).toBe(404);
    const endpointOf = (body: RawBody) =>
      hub.list().find((d) => d.token === (body.token as string[])[0])?.endpoint;
    expect(endpointOf(here)).toBe(realUrl);
    expect(endpointOf(elsewhere)).toBe(oldHost);
  });

  it("refuses a token of one app on another app's path", async () => {
    const response = await send(validBody(), { token: await accessToken(other) });

    expect([response.status, response.body.code]).toEqual([401, 80200001]);
  });

  type Mutation = (body: RawBody) => void;
  it.each<{ name: string; mutate: Mutation; code: number }>([
    { name: "no token list", mutate: (b) => delete b.token, code: 80300010 },
    { name: "an empty token list", mutate: (b) => (b.token = []), code: 80300010 },
    {
      name: "1001 tokens",
      mutate: (b) => (b.token = Array.from({ length: 1001 }, (_, i) => `t${i}`)),
      code: 80300010,
    },
    { name: "a token that is no string", mutate: (b) => (b.token = [42]), code: 80100001 },
    { name: "no clickAction", mutate: (b) => delete b.android.notification.clickAction, code: 80100003 },
    {
      name: "clickAction type 4",
      mutate: (b) => (b.android.notification.clickAction = { type: 4 }),
      code: 80100003,
    },
    {
      name: "clickAction type 1 without an intent",
      mutate: (b) => (b.android.notification.clickAction = { type: 1 }),
      code: 80100003,
    },
    {
      name: "importance HIGH (Honor knows only LOW and NORMAL)",
      mutate: (b) => (b.android.notification.importance = "HIGH"),
      code: 80100003,
    },
    {
      name: "a 51-unit title",
      mutate: (b) => (b.android.notification.title = "t".repeat(51)),
      code: 80100003,
    },
    { name: "a 401-unit body", mutate: (b) => (b.notification.body = "b".repeat(401)), code: 80100003 },
    {
      name: "no title anywhere",
      mutate: (b) => {
        delete b.notification.title;
        delete b.android.notification.title;
      },
      code: 80100003,
    },
    {
      name: "android.data that is not JSON",
      mutate: (b) => (b.android.data = "conversation alice"),
      code: 80100003,
    },
    { name: "android.data that is no string", mutate: (b) => (b.android.data = { a: 1 }), code: 80100003 },
    { name: "a ttl of 7d", mutate: (b) => (b.android.ttl = "7d"), code: 80100003 },
    { name: "a ttl over 15 days", mutate: (b) => (b.android.ttl = "1296001s"), code: 80100003 },
    {
      name: "badge setNum 100",
      mutate: (b) => (b.android.notification.badge = { setNum: 100, badgeClass: BADGE_CLASS }),
      code: 80100003,
    },
    {
      name: "a badge without its class",
      mutate: (b) => (b.android.notification.badge = { setNum: 1 }),
      code: 80100003,
    },
    {
      name: "a notifyId that is no int",
      mutate: (b) => (b.android.notification.notifyId = "x"),
      code: 80100003,
    },
    {
      name: "an image that is not HTTPS",
      mutate: (b) => (b.android.notification.image = "http://cdn.example.com/a.png"),
      code: 80100003,
    },
    {
      name: "a group that is no string",
      mutate: (b) => (b.android.notification.group = 7),
      code: 80100003,
    },
  ])("refuses $name: 400 $code", async ({ mutate, code }) => {
    const body = validBody();
    mutate(body);

    const response = await send(body);

    expect([response.status, response.body.code]).toEqual([400, code]);
    expect(hub.list().at(-1)?.status).toBe(400);
  });

  it("refuses a body that is not JSON and a send without the timestamp header", async () => {
    const notJson = await send("hello");
    const noTimestamp = await send(validBody(), { headers: { timestamp: undefined } });

    expect([notJson.status, notJson.body.code]).toEqual([400, 80100003]);
    expect([noTimestamp.status, noTimestamp.body.code]).toEqual([400, 80100001]);
  });

  it("answers 404 for a path Honor does not serve", async () => {
    const response = await fetch(`${simulator.url}/v1/${app.appId}/messages:send`, {
      method: "POST",
      body: "{}",
    });

    expect(response.status).toBe(404);
    await response.body?.cancel();
  });

  it("records one entry per token with lower-cased headers and the bearer token redacted", async () => {
    const body = validBody();
    body.token = [newToken(), newToken()];

    await send(body, { headers: { "X-Trace": "abc" } });

    const deliveries = hub.list();
    expect(deliveries.map((d) => d.token)).toEqual(body.token);
    for (const delivery of deliveries) {
      expect(delivery).toMatchObject({ vendor: "honor", status: 200, request: { body } });
      expect(delivery.request.headers).toMatchObject({
        authorization: "Bearer <redacted>",
        "x-trace": "abc",
      });
      expect(Number.isNaN(Date.parse(delivery.at))).toBe(false);
    }
  });
});
