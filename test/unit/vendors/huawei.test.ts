import { describe, expect, it } from "vitest";
import type { DeliveryTarget, Notification, OutcomeKind } from "../../../lib/model/index.js";
import { conversationNotifyId } from "../../../lib/vendors/android-text.js";
import type { HuaweiCredential } from "../../../lib/vendors/credentials.js";
import {
  buildHuaweiRequest,
  HUAWEI_BODY_LIMIT,
  HUAWEI_MESSAGE_LIMIT_BYTES,
  HUAWEI_TITLE_LIMIT,
  type HuaweiRequest,
} from "../../../lib/vendors/huawei.js";
import {
  classifyHuawei,
  HUAWEI_ILLEGAL_TOKEN,
  type HuaweiAnswer,
  RATE_LIMIT_BACKOFF_SECONDS,
} from "../../../lib/vendors/huawei-outcomes.js";

const SENT_AT = Date.UTC(2025, 2, 1, 8, 30, 15, 250);
const NOW = SENT_AT + 2_000;
const SEVEN_DAYS_S = 7 * 24 * 60 * 60;
const CLICK_INTENT = "intent://com.example.chat/chat#Intent;scheme=tpns;launchFlags=0x4000000;end";
const EXT = '{"conversationID":"c2c_alice"}';

const bare: HuaweiCredential = {
  certificateId: 7,
  packageName: "com.example.chat",
  appId: "104523456",
  clientSecret: "not used by the builder",
};
const full: HuaweiCredential = {
  ...bare,
  clickIntent: CLICK_INTENT,
  channelId: "chat_messages",
  badgeClass: "com.example.chat.MainActivity",
};

function notification(overrides: Partial<Notification> = {}): Notification {
  return {
    title: "Alice",
    body: "Lunch at noon?",
    ext: EXT,
    badge: 3,
    conversationId: "c2c_alice",
    messageKey: "144115233406627467_3_1709281815",
    sentAt: SENT_AT,
    ...overrides,
  };
}

function targets(...tokens: string[]): DeliveryTarget[] {
  return tokens.map((token, index) => ({ userId: `user-${index}`, deviceId: `phone-${index}`, token }));
}

const build = (n: Partial<Notification> = {}, credential = full, now = NOW, tokens = ["tok-a", "tok-b"]) =>
  buildHuaweiRequest(notification(n), targets(...tokens), credential, now);
const androidNotification = (request: HuaweiRequest) => request.body.message.android.notification;
const bytesWithoutTokens = (request: HuaweiRequest) =>
  Buffer.byteLength(JSON.stringify({ ...request.body, message: { ...request.body.message, token: [] } }));
const isWellFormed = (text: string) => Buffer.from(text, "utf8").toString("utf8") === text;

describe("buildHuaweiRequest", () => {
  it("builds Push Kit v1's messages:send for the app, field by field", () => {
    const request = build();

    expect(request).toEqual({
      path: "/v1/104523456/messages:send",
      headers: { "content-type": "application/json;charset=utf-8" },
      body: {
        validate_only: false,
        message: {
          android: {
            category: "IM",
            ttl: `${SEVEN_DAYS_S - 2}s`,
            notification: {
              title: "Alice",
              body: "Lunch at noon?",
              click_action: {
                type: 1,
                intent:
                  "intent://com.example.chat/chat#Intent;scheme=tpns;launchFlags=0x4000000;" +
                  "S.ext=%7B%22conversationID%22%3A%22c2c_alice%22%7D;end",
              },
              importance: "NORMAL",
              channel_id: "chat_messages",
              tag: "c2c_alice",
              notify_id: conversationNotifyId("c2c_alice"),
              default_sound: true,
              badge: { set_num: 3, class: "com.example.chat.MainActivity" },
            },
          },
          token: ["tok-a", "tok-b"],
        },
      },
    });
  });

  it.each([
    ["the full credential", full],
    ["a credential with no clickIntent, channel or badge class", bare],
  ])("classifies every request as IM: category IM and importance NORMAL (%s)", (_, credential) => {
    const request = build({ badge: undefined, android: { sound: "ding" } }, credential);

    expect(request.body.message.android.category).toBe("IM");
    expect(androidNotification(request).importance).toBe("NORMAL");
  });

  it("sets no urgency (data messages only), no data and no top-level notification", () => {
    const request = build();

    expect(request.body.message.android).not.toHaveProperty("urgency");
    expect(request.body.message).not.toHaveProperty("data");
    expect(request.body.message).not.toHaveProperty("notification");
  });

  it("opens the app (click_action type 3) and names no channel without clickIntent and channelId", () => {
    const notificationFields = androidNotification(build({}, bare));

    expect(notificationFields.click_action).toEqual({ type: 3 });
    expect(notificationFields).not.toHaveProperty("channel_id");
  });

  it("carries ext inside the click intent, where the plugin reads it", () => {
    const ext = '{"conversationID":"group_@TGS#1","n":"群 😀"}';

    const { click_action } = androidNotification(build({ ext }));

    expect(click_action).toEqual({
      type: 1,
      intent: `intent://com.example.chat/chat#Intent;scheme=tpns;launchFlags=0x4000000;S.ext=${encodeURIComponent(ext)};end`,
    });
  });

  it("sends every token once, in target order", () => {
    const request = build({}, full, NOW, ["tok-c", "tok-a", "tok-c", "tok-b"]);

    expect(request.body.message.token).toEqual(["tok-c", "tok-a", "tok-b"]);
  });

  it("escapes the app id in the path", () => {
    expect(build({}, { ...full, appId: "10/45" }).path).toBe("/v1/10%2F45/messages:send");
  });
});

