import { describe, expect, it } from "vitest";
import { conversationNotifyId, fitText, intentWithExt } from "../../../lib/vendors/android-text.js";

describe("fitText", () => {
  it("keeps text within the limit as it is", () => {
    expect(fitText("Alice Chen", 10)).toBe("Alice Chen");
  });

  it("cuts to the limit in UTF-16 units with an ellipsis, never inside a surrogate pair", () => {
    expect(fitText("abcdefghij", 5)).toBe("abcd…");
    const cut = fitText("😀😀😀", 4);
    expect(cut).toBe("😀…");
    expect(cut.length).toBeLessThanOrEqual(4);
  });
});

describe("conversationNotifyId", () => {
  it("is stable, positive and 31-bit, and differs between conversations", () => {
    const a = conversationNotifyId("c2c_alice");
    expect(conversationNotifyId("c2c_alice")).toBe(a);
    expect(a).toBeGreaterThan(0);
    expect(a).toBeLessThanOrEqual(0x7fffffff);
    expect(conversationNotifyId("c2c_bob")).not.toBe(a);
  });
});

describe("intentWithExt", () => {
  it("adds ext as a string extra before ;end", () => {
    expect(
      intentWithExt(
        "intent://com.example/chat#Intent;scheme=tim;launchFlags=0x4000000;end",
        '{"conversationID":"c2c_alice"}',
      ),
    ).toBe(
      "intent://com.example/chat#Intent;scheme=tim;launchFlags=0x4000000;S.ext=%7B%22conversationID%22%3A%22c2c_alice%22%7D;end",
    );
  });

  it("builds the Intent part when the URI has none", () => {
    expect(intentWithExt("tim://chat", "{}")).toBe("tim://chat#Intent;S.ext=%7B%7D;end");
  });
});

describe("secondsUntilDailyQuotaReset", () => {
  it("counts to the next midnight in Beijing (UTC+8)", async () => {
    const { secondsUntilDailyQuotaReset } = await import("../../../lib/vendors/quota.js");
    // 2026-11-25 15:00 UTC is 23:00 in Beijing: one hour to go.
    expect(secondsUntilDailyQuotaReset(Date.UTC(2026, 10, 25, 15, 0, 0))).toBe(3600);
    // 16:00 UTC is Beijing midnight: a full day to the next reset.
    expect(secondsUntilDailyQuotaReset(Date.UTC(2026, 10, 25, 16, 0, 0))).toBe(86_400);
  });
});
