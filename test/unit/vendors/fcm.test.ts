import { describe, expect, it } from "vitest";
import type { CallInfo, DeliveryTarget, Notification, Outcome } from "../../../lib/model/index.js";
import type { FcmCredential } from "../../../lib/vendors/credentials.js";
import {
  buildFcmMessage,
  FCM_PAYLOAD_LIMIT_BYTES,
  FCM_TTL_MS,
  type FcmMessage,
  fcmPayloadBytes,
  fcmSendUrl,
  readFcmAnswer,
} from "../../../lib/vendors/fcm.js";
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

const jsonBytes = (message: FcmMessage) => Buffer.byteLength(JSON.stringify({ message }));
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
    for (const value of Object.values(message.data)) expect(typeof value).toBe("string");
  });

  it("sends a chat message at high priority, non-collapsible, kept 7 days, only to the registered app", () => {
    const { android } = buildFcmMessage(notification(), target, credential);

    expect(android.priority).toBe("HIGH");
    expect(android).not.toHaveProperty("collapse_key");
    expect(android.ttl).toBe("604800s");
    expect(FCM_TTL_MS).toBe(604_800_000);
    expect(android.restricted_package_name).toBe("com.example.chat");
  });

  it("shows it on the credential's channel, tagged with the message's collapse key, with the badge", () => {
    const { android } = buildFcmMessage(notification({ android: { sound: "ding" } }), target, credential);

    expect(android.notification).toEqual({
      channel_id: "chat_messages",
      tag: "144115233406627467_3_1709281815",
      sound: "ding",
      notification_priority: "PRIORITY_HIGH",
      notification_count: 3,
    });
  });

  it("tags with the collapse key the notification names (a recall replaces exactly the recalled message)", () => {
    const first = buildFcmMessage(notification({ messageKey: "m1" }), target, credential);
    const second = buildFcmMessage(notification({ messageKey: "m2" }), target, credential);
    const recall = buildFcmMessage(notification({ messageKey: "r9", collapseKey: "m1" }), target, credential);

    expect(first.android.notification?.tag).toBe("m1");
    expect(second.android.notification?.tag).toBe("m2");
    expect(recall.android.notification?.tag).toBe("m1");
  });

  it("plays the default sound when the notification names none, and never the iOS sound", () => {
    const plain = buildFcmMessage(notification(), target, credential);
    const iosOnly = buildFcmMessage(notification({ ios: { sound: "bell.caf" } }), target, credential);

    expect(plain.android.notification?.sound).toBe("default");
    expect(iosOnly.android.notification?.sound).toBe("default");
  });

  it("uses the recipient's counted badge over the notification's", () => {
    const { android } = buildFcmMessage(notification({ badge: 3 }), { ...target, badge: 11 }, credential);

    expect(android.notification?.notification_count).toBe(11);
  });

  it("leaves out channel, badge and package restriction when they are not set", () => {
    const { androidChannelId: _, ...noChannel } = credential;
    const { appId: __, ...noApp } = target;

    const { android } = buildFcmMessage(notification({ badge: undefined }), noApp, noChannel);

    expect(android).not.toHaveProperty("restricted_package_name");
    expect(android.notification).not.toHaveProperty("channel_id");
    expect(android.notification).not.toHaveProperty("notification_count");
  });

  it("keeps a badge of 0, which clears the count", () => {
    const { android } = buildFcmMessage(notification({ badge: 0 }), target, credential);

    expect(android.notification?.notification_count).toBe(0);
  });

  it("takes the sender's Google channel, image and priority over the defaults", () => {
    const { android } = buildFcmMessage(
      notification({
        android: {
          googleChannelId: "vip",
          googleImage: "https://example.com/a.png",
          googlePriority: "normal",
        },
      }),
      target,
      credential,
    );

    expect(android.priority).toBe("NORMAL");
    expect(android.notification).toMatchObject({
      channel_id: "vip",
      image: "https://example.com/a.png",
      notification_priority: "PRIORITY_DEFAULT",
    });
  });

  it("does not force an operations notice to high priority (FCM keeps high for time-sensitive content)", () => {
    const operations = buildFcmMessage(notification({ purpose: "operations" }), target, credential);
    const asked = buildFcmMessage(
      notification({ purpose: "operations", android: { googlePriority: "high" } }),
      target,
      credential,
    );

    expect(operations.android.priority).toBe("NORMAL");
    expect(operations.android.notification?.notification_priority).toBe("PRIORITY_DEFAULT");
    expect(asked.android.priority).toBe("HIGH");
  });

  it("makes a quiet replacement as silent as FCM allows: no sound, no vibration, low priority", () => {
    const { android } = buildFcmMessage(
      notification({ quiet: true, collapseKey: "m1", android: { sound: "ding", googlePriority: "high" } }),
      target,
      { ...credential, quietChannelId: "replacements" },
    );

    expect(android.priority).toBe("NORMAL");
    expect(android.notification).toEqual({
      channel_id: "replacements",
      tag: "m1",
      default_sound: false,
      default_vibrate_timings: false,
      notification_priority: "PRIORITY_LOW",
      notification_count: 3,
    });
  });

  it("keeps the chat channel for a quiet replacement when the credential has no quiet channel", () => {
    const { android } = buildFcmMessage(notification({ quiet: true }), target, credential);

    expect(android.notification?.channel_id).toBe("chat_messages");
    expect(android.notification).not.toHaveProperty("sound");
  });

  it("leaves title and body alone when the payload fits", () => {
    const body = "x".repeat(3000);

    const message = buildFcmMessage(notification({ body }), target, credential);

    expect(message.notification?.body).toBe(body);
  });
});

