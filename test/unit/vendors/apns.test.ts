import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { Notification, OutcomeKind } from "../../../lib/model/index.js";
import { APNS_PAYLOAD_LIMIT, type ApnsPayload, buildApnsRequest } from "../../../lib/vendors/apns.js";
import { classifyApns, TOKEN_UPDATES_BACKOFF_SECONDS } from "../../../lib/vendors/apns-outcomes.js";
import type { ApnsCredential } from "../../../lib/vendors/credentials.js";

const SENT_AT = Date.UTC(2025, 2, 1, 8, 30, 15, 250);
const NOW = SENT_AT + 2_000;
const SEVEN_DAYS_S = 7 * 24 * 60 * 60;

const credential: ApnsCredential = {
  certificateId: 41,
  bundleId: "com.example.chat",
  teamId: "TEAM123456",
  keyId: "KEY1234567",
  privateKey: "not used by the builder",
};

function notification(overrides: Partial<Notification> = {}): Notification {
  return {
    title: "Alice",
    body: "Lunch at noon?",
    ext: '{"conversationID":"c2c_alice"}',
    badge: 3,
    conversationId: "c2c_alice",
    messageKey: "144115233406627467_3_1709281815",
    sentAt: SENT_AT,
    ...overrides,
  };
}

const bytes = (payload: ApnsPayload) => Buffer.byteLength(JSON.stringify(payload));
const isWellFormed = (text: string) => Buffer.from(text, "utf8").toString("utf8") === text;

describe("buildApnsRequest headers", () => {
  it("sets topic, alert push type, priority 10, a 7-day expiration and the conversation as collapse id", () => {
    const { headers } = buildApnsRequest(notification(), credential, NOW);

    expect(headers).toEqual({
      "apns-topic": "com.example.chat",
      "apns-push-type": "alert",
      "apns-priority": "10",
      "apns-expiration": String(Math.floor(SENT_AT / 1000) + SEVEN_DAYS_S),
      "apns-collapse-id": "c2c_alice",
    });
  });

  it("counts the 7 days from when the message was sent, not from now", () => {
    const sixDaysLater = SENT_AT + 6 * 24 * 60 * 60 * 1000;

    const { headers } = buildApnsRequest(notification(), credential, sixDaysLater);

    expect(headers["apns-expiration"]).toBe(String(Math.floor(SENT_AT / 1000) + SEVEN_DAYS_S));
  });

  it("asks for now-or-never delivery (0) once Tencent's 7-day window has passed", () => {
    const eightDaysLater = SENT_AT + 8 * 24 * 60 * 60 * 1000;

    const { headers } = buildApnsRequest(notification(), credential, eightDaysLater);

    expect(headers["apns-expiration"]).toBe("0");
  });

  it("keeps a collapse id of exactly 64 bytes", () => {
    const conversationId = `group_${"g".repeat(58)}`;

    const { headers } = buildApnsRequest(notification({ conversationId }), credential, NOW);

    expect(headers["apns-collapse-id"]).toBe(conversationId);
  });

  it.each([
    ["65 ASCII bytes", `group_${"g".repeat(59)}`],
    ["26 characters but 66 UTF-8 bytes", `group_${"群".repeat(20)}`],
  ])("hashes a conversation id over 64 bytes (%s) to 64 bytes, keeping the full id as thread-id", (_, id) => {
    const { headers, payload } = buildApnsRequest(notification({ conversationId: id }), credential, NOW);

    expect(headers["apns-collapse-id"]).toBe(createHash("sha256").update(id).digest("hex"));
    expect(Buffer.byteLength(headers["apns-collapse-id"])).toBe(64);
    expect(payload.aps["thread-id"]).toBe(id);
  });

  it("gives two long conversation ids different collapse ids", () => {
    const a = buildApnsRequest(notification({ conversationId: `group_${"a".repeat(80)}` }), credential, NOW);
    const b = buildApnsRequest(notification({ conversationId: `group_${"a".repeat(79)}b` }), credential, NOW);

    expect(a.headers["apns-collapse-id"]).not.toBe(b.headers["apns-collapse-id"]);
  });
});

