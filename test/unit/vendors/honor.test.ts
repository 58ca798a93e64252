import { describe, expect, it } from "vitest";
import type { CallInfo, DeliveryTarget, Notification, OutcomeKind } from "../../../lib/model/index.js";
import { conversationNotifyId } from "../../../lib/vendors/android-text.js";
import type { HonorCredential } from "../../../lib/vendors/credentials.js";
import {
  buildHonorRequest,
  HONOR_BODY_LIMIT,
  HONOR_MAX_TOKENS,
  HONOR_MAX_TTL_SECONDS,
  HONOR_TITLE_LIMIT,
} from "../../../lib/vendors/honor.js";
import {
  classifyHonor,
  HONOR_DAILY_QUOTA_CODE,
  HONOR_RATE_LIMIT_BACKOFF_SECONDS,
  type HonorAnswer,
} from "../../../lib/vendors/honor-outcomes.js";

const SENT_AT = Date.UTC(2025, 2, 1, 8, 30, 15, 250);
const NOW = SENT_AT + 2_000;
const SEVEN_DAYS_S = 7 * 24 * 60 * 60;
const EXT = '{"conversationID":"c2c_alice"}';
const MESSAGE_KEY = "144115233406627467_3_1709281815";
const INTENT = "intent://com.example.chat/chat#Intent;scheme=tpns;launchFlags=0x4000000;end";

const credential: HonorCredential = {
  certificateId: 51,
  packageName: "com.example.chat",
  appId: "104123456",
  clientId: "987654321",
  clientSecret: "not used by the builder",
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
  return tokens.map((token, index) => ({ userId: `u${index}`, deviceId: `d${index}`, token }));
}

