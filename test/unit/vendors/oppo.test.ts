import { describe, expect, it } from "vitest";
import type { DeliveryTarget, Notification, OutcomeKind } from "../../../lib/model/index.js";
import { conversationNotifyId, intentWithExt } from "../../../lib/vendors/android-text.js";
import type { OppoCredential } from "../../../lib/vendors/credentials.js";
import {
  actionParametersOf,
  buildOppoRequest,
  OPPO_ACTION_PARAMETERS_LIMIT,
  OPPO_MAX_OFFLINE_TTL_SECONDS,
  type OppoNotification,
  type OppoUnicastMessage,
  oppoRegionOf,
} from "../../../lib/vendors/oppo.js";
import { classifyOppo, RATE_LIMIT_BACKOFF_SECONDS } from "../../../lib/vendors/oppo-outcomes.js";
import { secondsUntilDailyQuotaReset } from "../../../lib/vendors/quota.js";

const SENT_AT = Date.UTC(2025, 2, 1, 8, 30, 15, 250);
const NOW = SENT_AT + 2_000;
const DAY_S = 24 * 60 * 60;
const EXT = '{"conversationID":"c2c_alice"}';
const INTENT = "intent://com.example.chatpush/chat#Intent;scheme=tpns;launchFlags=0x4000000;end";

const credential: OppoCredential = {
  certificateId: 51,
  packageName: "com.example.chatpush",
  appKey: "a".repeat(32),
  masterSecret: "not used by the builder",
  channelId: "chat_messages",
  publicChannelId: "public_messages",
};
/** A credential whose app has OPPO's strong-reminder approval. */
const approved: OppoCredential = { ...credential, notifyLevel: 16 };

function notification(overrides: Partial<Notification> = {}): Notification {
  return {
    title: "Alice",
    body: "Lunch at noon?",
    ext: EXT,
    badge: 3,
    android: { sound: "ding" },
    conversationId: "c2c_alice",
    messageKey: "144115233406627467_3_1709281815",
    sentAt: SENT_AT,
    ...overrides,
  };
}

function target(token: string): DeliveryTarget {
  return { userId: "bob", deviceId: `oppo-${token}`, token, certificateId: 51 };
}

const bob = target("CN_0123456789abcdef0123456789abcdef");

/** The request's `messages`, parsed as OPPO parses the form field. */
function messagesOf(request: ReturnType<typeof buildOppoRequest>): OppoUnicastMessage[] {
  return JSON.parse(request.body.messages) as OppoUnicastMessage[];
}

function notificationOf(
  overrides: Partial<Notification> = {},
  cred: OppoCredential = credential,
  now = NOW,
): OppoNotification {
  return messagesOf(buildOppoRequest(notification(overrides), [bob], cred, now))[0]!.notification;
}

const isWellFormed = (text: string) => Buffer.from(text, "utf8").toString("utf8") === text;

describe("buildOppoRequest envelope", () => {
  it("posts the form to unicast_batch with only `messages`: the sender adds auth_token", () => {
    const request = buildOppoRequest(notification(), [bob], credential, NOW);

    expect(request.region).toBe("cn");
    expect(request.path).toBe("/server/v1/message/notification/unicast_batch");
    expect(request.headers).toEqual({ "content-type": "application/x-www-form-urlencoded" });
    expect(Object.keys(request.body)).toEqual(["messages"]);
    expect(typeof request.body.messages).toBe("string");
  });

  it("sends one unicast message per target, in target order, addressed by registration_id", () => {
    const targets = ["CN_a1", "CN_b2", "OPPO_CN_c3"].map(target);

    const messages = messagesOf(buildOppoRequest(notification(), targets, credential, NOW));

    expect(messages.map((m) => [m.target_type, m.target_value])).toEqual([
      [2, "CN_a1"],
      [2, "CN_b2"],
      [2, "OPPO_CN_c3"],
    ]);
    expect(new Set(messages.map((m) => JSON.stringify(m.notification))).size).toBe(1);
    expect(Object.keys(messages[0]!).sort()).toEqual(["notification", "target_type", "target_value"]);
  });

  it("addresses overseas regIds to the international host, and never mixes the two in one request", () => {
    expect(
      buildOppoRequest(notification(), [target("SG_a1"), target("OPPO_US_b2")], credential, NOW).region,
    ).toBe("intl");
    expect(() =>
      buildOppoRequest(notification(), [target("CN_a1"), target("SG_b2")], credential, NOW),
    ).toThrow();
  });
});

