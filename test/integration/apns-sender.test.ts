import { randomBytes, sign } from "node:crypto";
import {
  type ClientHttp2Session,
  connect,
  type IncomingHttpHeaders,
  type SecureClientSessionOptions,
} from "node:http2";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { CallInfo, DeliveryTarget, Notification } from "../../lib/model/index.js";
import { ApnsSender } from "../../lib/vendors/apns.js";
import type { ApnsCredential, ApnsTokenCredential } from "../../lib/vendors/credentials.js";
import {
  type ApnsSimulator,
  generateApnsCredential,
  startApnsSimulator,
} from "../../local/simulators/apns.js";
import { type FaultRule, type SimulatedDelivery, SimulatorHub } from "../../local/simulators/hub.js";

const BUNDLE_ID = "com.example.chat";
const SENT_AT = Date.now();
const PRODUCTION_URL = "https://api.push.apple.com/3/device/";
const SANDBOX_URL = "https://api.sandbox.push.apple.com/3/device/";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A .p12 exported the way OpenSSL 1.x and older Keychain exports did (RC2-40), passphrase "chatpush". */
const LEGACY_RC2_P12 = [
  "MIID+gIBAzCCA8AGCSqGSIb3DQEHAaCCA7EEggOtMIIDqTCCAp8GCSqGSIb3DQEHBqCCApAwggKMAgEAMIIChQYJKoZIhvcNAQcB",
  "MBwGCiqGSIb3DQEMAQYwDgQIB9QghM2iyakCAggAgIICWHYQ4xtSrO27d2/xMCVkEp8yYDIVlB3ifT0w+TDmDP1V69y22nU4zZQB",
  "W+ObeQvVJBKWtKaqGt+f7pl4Mt5oiwSupf6BAqF8UIGIe1iQ0HcXIWR4+edzvANAL+yWQqo9mLAOiKHsTFAZnXtfxXLasy+DH3sG",
  "GMAzQGKkNruz9+rx0pPdCT+pitz1BIIHbt8z+DVvwN9IoZjelsmnhTHGyH5DwK3DxMOnAlXTWRhvg5wEjVtF+XK75Bb5ErzUD2bv",
  "yBMhUMpZE0FkQUy2HP0vtOzU/vQOBDRP3OylHhArmfYsijYQT5CxhQMPtr8ziYNKTQxGE+kPxWYc5hRnU0rYQOAxLn4TjqpulgJT",
  "qk5Xmty/PBtrRwNLxyNpqea6QXg4rNP7JUl5FJnu2Eg4JMEoY+lwRAYQq96EsT4Lk/bET3MkXSHLaIBljnM5oy7XJ9XqJRjN4F2k",
  "2mjrfTgCvUngtHQT7FtGu3CNAkwDCtKd5Wy2LbpkLM1PMPuCmfmw8Hq/25b3oZKH0WgFMq+3lckDiRNAQblx3E3lyqUGCpw1vRZ3",
  "ZFL0K0kC0QaiJv2IovN6ZYBByy2rgHopbyY6vgtNi0RmNplhmA1MWFyLqbW2Tl8m5xuOHJlDIib09mvmOUXhF6KXJR8HCdF6O4Fu",
  "bSWY/KVDhybrw4ttCjDu4ZOkQNv0/KOuE0eb32lVuEJ2Eh6wgeeWPoyqapbglh7XWiolU64e3UqmG7PXOskS3PW6U4/JIZuDUOaF",
  "5OTjqJYZbSiRCxjh6JuU2NCBHoJn709svNcMcukJsUSADjCCAQIGCSqGSIb3DQEHAaCB9ASB8TCB7jCB6wYLKoZIhvcNAQwKAQKg",
  "gbQwgbEwHAYKKoZIhvcNAQwBAzAOBAhq2IO0mfm3hgICCAAEgZBp7NNmSTec7QVIhBqtDGfgzPJyntsB3IQBiVlAEFaOqWhU/abA",
  "VZxs3OZF/Djq2SdmOjIA4urlqes6tIwBgf0bFZsZnpN+pO9SbrXHT1dvP1Or/g7ibDRv6sXRfpteNTBzRHEFQ2iajI+9Sw658rtF",
  "9EQtAKD8NYaHQUKewqq1SdJ3Aaz2UXP+DoG29+gkycMxJTAjBgkqhkiG9w0BCRUxFgQUwf9mJdnnZNR7F0eboICv+tc7KF4wMTAh",
  "MAkGBSsOAwIaBQAEFKmkD6pY4V7nlt2IidDySNvatP6ABAg3M7OiEfRCnAICCAA=",
].join("");

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
let endpoint: NonNullable<ApnsCredential["endpoint"]>;
let registered: ApnsTokenCredential;
let unregistered: ApnsTokenCredential;
let sender: ApnsSender;