describe("FCM's 4096-byte payload limit (keys and values, not the request JSON)", () => {
  it("counts the UTF-8 bytes of keys and values of data, notification and android.notification", () => {
    const message = buildFcmMessage(notification({ badge: undefined }), target, credential);

    const expected =
      "ext".length +
      '{"conversationID":"c2c_alice"}'.length +
      "conversationID".length +
      "c2c_alice".length +
      "title".length +
      "Alice".length +
      "body".length +
      "Lunch at noon?".length +
      "channel_id".length +
      "chat_messages".length +
      "tag".length +
      "144115233406627467_3_1709281815".length +
      "sound".length +
      "default".length +
      "notification_priority".length +
      "PRIORITY_HIGH".length;
    expect(fcmPayloadBytes(message)).toBe(expected);
  });

  it("keeps a body whose JSON escapes would pass 4096 bytes but whose keys and values do not", () => {
    // 3,600 quotes are 3,600 payload bytes but 7,200 bytes once escaped in the request JSON.
    const body = '"'.repeat(3600);

    const message = buildFcmMessage(notification({ body }), target, credential);

    expect(message.notification?.body).toBe(body);
    expect(jsonBytes(message)).toBeGreaterThan(FCM_PAYLOAD_LIMIT_BYTES);
    expect(fcmPayloadBytes(message)).toBeLessThanOrEqual(FCM_PAYLOAD_LIMIT_BYTES);
  });

  it("does not count the token or the delivery options against the payload", () => {
    const longToken = { ...target, token: `tok:${"t".repeat(2000)}` };
    const body = "b".repeat(3700);

    const message = buildFcmMessage(notification({ body }), longToken, credential);

    expect(message.notification?.body).toBe(body);
  });

  it("cuts a long body to exactly the payload limit, ending in …", () => {
    const message = buildFcmMessage(notification({ body: "a".repeat(10_000) }), target, credential);

    expect(fcmPayloadBytes(message)).toBeLessThanOrEqual(FCM_PAYLOAD_LIMIT_BYTES);
    expect(fcmPayloadBytes(message)).toBeGreaterThan(FCM_PAYLOAD_LIMIT_BYTES - 4);
    expect(message.notification?.body).toMatch(/^a+…$/);
    expect(message.notification?.title).toBe("Alice");
  });

  it("never splits a surrogate pair of an emoji", () => {
    const message = buildFcmMessage(notification({ body: "😀".repeat(3000) }), target, credential);

    const body = message.notification?.body ?? "";
    expect(isWellFormed(body)).toBe(true);
    expect(body).toMatch(/^(😀)+…$/u);
    expect(fcmPayloadBytes(message)).toBeLessThanOrEqual(FCM_PAYLOAD_LIMIT_BYTES);
  });

  it("splits the room between a long title and a long body", () => {
    const message = buildFcmMessage(
      notification({ title: "T".repeat(5000), body: "B".repeat(5000) }),
      target,
      credential,
    );

    const { title = "", body = "" } = message.notification ?? {};
    expect(fcmPayloadBytes(message)).toBeLessThanOrEqual(FCM_PAYLOAD_LIMIT_BYTES);
    expect(title).toMatch(/^T+…$/);
    expect(body).toMatch(/^B+…$/);
    expect(Math.abs(title.length - body.length)).toBeLessThan(10);
  });

  it("gives a long title the room a short body leaves, counting 3 bytes per CJK character", () => {
    const message = buildFcmMessage(
      notification({ title: "中".repeat(3000), body: "ok" }),
      target,
      credential,
    );

    expect(message.notification?.body).toBe("ok");
    expect(message.notification?.title).toMatch(/^中+…$/);
    expect(fcmPayloadBytes(message)).toBeLessThanOrEqual(FCM_PAYLOAD_LIMIT_BYTES);
    expect(fcmPayloadBytes(message)).toBeGreaterThan(FCM_PAYLOAD_LIMIT_BYTES - 6);
  });

  it("never trims ext: the click handler parses it", () => {
    const ext = JSON.stringify({ conversationID: "c2c_alice", padding: "p".repeat(2000) });

    const message = buildFcmMessage(notification({ ext, body: "b".repeat(5000) }), target, credential);

    expect(message.data.ext).toBe(ext);
    expect(fcmPayloadBytes(message)).toBeLessThanOrEqual(FCM_PAYLOAD_LIMIT_BYTES);
  });
});

