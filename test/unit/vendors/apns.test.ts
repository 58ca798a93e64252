import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { CallInfo, Notification, OutcomeKind } from "../../../lib/model/index.js";
import {
  APNS_PAYLOAD_LIMIT,
  APNS_VOIP_PAYLOAD_LIMIT,
  type ApnsAlertPayload,
  type ApnsBuild,
  type ApnsCallPayload,
  type ApnsRequest,
  type ApnsTarget,
  apnsIdOf,
  apnsIdsOf,
  buildApnsRequest,
  CALL_RINGTONE,
  DEFAULT_RING_SECONDS,
  headerSafeId,
} from "../../../lib/vendors/apns.js";
import { classifyApns, TOKEN_UPDATES_BACKOFF_SECONDS } from "../../../lib/vendors/apns-outcomes.js";

const SENT_AT = Date.UTC(2025, 2, 1, 8, 30, 15, 250);
const NOW = SENT_AT + 2_000;
const SEVEN_DAYS_S = 7 * 24 * 60 * 60;
const UUID_V5 = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const credential = { bundleId: "com.example.chat" };
const iphone: ApnsTarget = { deviceId: "bob-iphone" };

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

function call(overrides: Partial<CallInfo> = {}): CallInfo {
  return {
    action: "ring",
    inviteId: "7f3c9a1e-invite",
    callerId: "alice",
    callerName: "Alice Chen",
    media: "video",
    invitees: ["bob"],
    timeoutSeconds: 30,
    invitedAt: SENT_AT,
    roomId: "91544",
    signaling: '{"businessID":1,"inviteID":"7f3c9a1e-invite","actionType":1}',
    ...overrides,
  };
}

function request(build: ApnsBuild): ApnsRequest {
  if (!build.ok) throw new Error(`refused: ${build.reason}`);
  return build.request;
}

function alert(n: Notification, target: ApnsTarget = iphone, now = NOW) {
  const built = request(buildApnsRequest(n, target, credential, now));
  if (built.headers["apns-push-type"] !== "alert") throw new Error("not an alert");
  return { headers: built.headers, payload: built.payload as ApnsAlertPayload };
}

function voip(n: Notification, now = NOW) {
  const built = request(
    buildApnsRequest(n, { deviceId: "bob-iphone-voip", pushType: "voip" }, credential, now),
  );
  return { headers: built.headers, payload: built.payload as ApnsCallPayload };
}

const bytes = (payload: object) => Buffer.byteLength(JSON.stringify(payload));
const isWellFormed = (text: string) => Buffer.from(text, "utf8").toString("utf8") === text;
const sha256Json = (value: string) => createHash("sha256").update(JSON.stringify(value)).digest("hex");