describe("buildHonorRequest", () => {
  it("builds the whole documented request: path, headers and camelCase body without a wrapper", () => {
    const request = buildHonorRequest(notification(), targets("tokA", "tokB"), credential, NOW);

    expect(request).toEqual({
      url: "https://push-api.cloud.honor.com/api/v1/104123456/sendMessage",
      headers: { "content-type": "application/json", timestamp: String(NOW) },
      body: {
        notification: { title: "Alice", body: "Lunch at noon?" },
        android: {
          ttl: `${SEVEN_DAYS_S - 2}s`,
          data: EXT,
          notification: {
            title: "Alice",
            body: "Lunch at noon?",
            clickAction: { type: 3 },
            importance: "NORMAL",
            tag: MESSAGE_KEY,
            notifyId: conversationNotifyId(MESSAGE_KEY),
            group: "c2c_alice",
          },
        },
        token: ["tokA", "tokB"],
      },
    });
  });

  it("classifies every request as service & communication (importance NORMAL), whatever it carries", () => {
    const plain = buildHonorRequest(notification({ badge: undefined }), targets("t"), credential, NOW);
    const rich = buildHonorRequest(
      notification(),
      targets("t"),
      { ...credential, clickIntent: INTENT, badgeClass: "com.example.chat.MainActivity" },
      NOW,
    );

    expect(plain.body.android.notification.importance).toBe("NORMAL");
    expect(rich.body.android.notification.importance).toBe("NORMAL");
  });

  it("opens the credential's click intent with ext added as the string extra", () => {
    const { body } = buildHonorRequest(
      notification(),
      targets("t"),
      { ...credential, clickIntent: INTENT },
      NOW,
    );

    expect(body.android.notification.clickAction).toEqual({
      type: 1,
      intent: `intent://com.example.chat/chat#Intent;scheme=tpns;launchFlags=0x4000000;S.ext=${encodeURIComponent(EXT)};end`,
    });
  });

  it("opens the app without a click intent, and carries ext in android.data either way", () => {
    const withoutIntent = buildHonorRequest(notification(), targets("t"), credential, NOW);
    const withIntent = buildHonorRequest(
      notification(),
      targets("t"),
      { ...credential, clickIntent: INTENT },
      NOW,
    );

    expect(withoutIntent.body.android.notification.clickAction).toEqual({ type: 3 });
    expect(withoutIntent.body.android.data).toBe(EXT);
    expect(withIntent.body.android.data).toBe(EXT);
    expect(JSON.parse(withIntent.body.android.data)).toEqual({ conversationID: "c2c_alice" });
  });

  it("escapes the app id in the path", () => {
    const { url } = buildHonorRequest(notification(), targets("t"), { ...credential, appId: "a/b" }, NOW);

    expect(url).toBe("https://push-api.cloud.honor.com/api/v1/a%2Fb/sendMessage");
  });

  describe("classification and sender options", () => {
    const importance = (n: Partial<Notification>) =>
      buildHonorRequest(notification(n), targets("t"), credential, NOW).body.android.notification.importance;

    it("sends an operations push as LOW (information & marketing), unless the sender says NORMAL", () => {
      expect(importance({ purpose: "operations" })).toBe("LOW");
      expect(importance({ purpose: "operations", android: { honorImportance: "NORMAL" } })).toBe("NORMAL");
    });

    it("lets the sender's honorImportance override a chat message's NORMAL", () => {
      expect(importance({ android: { honorImportance: "LOW" } })).toBe("LOW");
    });

    it("keeps a call and a quiet replacement NORMAL: LOW would file them under marketing", () => {
      expect(importance({ purpose: "call" })).toBe("NORMAL");
      expect(importance({ quiet: true })).toBe("NORMAL");
    });

    it("shows the sender's HTTPS image, and no other", () => {
      const image = (honorImage: string) =>
        buildHonorRequest(notification({ android: { honorImage } }), targets("t"), credential, NOW).body
          .android.notification.image;

      expect(image("https://cdn.example.com/a.png")).toBe("https://cdn.example.com/a.png");
      expect(image("http://cdn.example.com/a.png")).toBeUndefined();
    });

    const call: CallInfo = {
      action: "ring",
      inviteId: "invite-1",
      callerId: "alice",
      callerName: "Alice",
      media: "audio",
      invitees: ["bob"],
      timeoutSeconds: 30,
      invitedAt: SENT_AT,
    };

    it("rings a call only while its invitation lasts, replaced by its end under the same key", () => {
      const ring = buildHonorRequest(
        notification({ purpose: "call", call, collapseKey: "call_invite-1" }),
        targets("t"),
        credential,
        NOW,
      ).body.android;
      const ended = buildHonorRequest(
        notification({ purpose: "call", call: { ...call, action: "ended" }, collapseKey: "call_invite-1" }),
        targets("t"),
        credential,
        NOW,
      ).body.android;

      expect(ring.ttl).toBe("28s");
      expect(ended.ttl).toBe(`${SEVEN_DAYS_S - 2}s`);
      expect([ended.notification.tag, ended.notification.notifyId]).toEqual([
        ring.notification.tag,
        ring.notification.notifyId,
      ]);
      expect(ring.notification.tag).toBe("call_invite-1");
    });
  });

  describe("trimming to Tencent's Honor limits (50 / 400 UTF-16 units)", () => {
    it("keeps text at exactly the limits as it is", () => {
      const title = "t".repeat(HONOR_TITLE_LIMIT);
      const text = "b".repeat(HONOR_BODY_LIMIT);

      const { body } = buildHonorRequest(notification({ title, body: text }), targets("t"), credential, NOW);

      expect(body.notification).toEqual({ title, body: text });
      expect(body.android.notification.title).toBe(title);
      expect(body.android.notification.body).toBe(text);
    });

    it.each([
      ["CJK", "群", "聊"],
      ["emoji (surrogate pairs)", "😀", "🍜"],
    ])("cuts %s text on a code-point boundary with an ellipsis, in both notification blocks", (_, a, b) => {
      const title = a.repeat(80);
      const text = b.repeat(500);

      const { body } = buildHonorRequest(notification({ title, body: text }), targets("t"), credential, NOW);

      for (const block of [body.notification, body.android.notification]) {
        expect(block.title.length).toBeLessThanOrEqual(HONOR_TITLE_LIMIT);
        expect(block.body.length).toBeLessThanOrEqual(HONOR_BODY_LIMIT);
        expect(block.title.endsWith("…")).toBe(true);
        expect(block.body.endsWith("…")).toBe(true);
        expect(title.startsWith(block.title.slice(0, -1))).toBe(true);
        expect(text.startsWith(block.body.slice(0, -1))).toBe(true);
        // No lone surrogate: the text survives a UTF-8 round trip.
        expect(Buffer.from(block.body, "utf8").toString("utf8")).toBe(block.body);
      }
      expect(body.android.notification.title).toBe(body.notification.title);
      expect(body.android.notification.body).toBe(body.notification.body);
    });
  });

  describe("ttl", () => {
    it("is what remains of 7 days after the message was sent", () => {
      const sixDaysLater = SENT_AT + 6 * 24 * 60 * 60 * 1000;

      const { body } = buildHonorRequest(notification(), targets("t"), credential, sixDaysLater);

      expect(body.android.ttl).toBe(`${24 * 60 * 60}s`);
    });

    it("is 1 s once Tencent's 7 days have passed, never 0 or negative", () => {
      const eightDaysLater = SENT_AT + 8 * 24 * 60 * 60 * 1000;

      const { body } = buildHonorRequest(notification(), targets("t"), credential, eightDaysLater);

      expect(body.android.ttl).toBe("1s");
    });

    it("is capped at Honor's 15-day maximum when the message claims to come from the future", () => {
      const tenDaysEarlier = SENT_AT - 10 * 24 * 60 * 60 * 1000;

      const { body } = buildHonorRequest(notification(), targets("t"), credential, tenDaysEarlier);

      expect(body.android.ttl).toBe(`${HONOR_MAX_TTL_SECONDS}s`);
      expect(HONOR_MAX_TTL_SECONDS).toBe(1_296_000);
    });
  });

  describe("badge", () => {
    const withClass = { ...credential, badgeClass: "com.example.chat.MainActivity" };

    it("sets the badge number with the launcher class when both are known", () => {
      const { body } = buildHonorRequest(notification({ badge: 7 }), targets("t"), withClass, NOW);

      expect(body.android.notification.badge).toEqual({
        setNum: 7,
        badgeClass: "com.example.chat.MainActivity",
      });
    });

    it("sends 0 as 0 and holds a larger count at Honor's 99", () => {
      const zero = buildHonorRequest(notification({ badge: 0 }), targets("t"), withClass, NOW);
      const many = buildHonorRequest(notification({ badge: 150 }), targets("t"), withClass, NOW);

      expect(zero.body.android.notification.badge).toEqual({ setNum: 0, badgeClass: withClass.badgeClass });
      expect(many.body.android.notification.badge).toEqual({ setNum: 99, badgeClass: withClass.badgeClass });
    });

    it("leaves the badge out without a count or without the launcher class", () => {
      const noCount = buildHonorRequest(notification({ badge: undefined }), targets("t"), withClass, NOW);
      const noClass = buildHonorRequest(notification({ badge: 7 }), targets("t"), credential, NOW);

      expect(noCount.body.android.notification).not.toHaveProperty("badge");
      expect(noClass.body.android.notification).not.toHaveProperty("badge");
    });

    it("adds badgeAdd, or 1 per push for counted targets, when no number is set", () => {
      const added = buildHonorRequest(
        notification({ badge: undefined, badgeAdd: 3 }),
        targets("t"),
        withClass,
        NOW,
      );
      const counted = buildHonorRequest(
        notification({ badge: undefined }),
        targets("a", "b").map((t, index) => ({ ...t, badge: 4 + index })),
        withClass,
        NOW,
      );

      expect(added.body.android.notification.badge).toEqual({ addNum: 3, badgeClass: withClass.badgeClass });
      expect(counted.body.android.notification.badge).toEqual({
        addNum: 1,
        badgeClass: withClass.badgeClass,
      });
    });
  });

  it("gives each message its own tag and notify id, grouped by conversation", () => {
    const older = buildHonorRequest(
      notification({ messageKey: "group#1", conversationId: "group_@TGS#1" }),
      targets("t"),
      credential,
      NOW,
    ).body.android.notification;
    const newer = buildHonorRequest(
      notification({ messageKey: "group#2", conversationId: "group_@TGS#1" }),
      targets("t"),
      credential,
      NOW,
    ).body.android.notification;
    const recall = buildHonorRequest(
      notification({ messageKey: "group#3", collapseKey: "group#1", conversationId: "group_@TGS#1" }),
      targets("t"),
      credential,
      NOW,
    ).body.android.notification;

    expect([older.tag, older.notifyId, older.group]).toEqual([
      "group#1",
      conversationNotifyId("group#1"),
      "group_@TGS#1",
    ]);
    expect(newer.tag).not.toBe(older.tag);
    expect(newer.notifyId).not.toBe(older.notifyId);
    expect(newer.group).toBe(older.group);
    expect([recall.tag, recall.notifyId]).toEqual([older.tag, older.notifyId]);
    expect(Number.isInteger(older.notifyId) && older.notifyId > 0 && older.notifyId <= 0x7fffffff).toBe(true);
  });

  it("plays the default sound: Honor has no sound field, so none is sent even when one is named", () => {
    const { body } = buildHonorRequest(
      notification({ android: { sound: "ding" } }),
      targets("t"),
      credential,
      NOW,
    );

    expect(JSON.stringify(body)).not.toContain("sound");
  });

  it("lists every target's token, up to the multicast maximum of 1000", () => {
    const tokens = Array.from({ length: HONOR_MAX_TOKENS }, (_, i) => `token-${i}`);

    const { body } = buildHonorRequest(notification(), targets(...tokens), credential, NOW);

    expect(body.token).toEqual(tokens);
    expect(HONOR_MAX_TOKENS).toBe(1000);
  });
});