describe("buildFcmMessage for calls", () => {
  const ring: CallInfo = {
    action: "ring",
    inviteId: "invite-7f3c",
    callerId: "alice",
    callerName: "Alice Chen",
    media: "video",
    invitees: ["bob"],
    timeoutSeconds: 30,
    invitedAt: Date.UTC(2025, 2, 1, 8, 30),
    roomId: "91544",
    signaling: '{"businessID":1,"inviteID":"invite-7f3c","actionType":1}',
  };
  const callNotification = (call: CallInfo, overrides: Partial<Notification> = {}) =>
    notification({
      title: "Alice Chen",
      body: "You have a new call",
      purpose: "call",
      collapseKey: "call_invite-7f3c",
      call,
      ...overrides,
    });

  it("rings with a high-priority data message carrying the call, alive for the call's timeout", () => {
    const message = buildFcmMessage(callNotification(ring), target, credential);

    expect(message).not.toHaveProperty("notification");
    expect(message.android).toEqual({
      priority: "HIGH",
      ttl: "30s",
      collapse_key: "call_invite-7f3c",
      restricted_package_name: "com.example.chat",
    });
    expect(message.data).toEqual({
      callAction: "ring",
      inviteID: "invite-7f3c",
      inviter: "alice",
      inviterName: "Alice Chen",
      media: "video",
      inviteeList: '["bob"]',
      timeout: "30",
      invitedAt: String(ring.invitedAt),
      roomID: "91544",
      signaling: ring.signaling,
      notificationTag: "call_invite-7f3c",
      title: "Alice Chen",
      body: "You have a new call",
      ext: '{"conversationID":"c2c_alice"}',
      conversationID: "c2c_alice",
    });
    for (const value of Object.values(message.data)) expect(typeof value).toBe("string");
  });

  it("names the group and every invitee of a group call", () => {
    const message = buildFcmMessage(
      callNotification({ ...ring, groupId: "@TGS#2hiking", invitees: ["bob", "erin"] }),
      target,
      credential,
    );

    expect(message.data.groupID).toBe("@TGS#2hiking");
    expect(JSON.parse(message.data.inviteeList ?? "")).toEqual(["bob", "erin"]);
  });

  it("rings for 30 s when the invitation sets no timeout", () => {
    const message = buildFcmMessage(callNotification({ ...ring, timeoutSeconds: 0 }), target, credential);

    expect(message.android.ttl).toBe("30s");
    expect(message.data.timeout).toBe("30");
  });

  it("ends the ringing with a high-priority data cancel for that invitation, with the missed-call texts", () => {
    const message = buildFcmMessage(
      callNotification(
        { ...ring, action: "ended", endReason: "cancelled" },
        { body: "Missed call", quiet: true },
      ),
      target,
      credential,
    );

    expect(message).not.toHaveProperty("notification");
    expect(message.android.priority).toBe("HIGH");
    expect(message.android.collapse_key).toBe("call_invite-7f3c");
    expect(message.data).toMatchObject({
      callAction: "cancel",
      inviteID: "invite-7f3c",
      endReason: "cancelled",
      notificationTag: "call_invite-7f3c",
      title: "Alice Chen",
      body: "Missed call",
    });
  });

  it("drops the signaling envelope before it lets a call exceed the payload limit", () => {
    const message = buildFcmMessage(
      callNotification({ ...ring, signaling: `{"data":"${"x".repeat(5000)}"}` }),
      target,
      credential,
    );

    expect(message.data).not.toHaveProperty("signaling");
    expect(message.data.inviteID).toBe("invite-7f3c");
    expect(fcmPayloadBytes(message)).toBeLessThanOrEqual(FCM_PAYLOAD_LIMIT_BYTES);
  });
});