describe("oppoRegionOf (OPPO id=11238: split on _)", () => {
  it.each([
    ["b6bbd94b59cdb5df8391642c1509b7fe", "cn"],
    ["CN_b6bbd94b59cdb5df8391642c1509b7fe", "cn"],
    ["OPPO_CN_b6bbd94b59cdb5df8391642c1509b7fe", "cn"],
    ["US_b6bbd94b59cdb5df8391642c1509b7fe", "intl"],
    ["SG_b6bbd94b59cdb5df8391642c1509b7fe", "intl"],
    ["OPPO_SG_b6bbd94b59cdb5df8391642c1509b7fe", "intl"],
    // CN only where OPPO's rule puts it: first of two, second of three, in capitals.
    ["CN_OPPO_b6bbd94b59cdb5df8391642c1509b7fe", "intl"],
    ["b6bbd94b59cdb5df8391642c1509b7fe_CN", "intl"],
    ["cn_b6bbd94b59cdb5df8391642c1509b7fe", "intl"],
    ["A_CN_B_C", "intl"],
  ] as const)("%s → %s", (regId, region) => {
    expect(oppoRegionOf(regId)).toBe(region);
  });
});

describe("buildOppoRequest notification", () => {
  it("sets every field of an IM notification that opens the app, with no notify_level by default", () => {
    expect(notificationOf()).toEqual({
      style: 1,
      title: "Alice",
      content: "Lunch at noon?",
      channel_id: "chat_messages",
      category: "IM",
      click_action_type: 0,
      action_parameters: JSON.stringify({ ext: EXT }),
      off_line: true,
      off_line_ttl: 7 * DAY_S - 2,
      notify_id: conversationNotifyId("144115233406627467_3_1709281815"),
    });
  });

  it("classifies chat as IM on the private channel: channel_id and category IM", () => {
    const fields = notificationOf({}, { ...credential, channelId: "im_private_2" });

    expect(fields.channel_id).toBe("im_private_2");
    expect(fields.category).toBe("IM");
    expect(fields).not.toHaveProperty("notify_level");
  });

  it("asks for the strong reminder (notify_level 16) only when the credential has the approval", () => {
    expect(notificationOf({}, approved).notify_level).toBe(16);
    expect(notificationOf({}, { ...credential, notifyLevel: 2 }).notify_level).toBe(2);
  });

  it("carries ext as the string extra `ext` in action_parameters, itself JSON text", () => {
    const ext = '{"conversationID":"group_@TGS#1","sender":"张三"}';

    const parameters = JSON.parse(notificationOf({ ext }).action_parameters!) as { ext: string };

    expect(parameters).toEqual({ ext });
    expect(JSON.parse(parameters.ext)).toEqual({ conversationID: "group_@TGS#1", sender: "张三" });
  });

  it("has no badge or sound field: OPPO's API offers neither", () => {
    const fields = notificationOf({ badge: 9, android: { sound: "ding" } });

    expect(JSON.stringify(fields)).not.toMatch(/badge|sound|ding/);
  });

  it("gives each message its own notify_id (collapseKeyOf): a newer one never replaces an older one", () => {
    const first = notificationOf({ messageKey: "m1" });
    const second = notificationOf({ messageKey: "m2" });
    const recall = notificationOf({ messageKey: "r1", collapseKey: "m1" });

    expect(first.notify_id).toBe(conversationNotifyId("m1"));
    expect(second.notify_id).not.toBe(first.notify_id);
    expect(recall.notify_id).toBe(first.notify_id);
  });

  it("never sends an iOS sound (or any sound): OPPO has no sound field", () => {
    const fields = notificationOf({ ios: { sound: "bell.caf" }, android: { sound: "bell" } }, approved);

    expect(JSON.stringify(fields)).not.toMatch(/bell|sound/);
  });

  it("replaces quietly: a quiet notification asks for the status bar only (notify_level 1)", () => {
    expect(notificationOf({ quiet: true }).notify_level).toBe(1);
    expect(notificationOf({ quiet: true }, approved)).toMatchObject({ notify_level: 1, category: "IM" });
  });
});

