import { describe, expect, it } from "vitest";
import type { Notification, OutcomeKind } from "../../../lib/model/index.js";
import { conversationNotifyId } from "../../../lib/vendors/android-text.js";
import type { XiaomiCredential } from "../../../lib/vendors/credentials.js";
import {
  buildXiaomiRequest,
  XIAOMI_BODY_LIMIT,
  XIAOMI_MAX_TTL_MS,
  XIAOMI_PUBLIC_MAX_TTL_MS,
  XIAOMI_TITLE_LIMIT,
  XiaomiCredentialError,
  xiaomiTemplateValue,
} from "../../../lib/vendors/xiaomi.js";
import {
  BAD_REGID,
  classifyXiaomi,
  RATE_LIMIT_BACKOFF_SECONDS,
  type XiaomiAnswer,
} from "../../../lib/vendors/xiaomi-outcomes.js";

const SENT_AT = Date.UTC(2025, 2, 1, 8, 30, 15, 250);
const NOW = SENT_AT + 2_000;
const DAY_MS = 24 * 60 * 60 * 1000;
const EXT = '{"conversationID":"c2c_alice"}';
const TOKENS = ["a1b2+c3/d4==", "e5f6g7h8i9"];

const credential: XiaomiCredential = {
  certificateId: 30001,
  packageName: "com.example.chat",
  appSecret: "not used by the builder",
  channelId: "128821",
  templateId: "66001",
  templateParams: { sender: "title", text: "body" },
  publicChannelId: "128822",
};