describe("buildHuaweiRequest ttl", () => {
  it.each([
    ["2 s after sending: what remains of 7 days", SENT_AT + 2_000, `${SEVEN_DAYS_S - 2}s`],
    ["6 days later: one day left", SENT_AT + 6 * 86_400_000, `${86_400}s`],
    ["with a clock behind sentAt: never more than 7 days", SENT_AT - 3_600_000, `${SEVEN_DAYS_S}s`],
    ["8 days later: one second, so a device online now still gets it", SENT_AT + 8 * 86_400_000, "1s"],
  ])("%s", (_, now, ttl) => {
    expect(build({}, full, now).body.message.android.ttl).toBe(ttl);
  });
});

describe("buildHuaweiRequest replacement, sound and badge", () => {
  it("tags and numbers the notification by conversation, so a newer message replaces it", () => {
    const conversationId = `group_@TGS#${"g".repeat(80)}`;

    const fields = androidNotification(build({ conversationId }));

    expect(fields.tag).toBe(conversationId);
    expect(fields.notify_id).toBe(conversationNotifyId(conversationId));
    expect(androidNotification(build({ conversationId: "c2c_bob" })).notify_id).not.toBe(fields.notify_id);
  });

  it.each([
    ["no sound", undefined, { default_sound: true }],
    ['"default"', "default", { default_sound: true }],
    ["a res/raw name", "ding", { default_sound: false, sound: "/raw/ding" }],
    ["a file name with extension", "ding.mp3", { default_sound: false, sound: "/raw/ding" }],
    ["a /raw/ path", "/raw/ding", { default_sound: false, sound: "/raw/ding" }],
  ])("plays %s as Huawei expects", (_, sound, expected) => {
    const fields = androidNotification(build({ android: { sound } }));

    expect({
      default_sound: fields.default_sound,
      ...(fields.sound !== undefined && { sound: fields.sound }),
    }).toEqual(expected);
  });

  it.each([
    ["badge and badge class known", 3, full, { set_num: 3, class: full.badgeClass }],
    ["a badge of 0 clears it", 0, full, { set_num: 0, class: full.badgeClass }],
    ["over 99 is capped at 99", 150, full, { set_num: 99, class: full.badgeClass }],
    ["no badge class", 3, bare, undefined],
    ["no badge", undefined, full, undefined],
  ])("badge: %s", (_, badge, credential, expected) => {
    expect(androidNotification(build({ badge }, credential)).badge).toEqual(expected);
  });
});

