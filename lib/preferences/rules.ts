import type { GlobalReceiveOpt, Preferences, ReceiveOpt } from "../ports/stores.js";

/**
 * Whether a user's reported receive options let a message notify them (tencent-chat.md §7.1), the
 * same for one-to-one and group messages. Pure: the caller passes the time.
 */

export type PreferenceDecision = { notify: true } | { notify: false; reason: string };

export interface PreferenceInput {
  /** The recipient's id of the conversation: `c2c_<sender>` for a one-to-one message, `group_<groupId>`. */
  conversationId: string;
  /** The message @mentions the recipient (or @all). */
  mentioned: boolean;
  /** Epoch ms the message is routed at. */
  nowMs: number;
}

const DAY_SECONDS = 86_400;

/** Reason when the conversation option silences a message; absent for options that let it through. */
const CONVERSATION_MUTES: Record<ReceiveOpt, { reason: string; mentionBreaksThrough: boolean } | undefined> =
  {
    0: undefined,
    1: { reason: "conversation muted: receive nothing", mentionBreaksThrough: false },
    2: { reason: "conversation muted", mentionBreaksThrough: false },
    3: { reason: "conversation muted except @mentions", mentionBreaksThrough: true },
    4: { reason: "conversation receives only @mentions", mentionBreaksThrough: true },
  };

/**
 * The conversation's option first (absent = 0, receive and notify), then the global do-not-disturb.
 * No preferences at all = notify.
 */
export function preferenceDecision(
  prefs: Preferences | undefined,
  input: PreferenceInput,
): PreferenceDecision {
  if (prefs === undefined) return { notify: true };

  const opt = prefs.conversations[input.conversationId] ?? 0;
  const mute = CONVERSATION_MUTES[opt];
  if (mute !== undefined && !(mute.mentionBreaksThrough && input.mentioned)) {
    return { notify: false, reason: mute.reason };
  }

  // Tencent's global option is only 0 or 2 and has no "except @" variant: a mention does NOT break
  // through global do-not-disturb, whatever the conversation's own option allows.
  if (prefs.all?.receiveOpt === 2 && isInGlobalWindow(prefs.all, input.nowMs)) {
    return { notify: false, reason: "do not disturb" };
  }
  return { notify: true };
}

/**
 * Whether `nowMs` falls inside the window of a global option, whatever its `receiveOpt` (the caller
 * checks that the option is 2).
 *
 * - `startTimeStamp` > 0 (Tencent's `getAllReceiveMessageOpt` rule: a timestamp wins when it is set):
 *   permanent from `startTimeStamp` when `duration` ≥ 86400; otherwise the window
 *   [its UTC time of day, + `duration`) repeats daily from `startTimeStamp` on, and nothing before it.
 * - Otherwise start `startHour:startMinute:startSecond` (missing parts 0) in `timeZone` (UTC when
 *   absent): daily for `duration` seconds of wall-clock time when `duration` < 86400, so 22:00 for
 *   8 h is 22:00–06:00 local time every night, also on DST days; permanent from that start on the
 *   local day of `at` (the day of the call) when `duration` ≥ 86400.
 */
export function isInGlobalWindow(opt: GlobalReceiveOpt, nowMs: number): boolean {
  if (opt.startTimeStamp !== undefined && opt.startTimeStamp > 0) {
    const startMs = opt.startTimeStamp * 1000;
    if (nowMs < startMs) return false;
    if (opt.duration >= DAY_SECONDS) return true;
    const nowSeconds = Math.floor(nowMs / 1000);
    return inDailyWindow(mod(nowSeconds, DAY_SECONDS), mod(opt.startTimeStamp, DAY_SECONDS), opt.duration);
  }

  const startOfDay = (opt.startHour ?? 0) * 3600 + (opt.startMinute ?? 0) * 60 + (opt.startSecond ?? 0);
  const zone = opt.timeZone ?? "UTC";
  if (opt.duration >= DAY_SECONDS) {
    const day = wallClock(opt.at, zone);
    return nowMs >= zonedToEpochMs(day.year, day.month, day.day, startOfDay, zone);
  }
  return inDailyWindow(wallClock(nowMs, zone).secondOfDay, startOfDay, opt.duration);
}