const withIntent: XiaomiCredential = {
  ...credential,
  clickIntent: "intent://com.example.chat/chat#Intent;scheme=tim;launchFlags=0x4000000;end",
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

describe("buildXiaomiRequest", () => {
  it("posts form-urlencoded UTF-8 to /v3/message/regid on the mainland China host by default", () => {
    const { url, headers } = buildXiaomiRequest(notification(), TOKENS, credential, NOW);

    expect(url).toBe("https://api.xmpush.xiaomi.com/v3/message/regid");
    expect(headers).toEqual({ "content-type": "application/x-www-form-urlencoded;charset=UTF-8" });
  });

  // Xiaomi's Server API Address (pId=1696) and device-region guide (pId=1705).
  it.each([
    ["cn", "https://api.xmpush.xiaomi.com/v3/message/regid"],
    ["global", "https://sgp-api.xmpush.global.xiaomi.com/v3/message/regid"],
    ["eu", "https://fr-api.xmpush.global.xiaomi.com/v3/message/regid"],
    ["ru", "https://ru-api.xmpush.global.xiaomi.com/v3/message/regid"],
    ["in", "https://idmb-api.xmpush.global.xiaomi.com/v3/message/regid"],
  ] as const)("sends a %s credential to its region's host %s", (region, url) => {
    expect(buildXiaomiRequest(notification(), TOKENS, { ...credential, region }, NOW).url).toBe(url);
  });

  it("refuses a region Xiaomi has no host for as a credential error", () => {
    const bogus = { ...credential, region: "us" } as unknown as XiaomiCredential;

    expect(() => buildXiaomiRequest(notification(), TOKENS, bogus, NOW)).toThrow(XiaomiCredentialError);
  });

  it("builds a notification on the private IM channel that opens the app, field by field", () => {
    const { body } = buildXiaomiRequest(notification(), TOKENS, credential, NOW);

    expect(body).toEqual({
      registration_id: "a1b2+c3/d4==,e5f6g7h8i9",
      restricted_package_name: "com.example.chat",
      pass_through: "0",
      title: "Alice",
      description: "Lunch at noon?",
      payload: EXT,
      notify_type: "-1",
      notify_id: String(conversationNotifyId("144115233406627467_3_1709281815")),
      time_to_live: String(7 * DAY_MS - 2_000),
      "extra.channel_id": "128821",
      "extra.template_id": "66001",
      "extra.template_param": JSON.stringify({ sender: "Alice", text: "Lunch at noon?" }),
      "extra.notify_foreground": "1",
      "extra.notify_effect": "1",
      "extra.ext": EXT,
    });
  });

  it("opens the credential's intent with ext added as a string extra when clickIntent is set", () => {
    const { body } = buildXiaomiRequest(notification(), TOKENS, withIntent, NOW);

    expect(body["extra.notify_effect"]).toBe("2");
    expect(body["extra.intent_uri"]).toBe(
      "intent://com.example.chat/chat#Intent;scheme=tim;launchFlags=0x4000000;" +
        "S.ext=%7B%22conversationID%22%3A%22c2c_alice%22%7D;end",
    );
    expect(body.payload).toBe(EXT);
    expect(body["extra.ext"]).toBe(EXT);
  });

  it.each([
    ["opening the app", credential],
    ["opening an intent", withIntent],
  ])("classifies every request as IM with the private channel id (%s)", (_, cred) => {
    const { body } = buildXiaomiRequest(notification(), ["one"], cred, NOW);

    expect(body["extra.channel_id"]).toBe("128821");
    expect(body["extra.notify_foreground"]).toBe("1");
    expect(body.pass_through).toBe("0");
  });

  it("keeps every field a string, as a form carries it", () => {
    const { body } = buildXiaomiRequest(notification(), TOKENS, withIntent, NOW);

    for (const value of Object.values(body)) expect(typeof value).toBe("string");
  });

  it("sends one regId without a comma", () => {
    const { body } = buildXiaomiRequest(notification(), ["only-one"], credential, NOW);

    expect(body.registration_id).toBe("only-one");
  });

  it("gives each message its own stable notify_id (collapseKeyOf), so a newer one never replaces an older one", () => {
    const notifyId = (overrides: Partial<Notification>) =>
      buildXiaomiRequest(notification(overrides), TOKENS, credential, NOW).body.notify_id;
    const first = notifyId({});
    const sameMessage = notifyId({ body: "edited" });
    const next = notifyId({ messageKey: "144115233406627467_4_1709281900" });
    const recall = notifyId({ messageKey: "recall-1", collapseKey: "144115233406627467_3_1709281815" });

    expect(sameMessage).toBe(first);
    expect(next).not.toBe(first);
    expect(recall).toBe(first);
    expect(first).toBe(String(conversationNotifyId("144115233406627467_3_1709281815")));
    expect(Number(first)).toBeGreaterThan(0);
    expect(Number(first)).toBeLessThanOrEqual(0x7fffffff);
  });

  it("has no badge field (MIUI counts notifications itself) and never an iOS or Android sound", () => {
    const { body } = buildXiaomiRequest(
      notification({ badge: 9, ios: { sound: "ding.caf" }, android: { sound: "ding" } }),
      TOKENS,
      credential,
      NOW,
    );

    expect(Object.keys(body).filter((key) => /badge|sound/.test(key))).toEqual([]);
    expect(JSON.stringify(body)).not.toContain("ding");
    expect(body.notify_type).toBe("-1");
  });

  it("replaces quietly: a quiet notification asks for the light only (no sound, no vibration)", () => {
    const { body } = buildXiaomiRequest(notification({ quiet: true }), TOKENS, credential, NOW);

    expect(body.notify_type).toBe("4");
  });
});

describe("buildXiaomiRequest templates (pId=2314)", () => {
  const paramsOf = (overrides: Partial<Notification>, cred: XiaomiCredential = credential) =>
    JSON.parse(buildXiaomiRequest(notification(overrides), TOKENS, cred, NOW).body["extra.template_param"]!);

  it("fills each template variable from the notification field the credential maps it to", () => {
    const swapped = {
      ...credential,
      templateParams: { who: "title", what: "body", again: "title" },
    } as const;

    expect(paramsOf({}, swapped)).toEqual({ who: "Alice", what: "Lunch at noon?", again: "Alice" });
  });

  it("sends the template id without template_param for a template without variables", () => {
    const { templateParams: _, ...plain } = credential;

    const { body } = buildXiaomiRequest(notification(), TOKENS, plain, NOW);

    expect(body["extra.template_id"]).toBe("66001");
    expect(body).not.toHaveProperty("extra.template_param");
  });

  it("removes emoji and other symbols Xiaomi refuses, keeping the text around them", () => {
    expect(paramsOf({ title: "Alice 👩🏽‍💻", body: "Lunch 🍜 at 1️⃣? ★ 🇨🇳 好的" })).toEqual({
      sender: "Alice",
      text: "Lunch at 1? 好的",
    });
  });

  it("puts a placeholder where nothing allowed is left, never an empty or blank value", () => {
    expect(paramsOf({ title: "🎉🎉", body: "   \n " })).toEqual({ sender: "…", text: "…" });
  });

  it("cuts a value to 128 characters on a code-point boundary", () => {
    const value = xiaomiTemplateValue("字".repeat(300));

    expect(value.length).toBe(128);
    expect(value.endsWith("…")).toBe(true);
    expect(xiaomiTemplateValue("x".repeat(128))).toBe("x".repeat(128));
  });

  it("never leaves a value Xiaomi's rules refuse, whatever the text", () => {
    const samples = [
      "",
      " ",
      "a\u0000b",
      "\ud83d",
      "😀".repeat(200),
      "\u{10FFFF}",
      "e\u0301",
      "x".repeat(500),
    ];
    for (const text of samples) {
      const value = xiaomiTemplateValue(text);
      expect(Array.from(value).length).toBeGreaterThanOrEqual(1);
      expect(Array.from(value).length).toBeLessThanOrEqual(128);
      expect(value.trim()).not.toBe("");
      expect(value).not.toMatch(/[\p{So}\p{Cn}\p{Cs}]/u);
    }
  });

  it("refuses a private-channel message when the credential has no templateId", () => {
    const { templateId: _, ...untemplated } = credential;

    expect(() => buildXiaomiRequest(notification(), TOKENS, untemplated, NOW)).toThrow(/has no templateId/);
  });

  it("refuses more than 9 template variables, Xiaomi's maximum", () => {
    const many = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`v${i}`, "title" as const]));

    expect(() =>
      buildXiaomiRequest(notification(), TOKENS, { ...credential, templateParams: many }, NOW),
    ).toThrow(/10 template variables/);
  });
});