describe("buildHuaweiRequest trimming", () => {
  it("keeps a title of 60 and a body of 600 UTF-16 units as they are", () => {
    const title = "t".repeat(HUAWEI_TITLE_LIMIT);
    const body = "b".repeat(HUAWEI_BODY_LIMIT);

    const fields = androidNotification(build({ title, body }));

    expect([fields.title, fields.body]).toEqual([title, body]);
  });

  it.each([
    ["CJK", "汉"],
    ["emoji (surrogate pairs)", "😀"],
    ["ASCII", "x"],
  ])(
    "cuts a long %s title to 60 and body to 600 units on code-point boundaries, ending with …",
    (_, unit) => {
      const title = unit.repeat(100);
      const body = unit.repeat(1000);

      const fields = androidNotification(build({ title, body }));

      for (const [text, original, limit] of [
        [fields.title, title, HUAWEI_TITLE_LIMIT],
        [fields.body, body, HUAWEI_BODY_LIMIT],
      ] as const) {
        expect(text.length).toBeLessThanOrEqual(limit);
        expect(text.length).toBeGreaterThan(limit - 3);
        expect(text.endsWith("…")).toBe(true);
        expect(isWellFormed(text)).toBe(true);
        expect(original.startsWith(text.slice(0, -1))).toBe(true);
      }
    },
  );

  it("cuts the body further when the message would pass Huawei's 4096 bytes, as long as fits", () => {
    // The ext is URL-encoded into the intent: 9 bytes per CJK character.
    const ext = JSON.stringify({ conversationID: "c2c_alice", preview: "汉".repeat(200) });
    const body = "汉".repeat(HUAWEI_BODY_LIMIT);

    const request = build({ ext, title: "群".repeat(HUAWEI_TITLE_LIMIT), body });

    const fields = androidNotification(request);
    expect(bytesWithoutTokens(request)).toBeLessThanOrEqual(HUAWEI_MESSAGE_LIMIT_BYTES);
    expect(fields.title).toBe("群".repeat(HUAWEI_TITLE_LIMIT));
    expect(fields.body.endsWith("…")).toBe(true);
    expect(fields.body.length).toBeLessThan(HUAWEI_BODY_LIMIT);
    // As long as fits: three bytes more (one more character) would not.
    expect(bytesWithoutTokens(request) + 3).toBeGreaterThan(HUAWEI_MESSAGE_LIMIT_BYTES);
  });

  it("does not count the tokens against the 4096 bytes", () => {
    const tokens = Array.from({ length: 1000 }, (_, i) => `token-${i}-${"t".repeat(100)}`);

    const request = build({ body: "b".repeat(HUAWEI_BODY_LIMIT) }, full, NOW, tokens);

    expect(androidNotification(request).body).toBe("b".repeat(HUAWEI_BODY_LIMIT));
    expect(request.body.message.token).toHaveLength(1000);
  });

  it("cuts the title too when the body alone cannot make room, and never cuts ext", () => {
    const ext = JSON.stringify({ conversationID: "c2c_alice", preview: "汉".repeat(390) });

    const request = build({
      ext,
      title: "群".repeat(HUAWEI_TITLE_LIMIT),
      body: "汉".repeat(HUAWEI_BODY_LIMIT),
    });

    const fields = androidNotification(request);
    expect(fields.body).toBe("…");
    expect(fields.title.length).toBeLessThan(HUAWEI_TITLE_LIMIT);
    expect(fields.title.endsWith("…")).toBe(true);
    expect(bytesWithoutTokens(request)).toBeLessThanOrEqual(HUAWEI_MESSAGE_LIMIT_BYTES);
    expect(fields.click_action).toEqual({
      type: 1,
      intent: expect.stringContaining(encodeURIComponent(ext)),
    });
  });

  it("leaves an ext too large on its own whole, for Huawei to refuse (80300008)", () => {
    const ext = JSON.stringify({ conversationID: "c2c_alice", preview: "汉".repeat(600) });

    const request = build({ ext });

    expect(bytesWithoutTokens(request)).toBeGreaterThan(HUAWEI_MESSAGE_LIMIT_BYTES);
    expect(androidNotification(request).click_action).toEqual({
      type: 1,
      intent: expect.stringContaining(encodeURIComponent(ext)),
    });
  });
});

