import { describe, expect, it } from "vitest";
import type { Presence } from "../../../lib/ports/index.js";
import {
  affectsPushPresence,
  applyConnectionChange,
  FOREGROUND_TRUST_MS,
  KICK_ECHO_WINDOW_MS,
  reachability,
} from "../../../lib/routing/presence.js";

const T = 1_764_085_200_000;

describe("applyConnectionChange", () => {
  it("Login connects and clears a logout", () => {
    expect(
      applyConnectionChange(
        { loggedOut: true, connected: false, connectionAt: T },
        { action: "Login", at: T + 1, kicked: false },
      ),
    ).toEqual({
      connected: true,
      loggedOut: false,
      connectionAt: T + 1,
    });
  });

  it("Logout logs the user out; Disconnect keeps them logged in", () => {
    expect(applyConnectionChange({}, { action: "Logout", at: T, kicked: false })).toMatchObject({
      loggedOut: true,
      connected: false,
    });
    expect(applyConnectionChange({}, { action: "Disconnect", at: T, kicked: false })).toEqual({
      connected: false,
      connectionAt: T,
    });
  });

  it("ignores a change older than the stored one (callbacks can reorder)", () => {
    expect(
      applyConnectionChange(
        { connected: true, connectionAt: T },
        { action: "Logout", at: T - 1, kicked: false },
      ),
    ).toBeUndefined();
  });

  it("treats a Logout right after a kicking Login as the kick's echo", () => {
    const afterKick = applyConnectionChange({}, { action: "Login", at: T, kicked: true })!;
    expect(afterKick.kickedAt).toBe(T);
    expect(
      applyConnectionChange(afterKick, { action: "Logout", at: T + KICK_ECHO_WINDOW_MS, kicked: false }),
    ).toBeUndefined();
    expect(
      applyConnectionChange(afterKick, { action: "Logout", at: T + KICK_ECHO_WINDOW_MS + 1, kicked: false }),
    ).toMatchObject({
      loggedOut: true,
    });
  });
});

describe("reachability", () => {
  const cases: [string, Presence, ReturnType<typeof reachability>][] = [
    ["nothing known", {}, "offline"],
    ["logged out", { loggedOut: true, connected: false }, "logged-out"],
    ["disconnected (app killed)", { connected: false, appState: "foreground", appStateAt: T }, "offline"],
    ["connected, app in background", { connected: true, appState: "background", appStateAt: T }, "offline"],
    [
      "connected, app in foreground",
      { connected: true, appState: "foreground", appStateAt: T },
      "foreground",
    ],
    [
      "connected, app never reported (Tencent: no push without doBackground)",
      { connected: true },
      "foreground",
    ],
    [
      "connection unknown, recent foreground report",
      { appState: "foreground", appStateAt: T - 1000 },
      "foreground",
    ],
    [
      "connection unknown, stale foreground report",
      { appState: "foreground", appStateAt: T - FOREGROUND_TRUST_MS },
      "offline",
    ],
  ];
  it.each(cases)("%s", (_name, presence, expected) => {
    expect(reachability(presence, T)).toBe(expected);
  });
});

describe("affectsPushPresence", () => {
  it.each([
    ["Android", true],
    ["iOS", true],
    ["IOS", true],
    ["iPad", true],
    [undefined, true],
    ["Unknown", true],
    ["Web", false],
    ["Windows", false],
    ["Mac", false],
    ["RESTAPI", false],
  ])("%s → %s", (platform, expected) => {
    expect(affectsPushPresence(platform)).toBe(expected);
  });
});
