import { describe, expect, it } from "vitest";
import type { Notification, OutcomeKind } from "../../../lib/model/index.js";
import { conversationNotifyId } from "../../../lib/vendors/android-text.js";
import type { XiaomiCredential } from "../../../lib/vendors/credentials.js";
import {
  buildXiaomiRequest,
  XIAOMI_BODY_LIMIT,
  XIAOMI_MAX_TTL_MS,
  XIAOMI_TITLE_LIMIT,
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
  it("posts form-urlencoded UTF-8 to /v3/message/regid", () => {
    const { path, headers } = buildXiaomiRequest(notification(), TOKENS, credential, NOW);

    expect(path).toBe("/v3/message/regid");
    expect(headers).toEqual({ "content-type": "application/x-www-form-urlencoded;charset=UTF-8" });
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
      notify_id: String(conversationNotifyId("c2c_alice")),
      time_to_live: String(7 * DAY_MS - 2_000),
      "extra.channel_id": "128821",
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

  it("gives each conversation its own stable notify_id, so a newer message replaces the shown one", () => {
    const alice = buildXiaomiRequest(notification(), TOKENS, credential, NOW).body.notify_id;
    const again = buildXiaomiRequest(notification({ body: "later" }), TOKENS, credential, NOW).body.notify_id;
    const group = buildXiaomiRequest(
      notification({ conversationId: "group_@TGS#1" }),
      TOKENS,
      credential,
      NOW,
    ).body.notify_id;

    expect(again).toBe(alice);
    expect(group).not.toBe(alice);
    expect(Number(alice)).toBeGreaterThan(0);
    expect(Number(alice)).toBeLessThanOrEqual(0x7fffffff);
  });

  it("has no badge field (MIUI counts notifications itself) and plays the default sound", () => {
    const { body } = buildXiaomiRequest(
      notification({ badge: 9, ios: { sound: "ding.caf" } }),
      TOKENS,
      credential,
      NOW,
    );

    expect(Object.keys(body).filter((key) => /badge|sound/.test(key))).toEqual([]);
    expect(body.notify_type).toBe("-1");
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
    [20301, "drop-token"],
    [65003, "drop-token"],
    [BAD_REGID, "drop-token"],
    [21301, "bad-request"],
    [21302, "bad-request"],
    [21303, "bad-request"],
    [21305, "bad-request"],
    [22022, "bad-request"],
    [27001, "bad-request"],
    [65009, "bad-request"],
    [10016, "bad-request"],
    [10017, "bad-request"],
    [22000, "bad-request"],
    [22006, "bad-request"],
    [22007, "bad-request"],
    [22102, "bad-request"],
    [26005, "bad-request"],
    [26006, "bad-request"],
    [10029, "bad-request"],
    [10030, "bad-request"],
    [10036, "bad-request"],
    [10038, "bad-request"],
    [10039, "bad-request"],
    [10031, "bad-request"],
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
      kind: "bad-request",
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
