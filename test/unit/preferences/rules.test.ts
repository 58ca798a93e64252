import { describe, expect, it } from "vitest";
import type { GlobalReceiveOpt, Preferences, ReceiveOpt } from "../../../lib/ports/stores.js";
import {
  isInGlobalWindow,
  isValidTimeZone,
  preferenceDecision,
  wallClock,
  zonedToEpochMs,
} from "../../../lib/preferences/rules.js";

const ms = (iso: string): number => {
  const value = Date.parse(iso);
  if (Number.isNaN(value)) throw new Error(`bad date ${iso}`);
  return value;
};
const seconds = (iso: string): number => ms(iso) / 1000;

const NOW = ms("2025-01-15T12:00:00Z");
const SET_AT = ms("2025-01-01T00:00:00Z");
const HOURS = 3600;

/** A global option reported at SET_AT unless the case says otherwise. */
const dnd = (fields: Partial<GlobalReceiveOpt>): GlobalReceiveOpt => ({
  receiveOpt: 2,
  duration: 0,
  at: SET_AT,
  ...fields,
});

describe("conversation receive options", () => {
  const cases: [ReceiveOpt | undefined, boolean, string | undefined][] = [
    [undefined, false, undefined],
    [undefined, true, undefined],
    [0, false, undefined],
    [0, true, undefined],
    [1, false, "conversation muted: receive nothing"],
    [1, true, "conversation muted: receive nothing"],
    [2, false, "conversation muted"],
    [2, true, "conversation muted"],
    [3, false, "conversation muted except @mentions"],
    [3, true, undefined],
    [4, false, "conversation receives only @mentions"],
    [4, true, undefined],
  ];

  describe.each(["c2c_bob", "group_@TGS#1abc"])("in %s", (conversationId) => {
    it.each(cases)("receiveOpt %s, mentioned %s → %s", (opt, mentioned, reason) => {
      const prefs: Preferences = { conversations: opt === undefined ? {} : { [conversationId]: opt } };
      expect(preferenceDecision(prefs, { conversationId, mentioned, nowMs: NOW })).toEqual(
        reason === undefined ? { notify: true } : { notify: false, reason },
      );
    });
  });

  it("notifies when the user reported nothing", () => {
    expect(
      preferenceDecision(undefined, { conversationId: "c2c_bob", mentioned: false, nowMs: NOW }),
    ).toEqual({
      notify: true,
    });
  });

  it("applies an option only to its own conversation", () => {
    const prefs: Preferences = { conversations: { c2c_bob: 1, group_team: 2 } };
    expect(preferenceDecision(prefs, { conversationId: "c2c_carol", mentioned: false, nowMs: NOW })).toEqual({
      notify: true,
    });
    expect(
      preferenceDecision(prefs, { conversationId: "group_other", mentioned: false, nowMs: NOW }),
    ).toEqual({ notify: true });
    // A group id that happens to equal a user id is another conversation.
    expect(preferenceDecision(prefs, { conversationId: "group_bob", mentioned: false, nowMs: NOW })).toEqual({
      notify: true,
    });
  });
});

type WindowCase = [string, Partial<GlobalReceiveOpt>, string, boolean];

function windowCases(cases: WindowCase[]) {
  const rows = cases.map(
    ([name, fields, now, inside]) => [`${name}: at ${now} → ${inside}`, fields, now, inside] as const,
  );
  it.each(rows)("%s", (_, fields, now, inside) => {
    expect(isInGlobalWindow(dnd(fields), ms(now))).toBe(inside);
  });
}