describe("buildXiaomiRequest purpose and sender options", () => {
  it("sends a call on the private channel with its template, like a chat message", () => {
    const { body } = buildXiaomiRequest(notification({ purpose: "call" }), TOKENS, credential, NOW);

    expect(body["extra.channel_id"]).toBe("128821");
    expect(body["extra.template_id"]).toBe("66001");
  });

  it("sends an operations push on the public channel without a template, kept at most a day", () => {
    const { body } = buildXiaomiRequest(notification({ purpose: "operations" }), TOKENS, credential, NOW);

    expect(body["extra.channel_id"]).toBe("128822");
    expect(body).not.toHaveProperty("extra.template_id");
    expect(body).not.toHaveProperty("extra.template_param");
    expect(Number(body.time_to_live)).toBe(XIAOMI_PUBLIC_MAX_TTL_MS);
  });

  it("never puts an operations push on the IM channel: without a public channel it is a credential error", () => {
    const { publicChannelId: _, ...privateOnly } = credential;

    expect(() =>
      buildXiaomiRequest(notification({ purpose: "operations" }), TOKENS, privateOnly, NOW),
    ).toThrow(/publicChannelId/);
  });

  it("lets the sender's XiaoMiChannelID choose the channel, with the template only on the private one", () => {
    const onOther = buildXiaomiRequest(
      notification({ android: { xiaomiChannelId: "999" } }),
      TOKENS,
      credential,
      NOW,
    );
    const operationsAsIm = buildXiaomiRequest(
      notification({ purpose: "operations", android: { xiaomiChannelId: "128821" } }),
      TOKENS,
      credential,
      NOW,
    );

    expect(onOther.body["extra.channel_id"]).toBe("999");
    expect(onOther.body).not.toHaveProperty("extra.template_id");
    expect(operationsAsIm.body["extra.channel_id"]).toBe("128821");
    expect(operationsAsIm.body["extra.template_id"]).toBe("66001");
  });
});

