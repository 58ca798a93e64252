import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { DeliveryTarget, Notification, OutcomeKind } from "../../../lib/model/index.js";
import { conversationNotifyId } from "../../../lib/vendors/android-text.js";
import type { MeizuCredential } from "../../../lib/vendors/credentials.js";
import {
  buildMeizuRequest,
  type MeizuMessage,
  meizuNotifyKey,
  meizuSign,
} from "../../../lib/vendors/meizu.js";
import {
  classifyMeizu,
  MEIZU_COLLAPSE_WINDOW_SECONDS,
  MEIZU_RATE_LIMIT_SECONDS,
  type MeizuCodeScope,
  meizuResendsOnce,
} from "../../../lib/vendors/meizu-outcomes.js";
import { secondsUntilDailyQuotaReset } from "../../../lib/vendors/quota.js";

const SENT_AT = Date.UTC(2025, 2, 1, 8, 30, 15, 250);
const NOW = SENT_AT + 2_000;
const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;
const MESSAGE_KEY = "144115233406627467_3_1709281815";

const credential: MeizuCredential = {
  certificateId: 61,
  packageName: "com.example.chat",
  appId: "110999",
  appSecret: "0123456789abcdef0123456789abcdef",
};

const targets: DeliveryTarget[] = [
  {
    userId: "bob",
    deviceId: "m1",
    token: "J0476035d625e6c64567f71487e040e7d017f0558675b",
    certificateId: 61,
  },
  {
    userId: "carol",
    deviceId: "m2",
    token: "RA50c6348036344485d01776773577c64740465480a6b",
    certificateId: 61,
  },
];

function notification(overrides: Partial<Notification> = {}): Notification {
  return {
    title: "Alice",
    body: "Lunch at noon?",
    ext: '{"conversationID":"c2c_alice"}',
    badge: 3,
    android: { sound: "ding.mp3" },
    conversationId: "c2c_alice",
    messageKey: MESSAGE_KEY,
    sentAt: SENT_AT,
    ...overrides,
  };
}

function messageOf(
  overrides: Partial<Notification> = {},
  options: { credential?: MeizuCredential; now?: number } = {},
): MeizuMessage {
  const request = buildMeizuRequest(
    notification(overrides),
    targets,
    options.credential ?? credential,
    options.now ?? NOW,
  );
  return JSON.parse(request.form.messageJson) as MeizuMessage;
}

describe("meizuSign", () => {
  it("reproduces the worked example in Meizu's PushAPI README", () => {
    const params = {
      appId: "10000",
      pushIds: "RA50c6348036344485d01776773577c64740465480a6b",
      messageJson: '{"title":"title","content":"content","pushTimeInfo":{"offLine":1,"validTime":24}}',
    };

    expect(meizuSign(params, "<APP_SECRET>")).toBe("ac076ff25d9900015a681cb5172aa53b");
  });

  it("sorts by key, leaves sign out and uses raw values (no URL encoding)", () => {
    const params = { pushIds: "a,b", sign: "ignored", appId: "1", messageJson: '{"t":"a b&c"}' };
    const expected = createHash("md5")
      .update('appId=1messageJson={"t":"a b&c"}pushIds=a,bsecret')
      .digest("hex");

    expect(meizuSign(params, "secret")).toBe(expected);
  });
});