describe("buildApnsRequest headers", () => {
  it("sets topic, alert push type, priority 10, a 7-day expiration, the message as collapse id and a UUID apns-id", () => {
    const { headers } = alert(notification());

    expect(headers).toEqual({
      "apns-topic": "com.example.chat",
      "apns-push-type": "alert",
      "apns-priority": "10",
      "apns-expiration": String(Math.floor(SENT_AT / 1000) + SEVEN_DAYS_S),
      "apns-collapse-id": "144115233406627467_3_1709281815",
      "apns-id": expect.stringMatching(UUID_V5),
    });
  });

  it("counts the 7 days from when the message was sent, not from now", () => {
    const { headers } = alert(notification(), iphone, SENT_AT + 6 * 24 * 60 * 60 * 1000);

    expect(headers["apns-expiration"]).toBe(String(Math.floor(SENT_AT / 1000) + SEVEN_DAYS_S));
  });

  it("asks for now-or-never delivery (0) once Tencent's 7-day window has passed", () => {
    const { headers } = alert(notification(), iphone, SENT_AT + 8 * 24 * 60 * 60 * 1000);

    expect(headers["apns-expiration"]).toBe("0");
  });

  it("collapses per message, never per conversation: two messages of one chat get two collapse ids", () => {
    const first = alert(notification({ messageKey: "1_1_1" }));
    const second = alert(notification({ messageKey: "2_2_2" }));

    expect(first.headers["apns-collapse-id"]).toBe("1_1_1");
    expect(second.headers["apns-collapse-id"]).toBe("2_2_2");
    expect(first.payload.aps["thread-id"]).toBe(second.payload.aps["thread-id"]);
  });

  it("gives a recall the recalled message's collapse id (collapseKey) and its own apns-id", () => {
    const original = alert(notification({ messageKey: "1_1_1" }));
    const recall = alert(notification({ messageKey: "1_1_1:recall", collapseKey: "1_1_1", quiet: true }));

    expect(recall.headers["apns-collapse-id"]).toBe(original.headers["apns-collapse-id"]);
    expect(recall.headers["apns-id"]).not.toBe(original.headers["apns-id"]);
  });

  it("keeps a collapse id of exactly 64 visible ASCII bytes", () => {
    const messageKey = `group_${"g".repeat(58)}`;

    expect(alert(notification({ messageKey })).headers["apns-collapse-id"]).toBe(messageKey);
  });

  it.each([
    ["65 ASCII bytes", `group_${"g".repeat(59)}`],
    ["Chinese characters", "群消息_1"],
    ["a NUL", "1_2\u0000_3"],
    ["an emoji", "1_2_😀"],
    ["a lone surrogate", "1_2_\ud800"],
    ["a space", "1 2 3"],
    ["a newline", "1\n2"],
  ])("hashes a collapse key with %s to 64 hex bytes", (_, messageKey) => {
    const { headers } = alert(notification({ messageKey }));

    expect(headers["apns-collapse-id"]).toBe(sha256Json(messageKey));
    expect(headers["apns-collapse-id"]).toMatch(/^[0-9a-f]{64}$/);
  });

  it("keeps two keys that differ only in lone surrogates apart (UTF-8 would make both U+FFFD)", () => {
    expect(headerSafeId("k\ud800")).not.toBe(headerSafeId("k\ud801"));
  });

  it("keeps the full conversation id as thread-id, lone surrogates replaced so it is valid UTF-8", () => {
    const { payload } = alert(notification({ conversationId: "group_@TGS#\ud800x" }));

    expect(payload.aps["thread-id"]).toBe("group_@TGS#\ufffdx");
  });

  it("derives apns-id from message and device: the same for a resend, different per device, message and push type", () => {
    const n = notification();
    const id = apnsIdOf(n, iphone);

    expect(apnsIdOf({ ...n }, { ...iphone })).toBe(id);
    expect(apnsIdOf(n, { deviceId: "bob-ipad" })).not.toBe(id);
    expect(apnsIdOf({ ...n, messageKey: "other" }, iphone)).not.toBe(id);
    expect(apnsIdOf(n, { ...iphone, pushType: "voip" })).not.toBe(id);
    expect(alert(n).headers["apns-id"]).toBe(id);
  });

  it("keeps each device's apns-id when the sender hashes the notification's part once", () => {
    // The UUID v5 as first defined: SHA-1 of the name space and the JSON of all five name parts.
    const reference = (n: Notification, t: ApnsTarget) => {
      const name = JSON.stringify([
        n.messageKey,
        n.collapseKey ?? n.messageKey,
        n.call?.action ?? "",
        t.deviceId,
        t.pushType ?? "alert",
      ]);
      const hash = createHash("sha1")
        .update(Buffer.from("5f1d6c2e8b0a4e7f9c3d2a1b0e9f8d7c", "hex"))
        .update(name)
        .digest();
      hash[6] = (hash[6]! & 0x0f) | 0x50;
      hash[8] = (hash[8]! & 0x3f) | 0x80;
      const hex = hash.subarray(0, 16).toString("hex");
      return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    };
    const ring = notification({ messageKey: 'm\u00e9"1', call: call() });
    const ids = apnsIdsOf(ring);
    for (const t of [iphone, { deviceId: '📱 "x"' }, { deviceId: "bob-iphone", pushType: "voip" as const }]) {
      expect(ids(t)).toBe(reference(ring, t));
      expect(apnsIdOf(ring, t)).toBe(reference(ring, t));
    }
  });

  it.each([
    ["a NUL", "dev\u0000ice", "msg\u0000"],
    ["an emoji", "📱", "😀_1"],
    ["a lone surrogate", "\udc00", "\ud800"],
  ])("makes a valid apns-id from ids with %s", (_, deviceId, messageKey) => {
    const { headers } = alert(notification({ messageKey }), { deviceId });

    expect(headers["apns-id"]).toMatch(UUID_V5);
  });

  it.each([
    ["a newline", "com.example.chat\n"],
    ["Chinese characters", "com.例子.chat"],
    ["nothing", ""],
  ])("refuses a topic with %s instead of sending a header HTTP/2 cannot carry", (_, bundleId) => {
    const build = buildApnsRequest(notification(), iphone, { bundleId }, NOW);

    expect(build).toEqual({ ok: false, reason: expect.stringContaining("apns-topic") });
  });
});

