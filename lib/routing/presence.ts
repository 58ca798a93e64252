import type { ConnectionChange, Presence } from "../ports/index.js";

/**
 * Presence rules, mirroring Tencent's semantics (tencent-chat.md §2.3, §7.3).
 *
 * Older SDKs answer a multi-device kick with both a Login (new device, with KickedDevice) and a
 * Logout (the kicked one); newer ones send only the Login. A Logout this close to a kicking Login is
 * the kick's echo, not the user logging out.
 */
export const KICK_ECHO_WINDOW_MS = 10_000;

/**
 * An app that reported "foreground" but whose IM connection state we never learnt (State.StateChange
 * switched off) is trusted this long, so a crash in the foreground cannot silence pushes forever.
 */
export const FOREGROUND_TRUST_MS = 10 * 60_000;

/** Platforms whose IM connection decides offline push; a Web or desktop login says nothing about the phone. */
const MOBILE_PLATFORMS = new Set(["android", "ios", "ipad", "iphone"]);

export function affectsPushPresence(optPlatform: string | undefined): boolean {
  if (optPlatform === undefined || optPlatform === "" || optPlatform.toLowerCase() === "unknown") return true;
  return MOBILE_PLATFORMS.has(optPlatform.toLowerCase());
}

/** The presence after a State.StateChange, or undefined when the change must be ignored. */
export function applyConnectionChange(current: Presence, change: ConnectionChange): Presence | undefined {
  if (current.connectionAt !== undefined && change.at < current.connectionAt) return undefined;
  switch (change.action) {
    case "Login":
      return {
        ...current,
        connected: true,
        loggedOut: false,
        connectionAt: change.at,
        ...(change.kicked ? { kickedAt: change.at } : {}),
      };
    case "Logout":
      if (current.kickedAt !== undefined && Math.abs(change.at - current.kickedAt) <= KICK_ECHO_WINDOW_MS) {
        return undefined;
      }
      return { ...current, connected: false, loggedOut: true, connectionAt: change.at };
    case "Disconnect":
      // The app was killed or lost its network: still logged in (Tencent's PushOnline), so push.
      return { ...current, connected: false, connectionAt: change.at };
  }
}

export type Reachability = "foreground" | "logged-out" | "offline";

/**
 * Whether a user sees messages live (no push), logged out (no push until the next login), or should
 * get an offline push. An IM connection with no app-state report counts as foreground: that is
 * Tencent's own rule (an online client gets no offline push until it calls doBackground).
 */
export function reachability(presence: Presence, now: number): Reachability {
  if (presence.loggedOut) return "logged-out";
  if (presence.connected === false) return "offline";
  if (presence.connected === true) return presence.appState === "background" ? "offline" : "foreground";
  const trusted =
    presence.appState === "foreground" &&
    presence.appStateAt !== undefined &&
    now - presence.appStateAt < FOREGROUND_TRUST_MS;
  return trusted ? "foreground" : "offline";
}
