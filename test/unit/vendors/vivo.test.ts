import { describe, expect, it } from "vitest";
import type { DeliveryTarget, Notification, Outcome } from "../../../lib/model/index.js";
import { conversationNotifyId } from "../../../lib/vendors/android-text.js";
import type { VivoCredential } from "../../../lib/vendors/credentials.js";
import {
  buildVivoRequest,
  VIVO_CONTENT_LIMIT,
  VIVO_TITLE_LIMIT,
  type VivoMessage,
  type VivoRequest,
  vivoAppId,
  vivoClassificationOf,
  vivoTextWidth,
} from "../../../lib/vendors/vivo.js";
import { classifyVivo, type VivoAnswer } from "../../../lib/vendors/vivo-outcomes.js";

const SENT_AT = Date.UTC(2025, 2, 1, 8, 30, 15, 250);
const NOW = SENT_AT + 2_000;
const DAY_MS = 24 * 60 * 60 * 1000;
/** Tencent's 7 days less the 2 s since sending: within vivo's 7-day maximum. */
const WEEK_LEFT = 7 * 86_400 - 2;
const MESSAGE_KEY = "144115233406627467_3_1709281815";
const EXT = '{"conversationID":"c2c_alice"}';
const INTENT = "intent://com.example.chat/chat#Intent;scheme=tim;launchFlags=0x4000000;end";