describe("classifyHuawei", () => {
  // NOW is 08:30:17.250 UTC, 16:30:17.250 in Beijing: 7 h 29 min 42.75 s to midnight, rounded up.
  const TO_BEIJING_MIDNIGHT = 7 * 3600 + 29 * 60 + 43;

  it.each<[string, number, OutcomeKind]>([
    ["80000000", 200, "delivered"],
    ["80100000", 200, "delivered"],
    [HUAWEI_ILLEGAL_TOKEN, 200, "drop-token"],
    ["80300007", 400, "drop-token"],
    ["80200001", 401, "refresh-credential"],
    ["80200003", 401, "refresh-credential"],
    ["80600003", 401, "refresh-credential"],
    ["1101", 400, "refresh-credential"],
    ["80300002", 400, "bad-request"],
    ["80300011", 400, "bad-request"],
    ["80300008", 400, "bad-request"],
    ["80300010", 400, "bad-request"],
    ["80300013", 400, "bad-request"],
    ["80100001", 400, "bad-request"],
    ["80100002", 400, "bad-request"],
    ["80100003", 400, "bad-request"],
    ["80100004", 400, "bad-request"],
    ["80100013", 400, "bad-request"],
    ["80100016", 400, "bad-request"],
    ["80100018", 400, "bad-request"],
    ["80100017", 200, "quota"],
    ["81000001", 500, "retry"],
  ])("maps code %s (HTTP %i) to %s", (code, httpStatus, kind) => {
    expect(classifyHuawei({ httpStatus, code, message: "m" }, NOW).kind).toBe(kind);
  });

  it("goes by the code, not the HTTP status, when Huawei sends one", () => {
    expect(classifyHuawei({ httpStatus: 200, code: "80300007" }, NOW).kind).toBe("drop-token");
    expect(classifyHuawei({ httpStatus: 400, code: "80200003" }, NOW).kind).toBe("refresh-credential");
  });

  it.each<[string, HuaweiAnswer, object]>([
    ["success", { httpStatus: 200, code: "80000000", message: "Success" }, { kind: "delivered" }],
    [
      "all tokens invalid",
      { httpStatus: 400, code: "80300007", message: "All the tokens are invalid." },
      { kind: "drop-token", reason: "Huawei 80300007 All the tokens are invalid." },
    ],
    [
      "a token listed in illegal_tokens",
      { httpStatus: 200, code: HUAWEI_ILLEGAL_TOKEN },
      { kind: "drop-token", reason: "Huawei 80100000 illegal_tokens" },
    ],
    [
      "an expired access token",
      { httpStatus: 401, code: "80200003", message: "Oauth Token expired" },
      { kind: "refresh-credential", reason: "Huawei 80200003 Oauth Token expired" },
    ],
    [
      "the OAuth endpoint refusing the secret",
      { httpStatus: 400, code: "1101", message: "invalid client_secret (sub_error 12304)" },
      { kind: "refresh-credential", reason: "Huawei 1101 invalid client_secret (sub_error 12304)" },
    ],
    ["a 401 without a code", { httpStatus: 401 }, { kind: "refresh-credential", reason: "Huawei HTTP 401" }],
    [
      "too many topic tasks, no Retry-After",
      { httpStatus: 200, code: "80100017", message: "m" },
      { kind: "quota", reason: "Huawei 80100017 m", retryAfterSeconds: RATE_LIMIT_BACKOFF_SECONDS },
    ],
    [
      "too many topic tasks, Retry-After 20",
      { httpStatus: 200, code: "80100017", retryAfterSeconds: 20 },
      { kind: "quota", reason: "Huawei 80100017", retryAfterSeconds: 20 },
    ],
    [
      "HTTP 429, the daily limit",
      { httpStatus: 429, message: "Daily push limit exceeded" },
      {
        kind: "quota",
        reason: "Huawei HTTP 429 Daily push limit exceeded",
        retryAfterSeconds: TO_BEIJING_MIDNIGHT,
      },
    ],
    [
      "HTTP 429 with a Retry-After, still the daily limit",
      { httpStatus: 429, retryAfterSeconds: 5 },
      { kind: "quota", reason: "Huawei HTTP 429", retryAfterSeconds: TO_BEIJING_MIDNIGHT },
    ],
    [
      "HTTP 503 flow control",
      { httpStatus: 503, message: "Flow control" },
      { kind: "retry", reason: "Huawei HTTP 503 Flow control" },
    ],
    [
      "HTTP 503 with Retry-After 30",
      { httpStatus: 503, retryAfterSeconds: 30 },
      { kind: "retry", reason: "Huawei HTTP 503", retryAfterSeconds: 30 },
    ],
    ["HTTP 502", { httpStatus: 502 }, { kind: "retry", reason: "Huawei HTTP 502" }],
    [
      "an internal error",
      { httpStatus: 500, code: "81000001", message: "Inner Error." },
      { kind: "retry", reason: "Huawei 81000001 Inner Error." },
    ],
    [
      "no HTTP answer",
      { message: "fetch failed: ECONNREFUSED" },
      { kind: "retry", reason: "Huawei network fetch failed: ECONNREFUSED" },
    ],
    [
      "an unknown code on HTTP 500",
      { httpStatus: 500, code: "89999999" },
      { kind: "retry", reason: "Huawei 89999999" },
    ],
    [
      "an unknown code on HTTP 200",
      { httpStatus: 200, code: "89999999" },
      { kind: "bad-request", reason: "Huawei 89999999" },
    ],
    ["HTTP 404 without a code", { httpStatus: 404 }, { kind: "bad-request", reason: "Huawei HTTP 404" }],
  ])("%s", (_, answer, outcome) => {
    expect(classifyHuawei(answer, NOW)).toEqual(outcome);
  });
});