describe("daily window, time of day in UTC (no timeZone)", () => {
  const night = { startHour: 22, startMinute: 0, startSecond: 0, duration: 8 * HOURS };
  const lunch = { startHour: 13, startMinute: 30, startSecond: 0, duration: 30 * 60 };
  windowCases([
    ["22:00 for 8 h", night, "2025-01-15T21:59:59Z", false],
    ["22:00 for 8 h", night, "2025-01-15T22:00:00Z", true],
    ["22:00 for 8 h", night, "2025-01-15T23:59:59Z", true],
    ["22:00 for 8 h (after midnight)", night, "2025-01-16T00:00:00Z", true],
    ["22:00 for 8 h (after midnight)", night, "2025-01-16T05:59:59Z", true],
    ["22:00 for 8 h", night, "2025-01-16T06:00:00Z", false],
    ["22:00 for 8 h", night, "2025-01-16T12:00:00Z", false],
    ["22:00 for 8 h, months later", night, "2025-08-01T03:00:00Z", true],
    ["13:30 for 30 min", lunch, "2025-01-15T13:29:59Z", false],
    ["13:30 for 30 min", lunch, "2025-01-15T13:30:00Z", true],
    ["13:30 for 30 min", lunch, "2025-01-15T13:59:59Z", true],
    ["13:30 for 30 min", lunch, "2025-01-15T14:00:00Z", false],
    [
      "seconds count",
      { startHour: 7, startMinute: 5, startSecond: 9, duration: 1 },
      "2025-01-15T07:05:09Z",
      true,
    ],
    [
      "seconds count",
      { startHour: 7, startMinute: 5, startSecond: 9, duration: 1 },
      "2025-01-15T07:05:10Z",
      false,
    ],
    [
      "duration 0 never mutes",
      { startHour: 12, startMinute: 0, startSecond: 0 },
      "2025-01-15T12:00:00Z",
      false,
    ],
    [
      "86399 s from 00:00:01 leaves only midnight",
      { startHour: 0, startMinute: 0, startSecond: 1, duration: 86_399 },
      "2025-01-15T00:00:00Z",
      false,
    ],
    [
      "86399 s from 00:00:01 leaves only midnight",
      { startHour: 0, startMinute: 0, startSecond: 1, duration: 86_399 },
      "2025-01-15T23:59:59Z",
      true,
    ],
    ["missing time parts are 0", { duration: HOURS }, "2025-01-15T00:59:59Z", true],
    ["explicit UTC", { ...night, timeZone: "UTC" }, "2025-01-16T05:59:59Z", true],
  ]);
});

describe("daily window in a time zone", () => {
  const shanghai = {
    startHour: 22,
    startMinute: 0,
    startSecond: 0,
    duration: 8 * HOURS,
    timeZone: "Asia/Shanghai",
  };
  const newYork = { ...shanghai, timeZone: "America/New_York" };
  const skipped = {
    startHour: 2,
    startMinute: 0,
    startSecond: 0,
    duration: 30 * 60,
    timeZone: "America/New_York",
  };
  windowCases([
    // Asia/Shanghai is UTC+8 all year: 22:00 local is 14:00 UTC.
    ["Shanghai 22:00 for 8 h (21:59:59 local)", shanghai, "2025-01-15T13:59:59Z", false],
    ["Shanghai 22:00 for 8 h (22:00 local)", shanghai, "2025-01-15T14:00:00Z", true],
    ["Shanghai 22:00 for 8 h (05:59:59 next morning)", shanghai, "2025-01-15T21:59:59Z", true],
    ["Shanghai 22:00 for 8 h (06:00 local)", shanghai, "2025-01-15T22:00:00Z", false],
    [
      "Shanghai 22:00 for 8 h (06:30 local; 22:30 UTC would be inside)",
      shanghai,
      "2025-01-15T22:30:00Z",
      false,
    ],
    // New York, winter (UTC−5) and summer (UTC−4).
    ["New York in January (22:00 EST)", newYork, "2025-01-16T03:00:00Z", true],
    ["New York in January (21:59:59 EST)", newYork, "2025-01-16T02:59:59Z", false],
    ["New York in July (22:00 EDT)", newYork, "2025-07-01T02:00:00Z", true],
    ["New York in July (21:59:59 EDT)", newYork, "2025-07-01T01:59:59Z", false],
    ["New York in July (06:00 EDT)", newYork, "2025-07-01T10:00:00Z", false],
    // Spring forward on 2025-03-09 at 02:00 EST → 03:00 EDT: the window still ends at 06:00 on the clock.
    ["New York, spring-forward night (22:00 EST)", newYork, "2025-03-09T03:00:00Z", true],
    ["New York, spring-forward night (03:00 EDT)", newYork, "2025-03-09T07:00:00Z", true],
    ["New York, spring-forward morning (05:59:59 EDT)", newYork, "2025-03-09T09:59:59Z", true],
    ["New York, spring-forward morning (06:00 EDT, 05:00 EST)", newYork, "2025-03-09T10:00:00Z", false],
    // Fall back on 2025-11-02 at 02:00 EDT → 01:00 EST.
    ["New York, fall-back night (01:30 EDT)", newYork, "2025-11-02T05:30:00Z", true],
    ["New York, fall-back night (01:30 EST, again)", newYork, "2025-11-02T06:30:00Z", true],
    ["New York, fall-back morning (05:59:59 EST)", newYork, "2025-11-02T10:59:59Z", true],
    ["New York, fall-back morning (06:00 EST, 07:00 EDT)", newYork, "2025-11-02T11:00:00Z", false],
    // A window inside the skipped hour does not happen that night, and does the next.
    ["02:00 for 30 min on the spring-forward night (03:00 EDT)", skipped, "2025-03-09T07:00:00Z", false],
    ["02:00 for 30 min on the spring-forward night (01:59:59 EST)", skipped, "2025-03-09T06:59:59Z", false],
    ["02:00 for 30 min the next night (02:15 EDT)", skipped, "2025-03-10T06:15:00Z", true],
  ]);
});