describe("buildApnsRequest payload", () => {
  it("puts title, body, badge, sound and thread-id in aps and ext at the top level", () => {
    const { payload } = buildApnsRequest(notification({ ios: { sound: "ding.caf" } }), credential, NOW);

    expect(payload).toEqual({
      aps: {
        alert: { title: "Alice", body: "Lunch at noon?" },
        badge: 3,
        sound: "ding.caf",
        "thread-id": "c2c_alice",
      },
      ext: '{"conversationID":"c2c_alice"}',
    });
  });

  it("plays the default sound when the notification names none", () => {
    const { payload } = buildApnsRequest(notification(), credential, NOW);

    expect(payload.aps.sound).toBe("default");
  });

  it("leaves the badge out when the notification has none, and sends 0 when it says 0", () => {
    const without = buildApnsRequest(notification({ badge: undefined }), credential, NOW);
    const zero = buildApnsRequest(notification({ badge: 0 }), credential, NOW);

    expect(JSON.stringify(without.payload.aps)).not.toContain("badge");
    expect(zero.payload.aps.badge).toBe(0);
  });

  it("keeps a payload under the limit exactly as it is", () => {
    const body = "x".repeat(3000);

    const { payload } = buildApnsRequest(notification({ body }), credential, NOW);

    expect(payload.aps.alert.body).toBe(body);
  });
});

describe("buildApnsRequest trimming to 4096 bytes", () => {
  it.each([
    ["3-byte CJK", "汉"],
    ["4-byte emoji (surrogate pairs)", "😀"],
    ["2-byte Cyrillic", "ж"],
    ["newlines (2 bytes each once JSON-escaped)", "\n"],
  ])("cuts a long body of %s on a code-point boundary, as long as fits, ending with …", (_, unit) => {
    const original = unit.repeat(3000);

    const { payload } = buildApnsRequest(notification({ body: original }), credential, NOW);

    const body = payload.aps.alert.body;
    expect(bytes(payload)).toBeLessThanOrEqual(APNS_PAYLOAD_LIMIT);
    expect(body.endsWith("…")).toBe(true);
    expect(isWellFormed(body)).toBe(true);
    expect(original.startsWith(body.slice(0, -1))).toBe(true);
    // As long as fits: one more code point would not.
    const kept = Array.from(body).length - 1;
    const longer = {
      ...payload,
      aps: { ...payload.aps, alert: { ...payload.aps.alert, body: `${unit.repeat(kept + 1)}…` } },
    };
    expect(bytes(longer)).toBeGreaterThan(APNS_PAYLOAD_LIMIT);
    expect(payload.aps.alert.title).toBe("Alice");
  });

  it("cuts the title too when a large ext leaves no room, body first", () => {
    const ext = JSON.stringify({ conversationID: "c2c_alice", blob: "e".repeat(3900) });
    const title = "标题".repeat(100);

    const { payload } = buildApnsRequest(
      notification({ title, body: "正文".repeat(100), ext }),
      credential,
      NOW,
    );

    expect(bytes(payload)).toBeLessThanOrEqual(APNS_PAYLOAD_LIMIT);
    expect(payload.aps.alert.body).toBe("…");
    expect(payload.aps.alert.title.endsWith("…")).toBe(true);
    expect(title.startsWith(payload.aps.alert.title.slice(0, -1))).toBe(true);
    expect(payload.ext).toBe(ext);
  });

  it("never cuts ext: a payload whose ext alone is too large is left for APNs to refuse", () => {
    const ext = JSON.stringify({ blob: "e".repeat(5000) });

    const { payload } = buildApnsRequest(notification({ ext }), credential, NOW);

    expect(payload.ext).toBe(ext);
    expect(bytes(payload)).toBeGreaterThan(APNS_PAYLOAD_LIMIT);
  });
});