describe("buildMeizuRequest form", () => {
  it("posts appId, comma-separated pushIds, messageJson as a JSON string and the md5 sign", () => {
    const request = buildMeizuRequest(notification(), targets, credential, NOW);

    expect(request.path).toBe("/garcia/api/server/push/varnished/pushByPushId");
    expect(request.headers).toEqual({ "content-type": "application/x-www-form-urlencoded;charset=UTF-8" });
    expect(Object.keys(request.form).sort()).toEqual(["appId", "messageJson", "pushIds", "sign"]);
    expect(request.form.appId).toBe("110999");
    expect(request.form.pushIds).toBe(
      "J0476035d625e6c64567f71487e040e7d017f0558675b,RA50c6348036344485d01776773577c64740465480a6b",
    );
    expect(typeof request.form.messageJson).toBe("string");
    const base = `appId=${request.form.appId}messageJson=${request.form.messageJson}pushIds=${request.form.pushIds}`;
    expect(request.form.sign).toBe(createHash("md5").update(`${base}${credential.appSecret}`).digest("hex"));
    expect(request.form.sign).toMatch(/^[0-9a-f]{32}$/);
  });

  it("builds exactly the documented messageJson for a fresh message", () => {
    expect(messageOf()).toEqual({
      noticeBarInfo: { noticeMsgType: 1, noticeBarType: 0, title: "Alice", content: "Lunch at noon?" },
      clickTypeInfo: { clickType: 0, parameters: { ext: '{"conversationID":"c2c_alice"}' } },
      pushTimeInfo: { offLine: 1, validTime: 72 },
      advanceInfo: {
        notifyKey: conversationNotifyId(MESSAGE_KEY).toString(36),
        notificationType: { vibrate: 1, lights: 1, sound: 1 },
      },
    });
  });

  it("signs a different request for another secret", () => {
    const other = buildMeizuRequest(notification(), targets, { ...credential, appSecret: "x" }, NOW);

    expect(other.form.sign).not.toBe(buildMeizuRequest(notification(), targets, credential, NOW).form.sign);
  });
});

describe("buildMeizuRequest IM classification", () => {
  it.each([
    ["opening the app", credential],
    ["opening an activity", { ...credential, clickActivity: "com.example.chat.ChatActivity" }],
  ])("marks a chat message private (noticeMsgType 1) with the standard bar, %s", (_, withCredential) => {
    const message = messageOf({}, { credential: withCredential });

    expect(message.noticeBarInfo.noticeMsgType).toBe(1);
    expect(message.noticeBarInfo.noticeBarType).toBe(0);
  });

  it.each<[string, Partial<Notification>, 0 | 1]>([
    ["a call: private, Meizu has no call class", { purpose: "call" }, 1],
    [
      "an operations push: public, so the app keeps its private-message approval",
      { purpose: "operations" },
      0,
    ],
    [
      "an operations push the sender marked private (MeiZuNoticeMsgType 1)",
      { purpose: "operations", android: { meizuNoticeMsgType: 1 } },
      1,
    ],
    ["a chat message the sender marked public", { android: { meizuNoticeMsgType: 0 } }, 0],
  ])("%s", (_, overrides, noticeMsgType) => {
    expect(messageOf(overrides).noticeBarInfo.noticeMsgType).toBe(noticeMsgType);
  });
});

describe("buildMeizuRequest click action", () => {
  it("opens the configured activity (clickType 1) and passes ext in parameters", () => {
    const message = messageOf(
      {},
      { credential: { ...credential, clickActivity: "com.example.chat.ChatActivity" } },
    );

    expect(message.clickTypeInfo).toEqual({
      clickType: 1,
      activity: "com.example.chat.ChatActivity",
      parameters: { ext: '{"conversationID":"c2c_alice"}' },
    });
  });

  it("opens the app (clickType 0) without clickActivity, still carrying ext", () => {
    const message = messageOf({ ext: '{"conversationID":"group_@TGS#1"}' });

    expect(message.clickTypeInfo).toEqual({
      clickType: 0,
      parameters: { ext: '{"conversationID":"group_@TGS#1"}' },
    });
  });

  it("ignores clickIntent: Meizu opens activities by class name, not intent URIs", () => {
    const withIntent = {
      ...credential,
      clickIntent: "intent://com.example.chat/chat#Intent;scheme=tpns;launchFlags=0x4000000;end",
    };

    expect(messageOf({}, { credential: withIntent }).clickTypeInfo).toEqual({
      clickType: 0,
      parameters: { ext: '{"conversationID":"c2c_alice"}' },
    });
  });
});