describe("permanent window (duration ≥ 86400) from the start time on the day of the call", () => {
  const at = (iso: string) => ({ at: ms(iso) });
  const nine = { startHour: 9, startMinute: 0, startSecond: 0, duration: 86_400 };
  windowCases([
    ["09:00 UTC, set at 08:00", { ...nine, ...at("2025-01-15T08:00:00Z") }, "2025-01-15T08:59:59Z", false],
    ["09:00 UTC, set at 08:00", { ...nine, ...at("2025-01-15T08:00:00Z") }, "2025-01-15T09:00:00Z", true],
    [
      "09:00 UTC, set at 08:00: still next day",
      { ...nine, ...at("2025-01-15T08:00:00Z") },
      "2025-01-16T08:00:00Z",
      true,
    ],
    [
      "09:00 UTC, set at 08:00: still a year on",
      { ...nine, ...at("2025-01-15T08:00:00Z") },
      "2026-01-15T00:00:00Z",
      true,
    ],
    [
      "09:00 UTC, set at 12:00: already started",
      { ...nine, ...at("2025-01-15T12:00:00Z") },
      "2025-01-15T12:00:00Z",
      true,
    ],
    [
      "09:00 UTC, set at 12:00: not before 09:00",
      { ...nine, ...at("2025-01-15T12:00:00Z") },
      "2025-01-15T08:59:59Z",
      false,
    ],
    [
      "ten years is permanent too",
      { ...nine, duration: 315_360_000, ...at("2025-01-15T08:00:00Z") },
      "2030-06-01T00:00:00Z",
      true,
    ],
    // Set at 2025-01-16 01:00 in Shanghai (17:00 UTC the day before): the day of the call is the 16th there.
    [
      "00:30 Shanghai, set at 01:00 local",
      { ...nine, startHour: 0, startMinute: 30, timeZone: "Asia/Shanghai", ...at("2025-01-15T17:00:00Z") },
      "2025-01-15T16:29:59Z",
      false,
    ],
    [
      "00:30 Shanghai, set at 01:00 local",
      { ...nine, startHour: 0, startMinute: 30, timeZone: "Asia/Shanghai", ...at("2025-01-15T17:00:00Z") },
      "2025-01-15T16:30:00Z",
      true,
    ],
    // Set on the spring-forward day; 22:00 that evening is EDT (02:00 UTC), not EST.
    [
      "22:00 New York, set on the spring-forward day",
      { ...nine, startHour: 22, timeZone: "America/New_York", ...at("2025-03-09T12:00:00Z") },
      "2025-03-10T01:59:59Z",
      false,
    ],
    [
      "22:00 New York, set on the spring-forward day",
      { ...nine, startHour: 22, timeZone: "America/New_York", ...at("2025-03-09T12:00:00Z") },
      "2025-03-10T02:00:00Z",
      true,
    ],
    // 02:30 does not exist that day: it starts at the same distance past the jump, 03:30 EDT.
    [
      "02:30 New York on the spring-forward day",
      { ...nine, startHour: 2, startMinute: 30, timeZone: "America/New_York", ...at("2025-03-09T12:00:00Z") },
      "2025-03-09T07:29:59Z",
      false,
    ],
    [
      "02:30 New York on the spring-forward day",
      { ...nine, startHour: 2, startMinute: 30, timeZone: "America/New_York", ...at("2025-03-09T12:00:00Z") },
      "2025-03-09T07:30:00Z",
      true,
    ],
    // 01:30 happens twice on the fall-back day: the first one counts.
    [
      "01:30 New York on the fall-back day",
      { ...nine, startHour: 1, startMinute: 30, timeZone: "America/New_York", ...at("2025-11-02T12:00:00Z") },
      "2025-11-02T05:29:59Z",
      false,
    ],
    [
      "01:30 New York on the fall-back day",
      { ...nine, startHour: 1, startMinute: 30, timeZone: "America/New_York", ...at("2025-11-02T12:00:00Z") },
      "2025-11-02T05:30:00Z",
      true,
    ],
    [
      "01:30 New York on the fall-back day, through the repeated hour",
      { ...nine, startHour: 1, startMinute: 30, timeZone: "America/New_York", ...at("2025-11-02T12:00:00Z") },
      "2025-11-02T06:15:00Z",
      true,
    ],
  ]);
});