describe("buildXiaomiRequest title and description limits", () => {
  it("stays one under Tencent's Mi limits of 50 / 128, as Xiaomi documents <50 and <128", () => {
    expect(XIAOMI_TITLE_LIMIT).toBe(49);
    expect(XIAOMI_BODY_LIMIT).toBe(127);
  });

  it("keeps text at exactly the limit as it is", () => {
    const title = "t".repeat(49);
    const body = "b".repeat(127);

    const request = buildXiaomiRequest(notification({ title, body }), TOKENS, credential, NOW);

    expect(request.body.title).toBe(title);
    expect(request.body.description).toBe(body);
  });

  it.each([
    ["CJK", "张", "汉"],
    ["emoji (surrogate pairs)", "😀", "🍜"],
  ])("cuts long %s text to the limit in UTF-16 units on a code-point boundary, ending with …", (_, t, b) => {
    const title = t.repeat(60);
    const body = b.repeat(200);

    const request = buildXiaomiRequest(notification({ title, body }), TOKENS, credential, NOW);

    const { title: cutTitle, description } = request.body;
    expect(cutTitle.length).toBeLessThanOrEqual(49);
    expect(description.length).toBeLessThanOrEqual(127);
    expect(cutTitle.endsWith("…")).toBe(true);
    expect(description.endsWith("…")).toBe(true);
    expect(title.startsWith(cutTitle.slice(0, -1))).toBe(true);
    expect(body.startsWith(description.slice(0, -1))).toBe(true);
    // No lone surrogate: the text survives a UTF-8 round trip.
    expect(Buffer.from(description, "utf8").toString("utf8")).toBe(description);
    // As long as fits: one more code point would not.
    expect(description.length + b.length).toBeGreaterThan(127);
  });

  it("never cuts ext", () => {
    const ext = JSON.stringify({ conversationID: "c2c_alice", blob: "e".repeat(900) });

    const { body } = buildXiaomiRequest(notification({ ext }), TOKENS, credential, NOW);

    expect(body.payload).toBe(ext);
    expect(body["extra.ext"]).toBe(ext);
  });
});

describe("buildXiaomiRequest time_to_live", () => {
  const ttlAt = (now: number, sentAt = SENT_AT) =>
    Number(buildXiaomiRequest(notification({ sentAt }), TOKENS, credential, now).body.time_to_live);

  it("is what remains of Tencent's 7 days after the message was sent, in ms", () => {
    expect(ttlAt(SENT_AT + 6 * DAY_MS)).toBe(DAY_MS);
  });

  it("never exceeds 7 days, nor Xiaomi's 10-day cap, even when sentAt is ahead of our clock", () => {
    const ttl = ttlAt(SENT_AT - 3 * DAY_MS);

    expect(ttl).toBe(7 * DAY_MS);
    expect(ttl).toBeLessThanOrEqual(XIAOMI_MAX_TTL_MS);
  });

  it("is one second once the 7 days have passed: reach a device online now, store nothing", () => {
    expect(ttlAt(SENT_AT + 8 * DAY_MS)).toBe(1000);
  });
});

