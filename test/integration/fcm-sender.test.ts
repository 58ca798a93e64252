import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { DeliveryTarget, Notification, OutcomeKind } from "../../lib/model/index.js";
import type { FcmCredential } from "../../lib/vendors/credentials.js";
import { FcmSender } from "../../lib/vendors/fcm.js";
import { type FcmSimulator, generateFcmCredential, startFcmSimulator } from "../../local/simulators/fcm.js";
import { type SimulatedDelivery, SimulatorHub } from "../../local/simulators/hub.js";

const PROJECT = "chatpush-it";

const notification: Notification = {
  title: "Alice",
  body: "Lunch at noon?",
  ext: '{"conversationID":"c2c_alice"}',
  badge: 3,
  conversationId: "c2c_alice",
  messageKey: "144115233406627467_3_1709281815",
  sentAt: Date.UTC(2025, 2, 1, 8, 30),
};

let serial = 0;
/** A fresh FCM-shaped token per call, so each test reads only its own deliveries. */
function target(overrides: Partial<DeliveryTarget> = {}): DeliveryTarget {
  serial += 1;
  return {
    userId: `user-${serial}`,
    deviceId: `device-${serial}`,
    token: `fcm-it-${serial}:APA91bH-abcdefghijklmnopqrstuvwxyz`,
    ...overrides,
  };
}