describe("buildMeizuRequest trimming to Meizu's 32 / 100", () => {
  it("keeps a title of exactly 32 and a body of exactly 100 units", () => {
    const title = "t".repeat(32);
    const body = "b".repeat(100);

    const message = messageOf({ title, body });

    expect(message.noticeBarInfo.title).toBe(title);
    expect(message.noticeBarInfo.content).toBe(body);
  });

  it.each([
    ["CJK", "汉"],
    ["emoji (surrogate pairs)", "😀"],
    ["Cyrillic", "ж"],
  ])("cuts a long %s title and body on a code-point boundary, ending with …", (_, unit) => {
    const title = unit.repeat(40);
    const body = unit.repeat(150);

    const { noticeBarInfo } = messageOf({ title, body });

    expect(noticeBarInfo.title.length).toBeLessThanOrEqual(32);
    expect(noticeBarInfo.content.length).toBeLessThanOrEqual(100);
    for (const [original, cut] of [
      [title, noticeBarInfo.title],
      [body, noticeBarInfo.content],
    ] as const) {
      expect(cut.endsWith("…")).toBe(true);
      expect(original.startsWith(cut.slice(0, -1))).toBe(true);
      expect(Buffer.from(cut, "utf8").toString("utf8")).toBe(cut);
    }
    // As long as fits: CJK keeps 31 characters plus the ellipsis.
    if (unit === "汉") expect(noticeBarInfo.title).toBe(`${"汉".repeat(31)}…`);
    if (unit === "😀") expect(noticeBarInfo.title).toBe(`${"😀".repeat(15)}…`);
  });
});

describe("buildMeizuRequest validity (validTime in hours)", () => {
  it.each([
    ["just sent: capped at Meizu's 72 h", 2_000, { offLine: 1, validTime: 72 }],
    ["4 days ago: 72 h still fit in the 3 left", 4 * DAY_MS, { offLine: 1, validTime: 72 }],
    ["6 days ago: the 24 h left", 6 * DAY_MS, { offLine: 1, validTime: 24 }],
    ["6 days 1.5 h ago: the 22 whole hours left", 6 * DAY_MS + 1.5 * HOUR_MS, { offLine: 1, validTime: 22 }],
    [
      "minutes before the 7 days end: at least 1 h",
      7 * DAY_MS - 10 * 60 * 1000,
      { offLine: 1, validTime: 1 },
    ],
    ["after the 7 days: online devices only", 8 * DAY_MS, { offLine: 0 }],
    ["exactly 7 days: online devices only", 7 * DAY_MS, { offLine: 0 }],
  ])("%s", (_, elapsed, pushTimeInfo) => {
    expect(messageOf({}, { now: SENT_AT + elapsed }).pushTimeInfo).toEqual(pushTimeInfo);
  });
});

describe("buildMeizuRequest notifyKey (from collapseKeyOf: one notification per message)", () => {
  it("is the message's own: a newer message in the conversation does not hide an older one", () => {
    const a = messageOf({ messageKey: "m1" }).advanceInfo.notifyKey;
    const b = messageOf({ messageKey: "m2" }).advanceInfo.notifyKey;
    const elsewhere = messageOf({ messageKey: "m1", conversationId: "group_@TGS#1" }).advanceInfo.notifyKey;

    expect(b).not.toBe(a);
    expect(elsewhere).toBe(a);
  });

  it("is the collapse key's when the notification names one (a recall replaces its message's)", () => {
    const original = messageOf({ messageKey: "m1" }).advanceInfo.notifyKey;
    const recall = messageOf({ messageKey: "m1:recall", collapseKey: "m1" }).advanceInfo.notifyKey;

    expect(recall).toBe(original);
    expect(recall).toBe(meizuNotifyKey({ messageKey: "m1" }));
  });

  it.each(["c2c_alice", "group_@TGS#1#17", `${"群".repeat(60)}#1`, "x", MESSAGE_KEY])(
    "fits Meizu's rule (≤ 8 of [0-9a-zA-Z_-]) for %s",
    (messageKey) => {
      const { notifyKey } = messageOf({ messageKey }).advanceInfo;

      expect(notifyKey).toMatch(/^[0-9A-Za-z_-]{1,8}$/);
      expect(notifyKey).toBe(conversationNotifyId(messageKey).toString(36));
    },
  );
});

