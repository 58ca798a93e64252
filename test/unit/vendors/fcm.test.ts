import type { TokenMessage } from "firebase-admin/messaging";
import { describe, expect, it } from "vitest";
import type { DeliveryTarget, Notification, Outcome } from "../../../lib/model/index.js";
import type { FcmCredential } from "../../../lib/vendors/credentials.js";
import { buildFcmMessage, FCM_MESSAGE_LIMIT_BYTES, FCM_TTL_MS } from "../../../lib/vendors/fcm.js";
import { classifyFcm, QUOTA_BACKOFF_SECONDS } from "../../../lib/vendors/fcm-outcomes.js";

const credential: FcmCredential = {
  certificateId: 20001,
  projectId: "chatpush-test",
  clientEmail: "sender@chatpush-test.iam.gserviceaccount.com",
  privateKey: "not used by the builder",
  androidChannelId: "chat_messages",
};

const target: DeliveryTarget = {
  userId: "bob",
  deviceId: "pixel-8",
  token: "fcm-token:APA91bH-abcdefghijklmnopqrstuvwxyz0123456789",
  certificateId: 20001,
  appId: "com.example.chat",
};

function notification(overrides: Partial<Notification> = {}): Notification {
  return {
    title: "Alice",
    body: "Lunch at noon?",
    ext: '{"conversationID":"c2c_alice"}',
    badge: 3,
    conversationId: "c2c_alice",
    messageKey: "144115233406627467_3_1709281815",
    sentAt: Date.UTC(2025, 2, 1, 8, 30),
    ...overrides,
  };
}

const bytes = (message: TokenMessage) => Buffer.byteLength(JSON.stringify(message));
const isWellFormed = (text: string) => Buffer.from(text, "utf8").toString("utf8") === text;

describe("buildFcmMessage", () => {
  it("addresses the device token with the notification's title and body", () => {
    const message = buildFcmMessage(notification(), target, credential);

    expect(message.token).toBe(target.token);
    expect(message.notification).toEqual({ title: "Alice", body: "Lunch at noon?" });
  });

  it("carries ext and the conversation in data, every value a string", () => {
    const message = buildFcmMessage(notification(), target, credential);

    expect(message.data).toEqual({ ext: '{"conversationID":"c2c_alice"}', conversationID: "c2c_alice" });
    for (const value of Object.values(message.data ?? {})) expect(typeof value).toBe("string");
  });

  it("sends at high priority, non-collapsible, kept 7 days, only to the registered app", () => {
    const { android } = buildFcmMessage(notification(), target, credential);

    expect(android?.priority).toBe("high");
    expect(android).not.toHaveProperty("collapseKey");
    expect(android?.ttl).toBe(7 * 24 * 60 * 60 * 1000);
    expect(FCM_TTL_MS).toBe(604_800_000);
    expect(android?.restrictedPackageName).toBe("com.example.chat");
  });

  it("shows the notification on the credential's channel, tagged with the conversation, with the badge", () => {
    const { android } = buildFcmMessage(notification({ android: { sound: "ding.mp3" } }), target, credential);

    expect(android?.notification).toEqual({
      channelId: "chat_messages",
      tag: "c2c_alice",
      sound: "ding.mp3",
      notificationCount: 3,
    });
  });

  it("plays the default sound when the notification names none", () => {
    const { android } = buildFcmMessage(notification({ android: undefined }), target, credential);

    expect(android?.notification?.sound).toBe("default");
  });

  it("leaves out channel, badge and package restriction when they are not set", () => {
    const { androidChannelId: _, ...noChannel } = credential;
    const { appId: __, ...noApp } = target;

    const { android } = buildFcmMessage(notification({ badge: undefined }), noApp, noChannel);

    expect(android).not.toHaveProperty("restrictedPackageName");
    expect(android?.notification).not.toHaveProperty("channelId");
    expect(android?.notification).not.toHaveProperty("notificationCount");
  });

  it("keeps a badge of 0, which clears the count", () => {
    const { android } = buildFcmMessage(notification({ badge: 0 }), target, credential);

    expect(android?.notification?.notificationCount).toBe(0);
  });

  it("leaves title and body alone when the message fits", () => {
    const body = "x".repeat(3000);

    const message = buildFcmMessage(notification({ body }), target, credential);

    expect(message.notification?.body).toBe(body);
  });
});