describe("classifyHonor", () => {
  const FIXED = Date.UTC(2025, 2, 1, 15, 0, 0); // 23:00 in Beijing: one hour to the quota reset.

  // vendors.md §8 "Response", and the Huawei codes it calls Honor's "-like" (vendors.md §3).
  const table: [answer: HonorAnswer, kind: OutcomeKind][] = [
    [{ httpStatus: 200, code: 200 }, "delivered"],
    [{ httpStatus: 200, code: 80000000 }, "delivered"],
    [{ httpStatus: 200, code: 80100000 }, "delivered"],
    [{ httpStatus: 200, code: "failTokens" }, "retry"],
    [{ httpStatus: 200, code: "notAccepted" }, "retry"],
    [{ httpStatus: 200, code: "expireTokens" }, "drop-token"],
    [{ httpStatus: 400, code: 80300007 }, "credential-problem"],
    [{ httpStatus: 401, code: 80200001 }, "refresh-credential"],
    [{ httpStatus: 401, code: 80200003 }, "refresh-credential"],
    [{ httpStatus: 200, code: 80200003 }, "refresh-credential"],
    [{ httpStatus: 401 }, "refresh-credential"],
    [{ httpStatus: 400, code: 80100001 }, "bad-request"],
    [{ httpStatus: 400, code: 80100002 }, "bad-request"],
    [{ httpStatus: 400, code: 80100003 }, "bad-request"],
    [{ httpStatus: 400, code: 80100004 }, "bad-request"],
    [{ httpStatus: 400, code: 80100013 }, "bad-request"],
    [{ httpStatus: 400, code: 80100016 }, "bad-request"],
    [{ httpStatus: 400, code: 80100018 }, "bad-request"],
    [{ httpStatus: 403, code: 80300002 }, "credential-problem"],
    [{ httpStatus: 400, code: 80300008 }, "bad-request"],
    [{ httpStatus: 400, code: 80300010 }, "bad-request"],
    [{ httpStatus: 400, code: 80300011 }, "credential-problem"],
    // The token endpoint refusing the client id or secret; failing is retried.
    [{ httpStatus: 401, stage: "auth", message: "auth invalid_client" }, "credential-problem"],
    [{ httpStatus: 400, stage: "auth" }, "credential-problem"],
    [{ httpStatus: 503, stage: "auth" }, "retry"],
    [{ httpStatus: 0, stage: "auth" }, "retry"],
    [{ httpStatus: 429, code: HONOR_DAILY_QUOTA_CODE }, "quota"],
    [{ httpStatus: 200, code: HONOR_DAILY_QUOTA_CODE }, "quota"],
    [{ httpStatus: 500, code: 81000001 }, "retry"],
    // Codes nobody documented fall back on the HTTP status.
    [{ httpStatus: 429 }, "quota"],
    [{ httpStatus: 503 }, "retry"],
    [{ httpStatus: 502, code: 12345 }, "retry"],
    [{ httpStatus: 400, code: 80199999 }, "bad-request"],
    [{ httpStatus: 404 }, "bad-request"],
    [{ httpStatus: 200, code: 12345 }, "bad-request"],
    // No HTTP answer at all: connection refused, reset, timeout.
    [{ httpStatus: 0, message: "fetch failed: ECONNREFUSED" }, "retry"],
  ];

  it.each(table)("%o → %s", (answer, kind) => {
    expect(classifyHonor(answer, FIXED).kind).toBe(kind);
  });

  it("holds a daily-quota answer until midnight in Beijing, never a hot-loop retry", () => {
    expect(classifyHonor({ httpStatus: 429, code: HONOR_DAILY_QUOTA_CODE, message: "quota" }, FIXED)).toEqual(
      {
        kind: "quota",
        reason: `Honor ${HONOR_DAILY_QUOTA_CODE} quota`,
        retryAfterSeconds: 3600,
      },
    );
    // Even a Retry-After does not shorten the wait for a new day.
    expect(
      classifyHonor({ httpStatus: 429, code: HONOR_DAILY_QUOTA_CODE, retryAfterSeconds: 5 }, FIXED),
    ).toMatchObject({ retryAfterSeconds: 3600 });
  });

  it("delays a rate-limit answer briefly, by its Retry-After when given", () => {
    expect(classifyHonor({ httpStatus: 429, retryAfterSeconds: 12 }, FIXED)).toEqual({
      kind: "quota",
      reason: "Honor 429",
      retryAfterSeconds: 12,
    });
    expect(classifyHonor({ httpStatus: 429 }, FIXED)).toMatchObject({
      retryAfterSeconds: HONOR_RATE_LIMIT_BACKOFF_SECONDS,
    });
  });

  it("passes Retry-After through on retries and drops it where it means nothing", () => {
    expect(
      classifyHonor({ httpStatus: 503, code: 81000001, message: "busy", retryAfterSeconds: 30 }, FIXED),
    ).toEqual({
      kind: "retry",
      reason: "Honor 81000001 busy",
      retryAfterSeconds: 30,
    });
    expect(classifyHonor({ httpStatus: 500 }, FIXED)).toEqual({ kind: "retry", reason: "Honor 500" });
    expect(
      classifyHonor({ httpStatus: 400, code: 80100001, retryAfterSeconds: 30 }, FIXED),
    ).not.toHaveProperty("retryAfterSeconds");
  });

  it.each<[HonorAnswer, string]>([
    [
      { httpStatus: 401, code: 80200003, message: "Oauth Token expired" },
      "Honor 80200003 Oauth Token expired",
    ],
    [{ httpStatus: 200, code: "expireTokens" }, "Honor expireTokens"],
    [{ httpStatus: 503 }, "Honor 503"],
    [
      { httpStatus: 0, message: "The operation was aborted due to timeout" },
      "Honor network The operation was aborted due to timeout",
    ],
    [
      { httpStatus: 401, message: "auth unauthorized_client Invalid client secret" },
      "Honor 401 auth unauthorized_client Invalid client secret",
    ],
  ])("says what Honor answered: %o", (answer, reason) => {
    expect(classifyHonor(answer, FIXED)).toMatchObject({ reason });
  });

  it("removes a token only when Honor lists it in expireTokens", () => {
    const answers: HonorAnswer[] = [
      { httpStatus: 200, code: "failTokens" },
      { httpStatus: 200, code: "notAccepted" },
      { httpStatus: 400, code: 80300007 },
      { httpStatus: 401, code: 80200001 },
      { httpStatus: 404 },
    ];

    expect(answers.map((a) => classifyHonor(a, FIXED).kind)).not.toContain("drop-token");
    expect(classifyHonor({ httpStatus: 200, code: "expireTokens" }, FIXED).kind).toBe("drop-token");
  });

  it("parks a refusal of a freshly fetched access token as a credential problem", () => {
    expect(classifyHonor({ httpStatus: 401, code: 80200003 }, FIXED, true)).toEqual({
      kind: "credential-problem",
      reason: "Honor 80200003 (refused again with a new access token)",
    });
    expect(classifyHonor({ httpStatus: 200, code: 200 }, FIXED, true).kind).toBe("delivered");
  });

  it("says nothing more than delivered on success", () => {
    expect(classifyHonor({ httpStatus: 200, code: 200, message: "success" }, FIXED)).toEqual({
      kind: "delivered",
    });
  });
});
