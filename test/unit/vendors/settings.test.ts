import { describe, expect, it } from "vitest";
import {
  maxConcurrency,
  REQUESTS_PER_WORKER_PER_SECOND,
  VENDOR_SETTINGS,
} from "../../../lib/vendors/settings.js";

describe("VENDOR_SETTINGS", () => {
  it("derives each vendor's worker concurrency from its documented QPS, within Lambda's limits", () => {
    expect(maxConcurrency(VENDOR_SETTINGS.meizu)).toBe(Math.floor(200 / REQUESTS_PER_WORKER_PER_SECOND));
    expect(maxConcurrency(VENDOR_SETTINGS.xiaomi)).toBe(10);
    expect(maxConcurrency(VENDOR_SETTINGS.fcm)).toBe(50);
    for (const settings of Object.values(VENDOR_SETTINGS)) {
      expect(maxConcurrency(settings)).toBeGreaterThanOrEqual(2);
      expect(settings.maxTargetsPerJob).toBeLessThanOrEqual(Math.max(settings.multicastMax, 500));
    }
  });
});