describe("buildMeizuRequest quiet replacement and calls", () => {
  it("turns sound, vibration, light and the floating window off for a quiet replacement (a recall)", () => {
    const { advanceInfo } = messageOf({ quiet: true, collapseKey: "m1" });

    expect(advanceInfo).toEqual({
      notifyKey: conversationNotifyId("m1").toString(36),
      notificationType: { vibrate: 0, lights: 0, sound: 0 },
      suspend: 0,
    });
  });

  it("keeps a ringing call only while it rings (at least Meizu's 1 hour)", () => {
    const call = {
      action: "ring" as const,
      inviteId: "invite-1",
      callerId: "alice",
      callerName: "Alice",
      media: "audio" as const,
      invitees: ["bob"],
      timeoutSeconds: 30,
      invitedAt: SENT_AT,
    };

    expect(messageOf({ purpose: "call", call }).pushTimeInfo).toEqual({ offLine: 1, validTime: 1 });
    expect(messageOf({ purpose: "call", call }, { now: SENT_AT + 60_000 }).pushTimeInfo).toEqual({
      offLine: 0,
    });
  });
});

describe("buildMeizuRequest sound and badge", () => {
  it("plays the default sound whatever the notification names (never an iOS sound), and sends no badge", () => {
    const request = buildMeizuRequest(
      notification({ android: { sound: "ding.mp3" }, ios: { sound: "ding.caf" }, badge: 9 }),
      targets,
      credential,
      NOW,
    );
    const message = JSON.parse(request.form.messageJson) as MeizuMessage;

    expect(message.advanceInfo.notificationType).toEqual({ vibrate: 1, lights: 1, sound: 1 });
    expect(request.form.messageJson).not.toMatch(/badge|ding/i);
  });
});