/**
 * A time zone name `Intl` knows (IANA names and their aliases, case-insensitive). Offsets such as
 * "+08:00", which newer engines also accept, are not IANA names and are refused.
 */
export function isValidTimeZone(name: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9_+/-]*$/.test(name)) return false;
  try {
    formatter(name);
    return true;
  } catch {
    return false;
  }
}

/** Local calendar date and time of an instant in a zone. `month` is 1–12. */
export interface WallClock {
  year: number;
  month: number;
  day: number;
  /** 0–86399. */
  secondOfDay: number;
}

/**
 * The wall-clock time of `epochMs` in `timeZone`. An unknown zone (stored data that bypassed the
 * schema) reads as UTC rather than throwing, so one bad record cannot stop routing.
 */
export function wallClock(epochMs: number, timeZone: string): WallClock {
  let parts: Intl.DateTimeFormatPart[];
  try {
    parts = formatter(timeZone).formatToParts(epochMs);
  } catch {
    parts = formatter("UTC").formatToParts(epochMs);
  }
  const field = (type: Intl.DateTimeFormatPartTypes) =>
    Number(parts.find((part) => part.type === type)?.value ?? 0);
  // Some engines print midnight as hour 24 even with h23.
  const hour = field("hour") % 24;
  return {
    year: field("year"),
    month: field("month"),
    day: field("day"),
    secondOfDay: hour * 3600 + field("minute") * 60 + field("second"),
  };
}

/**
 * The instant a local date and time occurs in `timeZone`. A time skipped by a DST jump maps to the
 * same distance past the jump (02:30 on a spring-forward night is 03:30); a repeated time maps to
 * its first occurrence, as Temporal's "compatible" disambiguation does.
 */
export function zonedToEpochMs(
  year: number,
  month: number,
  day: number,
  secondOfDay: number,
  timeZone: string,
): number {
  const local = Date.UTC(year, month - 1, day) + secondOfDay * 1000;
  // Offsets around the target: before and after any transition within a day of it.
  const before = offsetMs(local - DAY_SECONDS * 1000, timeZone);
  const after = offsetMs(local + DAY_SECONDS * 1000, timeZone);
  const candidates = [local - before, local - after].filter(
    (instant) => instant + offsetMs(instant, timeZone) === local,
  );
  // Repeated time: two candidates, take the earlier. Skipped time: none; shift by the offset before.
  return candidates.length > 0 ? Math.min(...candidates) : local - before;
}

/** Local time minus UTC at an instant, in ms (whole seconds; sub-second parts are dropped). */
function offsetMs(epochMs: number, timeZone: string): number {
  const wall = wallClock(epochMs, timeZone);
  const localMs = Date.UTC(wall.year, wall.month - 1, wall.day) + wall.secondOfDay * 1000;
  return localMs - Math.floor(epochMs / 1000) * 1000;
}

/** [start, start + duration) on a 24-hour clock, running past midnight when it is long enough. */
function inDailyWindow(secondOfDay: number, startOfDay: number, duration: number): boolean {
  return mod(secondOfDay - startOfDay, DAY_SECONDS) < duration;
}

function mod(value: number, divisor: number): number {
  return ((value % divisor) + divisor) % divisor;
}

// Building a DateTimeFormat costs far more than using one; routing checks many recipients. Bounded,
// because names are accepted in any letter case and so are not limited to the ~600 zones.
const formatters = new Map<string, Intl.DateTimeFormat>();
const MAX_FORMATTERS = 1000;

function formatter(timeZone: string): Intl.DateTimeFormat {
  let cached = formatters.get(timeZone);
  if (cached === undefined) {
    cached = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    if (formatters.size >= MAX_FORMATTERS) formatters.clear();
    formatters.set(timeZone, cached);
  }
  return cached;
}
