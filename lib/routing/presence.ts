import { DEVICE_PLATFORMS, type Device, type DevicePlatform, platformOf } from "../model/index.js";
import type { AppStateReport, Connections, PlatformConnection, Presence } from "../ports/index.js";

/**
 * Presence rules, mirroring Tencent's semantics (tencent-chat.md §2.3, §7.3), per platform: Tencent's
 * multi-device rules and its State.StateChange callback name platforms (`OptPlatform`,
 * `KickedDevice[].Platform`), not devices. Pure: the adapters store what these functions decide.
 */

/**
 * Older SDKs answer a multi-device kick with both a Login (new device, with KickedDevice) and a
 * Logout (the kicked one); newer ones (native ≥ 5.6.1200, Web ≥ 2.14.0) send only the Login
 * (tencent-chat.md §2.3). The echo names the kicked device's platform: when that is another
 * platform, it only repeats what the kick already did; when it is the same platform (a second iPhone
 * kicked the first), a Logout this close to the kicking Login is the echo, not the user logging out.
 * UNCONFIRMED: which OptPlatform Tencent puts on the echo; a genuine Logout on the kicking platform
 * right after a kick of another platform is applied.
 */
export const KICK_ECHO_WINDOW_MS = 10_000;

/**
 * An app that reported "foreground" but whose IM connection state we never learnt (State.StateChange
 * switched off) is trusted this long, so a crash in the foreground cannot silence pushes forever.
 */
export const FOREGROUND_TRUST_MS = 10 * 60_000;

/**
 * Tencent's platform names (`OptPlatform` of the callback, `KickedDevice[].Platform`) of the mobile
 * platforms whose IM connection decides offline push. State.StateChange spells iOS `IOS` while other
 * callbacks write `iOS`, and querystate writes `iPhone` (tencent-chat.md §1.2, §5.6): compared
 * case-insensitively. Web, Windows, Mac and Linux logins say nothing about a phone.
 */
const MOBILE_PLATFORM_NAMES: Record<string, DevicePlatform> = {
  ios: "iOS",
  iphone: "iOS",
  ipad: "iPad",
  android: "Android",
};

/**
 * `OptPlatform` values that name no single client: a callback without it (or `Unknown`), and
 * `RESTAPI` (an admin's REST `kick` invalidates the account's logins everywhere; the Action and
 * Reason it produces are UNCONFIRMED, tencent-chat.md §2.3). They apply to every mobile platform.
 */
const EVERY_PLATFORM_NAMES = new Set(["", "unknown", "restapi"]);

/** The mobile platforms a State.StateChange with this `OptPlatform` is about (none for Web, desktop). */
export function platformsOfOptPlatform(optPlatform: string | undefined): DevicePlatform[] {
  const name = (optPlatform ?? "").trim().toLowerCase();
  if (EVERY_PLATFORM_NAMES.has(name)) return [...DEVICE_PLATFORMS];
  const platform = MOBILE_PLATFORM_NAMES[name];
  return platform === undefined ? [] : [platform];
}

/** A mobile platform Tencent names in `KickedDevice[].Platform`, or undefined for Web and desktop. */
export function mobilePlatformOf(name: string | undefined): DevicePlatform | undefined {
  return MOBILE_PLATFORM_NAMES[(name ?? "").trim().toLowerCase()];
}

/** One State.StateChange, as the rule needs it. */
export interface ConnectionChange {
  action: "Login" | "Logout" | "Disconnect";
  /** Epoch ms (Tencent's EventTime). */
  at: number;
  /** The platforms the change is about (from `OptPlatform`). */
  platforms: readonly DevicePlatform[];
  /** A Login's `KickedDevice` platforms that are mobile. */
  kicked: readonly DevicePlatform[];
  /** `OptPlatform` as Tencent sent it, to say who kicked whom. */
  by?: string;
}