describe("buildOppoRequest purpose and sender options", () => {
  it("sends a call as IM on the private channel (OPPO's VoIP category is not open for applications)", () => {
    expect(notificationOf({ purpose: "call" }, approved)).toMatchObject({
      category: "IM",
      channel_id: "chat_messages",
      notify_level: 16,
    });
  });

  it("sends an operations push as MARKETING on the public channel, with no notify_level or template", () => {
    const fields = notificationOf({ purpose: "operations" }, { ...approved, privateTemplateId: "t1" });

    expect(fields).toMatchObject({ category: "MARKETING", channel_id: "public_messages" });
    expect(fields).not.toHaveProperty("notify_level");
    expect(fields).not.toHaveProperty("private_msg_template_id");
  });

  it("sends an operations push without channel_id when the credential has no public channel", () => {
    const { publicChannelId: _, ...privateOnly } = credential;

    expect(notificationOf({ purpose: "operations" }, privateOnly)).not.toHaveProperty("channel_id");
  });

  it("keeps an operations push the sender classified as IM on the private channel", () => {
    expect(
      notificationOf({ purpose: "operations", android: { oppoCategory: "IM" } }, approved),
    ).toMatchObject({
      category: "IM",
      channel_id: "chat_messages",
      notify_level: 16,
    });
  });

  it("lets the sender's OPPOChannelID, OPPOCategory and OPPONotifyLevel override the credential", () => {
    const fields = notificationOf(
      { android: { oppoChannelId: "orders", oppoCategory: "order", oppoNotifyLevel: 2 } },
      approved,
    );

    expect(fields).toMatchObject({ channel_id: "orders", category: "ORDER", notify_level: 2 });
  });

  it("ignores a category OPPO does not know, keeping the default", () => {
    expect(notificationOf({ android: { oppoCategory: "SHOPPING" } }).category).toBe("IM");
  });

  it("grants a sender's notify level 16 only with the credential's approval", () => {
    expect(notificationOf({ android: { oppoNotifyLevel: 16 } })).not.toHaveProperty("notify_level");
    expect(
      notificationOf({ android: { oppoNotifyLevel: 16 } }, { ...credential, notifyLevel: 2 }).notify_level,
    ).toBe(2);
    expect(notificationOf({ android: { oppoNotifyLevel: 16 } }, approved).notify_level).toBe(16);
    expect(notificationOf({ android: { oppoNotifyLevel: 8 } }, approved).notify_level).toBe(16);
  });

  it("sends the private template with its title and content parameters as JSON text", () => {
    const fields = notificationOf(
      {},
      {
        ...credential,
        privateTemplateId: "tpl-7",
        privateTitleParameters: { sender: "title" },
        privateContentParameters: { text: "body", who: "title" },
      },
    );

    expect(fields.private_msg_template_id).toBe("tpl-7");
    expect(JSON.parse(fields.private_title_parameters!)).toEqual({ sender: "Alice" });
    expect(JSON.parse(fields.private_content_parameters!)).toEqual({ text: "Lunch at noon?", who: "Alice" });
  });
});

describe("actionParametersOf (OPPO's 4000 characters)", () => {
  it("carries ext whole when it fits", () => {
    expect(actionParametersOf(EXT)).toBe(JSON.stringify({ ext: EXT }));
  });

  it("keeps only the conversationID of an ext too long for 4000 characters, never a cut JSON", () => {
    const ext = JSON.stringify({ conversationID: "group_@TGS#1", blob: "字".repeat(5000) });

    const parameters = actionParametersOf(ext)!;

    expect(parameters.length).toBeLessThanOrEqual(OPPO_ACTION_PARAMETERS_LIMIT);
    expect(JSON.parse(JSON.parse(parameters).ext)).toEqual({ conversationID: "group_@TGS#1" });
  });

  it("sends no action_parameters at all when nothing of ext fits", () => {
    const ext = `not json ${"x".repeat(5000)}`;

    expect(actionParametersOf(ext)).toBeUndefined();
    expect(notificationOf({ ext })).not.toHaveProperty("action_parameters");
  });
});