describe("buildFcmMessage trimming", () => {
  it("cuts a long body to fit 4096 bytes with room to spare, ending in …", () => {
    const message = buildFcmMessage(notification({ body: "a".repeat(10_000) }), target, credential);

    expect(bytes(message)).toBeLessThanOrEqual(FCM_MESSAGE_LIMIT_BYTES - 32);
    expect(bytes(message)).toBeGreaterThan(FCM_MESSAGE_LIMIT_BYTES - 64);
    expect(message.notification?.body).toMatch(/^a+…$/);
    expect(message.notification?.title).toBe("Alice");
  });

  it("never splits a surrogate pair of an emoji", () => {
    const message = buildFcmMessage(notification({ body: "😀".repeat(3000) }), target, credential);

    const body = message.notification?.body ?? "";
    expect(isWellFormed(body)).toBe(true);
    expect(body).toMatch(/^(😀)+…$/u);
    expect(bytes(message)).toBeLessThanOrEqual(FCM_MESSAGE_LIMIT_BYTES);
  });

  it("counts JSON escapes: a body of quotes and newlines still fits", () => {
    const message = buildFcmMessage(notification({ body: '"\n'.repeat(3000) }), target, credential);

    expect(bytes(message)).toBeLessThanOrEqual(FCM_MESSAGE_LIMIT_BYTES);
    expect(message.notification?.body?.endsWith("…")).toBe(true);
  });

  it("splits the room between a long title and a long body", () => {
    const message = buildFcmMessage(
      notification({ title: "T".repeat(5000), body: "B".repeat(5000) }),
      target,
      credential,
    );

    const { title = "", body = "" } = message.notification ?? {};
    expect(bytes(message)).toBeLessThanOrEqual(FCM_MESSAGE_LIMIT_BYTES);
    expect(title).toMatch(/^T+…$/);
    expect(body).toMatch(/^B+…$/);
    expect(Math.abs(title.length - body.length)).toBeLessThan(10);
  });

  it("gives a long title the room a short body leaves", () => {
    const message = buildFcmMessage(
      notification({ title: "中".repeat(3000), body: "ok" }),
      target,
      credential,
    );

    expect(message.notification?.body).toBe("ok");
    expect(message.notification?.title).toMatch(/^中+…$/);
    expect(bytes(message)).toBeLessThanOrEqual(FCM_MESSAGE_LIMIT_BYTES);
    expect(bytes(message)).toBeGreaterThan(FCM_MESSAGE_LIMIT_BYTES - 64);
  });

  it("never trims ext: the click handler parses it", () => {
    const ext = JSON.stringify({ conversationID: "c2c_alice", padding: "p".repeat(2000) });

    const message = buildFcmMessage(notification({ ext, body: "b".repeat(5000) }), target, credential);

    expect(message.data?.ext).toBe(ext);
    expect(bytes(message)).toBeLessThanOrEqual(FCM_MESSAGE_LIMIT_BYTES);
  });
});