describe("fcmSendUrl", () => {
  it("is FCM's messages:send for the project", () => {
    expect(fcmSendUrl("my-project")).toBe("https://fcm.googleapis.com/v1/projects/my-project/messages:send");
  });
});

describe("readFcmAnswer", () => {
  const answer = (status: number, body: unknown, headers: Record<string, string> = {}) =>
    readFcmAnswer({ status, headers, body: JSON.stringify(body) });

  it("takes FCM's errorCode from the FcmError detail over Google's status", () => {
    expect(
      answer(404, {
        error: {
          code: 404,
          message: "Requested entity was not found.",
          status: "NOT_FOUND",
          details: [
            { "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", errorCode: "UNREGISTERED" },
          ],
        },
      }),
    ).toEqual({ httpStatus: 404, errorCode: "UNREGISTERED", message: "Requested entity was not found." });
  });

  it("falls back on Google's status and reads the fields a BadRequest names, and Retry-After", () => {
    expect(
      answer(
        400,
        {
          error: {
            code: 400,
            message: "Request contains an invalid argument.",
            status: "INVALID_ARGUMENT",
            details: [
              {
                "@type": "type.googleapis.com/google.rpc.BadRequest",
                fieldViolations: [{ field: "message.token", description: "Invalid registration token" }],
              },
            ],
          },
        },
        { "retry-after": "5" },
      ),
    ).toEqual({
      httpStatus: 400,
      errorCode: "INVALID_ARGUMENT",
      message: "Request contains an invalid argument.",
      fields: ["message.token"],
      retryAfterSeconds: 5,
    });
  });

  it("reads a body that is not JSON as the bare status", () => {
    expect(readFcmAnswer({ status: 502, headers: {}, body: "<html>Bad Gateway</html>" })).toEqual({
      httpStatus: 502,
    });
  });
});