describe("buildOppoRequest click action", () => {
  it("opens the app (type 0) when the credential names no intent and no activity", () => {
    const fields = notificationOf();

    expect(fields.click_action_type).toBe(0);
    expect(fields).not.toHaveProperty("click_action_url");
    expect(fields).not.toHaveProperty("click_action_activity");
  });

  it("opens clickIntent with ext as an intent scheme URL (type 5, click_action_url)", () => {
    const fields = notificationOf({}, { ...credential, clickIntent: INTENT });

    expect(fields.click_action_type).toBe(5);
    expect(fields.click_action_url).toBe(intentWithExt(INTENT, EXT));
    expect(fields.click_action_url).toContain(`S.ext=${encodeURIComponent(EXT)};end`);
    expect(fields).not.toHaveProperty("click_action_activity");
    expect(JSON.parse(fields.action_parameters!)).toEqual({ ext: EXT });
  });

  it("opens clickActivity (type 1, click_action_activity) when no intent is set", () => {
    const fields = notificationOf({}, { ...credential, clickActivity: "com.example.chatpush.OPEN_CHAT" });

    expect(fields.click_action_type).toBe(1);
    expect(fields.click_action_activity).toBe("com.example.chatpush.OPEN_CHAT");
    expect(fields).not.toHaveProperty("click_action_url");
  });

  it("prefers the intent when both are set", () => {
    const fields = notificationOf({}, { ...credential, clickIntent: INTENT, clickActivity: "OPEN_CHAT" });

    expect(fields.click_action_type).toBe(5);
  });

  it("falls back to the activity, else the app, when the intent with ext would pass 2000 characters", () => {
    const ext = JSON.stringify({ conversationID: "c2c_alice", blob: "字".repeat(300) });
    expect(intentWithExt(INTENT, ext).length).toBeGreaterThan(2000);

    const withActivity = notificationOf(
      { ext },
      { ...credential, clickIntent: INTENT, clickActivity: "OPEN" },
    );
    const withoutActivity = notificationOf({ ext }, { ...credential, clickIntent: INTENT });

    expect(withActivity).toMatchObject({ click_action_type: 1, click_action_activity: "OPEN" });
    expect(withoutActivity.click_action_type).toBe(0);
    expect(withoutActivity).not.toHaveProperty("click_action_url");
    expect(JSON.parse(withoutActivity.action_parameters!)).toEqual({ ext });
  });
});

describe("buildOppoRequest trimming to 50 characters (Tencent's OPPO limits)", () => {
  it("keeps a title and body of exactly 50 UTF-16 units as they are", () => {
    const text = "x".repeat(50);

    const fields = notificationOf({ title: text, body: text });

    expect([fields.title, fields.content]).toEqual([text, text]);
  });

  it.each([
    ["CJK", "汉"],
    ["4-byte emoji (surrogate pairs)", "😀"],
    ["ASCII", "a"],
  ])("cuts a long title and body of %s to at most 50 units on a code-point boundary, with …", (_, unit) => {
    const original = unit.repeat(80);

    const fields = notificationOf({ title: original, body: original });

    for (const text of [fields.title, fields.content]) {
      expect(text.length).toBeLessThanOrEqual(50);
      expect(text.endsWith("…")).toBe(true);
      expect(isWellFormed(text)).toBe(true);
      expect(original.startsWith(text.slice(0, -1))).toBe(true);
      // As long as fits: one more code point would pass 50.
      expect(text.length - 1 + unit.length).toBeGreaterThan(49);
    }
  });
});

describe("buildOppoRequest off_line_ttl", () => {
  it("asks OPPO to store the message for what remains of Tencent's 7 days", () => {
    const sixDaysLater = SENT_AT + 6 * DAY_S * 1000;

    expect(notificationOf({}, credential, sixDaysLater)).toMatchObject({
      off_line: true,
      off_line_ttl: DAY_S,
    });
  });

  it("sends online-only (off_line false, no ttl) once the 7 days have passed", () => {
    const eightDaysLater = SENT_AT + 8 * DAY_S * 1000;

    const fields = notificationOf({}, credential, eightDaysLater);

    expect(fields.off_line).toBe(false);
    expect(fields).not.toHaveProperty("off_line_ttl");
  });

  it("never asks for more than OPPO's 10 days, even when sentAt is ahead of this clock", () => {
    const fields = notificationOf({ sentAt: NOW + 5 * DAY_S * 1000 });

    expect(fields.off_line_ttl).toBe(OPPO_MAX_OFFLINE_TTL_SECONDS);
    expect(OPPO_MAX_OFFLINE_TTL_SECONDS).toBe(10 * DAY_S);
  });
});