const credential: VivoCredential = {
  certificateId: 51,
  packageName: "com.example.chat",
  appId: "105123456",
  appKey: "not used by the builder",
  appSecret: "not used by the builder",
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

const ALICE_PHONE = "15549916920801181106979";
const BOB_PHONE = "15549916920801181106980";
const CAROL_PHONE = "15549916920801181106981";

function single(request: VivoRequest) {
  if (request.kind !== "send") throw new Error(`expected a single send, got ${request.kind}`);
  return request;
}

function list(request: VivoRequest) {
  if (request.kind !== "list") throw new Error(`expected a list send, got ${request.kind}`);
  return request;
}

/** The message fields of a request, whichever endpoint carries them. */
function messageOf(request: VivoRequest): VivoMessage {
  return request.kind === "send" ? request.body : request.save.body;
}

const oneTarget = (n = notification(), c = credential, now = NOW) =>
  buildVivoRequest(n, targets(ALICE_PHONE), c, now);
const threeTargets = (n = notification(), c = credential, now = NOW) =>
  buildVivoRequest(n, targets(ALICE_PHONE, BOB_PHONE, CAROL_PHONE), c, now);

describe("buildVivoRequest for one target: /message/send", () => {
  it("sends vivo's documented fields, and nothing else", () => {
    const request = single(oneTarget());

    expect(request).toStrictEqual({
      kind: "send",
      path: "/message/send",
      headers: { "content-type": "application/json" },
      body: {
        // vivo's appId is an int (doc 362 "appId int"; SDK getToken(int appId, …)).
        appId: 105123456,
        regId: ALICE_PHONE,
        notifyType: 4,
        title: "Alice",
        content: "Lunch at noon?",
        timeToLive: WEEK_LEFT,
        skipType: 1,
        classification: 1,
        category: "IM",
        clientCustomMap: { ext: EXT },
        requestId: expect.stringMatching(/^[0-9a-f]{64}$/),
        pushMode: 0,
        notifyId: conversationNotifyId(MESSAGE_KEY),
      },
    });
  });

  it("has no badge or sound field (vivo has none), never names an iOS or Android sound, and keeps notifyType 4", () => {
    const body = single(
      oneTarget(notification({ badge: 9, android: { sound: "ding" }, ios: { sound: "bell.caf" } })),
    ).body;

    expect(Object.keys(body).filter((key) => /badge|sound/i.test(key))).toEqual([]);
    expect(JSON.stringify(body)).not.toMatch(/bell|ding/);
    expect(body.notifyType).toBe(4);
  });
});

describe("buildVivoRequest for several targets: saveListPayload then pushToList", () => {
  it("saves the message without targets, then pushes to the regIds in order", () => {
    const request = list(threeTargets());

    expect(request.save).toStrictEqual({
      path: "/message/saveListPayload",
      headers: { "content-type": "application/json" },
      body: {
        appId: 105123456,
        notifyType: 4,
        title: "Alice",
        content: "Lunch at noon?",
        timeToLive: WEEK_LEFT,
        skipType: 1,
        classification: 1,
        category: "IM",
        clientCustomMap: { ext: EXT },
        requestId: expect.stringMatching(/^[0-9a-f]{64}$/),
        pushMode: 0,
        notifyId: conversationNotifyId(MESSAGE_KEY),
      },
    });
    expect(request.push).toStrictEqual({
      path: "/message/pushToList",
      headers: { "content-type": "application/json" },
      body: {
        appId: 105123456,
        regIds: [ALICE_PHONE, BOB_PHONE, CAROL_PHONE],
        requestId: expect.stringMatching(/^[0-9a-f]{64}$/),
        pushMode: 0,
      },
    });
  });

  it("uses a list send from two targets on (pushToList needs at least two)", () => {
    expect(buildVivoRequest(notification(), targets(ALICE_PHONE, BOB_PHONE), credential, NOW).kind).toBe(
      "list",
    );
  });
});

describe("IM classification", () => {
  it.each([
    ["one target", oneTarget],
    ["several targets", threeTargets],
  ])("marks the message as a system message in the IM category (%s)", (_, build) => {
    const message = messageOf(build());

    expect(message.classification).toBe(1);
    expect(message.category).toBe("IM");
  });
});

describe("test mode", () => {
  const testCredential = { ...credential, testMode: true };

  it("sends pushMode 1 on /message/send", () => {
    expect(single(oneTarget(notification(), testCredential)).body.pushMode).toBe(1);
  });

  it("sends pushMode 1 on both list requests", () => {
    const request = list(threeTargets(notification(), testCredential));

    expect(request.save.body.pushMode).toBe(1);
    expect(request.push.body.pushMode).toBe(1);
  });
});

describe("click action", () => {
  const withIntent = { ...credential, clickIntent: INTENT };

  it("opens the app (skipType 1) when the credential names no intent", () => {
    const message = messageOf(threeTargets());

    expect(message.skipType).toBe(1);
    expect(message).not.toHaveProperty("skipContent");
  });

  it.each([
    ["one target", oneTarget],
    ["several targets", threeTargets],
  ])("opens the click intent with ext as a string extra (skipType 4, %s)", (_, build) => {
    const message = messageOf(build(notification(), withIntent));

    expect(message.skipType).toBe(4);
    expect(message.skipContent).toBe(
      "intent://com.example.chat/chat#Intent;scheme=tim;launchFlags=0x4000000;" +
        "S.ext=%7B%22conversationID%22%3A%22c2c_alice%22%7D;end",
    );
  });

  it("always carries ext in clientCustomMap as well, with or without an intent", () => {
    expect(messageOf(oneTarget()).clientCustomMap).toEqual({ ext: EXT });
    expect(messageOf(threeTargets(notification(), withIntent)).clientCustomMap).toEqual({ ext: EXT });
  });

  it("opens the intent with just the conversation when the whole ext would push skipContent over 1024", () => {
    const ext = JSON.stringify({ conversationID: "c2c_alice", blob: "x".repeat(900) });

    const message = messageOf(oneTarget(notification({ ext }), withIntent));

    expect(message.skipType).toBe(4);
    expect(message.skipContent).toBe(
      `${INTENT.slice(0, -"end".length)}S.ext=%7B%22conversationID%22%3A%22c2c_alice%22%7D;end`,
    );
    expect(message.clientCustomMap).toEqual({ ext });
  });

  it("opens the bare intent when not even the conversation fits, rather than be refused", () => {
    const ext = JSON.stringify({ blob: "x".repeat(1100) });

    const message = messageOf(oneTarget(notification({ ext }), withIntent));

    expect(message.skipContent).toBe(INTENT);
  });
});

describe("title and content trimming", () => {
  const title = (text: string) => messageOf(oneTarget(notification({ title: text }))).title;
  const content = (text: string) => messageOf(oneTarget(notification({ body: text }))).content;

  it("keeps text at exactly vivo's limit as it is", () => {
    expect(title("a".repeat(40))).toBe("a".repeat(40));
    expect(title("汉".repeat(20))).toBe("汉".repeat(20));
    expect(content("b".repeat(100))).toBe("b".repeat(100));
    expect(content("文".repeat(50))).toBe("文".repeat(50));
  });

  it("keeps 40 letters of any non-CJK script: vivo counts characters, not bytes, and only CJK twice", () => {
    expect(title("ж".repeat(40))).toBe("ж".repeat(40));
    expect(title("é".repeat(40))).toBe("é".repeat(40));
    expect(title("안".repeat(40))).toBe("안".repeat(40));
    expect(content("ß".repeat(100))).toBe("ß".repeat(100));
  });

  it.each([
    // The ellipsis is general punctuation, which vivo counts two.
    ["ASCII", "a".repeat(60), `${"a".repeat(38)}…`],
    ["Cyrillic", "ж".repeat(60), `${"ж".repeat(38)}…`],
    ["Chinese, two each: 20 汉字 at most", "汉".repeat(30), `${"汉".repeat(19)}…`],
    ["emoji, two UTF-16 units each, never split", "😀".repeat(30), `${"😀".repeat(19)}…`],
    ["mixed", `Alice: ${"你好".repeat(20)}`, `Alice: ${"你好".repeat(7)}你…`],
  ])("cuts a long %s title to 40 with …", (_, text, expected) => {
    const cut = title(text);

    expect(cut).toBe(expected);
    expect(vivoTextWidth(cut)).toBeLessThanOrEqual(VIVO_TITLE_LIMIT);
  });

  it.each([
    ["ASCII", "b".repeat(150), `${"b".repeat(98)}…`],
    ["Chinese", "文".repeat(60), `${"文".repeat(49)}…`],
    ["emoji", "🍜".repeat(80), `${"🍜".repeat(49)}…`],
  ])("cuts a long %s body to 100 with …", (_, text, expected) => {
    const cut = content(text);

    expect(cut).toBe(expected);
    expect(vivoTextWidth(cut)).toBeLessThanOrEqual(VIVO_CONTENT_LIMIT);
  });

  it("counts as vivo's SDK does: UTF-16 units, with CJK, CJK and general punctuation and full-width forms twice", () => {
    expect(vivoTextWidth("abc")).toBe(3);
    expect(vivoTextWidth("汉字")).toBe(4);
    expect(vivoTextWidth("，。")).toBe(4);
    expect(vivoTextWidth("“…”")).toBe(6);
    expect(vivoTextWidth("Ａ")).toBe(2);
    expect(vivoTextWidth("é")).toBe(1);
    expect(vivoTextWidth("ж")).toBe(1);
    expect(vivoTextWidth("😀")).toBe(2);
  });
});

describe("timeToLive", () => {
  const ttl = (now: number, build = oneTarget) =>
    messageOf(build(notification(), credential, now)).timeToLive;

  it("is what remains of Tencent's 7 days, vivo's 7-day maximum (SDK MAX_TIME_TO_LIVE 604800)", () => {
    expect(ttl(NOW)).toBe(WEEK_LEFT);
    expect(ttl(SENT_AT)).toBe(604_800);
    expect(ttl(SENT_AT + 6.5 * DAY_MS)).toBe(43_200);
  });

  it("never goes below 60 s for /message/send (SINGLE_MIN_TIME_TO_LIVE)", () => {
    expect(ttl(SENT_AT + 7 * DAY_MS - 30_000)).toBe(60);
    expect(ttl(SENT_AT + 8 * DAY_MS)).toBe(60);
  });

  it("never goes below 900 s for a list message (MIN_TIME_TO_LIVE)", () => {
    expect(ttl(SENT_AT + 7 * DAY_MS - 120_000, threeTargets)).toBe(900);
    expect(ttl(SENT_AT + 8 * DAY_MS, threeTargets)).toBe(900);
    expect(ttl(SENT_AT + 6.5 * DAY_MS, threeTargets)).toBe(43_200);
  });

  it("lasts only as long as a call rings, within vivo's minimums", () => {
    const call = {
      action: "ring" as const,
      inviteId: "invite-1",
      callerId: "alice",
      callerName: "Alice",
      media: "video" as const,
      invitees: ["bob"],
      timeoutSeconds: 30,
      invitedAt: SENT_AT,
    };
    const ring = (build: typeof oneTarget) =>
      messageOf(build(notification({ purpose: "call", call }))).timeToLive;

    expect(ring(oneTarget)).toBe(60);
    expect(ring(threeTargets)).toBe(900);
  });
});

describe("clientCustomMap (vivo: keys and values together at most 1024 characters)", () => {
  const mapOf = (ext: string, build = oneTarget) => messageOf(build(notification({ ext }))).clientCustomMap;

  it('carries ext whole while "ext" and its value fit 1024 characters', () => {
    const ext = JSON.stringify({ conversationID: "c2c_alice", pad: "p".repeat(1021 - 39) });
    expect(ext.length).toBe(1021);

    expect(mapOf(ext)).toEqual({ ext });
  });

  it.each([
    ["one target", oneTarget],
    ["several targets", threeTargets],
  ])("keeps just the conversation to open when the whole ext is too long (%s)", (_, build) => {
    const ext = JSON.stringify({ conversationID: "group_@TGS#1", pad: "p".repeat(1100) });

    expect(mapOf(ext, build)).toEqual({ ext: '{"conversationID":"group_@TGS#1"}' });
  });

  it("sends no map rather than cut JSON when not even the conversation fits", () => {
    expect(messageOf(oneTarget(notification({ ext: "x".repeat(1100) })))).not.toHaveProperty(
      "clientCustomMap",
    );
  });
});

describe("appId", () => {
  it("is vivo's number, from digits or a number in the credential", () => {
    expect(vivoAppId({ appId: "105123456" })).toBe(105123456);
    expect(vivoAppId({ appId: " 105123456 " })).toBe(105123456);
    expect(vivoAppId({ appId: 105123456 })).toBe(105123456);
    expect(single(oneTarget(notification(), { ...credential, appId: 105123457 })).body.appId).toBe(105123457);
  });

  it.each(["com.example.chat", "", "10512345x", "-5", "1e9"])("refuses %j", (appId) => {
    expect(vivoAppId({ appId })).toBeUndefined();
    expect(() => oneTarget(notification(), { ...credential, appId })).toThrow(/not a number/);
  });
});

describe("classification: purpose and the sender's overrides", () => {
  it.each<[string, Partial<Notification>, { classification: 0 | 1; category: string }]>([
    ["a chat message", {}, { classification: 1, category: "IM" }],
    ["a call", { purpose: "call" }, { classification: 1, category: "IM" }],
    ["an operations push", { purpose: "operations" }, { classification: 0, category: "MARKETING" }],
    [
      "an operations push the sender classified as IM (VIVOCategory)",
      { purpose: "operations", android: { vivoCategory: "IM" } },
      { classification: 1, category: "IM" },
    ],
    [
      "an operations push the sender classified as a system message (VIVOClassification 1)",
      { purpose: "operations", android: { vivoClassification: 1 } },
      { classification: 1, category: "IM" },
    ],
    [
      "a chat message the sender marked operational",
      { android: { vivoClassification: 0 } },
      { classification: 0, category: "MARKETING" },
    ],
    [
      "a category of vivo's, in any case",
      { android: { vivoCategory: "order" } },
      { classification: 1, category: "ORDER" },
    ],
    [
      "an operation category, whose class wins over a contradicting VIVOClassification",
      { android: { vivoCategory: "NEWS", vivoClassification: 1 } },
      { classification: 0, category: "NEWS" },
    ],
    [
      "a category vivo does not know (ignored rather than refused with 10096)",
      { purpose: "operations", android: { vivoCategory: "CHAT" } },
      { classification: 0, category: "MARKETING" },
    ],
  ])("%s", (_, overrides, expected) => {
    expect(vivoClassificationOf(notification(overrides))).toEqual(expected);
    expect(messageOf(threeTargets(notification(overrides)))).toMatchObject(expected);
  });
});

describe("quiet replacement (a recall)", () => {
  it("makes no sound or vibration (notifyType 1) and replaces the recalled message's notification", () => {
    const recall = notification({
      messageKey: `${MESSAGE_KEY}:recall`,
      collapseKey: MESSAGE_KEY,
      quiet: true,
    });

    for (const message of [messageOf(oneTarget(recall)), messageOf(threeTargets(recall))]) {
      expect(message.notifyType).toBe(1);
      expect(message.notifyId).toBe(messageOf(oneTarget()).notifyId);
      // Still the IM class it replaces.
      expect(message).toMatchObject({ classification: 1, category: "IM" });
    }
  });
});

describe("notifyId (from collapseKeyOf, per message)", () => {
  it("is the message's own: a newer message in the conversation does not replace an older one", () => {
    const first = messageOf(oneTarget(notification({ messageKey: "m1" }))).notifyId;
    const second = messageOf(threeTargets(notification({ messageKey: "m2" }))).notifyId;

    expect(first).toBe(conversationNotifyId("m1"));
    expect(second).toBe(conversationNotifyId("m2"));
    expect(second).not.toBe(first);
  });

  it("is the collapse key's when the notification names one, whatever the conversation", () => {
    const replacement = messageOf(oneTarget(notification({ messageKey: "m1:recall", collapseKey: "m1" })));
    const elsewhere = messageOf(
      oneTarget(notification({ messageKey: "m1", conversationId: "group_@TGS#1" })),
    );

    expect(replacement.notifyId).toBe(conversationNotifyId("m1"));
    expect(elsewhere.notifyId).toBe(conversationNotifyId("m1"));
  });
});

describe("requestId (stable per message, credential and target set)", () => {
  it("is the same for the same message and chunk, so a resend is de-duplicated by vivo", () => {
    expect(single(oneTarget()).body.requestId).toBe(single(oneTarget()).body.requestId);
    expect(list(threeTargets()).push.body.requestId).toBe(list(threeTargets()).push.body.requestId);
  });

  it("does not depend on the order of the targets, nor on the time of sending", () => {
    const reordered = list(
      buildVivoRequest(
        notification(),
        targets(CAROL_PHONE, ALICE_PHONE, BOB_PHONE),
        credential,
        NOW + DAY_MS,
      ),
    );

    expect(reordered.push.body.requestId).toBe(list(threeTargets()).push.body.requestId);
    expect(reordered.save.body.requestId).toBe(list(threeTargets()).save.body.requestId);
  });

  it("differs between messages, replacements, credentials, target sets and the two list endpoints", () => {
    const base = list(threeTargets());
    const ids = [
      base.save.body.requestId,
      base.push.body.requestId,
      list(threeTargets(notification({ messageKey: "other" }))).push.body.requestId,
      list(threeTargets(notification({ collapseKey: "older-message" }))).push.body.requestId,
      list(threeTargets(notification({ quiet: true }))).push.body.requestId,
      list(threeTargets(notification(), { ...credential, appId: "105123457" })).push.body.requestId,
      list(buildVivoRequest(notification(), targets(ALICE_PHONE, BOB_PHONE), credential, NOW)).push.body
        .requestId,
      single(oneTarget()).body.requestId,
    ];

    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id.length).toBeLessThanOrEqual(64);
  });
});

