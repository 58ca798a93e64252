/** The Chinese vendors reset daily quotas at midnight Beijing time (UTC+8, no daylight saving). */
const BEIJING_OFFSET_MS = 8 * 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

/** Seconds from `nowMs` until the next midnight in Beijing: how long a daily-quota answer holds. */
export function secondsUntilDailyQuotaReset(nowMs: number): number {
  const beijing = nowMs + BEIJING_OFFSET_MS;
  const nextMidnight = Math.floor(beijing / DAY_MS) * DAY_MS + DAY_MS;
  return Math.ceil((nextMidnight - beijing) / 1000);
}
