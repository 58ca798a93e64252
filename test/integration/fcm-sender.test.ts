import { connect } from "node:http2";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { DeliveryTarget, Notification, OutcomeKind } from "../../lib/model/index.js";
import type { FcmCredential } from "../../lib/vendors/credentials.js";
import { FcmSender } from "../../lib/vendors/fcm.js";
import { type FcmSimulator, generateFcmCredential, startFcmSimulator } from "../../local/simulators/fcm.js";
import { type SimulatedDelivery, SimulatorHub } from "../../local/simulators/hub.js";

const PROJECT = "chatpush-it";
const SEND_URL = `https://fcm.googleapis.com/v1/projects/${PROJECT}/messages:send`;

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
    const endpoint = { url: sim.url, ca: sim.ca };
    const main = generateFcmCredential({
      certificateId: 20001,
      projectId: PROJECT,
      androidChannelId: "chat_messages",
      endpoint,
    });
    credential = main.credential;
    sim.addServiceAccount({
      projectId: PROJECT,
      clientEmail: credential.clientEmail,
      publicKey: main.publicKey,
    });

    unknownAccount = generateFcmCredential({ certificateId: 20002, projectId: PROJECT, endpoint }).credential;

    const other = generateFcmCredential({ certificateId: 20003, projectId: "someone-else", endpoint });
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

  it("delivers over HTTP/2 after a real OAuth grant, in FCM's REST shape, addressed to FCM's real URL", async () => {
    const device = target({ certificateId: 20001, appId: "com.example.chat", badge: 5 });
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
    expect(delivery?.endpoint).toBe(SEND_URL);
    expect(delivery?.request.headers).toMatchObject({
      ":method": "POST",
      ":path": `/v1/projects/${PROJECT}/messages:send`,
      authorization: "Bearer <redacted>",
      "x-chatpush-vendor-url": SEND_URL,
    });
    expect(delivery?.request.headers["content-type"]).toMatch(/^application\/json/);
    expect(delivery?.request.body).toEqual({
      message: {
        token: device.token,
        notification: { title: "Alice", body: "Lunch at noon?" },
        data: { ext: '{"conversationID":"c2c_alice"}', conversationID: "c2c_alice" },
        android: {
          priority: "HIGH",
          ttl: "604800s",
          restricted_package_name: "com.example.chat",
          notification: {
            channel_id: "chat_messages",
            tag: "144115233406627467_3_1709281815",
            sound: "default",
            notification_priority: "PRIORITY_HIGH",
            notification_count: 5,
          },
        },
      },
    });
  });

  it("gets a quiet replacement and a call's data message accepted by FCM's checks", async () => {
    const quiet = target();
    const ring = target();

    const [replaced] = await sender.send({ ...notification, quiet: true, collapseKey: "m1" }, [quiet]);
    const [rang] = await sender.send(
      {
        ...notification,
        purpose: "call",
        call: {
          action: "ring",
          inviteId: "inv-1",
          callerId: "alice",
          callerName: "Alice",
          media: "audio",
          invitees: ["bob"],
          timeoutSeconds: 30,
          invitedAt: Date.now(),
        },
      },
      [ring],
    );

    expect([replaced?.outcome.kind, rang?.outcome.kind]).toEqual(["delivered", "delivered"]);
    const body = sent(ring.token)[0]?.request.body as { message: Record<string, unknown> };
    expect(body.message).not.toHaveProperty("notification");
    expect(body.message.android).toMatchObject({ priority: "HIGH", ttl: "30s" });
  });

  it("keeps a body the payload rule allows though its request JSON passes 4096 bytes", async () => {
    const device = target();
    const body = '"'.repeat(3600);

    const [result] = await sender.send({ ...notification, body }, [device]);

    expect(result?.outcome.kind).toBe("delivered");
    const recorded = sent(device.token)[0]?.request.body as { message: { notification: { body: string } } };
    expect(recorded.message.notification.body).toBe(body);
  });

  it("cuts a long body to fit, and FCM refuses what does not fit (an oversized ext)", async () => {
    const long = target();
    const oversized = target();

    const [cut] = await sender.send({ ...notification, body: "long ".repeat(3000) }, [long]);
    const [refused] = await sender.send({ ...notification, ext: JSON.stringify({ p: "p".repeat(4100) }) }, [
      oversized,
    ]);

    expect(cut?.outcome.kind).toBe("delivered");
    const body = sent(long.token)[0]?.request.body as { message: { notification: { body: string } } };
    expect(body.message.notification.body.endsWith("…")).toBe(true);
    expect(refused?.outcome).toEqual({
      kind: "bad-request",
      reason: "FCM 400 INVALID_ARGUMENT Request contains an invalid argument.",
    });
  });

  const faults: [
    string,
    { status: number; reason?: string; retryAfter?: number },
    OutcomeKind,
    string,
    number?,
  ][] = [
    ["404 UNREGISTERED", { status: 404 }, "drop-token", "FCM 404 UNREGISTERED"],
    [
      "400 with the invalid-token message",
      { status: 400, reason: "INVALID_REGISTRATION" },
      "drop-token",
      "FCM 400 INVALID_ARGUMENT The registration token is not a valid FCM registration token",
    ],
    ["400 INVALID_ARGUMENT (not the token)", { status: 400 }, "bad-request", "FCM 400 INVALID_ARGUMENT"],
    [
      "SENDER_ID_MISMATCH",
      { status: 403, reason: "SENDER_ID_MISMATCH" },
      "credential-problem",
      "FCM 403 SENDER_ID_MISMATCH",
    ],
    [
      "PERMISSION_DENIED",
      { status: 403, reason: "PERMISSION_DENIED" },
      "credential-problem",
      "FCM 403 PERMISSION_DENIED Permission 'cloudmessaging.messages.create' denied",
    ],
    [
      "NOT_FOUND about the project",
      { status: 404, reason: "NOT_FOUND" },
      "credential-problem",
      "FCM 404 NOT_FOUND Requested entity was not found.",
    ],
    [
      "THIRD_PARTY_AUTH_ERROR",
      { status: 401, reason: "THIRD_PARTY_AUTH_ERROR" },
      "credential-problem",
      "FCM 401 THIRD_PARTY_AUTH_ERROR",
    ],
    [
      "429 QUOTA_EXCEEDED with Retry-After",
      { status: 429, retryAfter: 7 },
      "quota",
      "FCM 429 QUOTA_EXCEEDED",
      7,
    ],
    ["429 QUOTA_EXCEEDED without Retry-After", { status: 429 }, "quota", "FCM 429 QUOTA_EXCEEDED", 60],
    ["500 INTERNAL", { status: 500 }, "retry", "FCM 500 INTERNAL"],
    [
      "503 UNAVAILABLE with Retry-After",
      { status: 503, retryAfter: 120 },
      "retry",
      "FCM 503 UNAVAILABLE",
      120,
    ],
  ];

  it.each(faults)("maps a %s fault, after exactly one request", async (_name, fault, kind, reason, after) => {
    const device = target();
    hub.addFault({ vendor: "fcm", token: device.token, count: 1, ...fault });

    const [result] = await sender.send(notification, [device]);

    expect(result?.outcome).toEqual({
      kind,
      reason: expect.stringContaining(reason),
      ...(after !== undefined && { retryAfterSeconds: after }),
    });
    expect(result?.status).toBe(fault.status);
    expect(sent(device.token).map((d) => d.status)).toEqual([fault.status]);
  });

  it("drops a token FCM calls malformed", async () => {
    const device = target({ token: "not a token!" });

    const [result] = await sender.send(notification, [device]);

    expect(result?.outcome).toEqual({
      kind: "drop-token",
      reason: "FCM 400 INVALID_ARGUMENT The registration token is not a valid FCM registration token",
    });
  });

  it("sends a 503 with Retry-After exactly once and answers retry with it: no copy behind the worker's back", async () => {
    const device = target();
    hub.addFault({ vendor: "fcm", token: device.token, status: 503, retryAfter: 2, count: 1 });

    const [result] = await sender.send(notification, [device]);

    expect(result?.outcome).toEqual({
      kind: "retry",
      reason: expect.stringContaining("FCM 503 UNAVAILABLE"),
      retryAfterSeconds: 2,
    });
    expect(sent(device.token).map((d) => d.status)).toEqual([503]);
    // firebase-admin's own retry would have sent it again after the Retry-After.
    await sleep(2_500);
    expect(sent(device.token).map((d) => d.status)).toEqual([503]);
  });

  it("answers a 503 without Retry-After at once, with one request", async () => {
    const device = target();
    hub.addFault({ vendor: "fcm", token: device.token, status: 503, count: 1 });

    const [result] = await sender.send(notification, [device]);

    expect(result?.outcome).toEqual({
      kind: "retry",
      reason: expect.stringContaining("FCM 503 UNAVAILABLE"),
    });
    expect(sent(device.token).map((d) => d.status)).toEqual([503]);
  });

  it("waits out a slow success", async () => {
    const device = target();
    hub.addFault({ vendor: "fcm", token: device.token, status: 200, delayMs: 300, count: 1 });

    const started = Date.now();
    const [result] = await sender.send(notification, [device]);

    expect(result?.outcome.kind).toBe("delivered");
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });

  it("marks the refused request refused when another message to the same phone overtakes it", async () => {
    // Two messages to one phone in flight at once (a bundle's jobs do that): the first is refused
    // slowly, the second is accepted while it waits. The fault suites count a delivery as accepted
    // by its status and fault mark, so the mark must stay with the request that took the fault.
    const device = target();
    hub.addFault({ vendor: "fcm", token: device.token, status: 503, delayMs: 300, count: 1 });

    const slow = sender.send(notification, [device]);
    await sleep(50);
    const [fast] = await sender.send({ ...notification, messageKey: "144115233406627467_4_1709281816" }, [
      device,
    ]);
    const [refused] = await slow;

    expect(fast?.outcome.kind).toBe("delivered");
    expect(refused?.outcome.kind).toBe("retry");
    expect(sent(device.token).map((d) => [d.status, d.fault?.status])).toEqual([
      [200, undefined],
      [503, 503],
    ]);
  });

  it("answers retry when FCM does not answer within the request timeout", async () => {
    const impatient = new FcmSender({ credentials: [credential], requestTimeoutMs: 200 });
    try {
      const device = target();
      await impatient.send(notification, [target()]);
      hub.addFault({ vendor: "fcm", token: device.token, status: 200, delayMs: 1_000, count: 1 });

      const [result] = await impatient.send(notification, [device]);

      expect(result?.outcome).toEqual({ kind: "retry", reason: expect.stringContaining("FCM ETIMEDOUT") });
    } finally {
      await impatient.close();
    }
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

  it("calls an unknown certificateId a credential problem, without sending", async () => {
    const device = target({ certificateId: 99999 });

    const [result] = await sender.send(notification, [device]);

    expect(result?.outcome).toEqual({
      kind: "credential-problem",
      reason: "FCM no credential for certificateId 99999",
    });
    expect(sent(device.token)).toEqual([]);
  });

  it("calls a service account Google refuses a credential problem, without sending", async () => {
    const device = target({ certificateId: unknownAccount.certificateId });

    const [result] = await sender.send(notification, [device]);

    expect(result?.outcome).toEqual({
      kind: "credential-problem",
      reason: expect.stringContaining("invalid_grant"),
    });
    expect(sent(device.token)).toEqual([]);
  });

  it("keeps the token when the project refuses the sender (PERMISSION_DENIED is config)", async () => {
    const device = target({ certificateId: otherProject.certificateId });

    const [result] = await sender.send(notification, [device]);

    expect(result?.outcome.kind).toBe("credential-problem");
    expect(result?.outcome).toHaveProperty("reason", expect.stringContaining("FCM 403 PERMISSION_DENIED"));
  });

  it("keeps 1,000 targets in flight over a few sessions, never past the server's 100 streams, and reuses them", async () => {
    const fresh = new FcmSender({ credentials: [credential], sessions: 4 });
    try {
      const before = sim.stats().connections;
      const first = Array.from({ length: 1000 }, () => target());

      const firstResults = await fresh.send(notification, first);
      const afterFirst = sim.stats().connections;
      const secondResults = await fresh.send(
        notification,
        Array.from({ length: 1000 }, () => target()),
      );

      expect(firstResults.map((r) => r.target)).toEqual(first);
      expect([...firstResults, ...secondResults].every((r) => r.outcome.kind === "delivered")).toBe(true);
      // Four HTTP/2 sessions plus the token grant's HTTPS connection, kept for the second call.
      expect(fresh.sessionsOpened()).toBe(4);
      expect(afterFirst - before).toBeLessThanOrEqual(5);
      expect(sim.stats().connections).toBe(afterFirst);
      expect(sim.stats().peakStreamsPerSession).toBeLessThanOrEqual(100);
    } finally {
      await fresh.close();
    }
  });
});