describe("startTimeStamp form (UTC seconds)", () => {
  const daily = { startTimeStamp: seconds("2025-01-15T22:00:00Z"), duration: 8 * HOURS };
  const permanent = { startTimeStamp: seconds("2025-01-15T22:00:00Z"), duration: 86_400 };
  windowCases([
    ["daily: nothing before the first start, even at that time of day", daily, "2025-01-14T23:00:00Z", false],
    ["daily", daily, "2025-01-15T21:59:59Z", false],
    ["daily: first start", daily, "2025-01-15T22:00:00Z", true],
    ["daily: past midnight", daily, "2025-01-16T05:59:59Z", true],
    ["daily: end", daily, "2025-01-16T06:00:00Z", false],
    ["daily: repeats", daily, "2025-03-20T23:00:00Z", true],
    ["daily: repeats", daily, "2025-03-20T12:00:00Z", false],
    [
      "daily: odd start",
      { startTimeStamp: seconds("2025-01-15T08:17:23Z"), duration: 60 },
      "2025-02-01T08:18:22Z",
      true,
    ],
    [
      "daily: odd start",
      { startTimeStamp: seconds("2025-01-15T08:17:23Z"), duration: 60 },
      "2025-02-01T08:18:23Z",
      false,
    ],
    ["permanent: before", permanent, "2025-01-15T21:59:59Z", false],
    ["permanent: from the timestamp", permanent, "2025-01-15T22:00:00Z", true],
    ["permanent: for good", permanent, "2027-01-01T12:00:00Z", true],
    // Tencent's rule: a timestamp counts only when it is > 0; otherwise the time of day (here 00:00) does.
    [
      "startTimeStamp 0 uses the time of day",
      { startTimeStamp: 0, duration: HOURS },
      "2025-01-15T00:30:00Z",
      true,
    ],
    [
      "startTimeStamp 0 uses the time of day",
      { startTimeStamp: 0, duration: HOURS },
      "2025-01-15T01:30:00Z",
      false,
    ],
  ]);
});

describe("conversation and global options combined", () => {
  const night = dnd({ startHour: 22, startMinute: 0, startSecond: 0, duration: 8 * HOURS });
  const inside = ms("2025-01-15T23:00:00Z");
  const outside = ms("2025-01-15T12:00:00Z");
  const cases: [string, Preferences, boolean, number, string | undefined][] = [
    [
      "no conversation option, inside DND",
      { conversations: {}, all: night },
      false,
      inside,
      "do not disturb",
    ],
    ["no conversation option, outside DND", { conversations: {}, all: night }, false, outside, undefined],
    [
      "receiveOpt 0, inside DND",
      { conversations: { c2c_bob: 0 }, all: night },
      false,
      inside,
      "do not disturb",
    ],
    // A mention breaks through receiveOpt 3 but not through global DND.
    [
      "receiveOpt 3 + mention, inside DND",
      { conversations: { c2c_bob: 3 }, all: night },
      true,
      inside,
      "do not disturb",
    ],
    [
      "receiveOpt 3 + mention, outside DND",
      { conversations: { c2c_bob: 3 }, all: night },
      true,
      outside,
      undefined,
    ],
    [
      "receiveOpt 4 + mention, inside DND",
      { conversations: { c2c_bob: 4 }, all: night },
      true,
      inside,
      "do not disturb",
    ],
    ["no option + mention, inside DND", { conversations: {}, all: night }, true, inside, "do not disturb"],
    [
      "receiveOpt 3 without mention, outside DND",
      { conversations: { c2c_bob: 3 }, all: night },
      false,
      outside,
      "conversation muted except @mentions",
    ],
    // The conversation's reason comes first.
    [
      "receiveOpt 2, inside DND",
      { conversations: { c2c_bob: 2 }, all: night },
      false,
      inside,
      "conversation muted",
    ],
    [
      "receiveOpt 1, outside DND",
      { conversations: { c2c_bob: 1 }, all: night },
      true,
      outside,
      "conversation muted: receive nothing",
    ],
    // Global receiveOpt 0 is "receive and notify", whatever window it carries.
    [
      "global 0 with a window",
      { conversations: {}, all: { ...night, receiveOpt: 0 } },
      false,
      inside,
      undefined,
    ],
    [
      "global 0 with a permanent window",
      { conversations: {}, all: dnd({ receiveOpt: 0, duration: 86_400 }) },
      false,
      inside,
      undefined,
    ],
    [
      "global permanent DND",
      { conversations: {}, all: dnd({ duration: 86_400 }) },
      true,
      inside,
      "do not disturb",
    ],
  ];
  it.each(cases)("%s", (_, prefs, mentioned, nowMs, reason) => {
    expect(preferenceDecision(prefs, { conversationId: "c2c_bob", mentioned, nowMs })).toEqual(
      reason === undefined ? { notify: true } : { notify: false, reason },
    );
  });

  it("honours global DND in a group conversation too", () => {
    const prefs: Preferences = { conversations: { group_team: 3 }, all: night };
    expect(
      preferenceDecision(prefs, { conversationId: "group_team", mentioned: true, nowMs: inside }),
    ).toEqual({
      notify: false,
      reason: "do not disturb",
    });
  });
});

