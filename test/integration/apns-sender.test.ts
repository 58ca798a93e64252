import { randomBytes, sign } from "node:crypto";
import { type ClientHttp2Session, connect, type IncomingHttpHeaders } from "node:http2";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { DeliveryTarget, Notification } from "../../lib/model/index.js";
import { ApnsSender } from "../../lib/vendors/apns.js";
import type { ApnsCredential } from "../../lib/vendors/credentials.js";
import {
  type ApnsSimulator,
  generateApnsCredential,
  startApnsSimulator,
} from "../../local/simulators/apns.js";
import { type FaultRule, SimulatorHub } from "../../local/simulators/hub.js";

const BUNDLE_ID = "com.example.chat";
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
let simulator: ApnsSimulator;
let registered: ApnsCredential;
let unregistered: ApnsCredential;
let sender: ApnsSender;

const newToken = () => randomBytes(32).toString("hex");

function target(overrides: Partial<DeliveryTarget> = {}): DeliveryTarget {
  const token = overrides.token ?? newToken();
  return { userId: "bob", deviceId: `iphone-${token.slice(0, 6)}`, token, certificateId: 1, ...overrides };
}

function fault(rule: Omit<FaultRule, "vendor" | "count"> & { count?: number }): void {
  hub.addFault({ vendor: "apns", count: 1, ...rule });
}

beforeAll(async () => {
  simulator = await startApnsSimulator({ hub });
  const endpoint = { production: simulator.production, sandbox: simulator.sandbox, ca: simulator.ca };
  const first = generateApnsCredential({ certificateId: 1, bundleId: BUNDLE_ID, endpoint });
  const second = generateApnsCredential({ certificateId: 2, bundleId: BUNDLE_ID, endpoint });
  registered = first.credential;
  unregistered = second.credential;
  // Only the first key is known to "Apple": the second signs JWTs APNs cannot verify.
  simulator.addKey({ keyId: registered.keyId, teamId: registered.teamId, publicKey: first.publicKey });
  simulator.allowTopic(BUNDLE_ID);
  sender = new ApnsSender({ credentials: [registered, unregistered] });
});

afterAll(async () => {
  await sender?.close();
  await simulator?.close();
});

beforeEach(() => {
  hub.clear();
  hub.clearFaults();
});

