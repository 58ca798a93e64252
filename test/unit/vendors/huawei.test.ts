import { describe, expect, it } from "vitest";
import type { CallInfo, DeliveryTarget, Notification, OutcomeKind } from "../../../lib/model/index.js";
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
  FLOW_CONTROL_BACKOFF_SECONDS,
  HUAWEI_ILLEGAL_TOKEN,
  type HuaweiAnswer,
  RATE_LIMIT_BACKOFF_SECONDS,
} from "../../../lib/vendors/huawei-outcomes.js";

const SENT_AT = Date.UTC(2025, 2, 1, 8, 30, 15, 250);
const NOW = SENT_AT + 2_000;
const SEVEN_DAYS_S = 7 * 24 * 60 * 60;
const CLICK_INTENT = "intent://com.example.chat/chat#Intent;scheme=tpns;launchFlags=0x4000000;end";
const EXT = '{"conversationID":"c2c_alice"}';
const MESSAGE_KEY = "144115233406627467_3_1709281815";

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
    messageKey: MESSAGE_KEY,
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
      url: "https://push-api.cloud.huawei.com/v1/104523456/messages:send",
      headers: { "content-type": "application/json;charset=utf-8" },
      body: {
        validate_only: false,
        message: {
          data: EXT,
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
              tag: MESSAGE_KEY,
              notify_id: conversationNotifyId(MESSAGE_KEY),
              group: "c2c_alice",
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

  it("sets no urgency (data messages only) and no top-level notification", () => {
    const request = build();

    expect(request.body.message.android).not.toHaveProperty("urgency");
    expect(request.body.message).not.toHaveProperty("notification");
  });

  it("hands ext to the app as message.data even without a click intent", () => {
    const request = build({}, bare);

    expect(request.body.message.data).toBe(EXT);
    expect(androidNotification(request).click_action).toEqual({ type: 3 });
  });

  it.each([
    ["an empty ext", ""],
    ["an ext that is not JSON", "c2c_alice"],
    ["a JSON array", "[1,2]"],
  ])("sends no data for %s: a notification's data must be a JSON object string", (_, ext) => {
    expect(build({ ext }).body.message).not.toHaveProperty("data");
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
    expect(build({}, { ...full, appId: "10/45" }).url).toBe(
      "https://push-api.cloud.huawei.com/v1/10%2F45/messages:send",
    );
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
  it("tags and numbers each message's notification by its own key, grouped by conversation", () => {
    const conversationId = `group_@TGS#${"g".repeat(80)}`;

    const older = androidNotification(build({ conversationId, messageKey: "group#1" }));
    const newer = androidNotification(build({ conversationId, messageKey: "group#2" }));

    expect([older.tag, older.notify_id, older.group]).toEqual([
      "group#1",
      conversationNotifyId("group#1"),
      conversationId,
    ]);
    expect(newer.tag).not.toBe(older.tag);
    expect(newer.notify_id).not.toBe(older.notify_id);
    expect(newer.group).toBe(older.group);
  });

  it("replaces exactly the message a collapse key names (a recall of the older one)", () => {
    const recall = androidNotification(build({ messageKey: "group#2-recall", collapseKey: "group#1" }));

    expect([recall.tag, recall.notify_id]).toEqual(["group#1", conversationNotifyId("group#1")]);
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

  it("never plays the iOS sound on Huawei", () => {
    const fields = androidNotification(build({ ios: { sound: "bell.caf" } }));

    expect(fields).toMatchObject({ default_sound: true });
    expect(fields).not.toHaveProperty("sound");
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

  it("adds badgeAdd when no badge number is set, capped at 99", () => {
    expect(androidNotification(build({ badge: undefined, badgeAdd: 2 })).badge).toEqual({
      add_num: 2,
      class: full.badgeClass,
    });
    expect(androidNotification(build({ badge: undefined, badgeAdd: 500 })).badge).toEqual({
      add_num: 99,
      class: full.badgeClass,
    });
    expect(androidNotification(build({ badge: 4, badgeAdd: 2 })).badge).toEqual({
      set_num: 4,
      class: full.badgeClass,
    });
  });

  it("adds 1 per push for counted targets, as Tencent does; a multicast carries no per-device number", () => {
    const counted = targets("tok-a", "tok-b").map((t, index) => ({ ...t, badge: 5 + index }));

    const request = buildHuaweiRequest(notification({ badge: undefined }), counted, full, NOW);

    expect(androidNotification(request).badge).toEqual({ add_num: 1, class: full.badgeClass });
  });
});

describe("buildHuaweiRequest classification and sender options", () => {
  it("lets the sender's channel, category, importance and image override the credential", () => {
    const request = build({
      android: {
        huaweiChannelId: "vip_chat",
        huaweiCategory: "work",
        huaweiImportance: "LOW",
        huaweiImage: "https://cdn.example.com/a.png",
      },
    });

    expect(request.body.message.android.category).toBe("WORK");
    expect(androidNotification(request)).toMatchObject({
      channel_id: "vip_chat",
      importance: "LOW",
      image: "https://cdn.example.com/a.png",
    });
  });

  it.each([
    ["an unknown category", { huaweiCategory: "CHAT" }],
    ["an image that is not HTTPS", { huaweiImage: "http://cdn.example.com/a.png" }],
    ["an empty channel", { huaweiChannelId: "" }],
  ])("ignores %s, which Huawei would refuse, and keeps the defaults", (_, android) => {
    const request = build({ android });

    expect(request.body.message.android.category).toBe("IM");
    expect(androidNotification(request)).toMatchObject({ channel_id: "chat_messages" });
    expect(androidNotification(request)).not.toHaveProperty("image");
  });

  it("sends an operations push as marketing: category MARKETING, importance LOW, no chat channel", () => {
    const request = build({ purpose: "operations" });

    expect(request.body.message.android.category).toBe("MARKETING");
    expect(androidNotification(request).importance).toBe("LOW");
    expect(androidNotification(request)).not.toHaveProperty("channel_id");
  });

  it("sends an operations push as IM when the sender classified it so", () => {
    const request = build({ purpose: "operations", android: { huaweiCategory: "IM" } });

    expect(request.body.message.android.category).toBe("IM");
    expect(androidNotification(request)).toMatchObject({ importance: "NORMAL", channel_id: "chat_messages" });
  });

  const call: CallInfo = {
    action: "ring",
    inviteId: "invite-1",
    callerId: "alice",
    callerName: "Alice",
    media: "video",
    invitees: ["bob"],
    timeoutSeconds: 30,
    invitedAt: SENT_AT,
  };

  it("rings a call as IM unless the credential holds the VOIP approval, living only while it rings", () => {
    const ring = {
      purpose: "call" as const,
      call,
      collapseKey: "call_invite-1",
      android: { sound: "phone_ringing" },
    };

    const plain = build(ring);
    const approved = build(ring, { ...full, voipCategory: true });

    expect(plain.body.message.android.category).toBe("IM");
    expect(approved.body.message.android.category).toBe("VOIP");
    // NOW is 2 s after the invitation: 28 s of ringing left.
    expect(plain.body.message.android.ttl).toBe("28s");
    expect(androidNotification(plain)).toMatchObject({
      importance: "NORMAL",
      sound: "/raw/phone_ringing",
      tag: "call_invite-1",
      notify_id: conversationNotifyId("call_invite-1"),
    });
  });

  it("replaces the ring quietly when the call ended: same key, LOW, no sound, no channel", () => {
    const ended = build({
      purpose: "call",
      call: { ...call, action: "ended", endReason: "cancelled" },
      collapseKey: "call_invite-1",
      body: "Missed call",
      android: { sound: "phone_ringing" },
    });

    const fields = androidNotification(ended);
    expect(fields).toMatchObject({ tag: "call_invite-1", importance: "LOW", body: "Missed call" });
    expect(fields).not.toHaveProperty("sound");
    expect(fields).not.toHaveProperty("default_sound");
    expect(fields).not.toHaveProperty("channel_id");
    expect(ended.body.message.android.ttl).toBe(`${SEVEN_DAYS_S - 2}s`);
  });

  it("sends a quiet replacement (a recall) as a silent service message in its class", () => {
    const request = build({
      quiet: true,
      collapseKey: "k1",
      android: { sound: "ding", huaweiImportance: "NORMAL" },
    });

    expect(request.body.message.android.category).toBe("IM");
    const fields = androidNotification(request);
    expect(fields.importance).toBe("LOW");
    expect(fields).not.toHaveProperty("sound");
    expect(fields).not.toHaveProperty("channel_id");
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

  it("sends ext only in the intent when data and intent together would pass 4096 bytes", () => {
    const ext = JSON.stringify({ conversationID: "c2c_alice", preview: "x".repeat(2000) });

    const request = build({ ext });

    expect(request.body.message).not.toHaveProperty("data");
    expect(androidNotification(request).body).toBe("Lunch at noon?");
    expect(bytesWithoutTokens(request)).toBeLessThanOrEqual(HUAWEI_MESSAGE_LIMIT_BYTES);
    expect(build({ ext }, bare).body.message.data).toBe(ext);
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
  it.each<[string, number, OutcomeKind]>([
    ["80000000", 200, "delivered"],
    ["80100000", 200, "delivered"],
    [HUAWEI_ILLEGAL_TOKEN, 200, "drop-token"],
    ["80300007", 400, "credential-problem"],
    ["80200001", 401, "refresh-credential"],
    ["80200003", 401, "refresh-credential"],
    ["80600003", 401, "refresh-credential"],
    ["1101", 400, "credential-problem"],
    ["80300002", 400, "credential-problem"],
    ["80300011", 400, "credential-problem"],
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
    expect(classifyHuawei({ httpStatus: 200, code: "80300007" }, NOW).kind).toBe("credential-problem");
    expect(classifyHuawei({ httpStatus: 400, code: "80200003" }, NOW).kind).toBe("refresh-credential");
  });

  it("removes a token only when an 80100000 answer lists it, never for a whole-request answer", () => {
    const kinds = ["80300007", "80300002", "80200001", "80100003", "81000001", undefined].map(
      (code) => classifyHuawei({ httpStatus: 400, ...(code !== undefined && { code }) }, NOW).kind,
    );

    expect(kinds).not.toContain("drop-token");
    expect(classifyHuawei({ httpStatus: 200, code: HUAWEI_ILLEGAL_TOKEN }, NOW).kind).toBe("drop-token");
  });

  it.each([
    ["80200001", 401],
    ["80200003", 401],
    [undefined, 401],
  ])("parks a refusal of a freshly fetched access token (%s) as a credential problem", (code, httpStatus) => {
    const answer = { httpStatus, ...(code !== undefined && { code }) };

    expect(classifyHuawei(answer, NOW).kind).toBe("refresh-credential");
    expect(classifyHuawei(answer, NOW, true)).toEqual({
      kind: "credential-problem",
      reason: `Huawei ${code ?? "HTTP 401"} (refused again with a new access token)`,
    });
  });

  it("does not turn other answers into credential problems after a refresh", () => {
    expect(classifyHuawei({ httpStatus: 200, code: "80000000" }, NOW, true).kind).toBe("delivered");
    expect(classifyHuawei({ httpStatus: 500, code: "81000001" }, NOW, true).kind).toBe("retry");
  });

  it.each<[string, HuaweiAnswer, object]>([
    ["success", { httpStatus: 200, code: "80000000", message: "Success" }, { kind: "delivered" }],
    [
      "all tokens invalid: a wrong app id or project, not dead devices",
      { httpStatus: 400, code: "80300007", message: "All the tokens are invalid." },
      { kind: "credential-problem", reason: "Huawei 80300007 All the tokens are invalid." },
    ],
    [
      "no permission to send (Push Kit off, another project)",
      { httpStatus: 400, code: "80300002", message: "No permission" },
      { kind: "credential-problem", reason: "Huawei 80300002 No permission" },
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
      { stage: "oauth", httpStatus: 400, code: "1101", message: "invalid client_secret (sub_error 12304)" },
      { kind: "credential-problem", reason: "Huawei OAuth 1101 invalid client_secret (sub_error 12304)" },
    ],
    [
      "the OAuth endpoint refusing with another error",
      { stage: "oauth", httpStatus: 400, code: "1102" },
      { kind: "credential-problem", reason: "Huawei OAuth 1102" },
    ],
    [
      "the OAuth endpoint failing",
      { stage: "oauth", httpStatus: 502 },
      { kind: "retry", reason: "Huawei OAuth HTTP 502" },
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
      "HTTP 429, which Huawei does not document: too many requests now, never a daily quota",
      { httpStatus: 429, message: "Too Many Requests" },
      {
        kind: "quota",
        reason: "Huawei HTTP 429 Too Many Requests",
        retryAfterSeconds: FLOW_CONTROL_BACKOFF_SECONDS,
      },
    ],
    [
      "HTTP 429 with a Retry-After",
      { httpStatus: 429, retryAfterSeconds: 7 },
      { kind: "quota", reason: "Huawei HTTP 429", retryAfterSeconds: 7 },
    ],
    [
      "HTTP 503 flow control",
      { httpStatus: 503, message: "Flow control" },
      {
        kind: "quota",
        reason: "Huawei HTTP 503 Flow control",
        retryAfterSeconds: FLOW_CONTROL_BACKOFF_SECONDS,
      },
    ],
    [
      "HTTP 503 with Retry-After 30",
      { httpStatus: 503, retryAfterSeconds: 30 },
      { kind: "quota", reason: "Huawei HTTP 503", retryAfterSeconds: 30 },
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
    [
      "HTTP 404 without a code: the URL, so the app id, is wrong",
      { httpStatus: 404 },
      { kind: "credential-problem", reason: "Huawei HTTP 404" },
    ],
    ["HTTP 400 without a code", { httpStatus: 400 }, { kind: "bad-request", reason: "Huawei HTTP 400" }],
  ])("%s", (_, answer, outcome) => {
    expect(classifyHuawei(answer, NOW)).toEqual(outcome);
  });
});