describe("classifyXiaomi", () => {
  // vendors.md §4 "Response", row by row, plus limits-and-costs.md's 200001.
  const table: [code: XiaomiAnswer["code"], kind: OutcomeKind][] = [
    [0, "delivered"],
    // Only bad_regids names a dead regId; a wrong region, app or secret never removes a device.
    [BAD_REGID, "drop-token"],
    [20301, "credential-problem"],
    [65003, "retry"],
    [21301, "credential-problem"],
    [21302, "credential-problem"],
    [22000, "credential-problem"],
    [22006, "credential-problem"],
    [22007, "credential-problem"],
    [22022, "credential-problem"],
    [27001, "credential-problem"],
    [10031, "credential-problem"],
    [10036, "credential-problem"],
    [21303, "bad-request"],
    [21305, "bad-request"],
    [65009, "bad-request"],
    [10016, "bad-request"],
    [10017, "bad-request"],
    [22102, "bad-request"],
    [26005, "bad-request"],
    [26006, "bad-request"],
    [10029, "bad-request"],
    [10030, "bad-request"],
    [10038, "bad-request"],
    [10039, "bad-request"],
    [10002, "retry"],
    [10003, "retry"],
    [10037, "retry"],
    [65029, "retry"],
    [-1, "retry"],
    [1, "retry"],
    [10027, "quota"],
    [26004, "quota"],
    [10034, "quota"],
    [200001, "quota"],
  ];

  it.each(table)("code %s → %s", (code, kind) => {
    expect(classifyXiaomi({ httpStatus: 200, code }, NOW).kind).toBe(kind);
  });

  it("never answers a refused AppSecret with refresh-credential: there is nothing to refresh", () => {
    expect(classifyXiaomi({ httpStatus: 200, code: 21301, message: "Authentication failed" }, NOW)).toEqual({
      kind: "credential-problem",
      reason: "Xiaomi 21301 Authentication failed",
    });
  });

  it.each([10034, 200001])("holds daily quota %i until the next Beijing midnight", (code) => {
    // 08:30:17.250 UTC is 16:30:17.250 in Beijing: 7 h 29 min 42.75 s to midnight.
    expect(classifyXiaomi({ httpStatus: 200, code, message: "quota" }, NOW)).toEqual({
      kind: "quota",
      reason: `Xiaomi ${code} quota`,
      retryAfterSeconds: 26_983,
    });
  });

  it("holds a QPS limit for a short while, or as long as Retry-After says", () => {
    expect(classifyXiaomi({ httpStatus: 200, code: 10027 }, NOW)).toEqual({
      kind: "quota",
      reason: "Xiaomi 10027",
      retryAfterSeconds: RATE_LIMIT_BACKOFF_SECONDS,
    });
    expect(classifyXiaomi({ httpStatus: 200, code: 10027, retryAfterSeconds: 3 }, NOW)).toMatchObject({
      kind: "quota",
      retryAfterSeconds: 3,
    });
  });

  it("passes Retry-After through on retry and drops it where it means nothing", () => {
    expect(
      classifyXiaomi({ httpStatus: 503, code: 10002, message: "busy", retryAfterSeconds: 30 }, NOW),
    ).toEqual({ kind: "retry", reason: "Xiaomi 10002 busy", retryAfterSeconds: 30 });
    expect(classifyXiaomi({ httpStatus: 200, code: 10002 }, NOW)).toEqual({
      kind: "retry",
      reason: "Xiaomi 10002",
    });
    expect(classifyXiaomi({ httpStatus: 200, code: 20301, retryAfterSeconds: 30 }, NOW)).not.toHaveProperty(
      "retryAfterSeconds",
    );
  });

  it("names a per-token drop by the field that reported it", () => {
    expect(classifyXiaomi({ httpStatus: 200, code: BAD_REGID, message: "invalid regId" }, NOW)).toEqual({
      kind: "drop-token",
      reason: "Xiaomi bad_regids invalid regId",
    });
  });

  it.each<[XiaomiAnswer, OutcomeKind, string]>([
    [{ httpStatus: 200, code: 99999, message: "new" }, "bad-request", "Xiaomi 99999 new"],
    [{ httpStatus: 502, message: "Bad Gateway" }, "retry", "Xiaomi HTTP 502 Bad Gateway"],
    [{ httpStatus: 200, message: "<html>" }, "retry", "Xiaomi HTTP 200 <html>"],
    [{ httpStatus: 429 }, "quota", "Xiaomi HTTP 429"],
    [{ httpStatus: 401 }, "bad-request", "Xiaomi HTTP 401"],
    [{ httpStatus: 404 }, "bad-request", "Xiaomi HTTP 404"],
    [{ message: "TypeError: fetch failed" }, "retry", "Xiaomi network TypeError: fetch failed"],
  ])("falls back on the HTTP status for an answer without a known code: %j", (answer, kind, reason) => {
    expect(classifyXiaomi(answer, NOW)).toMatchObject({ kind, reason });
  });
});