describe("time zone helpers", () => {
  it.each([
    ["Asia/Shanghai", true],
    ["America/New_York", true],
    ["UTC", true],
    ["Etc/GMT+5", true],
    ["asia/shanghai", true],
    ["US/Eastern", true],
    ["Mars/Olympus_Mons", false],
    ["", false],
    ["+08:00", false],
    ["-0500", false],
    ["8", false],
    ["Asia/Shanghai ", false],
  ])("isValidTimeZone(%j) is %s", (name, valid) => {
    expect(isValidTimeZone(name)).toBe(valid);
  });

  it.each([
    ["2025-01-15T16:30:00Z", "Asia/Shanghai", { year: 2025, month: 1, day: 16, secondOfDay: 30 * 60 }],
    ["2025-03-09T07:00:00Z", "America/New_York", { year: 2025, month: 3, day: 9, secondOfDay: 3 * HOURS }],
    [
      "2025-03-09T06:59:59Z",
      "America/New_York",
      { year: 2025, month: 3, day: 9, secondOfDay: 2 * HOURS - 1 },
    ],
    ["2025-01-01T00:00:00Z", "UTC", { year: 2025, month: 1, day: 1, secondOfDay: 0 }],
    ["2024-12-31T23:59:59.999Z", "UTC", { year: 2024, month: 12, day: 31, secondOfDay: 86_399 }],
  ])("wallClock(%s, %s)", (iso, zone, expected) => {
    expect(wallClock(ms(iso), zone)).toEqual(expected);
  });

  it("reads an unknown zone in stored data as UTC instead of throwing", () => {
    expect(wallClock(ms("2025-01-15T16:30:00Z"), "Mars/Olympus_Mons")).toEqual(
      wallClock(ms("2025-01-15T16:30:00Z"), "UTC"),
    );
    expect(
      isInGlobalWindow(
        dnd({ startHour: 16, duration: HOURS, timeZone: "Mars/Olympus_Mons" }),
        ms("2025-01-15T16:30:00Z"),
      ),
    ).toBe(true);
  });

  it.each([
    ["an ordinary time", [2025, 1, 16, 30 * 60], "Asia/Shanghai", "2025-01-15T16:30:00Z"],
    ["summer time", [2025, 7, 1, 22 * HOURS], "America/New_York", "2025-07-02T02:00:00Z"],
    [
      "a time skipped by spring-forward",
      [2025, 3, 9, 2.5 * HOURS],
      "America/New_York",
      "2025-03-09T07:30:00Z",
    ],
    ["a time repeated by fall-back", [2025, 11, 2, 1.5 * HOURS], "America/New_York", "2025-11-02T05:30:00Z"],
    ["just after fall-back", [2025, 11, 2, 2 * HOURS], "America/New_York", "2025-11-02T07:00:00Z"],
    ["UTC", [2025, 2, 28, 86_399], "UTC", "2025-02-28T23:59:59Z"],
  ] as const)("zonedToEpochMs for %s", (_, [year, month, day, second], zone, iso) => {
    expect(zonedToEpochMs(year, month, day, second, zone)).toBe(ms(iso));
  });
});
