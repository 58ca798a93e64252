import { describe, expect, it } from "vitest";
import type { Device } from "../../../lib/model/index.js";
import type { Connections, Presence } from "../../../lib/ports/index.js";
import {
  applyConnectionChange,
  type ConnectionChange,
  deviceReachability,
  deviceSkipReason,
  FOREGROUND_TRUST_MS,
  KICK_ECHO_WINDOW_MS,
  mobilePlatformOf,
  platformsOfOptPlatform,
} from "../../../lib/routing/presence.js";

const T = 1_764_085_300_000;

const change = (
  action: ConnectionChange["action"],
  at: number,
  platforms: ConnectionChange["platforms"],
  kicked: ConnectionChange["kicked"] = [],
  by?: string,
): ConnectionChange => ({
  action,
  at,
  platforms,
  kicked,

  ...(by ? { by } : {}),
});

const apply = (current: Connections, ...changes: ConnectionChange[]) =>
  changes.reduce((state, c) => applyConnectionChange(state, c) ?? state, current);

describe("Tencent platform names", () => {
  it("maps OptPlatform to the mobile platforms it is about", () => {
    // State.StateChange spells iOS "IOS"; querystate writes "iPhone".
    expect(platformsOfOptPlatform("IOS")).toEqual(["iOS"]);
    expect(platformsOfOptPlatform("iPhone")).toEqual(["iOS"]);
    expect(platformsOfOptPlatform("iPad")).toEqual(["iPad"]);
    expect(platformsOfOptPlatform("Android")).toEqual(["Android"]);
    for (const desktop of ["Web", "Windows", "Mac", "macOS", "Linux"]) {
      expect(platformsOfOptPlatform(desktop)).toEqual([]);
    }
  });

  it("applies a change that names no client (absent, Unknown, RESTAPI) to every mobile platform", () => {
    for (const name of [undefined, "", "Unknown", "RESTAPI"]) {
      expect(platformsOfOptPlatform(name).sort()).toEqual(["Android", "iOS", "iPad"]);
    }
    expect(mobilePlatformOf("Web")).toBeUndefined();
    expect(mobilePlatformOf("iPad")).toBe("iPad");
  });
});

describe("applyConnectionChange", () => {
  it("keeps each platform's newest change by EventTime, whatever order they arrive in", () => {
    const state = apply({}, change("Logout", T + 2, ["Android"]), change("Login", T + 1, ["Android"]));
    expect(state.Android).toEqual({ connected: false, at: T + 2, loggedOut: true });
  });

  it("changes only the platform it names: a Logout on the iPad leaves the phone logged in", () => {
    const state = apply(
      {},
      change("Login", T, ["iOS"]),
      change("Login", T, ["iPad"]),
      change("Logout", T + 5, ["iPad"]),
    );
    expect(state.iOS).toMatchObject({ connected: true, loggedOut: false });
    expect(state.iPad).toMatchObject({ connected: false, loggedOut: true });
  });

  it("logs a kicked platform out: a Login on Android that kicked iOS", () => {
    const state = apply(
      {},
      change("Login", T, ["iOS"]),
      change("Login", T + 10, ["Android"], ["iOS"], "Android"),
    );
    expect(state.Android).toEqual({ connected: true, at: T + 10, loggedOut: false });
    expect(state.iOS).toEqual({ connected: false, at: T + 10, loggedOut: true, kickedBy: "Android" });
  });

  it("applies a Logout on the kicking platform right after it kicked another platform", () => {
    const state = apply({}, change("Login", T, ["Android"], ["iOS"]), change("Logout", T + 100, ["Android"]));
    expect(state.Android).toMatchObject({ loggedOut: true });
  });

  it("keeps a kicked platform logged out through its Disconnect, until it logs in again", () => {
    const kicked = apply({}, change("Login", T, ["Android"], ["iOS"], "Android"));
    const disconnected = apply(kicked, change("Disconnect", T + 100, ["iOS"]));
    expect(disconnected.iOS).toMatchObject({ loggedOut: true, kickedBy: "Android" });
    expect(apply(disconnected, change("Login", T + 200, ["iOS"])).iOS).toMatchObject({
      connected: true,
      loggedOut: false,
    });
  });

  it("does not let an older kick log out a platform that has logged in since", () => {
    const state = apply({}, change("Login", T + 50, ["iOS"]), change("Login", T, ["Android"], ["iOS"]));
    expect(state.iOS).toMatchObject({ connected: true, loggedOut: false, at: T + 50 });
  });

  it("leaves the platform logged in on a same-platform kick, and ignores its echo Logout", () => {
    const afterKick = apply({}, change("Login", T, ["iOS"], ["iOS"]));
    expect(afterKick.iOS).toMatchObject({ connected: true, loggedOut: false });
    expect(
      applyConnectionChange(afterKick, change("Logout", T + KICK_ECHO_WINDOW_MS, ["iOS"])),
    ).toBeUndefined();
    expect(
      applyConnectionChange(afterKick, change("Logout", T + KICK_ECHO_WINDOW_MS + 1, ["iOS"]))?.iOS,
    ).toMatchObject({ loggedOut: true });
  });

  it("keeps a Disconnect logged in (Tencent's PushOnline)", () => {
    expect(apply({}, change("Disconnect", T, ["Android"])).Android).toEqual({
      connected: false,
      at: T,
      loggedOut: false,
    });
  });

  it("returns undefined when nothing changes (so nothing is written)", () => {
    expect(
      applyConnectionChange(
        { iOS: { connected: true, at: T, loggedOut: false } },
        change("Login", T - 1, ["iOS"]),
      ),
    ).toBeUndefined();
  });
});