describe("buildApnsRequest payload", () => {
  it("puts title, body, badge, sound and thread-id in aps and ext at the top level", () => {
    const { payload } = alert(notification({ ios: { sound: "ding.caf" } }));

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
    expect(alert(notification()).payload.aps.sound).toBe("default");
  });

  it.each([
    ["ios.silent", { silent: true }],
    ["push.no_sound", { sound: "push.no_sound" }],
  ])("sends no sound key for %s", (_, ios) => {
    const { payload } = alert(notification({ ios }));

    expect(payload.aps).not.toHaveProperty("sound");
  });

  it("uses the target's badge over the notification's, each target its own", () => {
    const n = notification({ badge: 3 });

    expect(alert(n, { deviceId: "a", badge: 9 }).payload.aps.badge).toBe(9);
    expect(alert(n, { deviceId: "b", badge: 0 }).payload.aps.badge).toBe(0);
    expect(alert(n, { deviceId: "c" }).payload.aps.badge).toBe(3);
  });

  it("leaves the badge out when neither target nor notification has one (BadgeMode 1)", () => {
    expect(alert(notification({ badge: undefined })).payload.aps).not.toHaveProperty("badge");
  });

  it("takes the iOS title over the notification's, and the subtitle", () => {
    const { payload } = alert(notification({ ios: { title: "Alice (iOS)", subtitle: "Team chat" } }));

    expect(payload.aps.alert).toEqual({
      title: "Alice (iOS)",
      subtitle: "Team chat",
      body: "Lunch at noon?",
    });
  });

  it("sends an image URL top-level with mutable-content 1, so the service extension can attach it", () => {
    const { payload } = alert(notification({ ios: { image: "https://example.com/a.png" } }));

    expect(payload.image).toBe("https://example.com/a.png");
    expect(payload.aps["mutable-content"]).toBe(1);
  });

  it("sets mutable-content when asked, and nothing of the sort otherwise", () => {
    expect(alert(notification({ ios: { mutableContent: true } })).payload.aps["mutable-content"]).toBe(1);
    expect(alert(notification()).payload.aps).not.toHaveProperty("mutable-content");
    expect(alert(notification()).payload).not.toHaveProperty("image");
  });

  it("passes the interruption level the sender asked for", () => {
    const { payload } = alert(notification({ ios: { interruptionLevel: "time-sensitive" } }));

    expect(payload.aps["interruption-level"]).toBe("time-sensitive");
  });

  it("makes a quiet replacement passive and soundless, whatever sound was asked, at priority 10", () => {
    const { headers, payload } = alert(
      notification({ quiet: true, ios: { sound: "ding.caf", interruptionLevel: "active" } }),
    );

    expect(payload.aps).not.toHaveProperty("sound");
    expect(payload.aps["interruption-level"]).toBe("passive");
    expect(headers["apns-priority"]).toBe("10");
  });

  it("keeps a payload under the limit exactly as it is", () => {
    const body = "x".repeat(3000);

    expect(alert(notification({ body })).payload.aps.alert.body).toBe(body);
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

    const { payload } = alert(notification({ body: original }));

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

  it("cuts the subtitle, then the title, when a large ext leaves no room, body first", () => {
    const ext = JSON.stringify({ conversationID: "c2c_alice", blob: "e".repeat(3900) });
    const title = "标题".repeat(100);

    const { payload } = alert(
      notification({ title, body: "正文".repeat(100), ext, ios: { subtitle: "副标题".repeat(50) } }),
    );

    expect(bytes(payload)).toBeLessThanOrEqual(APNS_PAYLOAD_LIMIT);
    expect(payload.aps.alert.body).toBe("…");
    expect(payload.aps.alert.subtitle).toBe("…");
    expect(payload.aps.alert.title.endsWith("…")).toBe(true);
    expect(title.startsWith(payload.aps.alert.title.slice(0, -1))).toBe(true);
    expect(payload.ext).toBe(ext);
  });

  it("never cuts ext: a payload whose ext alone is too large is left for APNs to refuse", () => {
    const ext = JSON.stringify({ blob: "e".repeat(5000) });

    const { payload } = alert(notification({ ext }));

    expect(payload.ext).toBe(ext);
    expect(bytes(payload)).toBeGreaterThan(APNS_PAYLOAD_LIMIT);
  });
});

describe("buildApnsRequest calls", () => {
  const ring = notification({
    purpose: "call",
    call: call(),
    title: "Alice Chen",
    body: "You have a new call",
  });
  const ringEndsAt = String(Math.floor(SENT_AT / 1000) + 30);

  it("sends a ringing call to a VoIP token as a PushKit push: voip type, .voip topic, priority 10, expiring with the ring", () => {
    const { headers, payload } = voip(ring);

    expect(headers).toEqual({
      "apns-topic": "com.example.chat.voip",
      "apns-push-type": "voip",
      "apns-priority": "10",
      "apns-expiration": ringEndsAt,
      "apns-id": expect.stringMatching(UUID_V5),
    });
    expect(payload).toEqual({
      call: {
        inviteId: "7f3c9a1e-invite",
        callerId: "alice",
        callerName: "Alice Chen",
        media: "video",
        invitees: ["bob"],
        timeout: 30,
        invitedAt: SENT_AT,
        roomId: "91544",
        signaling: '{"businessID":1,"inviteID":"7f3c9a1e-invite","actionType":1}',
      },
      ext: ring.ext,
    });
  });

  it("rings for 30 s when the invitation has no timeout (signaling timeout 0)", () => {
    const { headers, payload } = voip({ ...ring, call: call({ timeoutSeconds: 0 }) });

    expect(headers["apns-expiration"]).toBe(String(Math.floor(SENT_AT / 1000) + DEFAULT_RING_SECONDS));
    expect(payload.call.timeout).toBe(DEFAULT_RING_SECONDS);
  });

  it("fits 5120 bytes by cutting the signaling envelope first, never an id", () => {
    const signaling = "s".repeat(5000);

    const { payload } = voip({ ...ring, call: call({ signaling, groupId: "@TGS#group" }) });

    expect(bytes(payload)).toBeLessThanOrEqual(APNS_VOIP_PAYLOAD_LIMIT);
    expect(payload.call).not.toHaveProperty("signaling");
    expect(payload.call).toMatchObject({
      inviteId: "7f3c9a1e-invite",
      callerId: "alice",
      groupId: "@TGS#group",
      roomId: "91544",
    });
    expect(payload.ext).toBe(ring.ext);
  });

  it("leaves out the invitee list of a huge group call (saying how many), keeping every id", () => {
    const invitees = Array.from({ length: 400 }, (_, i) => `member-${i}`);

    const { payload } = voip({ ...ring, call: call({ invitees, groupId: "@TGS#big" }) });

    expect(bytes(payload)).toBeLessThanOrEqual(APNS_VOIP_PAYLOAD_LIMIT);
    expect(payload.call.inviteesOmitted).toBe(400);
    expect(payload.call).toMatchObject({
      inviteId: "7f3c9a1e-invite",
      callerId: "alice",
      groupId: "@TGS#big",
    });
  });

  it.each([
    ["the call's end", notification({ call: call({ action: "ended" }) })],
    ["a chat message", notification()],
  ])("never sends a VoIP push for %s", (_, n) => {
    const build = buildApnsRequest(n, { deviceId: "voip", pushType: "voip" }, credential, NOW);

    expect(build).toEqual({ ok: false, reason: "VoIP tokens only take call invitations" });
  });

  it("refuses to ring once the invitation has timed out", () => {
    const build = buildApnsRequest(
      ring,
      { deviceId: "voip", pushType: "voip" },
      credential,
      SENT_AT + 31_000,
    );

    expect(build).toEqual({ ok: false, reason: expect.stringContaining("rang out") });
  });

  it("rings an alert token with a time-sensitive alert, TUICallKit's ringtone, and the invitation as collapse id", () => {
    const { headers, payload } = alert(ring);

    expect(payload.aps).toMatchObject({
      alert: { title: "Alice Chen", body: "You have a new call" },
      sound: CALL_RINGTONE,
      "interruption-level": "time-sensitive",
    });
    expect(headers["apns-collapse-id"]).toBe("7f3c9a1e-invite");
    expect(headers["apns-expiration"]).toBe(ringEndsAt);
  });

  it("replaces the ring with a quiet Missed call on the same collapse id", () => {
    const ended = notification({
      call: call({ action: "ended", endReason: "cancelled" }),
      body: "Missed call",
    });

    const { headers, payload } = alert(ended);

    expect(headers["apns-collapse-id"]).toBe(alert(ring).headers["apns-collapse-id"]);
    expect(payload.aps.alert.body).toBe("Missed call");
    expect(payload.aps).not.toHaveProperty("sound");
    expect(payload.aps["interruption-level"]).toBe("passive");
  });
});

describe("classifyApns", () => {
  // Apple's "Response error strings", row by row, with the bucket chatpush puts each in.
  const table: [status: number, reason: string | undefined, kind: OutcomeKind][] = [
    [200, undefined, "delivered"],
    [400, "BadDeviceToken", "drop-token"],
    [400, "DeviceTokenNotForTopic", "credential-problem"],
    [400, "BadTopic", "credential-problem"],
    [400, "MissingTopic", "credential-problem"],
    [400, "TopicDisallowed", "credential-problem"],
    [400, "BadCollapseId", "bad-request"],
    [400, "BadExpirationDate", "bad-request"],
    [400, "BadMessageId", "bad-request"],
    [400, "BadPriority", "bad-request"],
    [400, "DuplicateHeaders", "bad-request"],
    [400, "InvalidPushType", "bad-request"],
    [400, "MissingDeviceToken", "bad-request"],
    [400, "PayloadEmpty", "bad-request"],
    [400, "IdleTimeout", "retry"],
    [403, "ExpiredProviderToken", "refresh-credential"],
    [403, "InvalidProviderToken", "credential-problem"],
    [403, "MissingProviderToken", "credential-problem"],
    [403, "BadCertificate", "credential-problem"],
    [403, "BadCertificateEnvironment", "credential-problem"],
    [403, "Forbidden", "credential-problem"],
    [403, "UnrelatedKeyIdInToken", "credential-problem"],
    [403, "BadEnvironmentKeyInToken", "credential-problem"],
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
    [403, undefined, "credential-problem"],
    [403, "SomethingNew", "credential-problem"],
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

  it("carries APNs' 410 timestamp as `since`, so a device registered again after it is kept", () => {
    const timestamp = Date.UTC(2025, 2, 1, 9, 0, 0, 123);

    expect(classifyApns(410, "Unregistered", { timestamp })).toEqual({
      kind: "drop-token",
      reason: "APNs 410 Unregistered",
      since: timestamp,
    });
    expect(classifyApns(410, "Unregistered")).not.toHaveProperty("since");
  });

  it("drops a BadDeviceToken only when the device named the environment it was sent to", () => {
    expect(classifyApns(400, "BadDeviceToken", { environmentKnown: true }).kind).toBe("drop-token");
    expect(classifyApns(400, "BadDeviceToken", { environmentKnown: false })).toEqual({
      kind: "bad-request",
      reason: expect.stringContaining("may be a sandbox token"),
    });
  });

  it.each([
    [410, "Unregistered", "APNs 410 Unregistered"],
    [503, undefined, "APNs 503"],
    [0, "apn write timeout", "APNs network apn write timeout"],
  ])("says what APNs answered: %i %s", (status, reason, text) => {
    expect(classifyApns(status, reason)).toMatchObject({ reason: text });
  });

  it("passes Retry-After through on quota and retry outcomes", () => {
    expect(classifyApns(429, "TooManyRequests", { retryAfterSeconds: 30 })).toEqual({
      kind: "quota",
      reason: "APNs 429 TooManyRequests",
      retryAfterSeconds: 30,
    });
    expect(classifyApns(503, "ServiceUnavailable", { retryAfterSeconds: 120 })).toEqual({
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
    expect(classifyApns(429, "TooManyProviderTokenUpdates", { retryAfterSeconds: 5 })).toMatchObject({
      retryAfterSeconds: 5,
    });
  });

  it("drops Retry-After where it means nothing", () => {
    expect(classifyApns(410, "Unregistered", { retryAfterSeconds: 30 })).not.toHaveProperty(
      "retryAfterSeconds",
    );
  });

  it("does not mistake inherited object keys for reasons", () => {
    expect(classifyApns(400, "toString").kind).toBe("bad-request");
    expect(classifyApns(503, "constructor").kind).toBe("retry");
  });
});