describe("ApnsSender against the APNs simulator", () => {
  it("delivers, and APNs receives every header and payload field", async () => {
    const bob = target({ environment: "production" });

    const [result] = await sender.send(notification, [bob]);

    expect(result).toEqual({
      target: bob,
      status: 200,
      outcome: { kind: "delivered", vendorId: expect.stringMatching(/^[0-9a-f-]{36}$/) },
    });
    const [delivery] = hub.list();
    expect(delivery).toMatchObject({
      vendor: "apns",
      token: bob.token,
      status: 200,
      environment: "production",
    });
    const headers = delivery!.request.headers;
    expect(headers[":method"]).toBe("POST");
    expect(headers[":path"]).toBe(`/3/device/${bob.token}`);
    expect(headers["apns-topic"]).toBe(BUNDLE_ID);
    expect(headers["apns-push-type"]).toBe("alert");
    expect(headers["apns-priority"]).toBe("10");
    expect(headers["apns-collapse-id"]).toBe("c2c_alice");
    expect(headers["apns-expiration"]).toBe(String(Math.floor(SENT_AT / 1000) + 7 * 24 * 60 * 60));
    expect(headers.authorization).toBe("bearer <redacted>");
    expect(delivery!.request.body).toEqual({
      aps: {
        alert: { title: "Alice", body: "Lunch at noon? 🍜" },
        badge: 7,
        sound: "default",
        "thread-id": "c2c_alice",
      },
      ext: '{"conversationID":"c2c_alice"}',
    });
  });

  it("routes each target to the environment it registered in (production when unsaid)", async () => {
    const sandboxPhone = target({ environment: "sandbox" });
    const productionPhone = target({ environment: "production" });
    const unsaid = target();

    const results = await sender.send(notification, [sandboxPhone, productionPhone, unsaid]);

    expect(results.map((r) => r.outcome.kind)).toEqual(["delivered", "delivered", "delivered"]);
    const environmentOf = (token: string) => hub.list().find((d) => d.token === token)?.environment;
    expect(environmentOf(sandboxPhone.token)).toBe("sandbox");
    expect(environmentOf(productionPhone.token)).toBe("production");
    expect(environmentOf(unsaid.token)).toBe("production");
  });

  it.each([
    {
      name: "410 Unregistered",
      rule: { status: 410 },
      status: 410,
      outcome: { kind: "drop-token", reason: "APNs 410 Unregistered" },
    },
    {
      name: "400 BadDeviceToken",
      rule: { status: 400, reason: "BadDeviceToken" },
      status: 400,
      outcome: { kind: "drop-token", reason: "APNs 400 BadDeviceToken" },
    },
    // node-apn never hands Retry-After to its caller, so the quota outcome carries no delay.
    {
      name: "429 with Retry-After",
      rule: { status: 429, retryAfter: 30 },
      status: 429,
      outcome: { kind: "quota", reason: "APNs 429 TooManyRequests" },
    },
    {
      name: "503 ServiceUnavailable",
      rule: { status: 503 },
      status: 503,
      outcome: { kind: "retry", reason: "APNs 503 ServiceUnavailable" },
    },
    {
      name: "500 InternalServerError",
      rule: { status: 500 },
      status: 500,
      outcome: { kind: "retry", reason: expect.stringMatching(/^APNs 500 /) },
    },
  ])(
    "maps a $name answer, asking APNs once (retries are the worker's)",
    async ({ rule, status, outcome }) => {
      const bob = target();
      fault({ token: bob.token, ...rule });

      const [result] = await sender.send(notification, [bob]);

      expect(result).toEqual({ target: bob, status, outcome });
      expect(hub.list().map((d) => d.status)).toEqual([status]);
    },
  );

  it("still delivers when APNs answers slowly", async () => {
    const bob = target();
    fault({ token: bob.token, status: 200, delayMs: 400 });
    const started = Date.now();

    const [result] = await sender.send(notification, [bob]);

    expect(result?.outcome.kind).toBe("delivered");
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
  });

  it("resends once after 403 ExpiredProviderToken (node-apn has minted a new JWT by then)", async () => {
    const bob = target();
    fault({ token: bob.token, status: 403 });

    const [result] = await sender.send(notification, [bob]);

    expect(result?.outcome.kind).toBe("delivered");
    expect(hub.list().map((d) => d.status)).toEqual([403, 200]);
  });

  it("gives up with refresh-credential when the resent request expires again", async () => {
    const bob = target();
    fault({ token: bob.token, status: 403, count: 2 });

    const [result] = await sender.send(notification, [bob]);

    expect(result).toEqual({
      target: bob,
      status: 403,
      outcome: { kind: "refresh-credential", reason: "APNs 403 ExpiredProviderToken" },
    });
    expect(hub.list().map((d) => d.status)).toEqual([403, 403]);
  });

  it("gets 403 InvalidProviderToken for a JWT signed with a key APNs does not know", async () => {
    const bob = target({ certificateId: unregistered.certificateId });

    const [result] = await sender.send(notification, [bob]);

    expect(result).toEqual({
      target: bob,
      status: 403,
      outcome: { kind: "refresh-credential", reason: "APNs 403 InvalidProviderToken" },
    });
    expect(hub.list().map((d) => d.status)).toEqual([403]);
  });

  it("answers bad-request without calling APNs for a certificate id it has no credential for", async () => {
    const bob = target({ certificateId: 99 });

    const [result] = await sender.send(notification, [bob]);

    expect(result).toEqual({
      target: bob,
      outcome: { kind: "bad-request", reason: "no APNs credential 99" },
    });
    expect(hub.list()).toEqual([]);
  });

  it("settles every target of a multi-target send in order, one fault failing only its own", async () => {
    const targets = Array.from({ length: 5 }, () => target());
    fault({ token: targets[2]!.token, status: 410 });

    const results = await sender.send(notification, targets);

    expect(results.map((r) => r.target)).toEqual(targets);
    expect(results.map((r) => r.outcome.kind)).toEqual([
      "delivered",
      "delivered",
      "drop-token",
      "delivered",
      "delivered",
    ]);
    expect(hub.list()).toHaveLength(5);
  });

  it("delivers 1,200 targets in one call, never more than 500 streams in flight", async () => {
    const targets = Array.from({ length: 1200 }, () => target());
    // Every answer held back a little, so requests sent together are visibly in flight together.
    fault({ status: 200, delayMs: 50, count: targets.length });
    const inFlight: { from: number; to: number }[] = [];
    const stop = hub.onDelivery((d) => inFlight.push({ from: Date.parse(d.at), to: Date.now() }));

    const results = await sender.send(notification, targets);
    stop();

    expect(results.filter((r) => r.outcome.kind === "delivered")).toHaveLength(1200);
    expect(new Set(hub.list().map((d) => d.token)).size).toBe(1200);
    expect(maxOverlap(inFlight)).toBeLessThanOrEqual(500);
  });
});