describe("the FCM simulator's error bodies", () => {
  const hub = new SimulatorHub();
  let sim: FcmSimulator;
  let accessToken: string;

  beforeAll(async () => {
    sim = await startFcmSimulator({ hub });
    const { credential, publicKey } = generateFcmCredential({ certificateId: 1, projectId: PROJECT });
    sim.addServiceAccount({ projectId: PROJECT, clientEmail: credential.clientEmail, publicKey });
    const { ServiceAccountCredential } = await import("../../lib/vendors/fcm-auth.js");
    const grant = await new ServiceAccountCredential({
      ...credential,
      endpoint: { url: sim.url, ca: sim.ca },
    }).getAccessToken();
    accessToken = grant.access_token;
  });
  afterAll(() => sim.close());

  interface GoogleErrorBody {
    error: {
      code: number;
      status: string;
      message: string;
      details?: { "@type": string; errorCode?: string; fieldViolations?: { field: string }[] }[];
    };
  }

  /** One raw messages:send over node's own HTTP/2 client. */
  async function post(
    message: unknown,
    request: Record<string, unknown> = { message },
  ): Promise<{ status: number; body: GoogleErrorBody }> {
    const session = connect(sim.url, { ca: sim.ca });
    try {
      return await new Promise((resolve, reject) => {
        const stream = session.request({
          ":method": "POST",
          ":path": `/v1/projects/${PROJECT}/messages:send`,
          authorization: `Bearer ${accessToken}`,
          "content-type": "application/json",
        });
        let status = 0;
        const chunks: Buffer[] = [];
        stream.on("response", (headers) => {
          status = Number(headers[":status"]);
        });
        stream.on("data", (chunk: Buffer) => chunks.push(chunk));
        stream.on("end", () => resolve({ status, body: JSON.parse(Buffer.concat(chunks).toString()) }));
        stream.on("error", reject);
        stream.end(JSON.stringify(request));
      });
    } finally {
      session.close();
    }
  }

  const message = (token: string, extra: Record<string, unknown> = {}) => ({
    token,
    notification: { title: "t", body: "b" },
    ...extra,
  });
  const FCM_ERROR = "type.googleapis.com/google.firebase.fcm.v1.FcmError";

  it("answers SENDER_ID_MISMATCH with 403 and FCM's detail, PERMISSION_DENIED and NOT_FOUND without it", async () => {
    hub.addFault({ vendor: "fcm", token: "a", status: 500, reason: "SENDER_ID_MISMATCH", count: 1 });
    hub.addFault({ vendor: "fcm", token: "b", status: 403, reason: "PERMISSION_DENIED", count: 1 });
    hub.addFault({ vendor: "fcm", token: "c", status: 404, reason: "NOT_FOUND", count: 1 });

    const mismatch = await post(message("a"));
    const denied = await post(message("b"));
    const notFound = await post(message("c"));

    expect(mismatch.status).toBe(403);
    expect(mismatch.body.error).toMatchObject({
      code: 403,
      status: "PERMISSION_DENIED",
      details: [{ "@type": FCM_ERROR, errorCode: "SENDER_ID_MISMATCH" }],
    });
    expect(denied.status).toBe(403);
    expect(denied.body.error).not.toHaveProperty("details");
    expect(denied.body.error.message).toContain(`projects/${PROJECT}`);
    expect(notFound.status).toBe(404);
    expect(notFound.body.error).toEqual({
      code: 404,
      status: "NOT_FOUND",
      message: "Requested entity was not found.",
    });
  });

  it("counts keys and values against 4096 bytes, not the request JSON", async () => {
    const escaped = await post(message("d", { data: { quotes: '"'.repeat(4000) } }));
    const tooBig = await post(message("e", { data: { text: "x".repeat(4100) } }));

    expect(escaped.status).toBe(200);
    expect(tooBig.status).toBe(400);
    expect(tooBig.body.error).toEqual({
      code: 400,
      status: "INVALID_ARGUMENT",
      message: "Request contains an invalid argument.",
    });
  });

  it("refuses data keys FCM keeps for itself", async () => {
    const answer = await post(message("f", { data: { "google.sent_time": "1" } }));

    expect(answer.status).toBe(400);
    expect(answer.body.error.details?.[0]?.fieldViolations?.[0]?.field).toBe("message.data[0].key");
  });

  it("checks a validate_only request like a send and delivers it to nobody", async () => {
    const before = hub.total();

    const topic = await post(undefined, { validate_only: true, message: { topic: "chatpush-doctor" } });
    const badToken = await post(undefined, { validate_only: true, message: message("not a token!") });

    expect(topic.status).toBe(200);
    expect((topic.body as unknown as { name: string }).name).toMatch(
      new RegExp(`^projects/${PROJECT}/messages/`),
    );
    expect([badToken.status, badToken.body.error.status]).toEqual([400, "INVALID_ARGUMENT"]);
    expect(hub.total()).toBe(before);
  });

  it("records each send with the real FCM URL as its endpoint", async () => {
    await post(message("g"));

    expect(hub.list().find((d) => d.token === "g")?.endpoint).toBe(SEND_URL);
  });
});