/**
 * The connections after a State.StateChange, or undefined when nothing changes. Each platform keeps
 * its newest change by EventTime, whatever order callbacks arrive in.
 * - Login: the platform is connected and logged in; the platforms it kicked are logged out (Tencent
 *   stops pushing to a kicked device) until they log in again. A kick of the same platform (a second
 *   iPhone) leaves the platform logged in: the callback cannot say which of the user's iPhones was
 *   kicked (apps should clear the kicked device's token in `onKickedOffline`).
 * - Logout: logged out, unless it is the echo of this platform's own kicking Login.
 * - Disconnect (app killed, network lost): not connected but still logged in, Tencent's PushOnline.
 */
export function applyConnectionChange(
  current: Connections,
  change: ConnectionChange,
): Connections | undefined {
  const next: Connections = { ...current };
  let changed = false;
  const set = (platform: DevicePlatform, value: PlatformConnection) => {
    next[platform] = value;
    changed = true;
  };
  const newer = (platform: DevicePlatform) => {
    const at = current[platform]?.at;
    return at === undefined || change.at >= at;
  };

  for (const platform of change.platforms) {
    if (!newer(platform)) continue;
    const was = current[platform];
    switch (change.action) {
      case "Login":
        set(platform, {
          connected: true,
          at: change.at,
          loggedOut: false,
          ...(change.kicked.includes(platform)
            ? { kickedOthersAt: change.at }
            : was?.kickedOthersAt !== undefined
              ? { kickedOthersAt: was.kickedOthersAt }
              : {}),
        });
        break;
      case "Logout":
        if (was?.kickedOthersAt !== undefined && change.at - was.kickedOthersAt <= KICK_ECHO_WINDOW_MS) break;
        set(platform, { connected: false, at: change.at, loggedOut: true });
        break;
      case "Disconnect":
        set(platform, {
          connected: false,
          at: change.at,
          loggedOut: was?.loggedOut ?? false,
          ...(was?.kickedBy !== undefined && was.loggedOut ? { kickedBy: was.kickedBy } : {}),
        });
        break;
    }
  }

  if (change.action === "Login") {
    for (const platform of change.kicked) {
      if (change.platforms.includes(platform) || !newer(platform)) continue;
      set(platform, {
        connected: false,
        at: change.at,
        loggedOut: true,
        kickedBy: change.by ?? "another device",
      });
    }
  }
  return changed ? next : undefined;
}

export type Reachability = "foreground" | "logged-out" | "offline";

/** The newer of the device's own app-state report and the report made for all devices. */
export function appStateOf(presence: Presence, deviceId: string): AppStateReport | undefined {
  const own = presence.devices[deviceId];
  const all = presence.app;
  if (own === undefined) return all;
  if (all === undefined) return own;
  return all.at > own.at ? all : own;
}

/**
 * Whether a device shows messages live (no push), is logged out (no push until its platform logs in
 * again), or should get an offline push. An IM connection with no app-state report counts as
 * foreground: that is Tencent's own rule (an online client gets no offline push until it calls
 * doBackground, tencent-chat.md §7.3).
 */
export function deviceReachability(
  presence: Presence,
  device: Pick<Device, "deviceId" | "vendor" | "platform">,
  now: number,
): Reachability {
  const connection = presence.connections[platformOf(device)];
  if (connection?.loggedOut) return "logged-out";
  const app = appStateOf(presence, device.deviceId);
  if (connection?.connected === false) return "offline";
  if (connection?.connected === true) return app?.state === "background" ? "offline" : "foreground";
  const trusted = app?.state === "foreground" && now - app.at < FOREGROUND_TRUST_MS;
  return trusted ? "foreground" : "offline";
}

/** Why a device is not pushed, as the journal says it; undefined when it is. */
export function deviceSkipReason(
  presence: Presence,
  device: Pick<Device, "deviceId" | "vendor" | "platform">,
  now: number,
): string | undefined {
  switch (deviceReachability(presence, device, now)) {
    case "foreground":
      return "online in the foreground";
    case "logged-out": {
      const by = presence.connections[platformOf(device)]?.kickedBy;
      return by === undefined ? "logged out" : `logged out: kicked by a login on ${by}`;
    }
    case "offline":
      return undefined;
  }
}