describe("classifyMeizu", () => {
  const now = Date.UTC(2025, 2, 1, 15, 30, 0); // 23:30 in Beijing
  const untilMidnight = secondsUntilDailyQuotaReset(now);

  // vendors.md §7 "Response": every top-level code, then every per-pushId code.
  const table: [scope: MeizuCodeScope, code: string, kind: OutcomeKind, retryAfterSeconds?: number][] = [
    ["request", "200", "delivered"],
    ["request", "1003", "retry"],
    ["request", "1001", "retry"],
    ["request", "500", "retry"],
    ["request", "1005", "bad-request"],
    // Our credential or app configuration: parked and alarmed, never a device removed.
    ["request", "1006", "credential-problem"],
    ["request", "110000", "credential-problem"],
    ["request", "110001", "credential-problem"],
    ["request", "110004", "bad-request"],
    ["request", "110009", "credential-problem"],
    ["request", "110032", "bad-request"],
    ["request", "110031", "credential-problem"],
    ["request", "110033", "credential-problem"],
    // APP_PUSH_TIME_EXCEED_LIMIT: the app's push count, a daily quota.
    ["request", "110051", "quota", untilMidnight],
    ["request", "110010", "quota", MEIZU_RATE_LIMIT_SECONDS],
    ["request", "110019", "quota", untilMidnight],
    ["request", "110053", "bad-request"],
    ["pushId", "110002", "drop-token"],
    ["pushId", "110003", "drop-token"],
    ["pushId", "110005", "drop-token"],
    ["pushId", "201", "credential-problem"],
    ["pushId", "501", "retry"],
    ["pushId", "513", "retry"],
    ["pushId", "519", "retry"],
    ["pushId", "520", "quota", MEIZU_COLLAPSE_WINDOW_SECONDS],
    ["pushId", "518", "quota", MEIZU_RATE_LIMIT_SECONDS],
    ["pushId", "110011", "quota", untilMidnight],
    // RSP_OFF_PUSHID: the user switched the app's messages off; the pushId stays.
    ["pushId", "110010", "declined"],
  ];

  it.each(table)("%s %s → %s", (scope, code, kind, retryAfterSeconds) => {
    const outcome = classifyMeizu({ scope, code, httpStatus: 200, nowMs: now });

    expect(outcome.kind).toBe(kind);
    if (retryAfterSeconds !== undefined) expect(outcome).toMatchObject({ retryAfterSeconds });
    else expect(outcome).not.toHaveProperty("retryAfterSeconds");
  });

  it("puts the daily quota off until midnight in Beijing (30 minutes at 23:30)", () => {
    expect(classifyMeizu({ scope: "request", code: "110019", httpStatus: 200, nowMs: now })).toEqual({
      kind: "quota",
      reason: "Meizu 110019 app daily push count exceeded",
      retryAfterSeconds: 1800,
    });
  });

  it.each([
    [{ scope: "request", code: "1006", message: "签名认证失败" }, "Meizu 1006 签名认证失败"],
    [{ scope: "request", code: "1005", message: "" }, "Meizu 1005 parameter error"],
    [{ scope: "pushId", code: "110002" }, "Meizu 110002 pushId not subscribed"],
    [{ scope: "pushId", code: "110010" }, "Meizu 110010 message switch off"],
    [{ scope: "request", code: "110051" }, "Meizu 110051 app push count limit exceeded"],
    [{ scope: "request", message: "ECONNREFUSED" }, "Meizu network ECONNREFUSED"],
    [{ scope: "request", code: "999999", httpStatus: 200 }, "Meizu 999999"],
  ] as const)("says what Meizu answered: %j", (answer, reason) => {
    expect(classifyMeizu({ ...answer, nowMs: now })).toMatchObject({ reason });
  });

  it("honours Retry-After on rate limits and retries, never on the daily quota", () => {
    expect(
      classifyMeizu({ scope: "request", code: "110010", httpStatus: 200, retryAfterSeconds: 3, nowMs: now }),
    ).toMatchObject({ kind: "quota", retryAfterSeconds: 3 });
    expect(
      classifyMeizu({ scope: "request", code: "1003", httpStatus: 503, retryAfterSeconds: 30, nowMs: now }),
    ).toMatchObject({ kind: "retry", retryAfterSeconds: 30 });
    expect(
      classifyMeizu({ scope: "request", code: "110019", httpStatus: 200, retryAfterSeconds: 3, nowMs: now }),
    ).toMatchObject({ kind: "quota", retryAfterSeconds: untilMidnight });
  });

  it("resends 500 once: retry the first time, bad-request when the resend gets it again", () => {
    expect(meizuResendsOnce("500")).toBe(true);
    expect(meizuResendsOnce("1003")).toBe(false);
    expect(meizuResendsOnce("1006")).toBe(false);
    expect(
      classifyMeizu({ scope: "request", code: "500", message: "title too long", resent: true, nowMs: now }),
    ).toEqual({
      kind: "bad-request",
      reason: "Meizu 500 title too long",
    });
  });

  it.each<[string, Parameters<typeof classifyMeizu>[0], OutcomeKind]>([
    ["no HTTP answer", { scope: "request", message: "timeout", nowMs: now }, "retry"],
    ["a gateway 502 without JSON", { scope: "request", httpStatus: 502, nowMs: now }, "retry"],
    ["a gateway 429 without JSON", { scope: "request", httpStatus: 429, nowMs: now }, "quota"],
    ["a 404 page", { scope: "request", httpStatus: 404, nowMs: now }, "bad-request"],
    ["an unreadable 200", { scope: "request", httpStatus: 200, nowMs: now }, "retry"],
    [
      "a code Meizu adds later",
      { scope: "request", code: "120000", httpStatus: 200, nowMs: now },
      "bad-request",
    ],
    [
      "a per-pushId code Meizu adds later",
      { scope: "pushId", code: "777", httpStatus: 200, nowMs: now },
      "bad-request",
    ],
  ])("falls back on the HTTP status for %s", (_, answer, kind) => {
    expect(classifyMeizu(answer).kind).toBe(kind);
  });

  it("keeps the scopes apart: 110010 is a rate limit for a request, a switched-off device for a pushId", () => {
    expect(classifyMeizu({ scope: "request", code: "110010", nowMs: now }).kind).toBe("quota");
    expect(classifyMeizu({ scope: "pushId", code: "110010", nowMs: now }).kind).toBe("declined");
    expect(classifyMeizu({ scope: "pushId", code: "1003", httpStatus: 200, nowMs: now }).kind).toBe(
      "bad-request",
    );
  });

  it("does not mistake inherited object keys for codes", () => {
    expect(classifyMeizu({ scope: "request", code: "toString", httpStatus: 200, nowMs: now }).kind).toBe(
      "bad-request",
    );
  });
});