/** Most intervals open at one instant (one ending as another starts does not overlap). */
function maxOverlap(intervals: { from: number; to: number }[]): number {
  const events = intervals.flatMap(({ from, to }) => [
    { at: from, delta: 1 },
    { at: to, delta: -1 },
  ]);
  events.sort((a, b) => a.at - b.at || a.delta - b.delta);
  let open = 0;
  let most = 0;
  for (const { delta } of events) {
    open += delta;
    most = Math.max(most, open);
  }
  return most;
}

describe("APNs simulator checks requests as APNs does", () => {
  let client: ClientHttp2Session;

  beforeAll(() => {
    client = connect(`https://localhost:${simulator.production.port}`, { ca: simulator.ca });
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => client.close(() => resolve()));
  });

  function jwt(credential: ApnsCredential, claims: { iss?: string; iat?: number } = {}): string {
    const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
    const header = encode({ alg: "ES256", kid: credential.keyId });
    const body = encode({ iss: credential.teamId, iat: Math.floor(Date.now() / 1000), ...claims });
    const signature = sign("sha256", Buffer.from(`${header}.${body}`), {
      key: credential.privateKey,
      dsaEncoding: "ieee-p1363",
    });
    return `${header}.${body}.${signature.toString("base64url")}`;
  }

  interface RawRequest {
    method?: string;
    path?: string;
    headers?: Record<string, string | undefined>;
    body?: string;
  }

  function request(raw: RawRequest = {}): Promise<{ headers: IncomingHttpHeaders; body: string }> {
    const headers: Record<string, string> = Object.fromEntries(
      Object.entries({
        ":method": raw.method ?? "POST",
        ":path": raw.path ?? `/3/device/${newToken()}`,
        authorization: `bearer ${jwt(registered)}`,
        "apns-topic": BUNDLE_ID,
        "apns-push-type": "alert",
        "apns-priority": "10",
        ...raw.headers,
      }).filter((entry): entry is [string, string] => entry[1] !== undefined),
    );
    return new Promise((resolve, reject) => {
      const stream = client.request(headers);
      let responseHeaders: IncomingHttpHeaders = {};
      let body = "";
      stream.setEncoding("utf8");
      stream.on("response", (h) => {
        responseHeaders = h;
      });
      stream.on("data", (chunk: string) => {
        body += chunk;
      });
      stream.on("end", () => resolve({ headers: responseHeaders, body }));
      stream.on("error", reject);
      // node's client ends a GET's stream itself; writing a body then would throw.
      if (headers[":method"] === "GET") return;
      stream.end(raw.body ?? '{"aps":{"alert":"hi"}}');
    });
  }

  it("accepts a valid request: 200, empty body, the request's apns-id echoed", async () => {
    const apnsId = "5d6f0c0e-2c7b-4f7e-9a55-7c1a2b3c4d5e";

    const response = await request({ headers: { "apns-id": apnsId } });

    expect(response.headers[":status"]).toBe(200);
    expect(response.headers["apns-id"]).toBe(apnsId);
    expect(response.body).toBe("");
  });

  it.each<{ name: string; raw: RawRequest; status: number; reason: string }>([
    { name: "a GET", raw: { method: "GET" }, status: 405, reason: "MethodNotAllowed" },
    { name: "an unknown path", raw: { path: "/3/devices/abc" }, status: 404, reason: "BadPath" },
    { name: "no token in the path", raw: { path: "/3/device/" }, status: 400, reason: "MissingDeviceToken" },
    {
      name: "a token that is not hex",
      raw: { path: `/3/device/${"z".repeat(64)}` },
      status: 400,
      reason: "BadDeviceToken",
    },
    { name: "a token too short", raw: { path: "/3/device/abcdef" }, status: 400, reason: "BadDeviceToken" },
    {
      name: "no authorization",
      raw: { headers: { authorization: undefined } },
      status: 403,
      reason: "MissingProviderToken",
    },
    {
      name: "a garbled JWT",
      raw: { headers: { authorization: "bearer not.a.jwt" } },
      status: 403,
      reason: "InvalidProviderToken",
    },
    {
      name: "no apns-topic",
      raw: { headers: { "apns-topic": undefined } },
      status: 400,
      reason: "MissingTopic",
    },
    {
      name: "a topic not allowed",
      raw: { headers: { "apns-topic": "com.other.app" } },
      status: 400,
      reason: "TopicDisallowed",
    },
    {
      name: "an unknown push type",
      raw: { headers: { "apns-push-type": "banner" } },
      status: 400,
      reason: "InvalidPushType",
    },
    { name: "priority 7", raw: { headers: { "apns-priority": "7" } }, status: 400, reason: "BadPriority" },
    {
      name: "a 65-byte collapse id",
      raw: { headers: { "apns-collapse-id": "c".repeat(65) } },
      status: 400,
      reason: "BadCollapseId",
    },
    {
      name: "a non-numeric expiration",
      raw: { headers: { "apns-expiration": "tomorrow" } },
      status: 400,
      reason: "BadExpirationDate",
    },
    {
      name: "an apns-id that is no UUID",
      raw: { headers: { "apns-id": "42" } },
      status: 400,
      reason: "BadMessageId",
    },
    {
      name: "a 4097-byte body",
      raw: { body: JSON.stringify({ aps: {}, pad: "p".repeat(4080) }) },
      status: 413,
      reason: "PayloadTooLarge",
    },
    { name: "an empty body", raw: { body: "" }, status: 400, reason: "PayloadEmpty" },
    { name: "a body without aps", raw: { body: '{"ext":"x"}' }, status: 400, reason: "PayloadEmpty" },
    { name: "a body that is not JSON", raw: { body: "hello" }, status: 400, reason: "BadPayload" },
  ])("refuses $name: $status $reason", async ({ raw, status, reason }) => {
    const response = await request(raw);

    expect(response.headers[":status"]).toBe(status);
    expect(JSON.parse(response.body)).toEqual({ reason });
    expect(hub.list().at(-1)?.status).toBe(status);
  });

  it("refuses a JWT from another team and one issued over an hour ago", async () => {
    const otherTeam = await request({
      headers: { authorization: `bearer ${jwt(registered, { iss: "OTHERTEAM1" })}` },
    });
    const stale = Math.floor(Date.now() / 1000) - 61 * 60;
    const expired = await request({
      headers: { authorization: `bearer ${jwt(registered, { iat: stale })}` },
    });

    expect([otherTeam.headers[":status"], JSON.parse(otherTeam.body)]).toEqual([
      403,
      { reason: "InvalidProviderToken" },
    ]);
    expect([expired.headers[":status"], JSON.parse(expired.body)]).toEqual([
      403,
      { reason: "ExpiredProviderToken" },
    ]);
  });

  it("adds timestamp to 410 and retry-after to a fault that sets it", async () => {
    const gone = newToken();
    const busy = newToken();
    fault({ token: gone, status: 410 });
    fault({ token: busy, status: 429, retryAfter: 30 });

    const goneResponse = await request({ path: `/3/device/${gone}` });
    const busyResponse = await request({ path: `/3/device/${busy}` });

    expect(JSON.parse(goneResponse.body)).toEqual({ reason: "Unregistered", timestamp: expect.any(Number) });
    expect(busyResponse.headers["retry-after"]).toBe("30");
    expect(JSON.parse(busyResponse.body)).toEqual({ reason: "TooManyRequests" });
  });

  it("records every request with lower-cased headers and the JWT redacted", async () => {
    const token = newToken();

    await request({ path: `/3/device/${token}`, headers: { "apns-collapse-id": "c2c_alice" } });

    const [delivery] = hub.list();
    expect(delivery).toMatchObject({ vendor: "apns", token, status: 200, environment: "production" });
    expect(delivery!.request.headers).toMatchObject({
      ":path": `/3/device/${token}`,
      authorization: "bearer <redacted>",
      "apns-collapse-id": "c2c_alice",
    });
    expect(delivery!.request.body).toEqual({ aps: { alert: "hi" } });
    expect(Number.isNaN(Date.parse(delivery!.at))).toBe(false);
  });
});