describe("classifyOppo", () => {
  // vendors.md §5 "Response codes" and OPPO's code page, code by code.
  const table: [code: number, kind: OutcomeKind][] = [
    [0, "delivered"],
    [-2, "retry"],
    [-1, "retry"],
    [11, "refresh-credential"],
    [29, "refresh-credential"],
    [12, "bad-request"],
    [13, "quota"],
    [55, "quota"],
    [14, "credential-problem"],
    [15, "bad-request"],
    [16, "credential-problem"],
    [17, "bad-request"],
    [18, "bad-request"],
    [19, "retry"],
    [20, "bad-request"],
    [21, "bad-request"],
    [22, "bad-request"],
    [23, "bad-request"],
    [24, "bad-request"],
    [25, "bad-request"],
    [26, "credential-problem"],
    [27, "credential-problem"],
    [28, "credential-problem"],
    [30, "credential-problem"],
    [31, "bad-request"],
    [32, "bad-request"],
    [33, "quota"],
    [34, "quota"],
    [40, "bad-request"],
    [41, "bad-request"],
    [51, "bad-request"],
    [54, "credential-problem"],
    [59, "bad-request"],
    [67, "credential-problem"],
    [10000, "drop-token"],
    // Codes OPPO has not documented (yet).
    [99, "bad-request"],
    [10001, "bad-request"],
  ];

  it.each(table)("code %i → %s", (code, kind) => {
    expect(classifyOppo({ code, httpStatus: 200 }, NOW).kind).toBe(kind);
  });

  it.each([
    [
      { code: 10000, message: "Invalid Registration_id", httpStatus: 200 },
      "OPPO 10000 Invalid Registration_id",
    ],
    [{ code: 16, message: "Invalid Signature", httpStatus: 200 }, "OPPO 16 Invalid Signature"],
    [{ code: 41, httpStatus: 200 }, "OPPO 41"],
    [{ httpStatus: 502, message: "Bad Gateway" }, "OPPO HTTP 502 Bad Gateway"],
    [{ message: "fetch failed: ECONNREFUSED" }, "OPPO network fetch failed: ECONNREFUSED"],
  ])("reads %o as %s", (answer, reason) => {
    expect(classifyOppo(answer, NOW)).toMatchObject({ reason });
  });

  it("holds a daily-limit answer (33) until the next midnight in Beijing", () => {
    // 08:30:17 UTC = 16:30:17 in Beijing: 7 h 29 min 43 s to midnight.
    const outcome = classifyOppo({ code: 33, httpStatus: 200 }, NOW);

    expect(outcome).toEqual({
      kind: "quota",
      reason: "OPPO 33",
      retryAfterSeconds: 7 * 3600 + 29 * 60 + 43,
    });
    expect(secondsUntilDailyQuotaReset(NOW)).toBe(7 * 3600 + 29 * 60 + 43);
  });

  it("ignores Retry-After on a daily-limit answer: the day's cap does not lift sooner", () => {
    expect(classifyOppo({ code: 33, retryAfterSeconds: 5 }, NOW)).toMatchObject({
      retryAfterSeconds: secondsUntilDailyQuotaReset(NOW),
    });
  });

  it("waits a short while after a rate limit (13, 55, HTTP 429), honouring Retry-After", () => {
    expect(classifyOppo({ code: 55, httpStatus: 200 }, NOW)).toEqual({
      kind: "quota",
      reason: "OPPO 55",
      retryAfterSeconds: RATE_LIMIT_BACKOFF_SECONDS,
    });
    expect(classifyOppo({ code: 13, retryAfterSeconds: 7 }, NOW)).toMatchObject({ retryAfterSeconds: 7 });
    expect(classifyOppo({ httpStatus: 429 }, NOW)).toMatchObject({ kind: "quota", retryAfterSeconds: 60 });
  });

  it("passes Retry-After through on retry outcomes only", () => {
    expect(classifyOppo({ code: -2, httpStatus: 503, retryAfterSeconds: 30 }, NOW)).toEqual({
      kind: "retry",
      reason: "OPPO -2",
      retryAfterSeconds: 30,
    });
    expect(classifyOppo({ code: -1, httpStatus: 500 }, NOW)).toEqual({ kind: "retry", reason: "OPPO -1" });
    expect(classifyOppo({ code: 10000, retryAfterSeconds: 30 }, NOW)).not.toHaveProperty("retryAfterSeconds");
  });

  it.each<[string, Parameters<typeof classifyOppo>[0], OutcomeKind]>([
    ["no HTTP answer at all", { message: "The operation was aborted due to timeout" }, "retry"],
    ["a 502 from a proxy", { httpStatus: 502 }, "retry"],
    ["an undocumented code with a 503", { code: 999, httpStatus: 503 }, "retry"],
    ["a 200 whose body was not OPPO's JSON", { httpStatus: 200 }, "retry"],
    ["a 404 without a code", { httpStatus: 404 }, "bad-request"],
  ])("falls back on the HTTP status for %s", (_, answer, kind) => {
    expect(classifyOppo(answer, NOW).kind).toBe(kind);
  });
});