const device = (deviceId: string, vendor: Device["vendor"], platform?: Device["platform"]) => ({
  deviceId,
  vendor,
  ...(platform ? { platform } : {}),
});
const presence = (p: Partial<Presence>): Presence => ({ connections: {}, devices: {}, ...p });

describe("deviceReachability", () => {
  const iphone = device("iphone", "apns");
  const ipad = device("ipad", "apns", "iPad");
  const pixel = device("pixel", "fcm");

  it("decides per device: the iPad in the foreground, the phone in the background", () => {
    const p = presence({
      app: { state: "background", at: T - 5000 },
      devices: { ipad: { state: "foreground", at: T - 1000 } },
    });
    expect(deviceReachability(p, ipad, T)).toBe("foreground");
    expect(deviceReachability(p, iphone, T)).toBe("offline");
  });

  it("lets a report for all devices that is newer override a device's own", () => {
    const p = presence({
      app: { state: "background", at: T - 500 },
      devices: { ipad: { state: "foreground", at: T - 1000 } },
    });
    expect(deviceReachability(p, ipad, T)).toBe("offline");
  });

  it("follows the device's platform connection: kicked iOS, connected Android", () => {
    const p = presence({
      connections: apply({}, change("Login", T - 10, ["Android"], ["iOS"], "Android")),
      app: { state: "background", at: T - 20 },
    });
    expect(deviceReachability(p, iphone, T)).toBe("logged-out");
    expect(deviceSkipReason(p, iphone, T)).toBe("logged out: kicked by a login on Android");
    expect(deviceReachability(p, pixel, T)).toBe("offline");
    // The iPad is its own platform to Tencent: a kick of iOS says nothing about it.
    expect(deviceReachability(p, ipad, T)).toBe("offline");
  });

  it("counts a connected client that never reported as foreground (Tencent's rule)", () => {
    const p = presence({ connections: { Android: { connected: true, at: T - 10, loggedOut: false } } });
    expect(deviceReachability(p, pixel, T)).toBe("foreground");
  });

  it("trusts a foreground report without a known connection for a while only", () => {
    const p = presence({ devices: { ipad: { state: "foreground", at: T } } });
    expect(deviceReachability(p, ipad, T + FOREGROUND_TRUST_MS - 1)).toBe("foreground");
    expect(deviceReachability(p, ipad, T + FOREGROUND_TRUST_MS)).toBe("offline");
  });

  it("pushes a device whose app was killed (Disconnect), even if it last said foreground", () => {
    const p = presence({
      connections: { Android: { connected: false, at: T - 10, loggedOut: false } },
      devices: { pixel: { state: "foreground", at: T - 20 } },
    });
    expect(deviceSkipReason(p, pixel, T)).toBeUndefined();
  });
});