describe("classifyApns", () => {
  // vendors.md §1 "Response", row by row.
  const table: [status: number, reason: string | undefined, kind: OutcomeKind][] = [
    [200, undefined, "delivered"],
    [400, "BadDeviceToken", "drop-token"],
    [400, "DeviceTokenNotForTopic", "drop-token"],
    [400, "BadCollapseId", "bad-request"],
    [400, "BadExpirationDate", "bad-request"],
    [400, "BadMessageId", "bad-request"],
    [400, "BadPriority", "bad-request"],
    [400, "BadTopic", "bad-request"],
    [400, "DuplicateHeaders", "bad-request"],
    [400, "InvalidPushType", "bad-request"],
    [400, "MissingDeviceToken", "bad-request"],
    [400, "MissingTopic", "bad-request"],
    [400, "PayloadEmpty", "bad-request"],
    [400, "TopicDisallowed", "bad-request"],
    [400, "IdleTimeout", "retry"],
    [403, "ExpiredProviderToken", "refresh-credential"],
    [403, "InvalidProviderToken", "refresh-credential"],
    [403, "MissingProviderToken", "refresh-credential"],
    [403, "BadCertificate", "bad-request"],
    [403, "BadCertificateEnvironment", "bad-request"],
    [403, "Forbidden", "bad-request"],
    [403, "UnrelatedKeyIdInToken", "bad-request"],
    [403, "BadEnvironmentKeyInToken", "bad-request"],
    [404, "BadPath", "bad-request"],
    [405, "MethodNotAllowed", "bad-request"],
    [410, "Unregistered", "drop-token"],
    [410, "ExpiredToken", "drop-token"],
    [413, "PayloadTooLarge", "bad-request"],
    [429, "TooManyProviderTokenUpdates", "retry"],
    [429, "TooManyRequests", "quota"],
    [500, "InternalServerError", "retry"],
    [503, "ServiceUnavailable", "retry"],
    [503, "Shutdown", "retry"],
    // Reasons Apple has not documented (yet) fall back on the status class.
    [400, "SomethingNew", "bad-request"],
    [403, undefined, "bad-request"],
    [410, undefined, "drop-token"],
    [429, undefined, "quota"],
    [502, undefined, "retry"],
    [504, "GatewayTimeout", "retry"],
    // No HTTP answer at all: connection refused, timeout, reset stream.
    [0, "apn write timeout", "retry"],
  ];

  it.each(table)("%i %s → %s", (status, reason, kind) => {
    expect(classifyApns(status, reason).kind).toBe(kind);
  });

  it.each([
    [410, "Unregistered", "APNs 410 Unregistered"],
    [503, undefined, "APNs 503"],
    [0, "apn write timeout", "APNs network apn write timeout"],
  ])("says what APNs answered: %i %s", (status, reason, text) => {
    expect(classifyApns(status, reason)).toMatchObject({ reason: text });
  });

  it("passes Retry-After through on quota and retry outcomes", () => {
    expect(classifyApns(429, "TooManyRequests", 30)).toEqual({
      kind: "quota",
      reason: "APNs 429 TooManyRequests",
      retryAfterSeconds: 30,
    });
    expect(classifyApns(503, "ServiceUnavailable", 120)).toEqual({
      kind: "retry",
      reason: "APNs 503 ServiceUnavailable",
      retryAfterSeconds: 120,
    });
    expect(classifyApns(429, "TooManyRequests")).toEqual({
      kind: "quota",
      reason: "APNs 429 TooManyRequests",
    });
  });

  it("holds off after TooManyProviderTokenUpdates even without Retry-After", () => {
    expect(classifyApns(429, "TooManyProviderTokenUpdates")).toEqual({
      kind: "retry",
      reason: "APNs 429 TooManyProviderTokenUpdates",
      retryAfterSeconds: TOKEN_UPDATES_BACKOFF_SECONDS,
    });
    expect(classifyApns(429, "TooManyProviderTokenUpdates", 5)).toMatchObject({ retryAfterSeconds: 5 });
  });

  it("drops Retry-After where it means nothing", () => {
    expect(classifyApns(410, "Unregistered", 30)).not.toHaveProperty("retryAfterSeconds");
  });

  it("does not mistake inherited object keys for reasons", () => {
    expect(classifyApns(400, "toString").kind).toBe("bad-request");
    expect(classifyApns(503, "constructor").kind).toBe("retry");
  });
});