describe("FcmSender against the FCM simulator", () => {
  const hub = new SimulatorHub();
  let sim: FcmSimulator;
  let credential: FcmCredential;
  /** Same project as `credential`, but its key was never registered with Google. */
  let unknownAccount: FcmCredential;
  /** Its service account belongs to PROJECT, but it sends to another project. */
  let otherProject: FcmCredential;
  let sender: FcmSender;

  const sent = (token: string): SimulatedDelivery[] => hub.list().filter((d) => d.token === token);

  beforeAll(async () => {
    sim = await startFcmSimulator({ hub });
    const main = generateFcmCredential({
      certificateId: 20001,
      projectId: PROJECT,
      androidChannelId: "chat_messages",
      endpointUrl: sim.url,
    });
    credential = main.credential;
    sim.addServiceAccount({
      projectId: PROJECT,
      clientEmail: credential.clientEmail,
      publicKey: main.publicKey,
    });

    unknownAccount = generateFcmCredential({
      certificateId: 20002,
      projectId: PROJECT,
      endpointUrl: sim.url,
    }).credential;

    const other = generateFcmCredential({
      certificateId: 20003,
      projectId: "someone-else",
      endpointUrl: sim.url,
    });
    otherProject = other.credential;
    sim.addServiceAccount({
      projectId: PROJECT,
      clientEmail: otherProject.clientEmail,
      publicKey: other.publicKey,
    });

    sender = new FcmSender({ credentials: [credential, unknownAccount, otherProject] });
  });

  afterAll(async () => {
    await sender.close();
    await sim.close();
  });

  beforeEach(() => {
    hub.clearFaults();
  });

  it("delivers after a real OAuth grant, sending FCM's REST shape field by field", async () => {
    const device = target({ certificateId: 20001, appId: "com.example.chat" });
    const grantsBefore = sim.stats().tokensIssued;

    const [result] = await sender.send(notification, [device]);

    expect(result?.outcome).toEqual({
      kind: "delivered",
      vendorId: expect.stringMatching(new RegExp(`^projects/${PROJECT}/messages/0:`)),
    });
    expect(result?.status).toBe(200);
    expect(result?.target).toBe(device);
    expect(sim.stats().tokensIssued).toBeGreaterThanOrEqual(Math.max(1, grantsBefore));

    const [delivery] = sent(device.token);
    expect(delivery?.status).toBe(200);
    expect(delivery?.request.headers.authorization).toBe("Bearer <redacted>");
    expect(delivery?.request.headers["content-type"]).toMatch(/^application\/json/);
    // firebase-admin converts to snake_case but sends priority as it takes it ("high", not "HIGH"),
    // and the TTL in milliseconds becomes a duration string.
    expect(delivery?.request.body).toEqual({
      message: {
        token: device.token,
        notification: { title: "Alice", body: "Lunch at noon?" },
        data: { ext: '{"conversationID":"c2c_alice"}', conversationID: "c2c_alice" },
        android: {
          priority: "high",
          ttl: "604800s",
          restricted_package_name: "com.example.chat",
          notification: {
            channel_id: "chat_messages",
            tag: "c2c_alice",
            sound: "default",
            notification_count: 3,
          },
        },
      },
    });
  });

  it("fits a long body within FCM's 4096-byte limit, which the simulator enforces", async () => {
    const device = target();

    const [result] = await sender.send({ ...notification, body: "long ".repeat(3000) }, [device]);

    expect(result?.outcome.kind).toBe("delivered");
    const body = sent(device.token)[0]?.request.body as { message: { notification: { body: string } } };
    expect(body.message.notification.body.endsWith("…")).toBe(true);
  });

  const faults: [string, { status: number; retryAfter?: number }, OutcomeKind, string, number | undefined][] =
    [
      ["404 UNREGISTERED", { status: 404 }, "drop-token", "FCM 404 UNREGISTERED", undefined],
      [
        "400 INVALID_ARGUMENT (not the token)",
        { status: 400 },
        "bad-request",
        "FCM 400 INVALID_ARGUMENT",
        undefined,
      ],
      ["403 SENDER_ID_MISMATCH", { status: 403 }, "drop-token", "FCM 403 SENDER_ID_MISMATCH", undefined],
      [
        "429 QUOTA_EXCEEDED with Retry-After",
        { status: 429, retryAfter: 7 },
        "quota",
        "FCM 429 QUOTA_EXCEEDED",
        7,
      ],
      ["429 QUOTA_EXCEEDED without Retry-After", { status: 429 }, "quota", "FCM 429 QUOTA_EXCEEDED", 60],
      ["500 INTERNAL", { status: 500 }, "retry", "FCM 500 INTERNAL", undefined],
      // Over 60 s firebase-admin does not retry itself either.
      [
        "503 UNAVAILABLE with Retry-After",
        { status: 503, retryAfter: 120 },
        "retry",
        "FCM 503 UNAVAILABLE",
        120,
      ],
      [
        "401 THIRD_PARTY_AUTH_ERROR",
        { status: 401 },
        "bad-request",
        "FCM 401 THIRD_PARTY_AUTH_ERROR",
        undefined,
      ],
    ];

  it.each(faults)("maps a %s fault", async (_name, fault, kind, reason, retryAfterSeconds) => {
    const device = target();
    hub.addFault({ vendor: "fcm", token: device.token, count: 1, ...fault });

    const [result] = await sender.send(notification, [device]);

    expect(result?.outcome).toEqual({
      kind,
      reason: expect.stringContaining(reason),
      ...(retryAfterSeconds !== undefined && { retryAfterSeconds }),
    });
    expect(result?.status).toBe(fault.status);
    expect(sent(device.token).map((d) => d.status)).toEqual([fault.status]);
  });

  it("drops a token FCM calls malformed (INVALID_ARGUMENT on message.token)", async () => {
    const device = target({ token: "not a token!" });

    const [result] = await sender.send(notification, [device]);

    expect(result?.outcome).toEqual({
      kind: "drop-token",
      reason: "FCM 400 INVALID_ARGUMENT The registration token is not a valid FCM registration token",
    });
  });

  it("waits for firebase-admin's immediate retry of a 503", async () => {
    const device = target();
    hub.addFault({ vendor: "fcm", token: device.token, status: 503, count: 1 });

    const [result] = await sender.send(notification, [device]);

    expect(result?.outcome.kind).toBe("delivered");
    expect(sent(device.token).map((d) => d.status)).toEqual([503, 200]);
  });

  it("answers retry at once instead of sleeping in firebase-admin's backoff", async () => {
    const device = target();
    hub.addFault({ vendor: "fcm", token: device.token, status: 503, count: 2 });

    const started = Date.now();
    const [result] = await sender.send(notification, [device]);

    expect(Date.now() - started).toBeLessThan(900);
    expect(result?.outcome).toEqual({
      kind: "retry",
      reason: expect.stringContaining("FCM 503 UNAVAILABLE"),
    });
    expect(sent(device.token).map((d) => d.status)).toEqual([503, 503]);
    // What the sender cannot stop: firebase-admin's own retry, 1 s later, in the background.
    await sleep(1_500);
    expect(sent(device.token).map((d) => d.status)).toEqual([503, 503, 200]);
  });

  it("waits out a slow success", async () => {
    const device = target();
    hub.addFault({ vendor: "fcm", token: device.token, status: 200, delayMs: 300, count: 1 });

    const started = Date.now();
    const [result] = await sender.send(notification, [device]);

    expect(result?.outcome.kind).toBe("delivered");
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });

  it("fetches a new access token once when FCM refuses the cached one, and delivers", async () => {
    await sender.send(notification, [target()]);
    const grantsBefore = sim.stats().tokensIssued;
    sim.expireAccessTokens();
    const devices = Array.from({ length: 20 }, () => target());

    const results = await sender.send(notification, devices);

    expect(results.map((r) => r.outcome.kind)).toEqual(devices.map(() => "delivered"));
    // Twenty refusals of the same token, one new grant.
    expect(sim.stats().tokensIssued).toBe(grantsBefore + 1);
    for (const device of devices) expect(sent(device.token).map((d) => d.status)).toEqual([401, 200]);
  });

  it("fails only the dead token among several, results in target order", async () => {
    const devices = [target(), target(), target()];
    hub.addFault({ vendor: "fcm", token: devices[1]!.token, status: 404, count: 1 });

    const results = await sender.send(notification, devices);

    expect(results.map((r) => r.target)).toEqual(devices);
    expect(results.map((r) => r.outcome.kind)).toEqual(["delivered", "drop-token", "delivered"]);
  });

  it("answers bad-request for an unknown certificateId without sending", async () => {
    const device = target({ certificateId: 99999 });

    const [result] = await sender.send(notification, [device]);

    expect(result?.outcome).toEqual({
      kind: "bad-request",
      reason: "FCM no credential for certificateId 99999",
    });
    expect(sent(device.token)).toEqual([]);
  });

  it("asks for a credential refresh when Google refuses the service account's grant", async () => {
    const device = target({ certificateId: unknownAccount.certificateId });

    const [result] = await sender.send(notification, [device]);

    expect(result?.outcome.kind).toBe("refresh-credential");
    expect(result?.outcome).toHaveProperty("reason", expect.stringContaining("app/invalid-credential"));
    expect(sent(device.token)).toEqual([]);
  });

  it("keeps the token when the project refuses the sender (PERMISSION_DENIED is config)", async () => {
    const device = target({ certificateId: otherProject.certificateId });

    const [result] = await sender.send(notification, [device]);

    expect(result?.outcome.kind).toBe("bad-request");
    expect(result?.outcome).toHaveProperty("reason", expect.stringContaining("FCM 403 PERMISSION_DENIED"));
  });

  it("delivers 300 targets in one call, and a second call reuses the connections", async () => {
    const fresh = new FcmSender({ credentials: [credential] });
    try {
      const before = sim.stats().connections;
      const first = Array.from({ length: 300 }, () => target());

      const firstResults = await fresh.send(notification, first);
      const afterFirst = sim.stats().connections;
      const secondResults = await fresh.send(
        notification,
        Array.from({ length: 300 }, () => target()),
      );

      expect(firstResults.map((r) => r.target)).toEqual(first);
      expect([...firstResults, ...secondResults].every((r) => r.outcome.kind === "delivered")).toBe(true);
      // At most one socket per send in flight (100) plus the token grant's.
      expect(afterFirst - before).toBeGreaterThan(0);
      expect(afterFirst - before).toBeLessThanOrEqual(101);
      expect(sim.stats().connections).toBe(afterFirst);
    } finally {
      await fresh.close();
    }
  });
});