const newToken = () => randomBytes(32).toString("hex");

function target(overrides: Partial<DeliveryTarget> = {}): DeliveryTarget {
  const token = overrides.token ?? newToken();
  return { userId: "bob", deviceId: `iphone-${token.slice(0, 6)}`, token, certificateId: 1, ...overrides };
}

function fault(rule: Omit<FaultRule, "vendor" | "count"> & { count?: number }): void {
  hub.addFault({ vendor: "apns", count: 1, ...rule });
}

function call(overrides: Partial<CallInfo> = {}): CallInfo {
  return {
    action: "ring",
    inviteId: "invite-1",
    callerId: "alice",
    callerName: "Alice",
    media: "audio",
    invitees: ["bob"],
    timeoutSeconds: 30,
    invitedAt: Date.now(),
    ...overrides,
  };
}

const deliveryOf = (token: string): SimulatedDelivery | undefined =>
  hub.list().find((d) => d.token === token);

beforeAll(async () => {
  simulator = await startApnsSimulator({ hub });
  endpoint = { production: simulator.production, sandbox: simulator.sandbox, ca: simulator.ca };
  const first = generateApnsCredential({ certificateId: 1, bundleId: BUNDLE_ID, endpoint });
  const second = generateApnsCredential({ certificateId: 2, bundleId: BUNDLE_ID, endpoint });
  registered = first.credential;
  unregistered = second.credential;
  // Only the first key is known to "Apple": the second signs JWTs APNs cannot verify.
  simulator.addKey({ keyId: registered.keyId, teamId: registered.teamId, publicKey: first.publicKey });
  simulator.allowTopic(BUNDLE_ID);
  simulator.allowTopic(`${BUNDLE_ID}.voip`);
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
  it("delivers, and APNs receives every header and payload field at Apple's URL", async () => {
    const bob = target({ environment: "production" });

    const [result] = await sender.send(notification, [bob]);

    expect(result).toEqual({
      target: bob,
      status: 200,
      outcome: { kind: "delivered", vendorId: expect.stringMatching(UUID) },
    });
    const [delivery] = hub.list();
    expect(delivery).toMatchObject({
      vendor: "apns",
      token: bob.token,
      status: 200,
      environment: "production",
      endpoint: `${PRODUCTION_URL}${bob.token}`,
    });
    const headers = delivery!.request.headers;
    expect(headers[":method"]).toBe("POST");
    expect(headers[":path"]).toBe(`/3/device/${bob.token}`);
    expect(headers["apns-topic"]).toBe(BUNDLE_ID);
    expect(headers["apns-push-type"]).toBe("alert");
    expect(headers["apns-priority"]).toBe("10");
    expect(headers["apns-collapse-id"]).toBe(notification.messageKey);
    expect(headers["apns-id"]).toBe(result?.outcome.kind === "delivered" ? result.outcome.vendorId : "");
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

  it("routes each target to the environment it registered in (production when unsaid), recording the real host", async () => {
    const sandboxPhone = target({ environment: "sandbox" });
    const productionPhone = target({ environment: "production" });
    const unsaid = target();

    const results = await sender.send(notification, [sandboxPhone, productionPhone, unsaid]);

    expect(results.map((r) => r.outcome.kind)).toEqual(["delivered", "delivered", "delivered"]);
    expect(deliveryOf(sandboxPhone.token)).toMatchObject({
      environment: "sandbox",
      endpoint: `${SANDBOX_URL}${sandboxPhone.token}`,
    });
    expect(deliveryOf(productionPhone.token)?.environment).toBe("production");
    expect(deliveryOf(unsaid.token)).toMatchObject({
      environment: "production",
      endpoint: `${PRODUCTION_URL}${unsaid.token}`,
    });
  });

  it("drops a 410 token with APNs' timestamp as `since`", async () => {
    const bob = target({ environment: "production" });
    fault({ token: bob.token, status: 410 });
    const before = Date.now();

    const [result] = await sender.send(notification, [bob]);

    expect(result).toEqual({
      target: bob,
      status: 410,
      outcome: { kind: "drop-token", reason: "APNs 410 Unregistered", since: expect.any(Number) },
    });
    const since = result?.outcome.kind === "drop-token" ? result.outcome.since! : 0;
    expect(since).toBeGreaterThanOrEqual(before);
    expect(since).toBeLessThanOrEqual(Date.now());
  });

  it("drops a BadDeviceToken only when the device registered the environment it was sent to", async () => {
    const named = target({ environment: "production" });
    const unsaid = target();
    fault({ token: named.token, status: 400, reason: "BadDeviceToken" });
    fault({ token: unsaid.token, status: 400, reason: "BadDeviceToken" });

    const [kept, dropped] = await sender.send(notification, [unsaid, named]);

    expect(dropped?.outcome).toEqual({ kind: "drop-token", reason: "APNs 400 BadDeviceToken" });
    expect(kept?.outcome).toEqual({
      kind: "bad-request",
      reason: expect.stringContaining("may be a sandbox token"),
    });
  });

  it.each([
    {
      name: "429 with Retry-After",
      rule: { status: 429, retryAfter: 30 },
      status: 429,
      // node-apn never hands Retry-After to its caller, so the quota outcome carries no delay.
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
    {
      name: "400 DeviceTokenNotForTopic",
      rule: { status: 400, reason: "DeviceTokenNotForTopic" },
      status: 400,
      outcome: { kind: "credential-problem", reason: "APNs 400 DeviceTokenNotForTopic" },
    },
    {
      name: "403 BadCertificateEnvironment",
      rule: { status: 403, reason: "BadCertificateEnvironment" },
      status: 403,
      outcome: { kind: "credential-problem", reason: "APNs 403 BadCertificateEnvironment" },
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

  it("resends once after 403 ExpiredProviderToken (node-apn has minted a new JWT by then), with the same apns-id", async () => {
    const bob = target();
    fault({ token: bob.token, status: 403 });

    const [result] = await sender.send(notification, [bob]);

    expect(result?.outcome.kind).toBe("delivered");
    const attempts = hub.list();
    expect(attempts.map((d) => d.status)).toEqual([403, 200]);
    expect(attempts[0]!.request.headers["apns-id"]).toBe(attempts[1]!.request.headers["apns-id"]);
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

  it("reads 403 InvalidProviderToken (a key APNs does not know) as a credential problem for every target, asking once", async () => {
    const targets = Array.from({ length: 20 }, () => target({ certificateId: unregistered.certificateId }));

    const results = await sender.send(notification, targets);

    expect(new Set(results.map((r) => JSON.stringify(r.outcome)))).toEqual(
      new Set([JSON.stringify({ kind: "credential-problem", reason: "APNs 403 InvalidProviderToken" })]),
    );
    // APNs keeps a refused token's connection at one stream: the first answer settles them all.
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

  it("gives each target its own badge", async () => {
    const nine = target({ badge: 9 });
    const none = target();

    await sender.send(notification, [nine, none]);

    expect(deliveryOf(nine.token)?.request.body).toMatchObject({ aps: { badge: 9 } });
    expect(deliveryOf(none.token)?.request.body).toMatchObject({ aps: { badge: 7 } });
  });

  it("sends the same apns-id when a job is sent again, and a different one per device", async () => {
    const bob = target();
    const carol = target({ userId: "carol" });

    await sender.send(notification, [bob, carol]);
    await sender.send(notification, [bob]);

    const ids = hub.list().map((d) => [d.token, d.request.headers["apns-id"]]);
    const bobIds = ids.filter(([token]) => token === bob.token).map(([, id]) => id);
    const carolId = ids.find(([token]) => token === carol.token)?.[1];
    expect(bobIds).toHaveLength(2);
    expect(bobIds[0]).toBe(bobIds[1]);
    expect(bobIds[0]).toMatch(UUID);
    expect(carolId).not.toBe(bobIds[0]);
  });

  it.each([
    ["a NUL", "sender\u0000id"],
    ["an emoji", "sender😀"],
    ["a lone surrogate", "sender\ud800"],
  ])(
    "delivers ids with %s in one request: hashed headers, no HTTP/2 protocol error, no retry",
    async (_, id) => {
      const hostile: Notification = {
        ...notification,
        conversationId: `c2c_${id}`,
        messageKey: `${id}_1_1709281815`,
      };
      const bob = target({ deviceId: `device-${id}` });

      const [result] = await sender.send(hostile, [bob]);

      expect(result?.outcome.kind).toBe("delivered");
      const deliveries = hub.list();
      expect(deliveries).toHaveLength(1);
      expect(deliveries[0]!.request.headers["apns-collapse-id"]).toMatch(/^[0-9a-f]{64}$/);
      expect(deliveries[0]!.request.headers["apns-id"]).toMatch(UUID);
    },
  );

  it("refuses a credential whose bundle id cannot be a header, without sending anything", async () => {
    const broken = new ApnsSender({
      credentials: [{ ...registered, bundleId: "com.example.chat\r\nx-evil: 1" }],
    });
    try {
      const [result] = await broken.send(notification, [target()]);

      expect(result?.outcome).toEqual({ kind: "bad-request", reason: expect.stringContaining("apns-topic") });
      expect(hub.list()).toEqual([]);
    } finally {
      await broken.close();
    }
  });

  it("answers bad-request for a token that is not hex, without sending it", async () => {
    const [result] = await sender.send(notification, [target({ token: "not/a/token" })]);

    expect(result?.outcome).toEqual({ kind: "bad-request", reason: "APNs device token is not hex" });
    expect(hub.list()).toEqual([]);
  });
});

describe("ApnsSender calls", () => {
  const ring: Notification = { ...notification, purpose: "call", body: "You have a new call" };

  it("sends a ringing call to a VoIP token as a PushKit push on <bundle>.voip", async () => {
    const phone = target({ pushType: "voip" });

    const [result] = await sender.send({ ...ring, call: call() }, [phone]);

    expect(result?.outcome.kind).toBe("delivered");
    const delivery = deliveryOf(phone.token)!;
    expect(delivery.request.headers).toMatchObject({
      "apns-push-type": "voip",
      "apns-topic": `${BUNDLE_ID}.voip`,
      "apns-priority": "10",
    });
    expect(delivery.request.body).toMatchObject({ call: { inviteId: "invite-1", callerId: "alice" } });
  });

  it("delivers a VoIP payload between 4096 and 5120 bytes (the VoIP limit)", async () => {
    const phone = target({ pushType: "voip" });
    const signaling = "s".repeat(4500);

    const [result] = await sender.send({ ...ring, call: call({ signaling }) }, [phone]);

    expect(result?.outcome.kind).toBe("delivered");
    const size = Buffer.byteLength(JSON.stringify(deliveryOf(phone.token)!.request.body));
    expect(size).toBeGreaterThan(4096);
    expect(size).toBeLessThanOrEqual(5120);
  });

  it("never sends a VoIP push for the call's end: bad-request, nothing sent", async () => {
    const [result] = await sender.send({ ...ring, call: call({ action: "ended" }) }, [
      target({ pushType: "voip" }),
    ]);

    expect(result?.outcome).toEqual({
      kind: "bad-request",
      reason: "VoIP tokens only take call invitations",
    });
    expect(hub.list()).toEqual([]);
  });

  it("rings an alert token with a time-sensitive alert and the ringtone, then replaces it quietly", async () => {
    const phone = target();

    await sender.send({ ...ring, call: call() }, [phone]);
    await sender.send({ ...notification, body: "Missed call", call: call({ action: "ended" }) }, [phone]);

    const [ringing, missed] = hub.list();
    expect(ringing!.request.body).toMatchObject({
      aps: { sound: "phone_ringing.mp3", "interruption-level": "time-sensitive" },
    });
    expect(missed!.request.body).toMatchObject({ aps: { "interruption-level": "passive" } });
    expect(missed!.request.body).not.toHaveProperty("aps.sound");
    expect(missed!.request.headers["apns-collapse-id"]).toBe(ringing!.request.headers["apns-collapse-id"]);
  });
});

describe("ApnsSender with a .p12 certificate", () => {
  const send = async (credential: ApnsCredential, targets: DeliveryTarget[], n = notification) => {
    const p12Sender = new ApnsSender({ credentials: [credential] });
    try {
      return await p12Sender.send(n, targets);
    } finally {
      await p12Sender.close();
    }
  };

  it("delivers over a TLS client certificate, with no authorization header", async () => {
    const { credential } = simulator.issueCertificate({ certificateId: 7, bundleId: BUNDLE_ID, endpoint });
    const bob = target({ certificateId: 7, environment: "production" });

    const [result] = await send(credential, [bob]);

    expect(result?.outcome.kind).toBe("delivered");
    const delivery = deliveryOf(bob.token)!;
    expect(delivery.request.headers).not.toHaveProperty("authorization");
    expect(delivery.request.headers["apns-topic"]).toBe(BUNDLE_ID);
  });

  it("reads a wrong passphrase as a credential problem, sending nothing", async () => {
    const { credential } = simulator.issueCertificate({ certificateId: 7, bundleId: BUNDLE_ID, endpoint });

    const [result] = await send({ ...credential, passphrase: "wrong" }, [target({ certificateId: 7 })]);

    expect(result?.outcome).toEqual({
      kind: "credential-problem",
      reason: expect.stringContaining("passphrase"),
    });
    expect(hub.list()).toEqual([]);
  });

  it("says how to re-export a legacy RC2-40 .p12, which Node's OpenSSL 3 cannot read", async () => {
    const credential: ApnsCredential = {
      certificateId: 7,
      bundleId: BUNDLE_ID,
      p12: LEGACY_RC2_P12,
      passphrase: "chatpush",
      endpoint,
    };

    const [result] = await send(credential, [target({ certificateId: 7 })]);

    expect(result?.outcome).toEqual({
      kind: "credential-problem",
      reason: expect.stringContaining("re-export"),
    });
    expect(hub.list()).toEqual([]);
  });

  it("gets 403 BadCertificate for a certificate Apple did not issue: a credential problem", async () => {
    const { credential } = simulator.issueCertificate({
      certificateId: 7,
      bundleId: BUNDLE_ID,
      untrusted: true,
      endpoint,
    });

    const [result] = await send(credential, [target({ certificateId: 7, environment: "sandbox" })]);

    expect(result).toMatchObject({
      status: 403,
      outcome: { kind: "credential-problem", reason: "APNs 403 BadCertificate" },
    });
  });

  it("gets TopicDisallowed for a VoIP push with a certificate not registered for VoIP services", async () => {
    const { credential } = simulator.issueCertificate({
      certificateId: 7,
      bundleId: BUNDLE_ID,
      topics: [BUNDLE_ID],
      endpoint,
    });

    const [result] = await send(credential, [target({ certificateId: 7, pushType: "voip" })], {
      ...notification,
      call: call(),
    });

    expect(result).toMatchObject({
      status: 400,
      outcome: { kind: "credential-problem", reason: "APNs 400 TopicDisallowed" },
    });
  });
});

describe("ApnsSender throughput: every request in flight, never over a session's stream limit", () => {
  const STREAM_LIMIT = 40;
  let narrow: ApnsSimulator;
  let narrowHub: SimulatorHub;
  let narrowCredential: ApnsTokenCredential;

  beforeAll(async () => {
    narrowHub = new SimulatorHub();
    // Every answer 30 ms late, so requests sent together are visibly in flight together.
    narrow = await startApnsSimulator({ hub: narrowHub, maxConcurrentStreams: STREAM_LIMIT, latencyMs: 30 });
    const generated = generateApnsCredential({
      certificateId: 1,
      bundleId: BUNDLE_ID,
      endpoint: { production: narrow.production, sandbox: narrow.sandbox, ca: narrow.ca },
    });
    narrowCredential = generated.credential;
    narrow.addKey({
      keyId: narrowCredential.keyId,
      teamId: narrowCredential.teamId,
      publicKey: generated.publicKey,
    });
  });

  afterAll(async () => {
    await narrow?.close();
  });

  beforeEach(() => {
    narrowHub.clear();
    narrow.resetStats();
  });

  it("spreads ten concurrent jobs over several sessions, each within the server's SETTINGS_MAX_CONCURRENT_STREAMS", async () => {
    const pooled = new ApnsSender({ credentials: [narrowCredential], maxSessions: 4 });
    const jobs = Array.from({ length: 10 }, () => Array.from({ length: 60 }, () => target()));
    try {
      const results = await Promise.all(jobs.map((job) => pooled.send(notification, job)));

      expect(results.flat().filter((r) => r.outcome.kind === "delivered")).toHaveLength(600);
      expect(new Set(narrowHub.list().map((d) => d.token)).size).toBe(600);
      const stats = narrow.stats();
      expect(stats.peakStreamsPerSession).toBeLessThanOrEqual(STREAM_LIMIT);
      // More in flight than one session allows: the pool used its other sessions at the same time.
      expect(stats.peakStreams).toBeGreaterThan(STREAM_LIMIT);
      expect(stats.sessionsOpened).toBeGreaterThan(1);
      expect(stats.sessionsOpened).toBeLessThanOrEqual(4);
    } finally {
      await pooled.close();
    }
  });

  it("keeps the requests in flight under its memory cap", async () => {
    const capped = new ApnsSender({ credentials: [narrowCredential], maxSessions: 8, maxInFlight: 50 });
    try {
      const results = await capped.send(
        notification,
        Array.from({ length: 300 }, () => target()),
      );

      expect(results.filter((r) => r.outcome.kind === "delivered")).toHaveLength(300);
      expect(narrow.stats().peakStreams).toBeLessThanOrEqual(50);
    } finally {
      await capped.close();
    }
  });
});

describe("APNs simulator checks requests as APNs does", () => {
  let client: ClientHttp2Session;

  beforeAll(() => {
    client = connect(`https://localhost:${simulator.production.port}`, { ca: simulator.ca });
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => client.close(() => resolve()));
  });

  function jwt(credential: ApnsTokenCredential, claims: { iss?: string; iat?: number } = {}): string {
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

  function request(
    raw: RawRequest = {},
    session: ClientHttp2Session = client,
  ): Promise<{ headers: IncomingHttpHeaders; body: string }> {
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
      const stream = session.request(headers);
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

  /** A new connection, and the stream limit its SETTINGS frame announced. */
  async function freshSession(
    options: SecureClientSessionOptions = {},
    port = simulator.production.port,
  ): Promise<ClientHttp2Session> {
    const session = connect(`https://localhost:${port}`, { ca: simulator.ca, ...options });
    await new Promise((resolve) => session.once("remoteSettings", resolve));
    return session;
  }

  async function closeSession(session: ClientHttp2Session): Promise<void> {
    await new Promise<void>((resolve) => session.close(() => resolve()));
  }

  it("refuses a key it does not know before it looks at the token: 403, not BadDeviceToken", async () => {
    // APNs checks the credential first (firebase-ios-sdk#4042): `npm run doctor` reads a 400
    // BadDeviceToken for an obviously invalid token as "the credential was accepted".
    const refused = await request({
      path: "/3/device/abcdef",
      headers: { authorization: `bearer ${jwt(unregistered)}` },
    });
    const accepted = await request({ path: "/3/device/abcdef" });

    expect([refused.headers[":status"], JSON.parse(refused.body)]).toEqual([
      403,
      { reason: "InvalidProviderToken" },
    ]);
    expect([accepted.headers[":status"], JSON.parse(accepted.body)]).toEqual([
      400,
      { reason: "BadDeviceToken" },
    ]);
  });

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
      name: "a token that is not hex, without authorization",
      raw: { path: `/3/device/${"z".repeat(64)}`, headers: { authorization: undefined } },
      status: 403,
      reason: "MissingProviderToken",
    },
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
    {
      name: "a VoIP push on the app's own topic",
      raw: { headers: { "apns-push-type": "voip" } },
      status: 400,
      reason: "DeviceTokenNotForTopic",
    },
    {
      name: "an alert on the .voip topic",
      raw: { headers: { "apns-topic": `${BUNDLE_ID}.voip` } },
      status: 400,
      reason: "DeviceTokenNotForTopic",
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
      name: "a 4097-byte alert",
      raw: { body: JSON.stringify({ aps: {}, pad: "p".repeat(4080) }) },
      status: 413,
      reason: "PayloadTooLarge",
    },
    {
      name: "a 5121-byte VoIP push",
      raw: {
        headers: { "apns-push-type": "voip", "apns-topic": `${BUNDLE_ID}.voip` },
        body: JSON.stringify({ pad: "p".repeat(5111) }),
      },
      status: 413,
      reason: "PayloadTooLarge",
    },
    { name: "an empty body", raw: { body: "" }, status: 400, reason: "PayloadEmpty" },
    { name: "an alert without aps", raw: { body: '{"ext":"x"}' }, status: 400, reason: "PayloadEmpty" },
    { name: "a body that is not JSON", raw: { body: "hello" }, status: 400, reason: "BadPayload" },
  ])("refuses $name: $status $reason", async ({ raw, status, reason }) => {
    const response = await request(raw);

    expect(response.headers[":status"]).toBe(status);
    expect(JSON.parse(response.body)).toEqual({ reason });
    expect(hub.list().at(-1)?.status).toBe(status);
  });

  it("accepts a VoIP push of up to 5120 bytes on the .voip topic, without aps", async () => {
    const body = JSON.stringify({ call: { pad: "p".repeat(5090) } });
    expect(Buffer.byteLength(body)).toBeGreaterThan(4096);
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(5120);

    const response = await request({
      headers: { "apns-push-type": "voip", "apns-topic": `${BUNDLE_ID}.voip` },
      body,
    });

    expect(response.headers[":status"]).toBe(200);
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

  it("allows one stream on a token connection until a request carries a valid JWT, then its full limit", async () => {
    const session = await freshSession();
    try {
      expect(session.remoteSettings.maxConcurrentStreams).toBe(1);

      const refused = await request({ headers: { authorization: "bearer not.a.jwt" } }, session);
      expect(refused.headers[":status"]).toBe(403);
      expect(session.remoteSettings.maxConcurrentStreams).toBe(1);

      const raised = new Promise((resolve) => session.once("remoteSettings", resolve));
      await request({}, session);
      await raised;
      expect(session.remoteSettings.maxConcurrentStreams).toBe(1000);
    } finally {
      await closeSession(session);
    }
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

  it("records every request with lower-cased headers, the JWT redacted and the URL it was addressed to", async () => {
    const token = newToken();

    await request({ path: `/3/device/${token}`, headers: { "apns-collapse-id": "c2c_alice" } });

    const [delivery] = hub.list();
    expect(delivery).toMatchObject({
      vendor: "apns",
      token,
      status: 200,
      environment: "production",
      endpoint: `${PRODUCTION_URL}${token}`,
    });
    expect(delivery!.request.headers).toMatchObject({
      ":path": `/3/device/${token}`,
      authorization: "bearer <redacted>",
      "apns-collapse-id": "c2c_alice",
    });
    expect(delivery!.request.body).toEqual({ aps: { alert: "hi" } });
    expect(Number.isNaN(Date.parse(delivery!.at))).toBe(false);
  });

  it("answers after the simulated round trip", async () => {
    simulator.setLatency(150);
    try {
      const started = Date.now();
      const response = await request();

      expect(response.headers[":status"]).toBe(200);
      expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    } finally {
      simulator.setLatency(0);
    }
  });

  describe("certificate auth", () => {
    const certificateSession = async (
      issued: Parameters<ApnsSimulator["issueCertificate"]>[0],
      port = simulator.production.port,
    ) => {
      const { credential } = simulator.issueCertificate(issued);
      if (!("p12" in credential)) throw new Error("not a certificate credential");
      return freshSession(
        { pfx: Buffer.from(credential.p12, "base64"), passphrase: credential.passphrase },
        port,
      );
    };
    const noJwt = { authorization: undefined };

    it("accepts a trusted certificate without any JWT, at full stream limit from the start", async () => {
      const session = await certificateSession({ certificateId: 1, bundleId: BUNDLE_ID });
      try {
        const response = await request({ headers: noJwt }, session);

        expect(response.headers[":status"]).toBe(200);
        expect(session.remoteSettings.maxConcurrentStreams).toBe(1000);
      } finally {
        await closeSession(session);
      }
    });

    it.each<{
      name: string;
      issued: Partial<Parameters<ApnsSimulator["issueCertificate"]>[0]>;
      headers: Record<string, string | undefined>;
      status: number;
      reason: string;
    }>([
      {
        name: "a certificate Apple did not issue",
        issued: { untrusted: true },
        headers: {},
        status: 403,
        reason: "BadCertificate",
      },
      {
        name: "a development certificate at the production host",
        issued: { environments: ["sandbox"] },
        headers: {},
        status: 403,
        reason: "BadCertificateEnvironment",
      },
      {
        name: "a topic the certificate does not cover",
        issued: { topics: [BUNDLE_ID] },
        headers: { "apns-topic": "com.example.other" },
        status: 400,
        reason: "TopicDisallowed",
      },
      {
        name: "no topic with a multi-topic certificate",
        issued: {},
        headers: { "apns-topic": undefined },
        status: 400,
        reason: "MissingTopic",
      },
    ])("refuses $name: $status $reason", async ({ issued, headers, status, reason }) => {
      const session = await certificateSession({ certificateId: 1, bundleId: BUNDLE_ID, ...issued });
      try {
        const response = await request({ headers: { ...noJwt, ...headers } }, session);

        expect([response.headers[":status"], JSON.parse(response.body)]).toEqual([status, { reason }]);
      } finally {
        await closeSession(session);
      }
    });

    it("takes the only topic of a single-topic certificate when the request names none", async () => {
      const session = await certificateSession({
        certificateId: 1,
        bundleId: BUNDLE_ID,
        topics: [BUNDLE_ID],
      });
      try {
        const response = await request({ headers: { ...noJwt, "apns-topic": undefined } }, session);

        expect(response.headers[":status"]).toBe(200);
      } finally {
        await closeSession(session);
      }
    });
  });
});