describe("classifyVivo", () => {
  // 08:30 UTC is 16:30 in Beijing: 7.5 h to the quota reset.
  const AT = Date.UTC(2025, 2, 1, 8, 30);
  const SECONDS_TO_BEIJING_MIDNIGHT = 27_000;
  const ok = { httpStatus: 200 };

  // vendors.md §6 "Codes", row by row, then the HTTP fallbacks.
  const table: [name: string, answer: VivoAnswer, outcome: Outcome][] = [
    [
      "0 success",
      { ...ok, result: 0, desc: "请求成功", taskId: "1234" },
      { kind: "delivered", vendorId: "1234" },
    ],
    [
      "10302 without invalidUser",
      { ...ok, result: 10302, desc: "regId 不合法" },
      // Nothing says which regId or why: parked, no device removed.
      { kind: "bad-request", reason: "vivo 10302 regId 不合法" },
    ],
    [
      "invalidUser status 1",
      { ...ok, result: 10302, invalidUserStatus: 1 },
      { kind: "drop-token", reason: "vivo 10302 invalidUser status 1: regId does not exist" },
    ],
    [
      "invalidUser status 2",
      { ...ok, result: 0, invalidUserStatus: 2 },
      // Uninstalled or switched off, vivo does not say which: kept and counted, neither retried nor parked.
      {
        kind: "declined",
        reason: "vivo 10302 invalidUser status 2: app uninstalled or notifications switched off",
      },
    ],
    [
      "invalidUser status 3",
      { ...ok, result: 0, invalidUserStatus: 3 },
      { kind: "drop-token", reason: "vivo 10302 invalidUser status 3: offline for 90 days" },
    ],
    [
      "invalidUser status 4",
      { ...ok, result: 0, invalidUserStatus: 4 },
      {
        kind: "credential-problem",
        reason: "vivo 10302 invalidUser status 4: not a test device (pushMode 1)",
      },
    ],
    [
      "an undocumented invalidUser status",
      { ...ok, result: 0, invalidUserStatus: 7 },
      { kind: "bad-request", reason: "vivo 10302 invalidUser status 7: unknown status" },
    ],
    [
      "10000 auth failed",
      { ...ok, result: 10000, desc: "权限认证失败" },
      { kind: "refresh-credential", reason: "vivo 10000 权限认证失败" },
    ],
    ["10094 appId mismatch", { ...ok, result: 10094 }, { kind: "credential-problem", reason: "vivo 10094" }],
    [
      "10096 category invalid",
      { ...ok, result: 10096 },
      { kind: "credential-problem", reason: "vivo 10096" },
    ],
    [
      "10097 category mismatch",
      { ...ok, result: 10097 },
      { kind: "credential-problem", reason: "vivo 10097" },
    ],
    [
      "10054 notifyType invalid (the SDK's NOTIFY_TYPE_INVALID, not a rate limit)",
      { ...ok, result: 10054 },
      { kind: "bad-request", reason: "vivo 10054" },
    ],
    ["10056 title too long", { ...ok, result: 10056 }, { kind: "bad-request", reason: "vivo 10056" }],
    ["10059 timeToLive invalid", { ...ok, result: 10059 }, { kind: "bad-request", reason: "vivo 10059" }],
    ["10153 regIds size", { ...ok, result: 10153 }, { kind: "bad-request", reason: "vivo 10153" }],
    [
      "10200 parameters",
      { ...ok, result: 10200, desc: "参数不合法" },
      { kind: "bad-request", reason: "vivo 10200 参数不合法" },
    ],
    ["10250 batch parameters", { ...ok, result: 10250 }, { kind: "bad-request", reason: "vivo 10250" }],
    [
      "10252 the day's list messages used up",
      { ...ok, result: 10252 },
      { kind: "quota", reason: "vivo 10252", retryAfterSeconds: SECONDS_TO_BEIJING_MIDNIGHT },
    ],
    ["10299 parameters", { ...ok, result: 10299 }, { kind: "bad-request", reason: "vivo 10299" }],
    [
      "10070 daily limit",
      { ...ok, result: 10070, desc: "超过当日推送总量限制" },
      {
        kind: "quota",
        reason: "vivo 10070 超过当日推送总量限制",
        retryAfterSeconds: SECONDS_TO_BEIJING_MIDNIGHT,
      },
    ],
    [
      "10254 all-push limit",
      { ...ok, result: 10254 },
      { kind: "quota", reason: "vivo 10254", retryAfterSeconds: SECONDS_TO_BEIJING_MIDNIGHT },
    ],
    [
      "10072 too fast",
      { ...ok, result: 10072 },
      { kind: "quota", reason: "vivo 10072", retryAfterSeconds: 60 },
    ],
    [
      "auth refused (wrong appKey or sign)",
      { stage: "auth", ...ok, result: 10000, desc: "权限认证失败" },
      { kind: "credential-problem", reason: "vivo auth 10000 权限认证失败" },
    ],
    [
      "auth parameter refused",
      { stage: "auth", ...ok, result: 10200, desc: "appId 不能为空" },
      { kind: "credential-problem", reason: "vivo auth 10200 appId 不能为空" },
    ],
    [
      "auth rate limit",
      { stage: "auth", ...ok, result: 10072 },
      { kind: "quota", reason: "vivo auth 10072", retryAfterSeconds: 60 },
    ],
    [
      "auth endpoint down",
      { stage: "auth", httpStatus: 503, desc: "Service Unavailable" },
      { kind: "retry", reason: "vivo auth 503 Service Unavailable" },
    ],
    [
      "auth endpoint unreachable",
      { stage: "auth", desc: "fetch failed" },
      { kind: "retry", reason: "vivo auth network fetch failed" },
    ],
    [
      "auth answered 404 (a wrong URL)",
      { stage: "auth", httpStatus: 404, desc: "Not Found" },
      { kind: "credential-problem", reason: "vivo auth 404 Not Found" },
    ],
    [
      "10072 with Retry-After",
      { ...ok, result: 10072, retryAfterSeconds: 5 },
      { kind: "quota", reason: "vivo 10072", retryAfterSeconds: 5 },
    ],
    [
      "an undocumented code on HTTP 200",
      { ...ok, result: 19999, desc: "新错误" },
      { kind: "bad-request", reason: "vivo 19999 新错误" },
    ],
    [
      "an undocumented code on HTTP 500",
      { httpStatus: 500, result: 19999 },
      { kind: "retry", reason: "vivo 19999" },
    ],
    [
      "HTTP 503",
      { httpStatus: 503, desc: "Service Unavailable" },
      { kind: "retry", reason: "vivo 503 Service Unavailable" },
    ],
    [
      "HTTP 503 with Retry-After",
      { httpStatus: 503, desc: "Service Unavailable", retryAfterSeconds: 30 },
      { kind: "retry", reason: "vivo 503 Service Unavailable", retryAfterSeconds: 30 },
    ],
    ["HTTP 500", { httpStatus: 500 }, { kind: "retry", reason: "vivo 500" }],
    [
      "HTTP 429",
      { httpStatus: 429, desc: "Too Many Requests" },
      { kind: "quota", reason: "vivo 429 Too Many Requests", retryAfterSeconds: 60 },
    ],
    [
      "HTTP 200 that is not vivo's JSON",
      { httpStatus: 200, desc: "OK" },
      { kind: "retry", reason: "vivo 200 OK" },
    ],
    [
      "HTTP 404",
      { httpStatus: 404, desc: "Not Found" },
      { kind: "bad-request", reason: "vivo 404 Not Found" },
    ],
    [
      "no answer at all",
      { desc: "connect ECONNREFUSED 127.0.0.1:9" },
      { kind: "retry", reason: "vivo network connect ECONNREFUSED 127.0.0.1:9" },
    ],
  ];

  it.each(table)("%s", (_, answer, outcome) => {
    expect(classifyVivo(answer, AT)).toEqual(outcome);
  });

  it("counts the daily reset from now", () => {
    const justBeforeMidnight = Date.UTC(2025, 2, 1, 15, 59, 50);

    expect(classifyVivo({ ...ok, result: 10070 }, justBeforeMidnight)).toMatchObject({
      retryAfterSeconds: 10,
    });
  });
});