describe("classifyFcm", () => {
  type Input = Parameters<typeof classifyFcm>[0];
  const cases: [string, Input, Outcome][] = [
    // FCM errorCodes (vendors.md §2 "Errors")
    [
      "UNREGISTERED",
      { httpStatus: 404, errorCode: "UNREGISTERED", message: "Requested entity was not found." },
      { kind: "drop-token", reason: "FCM 404 UNREGISTERED Requested entity was not found." },
    ],
    [
      "INVALID_ARGUMENT naming the token",
      {
        httpStatus: 400,
        errorCode: "INVALID_ARGUMENT",
        message: "The registration token is not a valid FCM registration token",
      },
      {
        kind: "drop-token",
        reason: "FCM 400 INVALID_ARGUMENT The registration token is not a valid FCM registration token",
      },
    ],
    [
      "INVALID_ARGUMENT on message.token",
      {
        httpStatus: 400,
        errorCode: "INVALID_ARGUMENT",
        message: "Invalid value at 'message.token' (TYPE_STRING)",
      },
      {
        kind: "drop-token",
        reason: "FCM 400 INVALID_ARGUMENT Invalid value at 'message.token' (TYPE_STRING)",
      },
    ],
    [
      "INVALID_ARGUMENT on another field",
      { httpStatus: 400, errorCode: "INVALID_ARGUMENT", message: "Invalid value at 'message.android.ttl'" },
      { kind: "bad-request", reason: "FCM 400 INVALID_ARGUMENT Invalid value at 'message.android.ttl'" },
    ],
    [
      "INVALID_ARGUMENT without a message",
      { httpStatus: 400, errorCode: "INVALID_ARGUMENT" },
      { kind: "bad-request", reason: "FCM 400 INVALID_ARGUMENT" },
    ],
    [
      "SENDER_ID_MISMATCH",
      { httpStatus: 403, errorCode: "SENDER_ID_MISMATCH" },
      { kind: "drop-token", reason: "FCM 403 SENDER_ID_MISMATCH" },
    ],
    [
      "QUOTA_EXCEEDED with Retry-After",
      { httpStatus: 429, errorCode: "QUOTA_EXCEEDED", retryAfterSeconds: 17 },
      { kind: "quota", reason: "FCM 429 QUOTA_EXCEEDED", retryAfterSeconds: 17 },
    ],
    [
      "QUOTA_EXCEEDED without Retry-After",
      { httpStatus: 429, errorCode: "QUOTA_EXCEEDED" },
      { kind: "quota", reason: "FCM 429 QUOTA_EXCEEDED", retryAfterSeconds: QUOTA_BACKOFF_SECONDS },
    ],
    [
      "UNAVAILABLE with Retry-After",
      { httpStatus: 503, errorCode: "UNAVAILABLE", retryAfterSeconds: 30 },
      { kind: "retry", reason: "FCM 503 UNAVAILABLE", retryAfterSeconds: 30 },
    ],
    [
      "UNAVAILABLE without Retry-After",
      { httpStatus: 503, errorCode: "UNAVAILABLE" },
      { kind: "retry", reason: "FCM 503 UNAVAILABLE" },
    ],
    ["INTERNAL", { httpStatus: 500, errorCode: "INTERNAL" }, { kind: "retry", reason: "FCM 500 INTERNAL" }],
    [
      "UNSPECIFIED_ERROR",
      { errorCode: "UNSPECIFIED_ERROR" },
      { kind: "retry", reason: "FCM UNSPECIFIED_ERROR" },
    ],
    [
      "THIRD_PARTY_AUTH_ERROR",
      { httpStatus: 401, errorCode: "THIRD_PARTY_AUTH_ERROR" },
      { kind: "bad-request", reason: "FCM 401 THIRD_PARTY_AUTH_ERROR" },
    ],
    [
      "APNS_AUTH_ERROR",
      { httpStatus: 401, errorCode: "APNS_AUTH_ERROR" },
      { kind: "bad-request", reason: "FCM 401 APNS_AUTH_ERROR" },
    ],
    // Google RPC statuses with no FcmError detail
    [
      "UNAUTHENTICATED (access token refused)",
      { httpStatus: 401, errorCode: "UNAUTHENTICATED" },
      { kind: "refresh-credential", reason: "FCM 401 UNAUTHENTICATED" },
    ],
    ["401 without detail", { httpStatus: 401 }, { kind: "refresh-credential", reason: "FCM 401" }],
    [
      "PERMISSION_DENIED (no FCM permission on the project: config, not the token)",
      { httpStatus: 403, errorCode: "PERMISSION_DENIED" },
      { kind: "bad-request", reason: "FCM 403 PERMISSION_DENIED" },
    ],
    [
      "NOT_FOUND without UNREGISTERED (a wrong project id)",
      { httpStatus: 404, errorCode: "NOT_FOUND" },
      { kind: "bad-request", reason: "FCM 404 NOT_FOUND" },
    ],
    [
      "RESOURCE_EXHAUSTED",
      { httpStatus: 429, errorCode: "RESOURCE_EXHAUSTED" },
      { kind: "quota", reason: "FCM 429 RESOURCE_EXHAUSTED", retryAfterSeconds: QUOTA_BACKOFF_SECONDS },
    ],
    // firebase-admin codes
    [
      "messaging/registration-token-not-registered",
      { errorCode: "messaging/registration-token-not-registered" },
      { kind: "drop-token", reason: "FCM messaging/registration-token-not-registered" },
    ],
    [
      "messaging/invalid-registration-token",
      { errorCode: "messaging/invalid-registration-token" },
      { kind: "drop-token", reason: "FCM messaging/invalid-registration-token" },
    ],
    [
      "messaging/mismatched-credential",
      { errorCode: "messaging/mismatched-credential" },
      { kind: "drop-token", reason: "FCM messaging/mismatched-credential" },
    ],
    [
      "messaging/invalid-argument naming the token",
      {
        errorCode: "messaging/invalid-argument",
        message: "The registration token is not a valid FCM registration token",
      },
      {
        kind: "drop-token",
        reason: "FCM messaging/invalid-argument The registration token is not a valid FCM registration token",
      },
    ],
    [
      "messaging/invalid-argument on another field",
      { errorCode: "messaging/invalid-argument", message: "Request contains an invalid argument." },
      { kind: "bad-request", reason: "FCM messaging/invalid-argument Request contains an invalid argument." },
    ],
    [
      "messaging/invalid-payload (client-side validation)",
      { errorCode: "messaging/invalid-payload" },
      { kind: "bad-request", reason: "FCM messaging/invalid-payload" },
    ],
    [
      "messaging/payload-size-limit-exceeded",
      { errorCode: "messaging/payload-size-limit-exceeded" },
      { kind: "bad-request", reason: "FCM messaging/payload-size-limit-exceeded" },
    ],
    [
      "messaging/message-rate-exceeded",
      { errorCode: "messaging/message-rate-exceeded" },
      {
        kind: "quota",
        reason: "FCM messaging/message-rate-exceeded",
        retryAfterSeconds: QUOTA_BACKOFF_SECONDS,
      },
    ],
    [
      "messaging/device-message-rate-exceeded",
      { errorCode: "messaging/device-message-rate-exceeded", retryAfterSeconds: 5 },
      { kind: "quota", reason: "FCM messaging/device-message-rate-exceeded", retryAfterSeconds: 5 },
    ],
    [
      "messaging/server-unavailable",
      { errorCode: "messaging/server-unavailable" },
      { kind: "retry", reason: "FCM messaging/server-unavailable" },
    ],
    [
      "messaging/internal-error",
      { errorCode: "messaging/internal-error" },
      { kind: "retry", reason: "FCM messaging/internal-error" },
    ],
    [
      "messaging/unknown-error",
      { errorCode: "messaging/unknown-error" },
      { kind: "retry", reason: "FCM messaging/unknown-error" },
    ],
    [
      "messaging/third-party-auth-error",
      { errorCode: "messaging/third-party-auth-error" },
      { kind: "bad-request", reason: "FCM messaging/third-party-auth-error" },
    ],
    [
      "messaging/authentication-error (non-JSON 401)",
      { errorCode: "messaging/authentication-error" },
      { kind: "refresh-credential", reason: "FCM messaging/authentication-error" },
    ],
    [
      "app/invalid-credential (token fetch failed)",
      { errorCode: "app/invalid-credential" },
      { kind: "refresh-credential", reason: "FCM app/invalid-credential" },
    ],
    // Network
    [
      "app/network-error",
      { errorCode: "app/network-error" },
      { kind: "retry", reason: "FCM app/network-error" },
    ],
    [
      "app/network-timeout",
      { errorCode: "app/network-timeout" },
      { kind: "retry", reason: "FCM app/network-timeout" },
    ],
    [
      "ECONNRESET",
      { errorCode: "ECONNRESET", message: "socket hang up" },
      { kind: "retry", reason: "FCM ECONNRESET socket hang up" },
    ],
    ["ETIMEDOUT", { errorCode: "ETIMEDOUT" }, { kind: "retry", reason: "FCM ETIMEDOUT" }],
    // Unknown codes fall back on the status class
    [
      "unknown 5xx",
      { httpStatus: 502, errorCode: "BAD_GATEWAY" },
      { kind: "retry", reason: "FCM 502 BAD_GATEWAY" },
    ],
    [
      "unknown 4xx",
      { httpStatus: 413, errorCode: "TOO_BIG" },
      { kind: "bad-request", reason: "FCM 413 TOO_BIG" },
    ],
    [
      "unknown 429",
      { httpStatus: 429, retryAfterSeconds: 3 },
      { kind: "quota", reason: "FCM 429", retryAfterSeconds: 3 },
    ],
    ["no answer at all", {}, { kind: "retry", reason: "FCM" }],
  ];

  it.each(cases)("%s", (_name, input, expected) => {
    expect(classifyFcm(input)).toEqual(expected);
  });

  it("reads a 200 as delivered", () => {
    expect(classifyFcm({ httpStatus: 200 })).toEqual({ kind: "delivered" });
  });
});
