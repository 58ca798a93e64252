import { describe, expect, it } from "vitest";
import { escapeControl, loggableError, logReplacer, safeForLog } from "../../../lib/http/log-safety.js";

const APNS = "7f3c9a1e5b2d4c6f8a0e1b3d5f7a9c2e4b6d8f0a1c3e5b7d9f2a4c6e8b0d1f3a";
const USERSIG = "eJwtzEELgjAYxvHvsvMQ3bvN5qBbBx0RCoWeXK-F0bTNSIpI9tVvu4Zc*sZ";

describe("escapeControl", () => {
  it.each([
    [
      "a line feed",
      "bob\n[chatpush] 12:00 delivered apns mallory",
      "bob\\u000a[chatpush] 12:00 delivered apns mallory",
    ],
    ["a carriage return", "a\rb", "a\\u000db"],
    ["NUL and DEL", "a\u0000b\u007f", "a\\u0000b\\u007f"],
    ["a C1 next-line", "a\u0085b", "a\\u0085b"],
    ["the line separator", "a\u2028b", "a\\u2028b"],
    ["a right-to-left override", "evil\u202egnp.exe", "evil\\u202egnp.exe"],
    ["a lone surrogate", "a\ud800b", "a\\ud800b"],
  ])("writes %s as an escape", (_, raw, escaped) => {
    expect(escapeControl(raw)).toBe(escaped);
  });

  it("leaves emoji and Chinese alone", () => {
    expect(escapeControl("你好 😀")).toBe("你好 😀");
  });
});

describe("what a log line may carry", () => {
  it("keeps no secret-named value whole, whatever the spelling", () => {
    const line = JSON.stringify(
      { token: APNS, userSig: USERSIG, Authorization: `UserSig ${USERSIG}`, private_key: "-----BEGIN" },
      logReplacer,
    );
    expect(line).not.toContain(APNS);
    expect(line).not.toContain(USERSIG);
    expect(line).toContain("7f3c9a…1f3a");
  });

  it("replaces a credentials object whole", () => {
    expect(JSON.parse(JSON.stringify({ credentials: { appSecret: "x".repeat(40) } }, logReplacer))).toEqual({
      credentials: "[redacted]",
    });
  });

  it("shortens a token inside free text (an error message) but shows our ids whole", () => {
    const entry = safeForLog({
      stage: "dead-lettered",
      deviceId: "3f2b9a1c-5d6e-4f70-8a9b-0c1d2e3f4a5b6c7d8e9f",
      reason: `BadDeviceToken for ${APNS}`,
    });
    expect(entry.deviceId).toBe("3f2b9a1c-5d6e-4f70-8a9b-0c1d2e3f4a5b6c7d8e9f");
    expect(entry.reason).not.toContain(APNS);
    expect(entry.reason).toContain("BadDeviceToken");
  });

  it("makes an error printable without its secret or a forged line", () => {
    const error = loggableError(new TypeError(`refused ${APNS}\nFAKE LINE`));
    expect(error.name).toBe("TypeError");
    expect(error.message).not.toContain(APNS);
    expect(error.message).not.toContain("\n");
  });
});