describe("classifyFcm", () => {
  type Input = Parameters<typeof classifyFcm>[0];
  const cases: [string, Input, Outcome][] = [
    [
      "UNREGISTERED",
      { httpStatus: 404, errorCode: "UNREGISTERED", message: "Requested entity was not found." },
      { kind: "drop-token", reason: "FCM 404 UNREGISTERED Requested entity was not found." },
    ],
    [
      "INVALID_ARGUMENT whose message names the token (Firebase's example)",
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
      "INVALID_ARGUMENT with a field violation on message.token (pushiko's record)",
      {
        httpStatus: 400,
        errorCode: "INVALID_ARGUMENT",
        message: "Request contains an invalid argument.",
        fields: ["message.token"],
      },
      { kind: "drop-token", reason: "FCM 400 INVALID_ARGUMENT Request contains an invalid argument." },
    ],
    [
      "INVALID_ARGUMENT for a payload too big (generic message, no field)",
      { httpStatus: 400, errorCode: "INVALID_ARGUMENT", message: "Request contains an invalid argument." },
      { kind: "bad-request", reason: "FCM 400 INVALID_ARGUMENT Request contains an invalid argument." },
    ],
    [
      "INVALID_ARGUMENT on another field",
      {
        httpStatus: 400,
        errorCode: "INVALID_ARGUMENT",
        message: "Invalid value at 'message.android.ttl'",
        fields: ["message.android.ttl"],
      },
      { kind: "bad-request", reason: "FCM 400 INVALID_ARGUMENT Invalid value at 'message.android.ttl'" },
    ],
    [
      "a message that only mentions registration tokens in passing",
      {
        httpStatus: 400,
        errorCode: "INVALID_ARGUMENT",
        message: "Invalid package name for registration token",
      },
      { kind: "bad-request", reason: "FCM 400 INVALID_ARGUMENT Invalid package name for registration token" },
    ],
    [
      "SENDER_ID_MISMATCH: the credential, never the device",
      { httpStatus: 403, errorCode: "SENDER_ID_MISMATCH" },
      { kind: "credential-problem", reason: "FCM 403 SENDER_ID_MISMATCH" },
    ],
    [
      "PERMISSION_DENIED (no FCM permission on the project)",
      { httpStatus: 403, errorCode: "PERMISSION_DENIED" },
      { kind: "credential-problem", reason: "FCM 403 PERMISSION_DENIED" },
    ],
    [
      "NOT_FOUND without UNREGISTERED (a wrong project id)",
      { httpStatus: 404, errorCode: "NOT_FOUND", message: "Requested entity was not found." },
      { kind: "credential-problem", reason: "FCM 404 NOT_FOUND Requested entity was not found." },
    ],
    [
      "THIRD_PARTY_AUTH_ERROR",
      { httpStatus: 401, errorCode: "THIRD_PARTY_AUTH_ERROR" },
      { kind: "credential-problem", reason: "FCM 401 THIRD_PARTY_AUTH_ERROR" },
    ],
    [
      "APNS_AUTH_ERROR",
      { httpStatus: 401, errorCode: "APNS_AUTH_ERROR" },
      { kind: "credential-problem", reason: "FCM 401 APNS_AUTH_ERROR" },
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
      "UNAUTHENTICATED (access token refused)",
      { httpStatus: 401, errorCode: "UNAUTHENTICATED" },
      { kind: "refresh-credential", reason: "FCM 401 UNAUTHENTICATED" },
    ],
    ["401 without detail", { httpStatus: 401 }, { kind: "refresh-credential", reason: "FCM 401" }],
    ["403 without detail", { httpStatus: 403 }, { kind: "credential-problem", reason: "FCM 403" }],
    ["404 without detail", { httpStatus: 404 }, { kind: "credential-problem", reason: "FCM 404" }],
    [
      "RESOURCE_EXHAUSTED",
      { httpStatus: 429, errorCode: "RESOURCE_EXHAUSTED" },
      { kind: "quota", reason: "FCM 429 RESOURCE_EXHAUSTED", retryAfterSeconds: QUOTA_BACKOFF_SECONDS },
    ],
    [
      "ECONNRESET (no answer)",
      { errorCode: "ECONNRESET", message: "the stream closed without an answer" },
      { kind: "retry", reason: "FCM ECONNRESET the stream closed without an answer" },
    ],
    ["ETIMEDOUT", { errorCode: "ETIMEDOUT" }, { kind: "retry", reason: "FCM ETIMEDOUT" }],
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

  it("removes a token for no answer that names the project or the credential", () => {
    const configAnswers = ["SENDER_ID_MISMATCH", "PERMISSION_DENIED", "NOT_FOUND", "THIRD_PARTY_AUTH_ERROR"];
    for (const errorCode of configAnswers) {
      expect(classifyFcm({ httpStatus: 403, errorCode }).kind).not.toBe("drop-token");
    }
  });
});
