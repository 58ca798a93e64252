import type { Journal, PresenceStore } from "../ports/index.js";
import type { AcceptedCallback, StateChange } from "../tencent/callback.schema.js";
import type { Handler } from "./deps.js";
import {
  applyConnectionChange,
  type ConnectionChange,
  mobilePlatformOf,
  platformsOfOptPlatform,
} from "./presence.js";

/** State.StateChange actions that change reachability; `CustomStatusChange` does not (§2.3). */
const CONNECTION_ACTIONS = new Set(["Login", "Logout", "Disconnect"]);

/** The change a State.StateChange makes, or why it changes nothing. */
export function connectionChangeOf(
  event: StateChange,
  acceptedAt: number,
  optPlatform: string | undefined,
): ConnectionChange | { ignored: string } {
  const { Action } = event.Info;
  if (!CONNECTION_ACTIONS.has(Action)) return { ignored: `state action ${Action}` };
  const kickedDevices = event.KickedDevice ?? [];
  const kicked = [
    ...new Set(kickedDevices.map((d) => mobilePlatformOf(d.Platform)).filter((p) => p !== undefined)),
  ];
  const platforms = platformsOfOptPlatform(optPlatform);
  if (platforms.length === 0 && kicked.length === 0) return { ignored: `${Action} on ${optPlatform}` };
  return {
    action: Action as ConnectionChange["action"],
    at: event.EventTime ?? acceptedAt,
    platforms,
    kicked,
    ...(optPlatform !== undefined && optPlatform !== "" ? { by: optPlatform } : {}),
  };
}

/**
 * Applies one State.StateChange to the user's platform connections: one conditional write, ordered
 * by EventTime (the rule in presence.ts decides, the store writes).
 */
export async function applyStateChange(
  deps: { presence: PresenceStore; journal: Journal },
  event: StateChange,
  acceptedAt: number,
  optPlatform: string | undefined,
): Promise<void> {
  const userId = event.Info.To_Account;
  const change = connectionChangeOf(event, acceptedAt, optPlatform);
  if ("ignored" in change) {
    deps.journal.record({ stage: "ignored", userId, reason: change.ignored });
    return;
  }
  await deps.presence.updateConnections(userId, (current) => applyConnectionChange(current, change));
  const kicked = change.kicked.length > 0 ? `, kicked ${change.kicked.join(", ")}` : "";
  deps.journal.record({
    stage: "presence",
    userId,
    reason: `${change.action} on ${change.platforms.join(", ") || optPlatform}${kicked}`,
  });
}

/** `State.StateChange` when it came through the ingest queue (it could not be applied at ingest). */
export function makePresenceChangeHandler(deps: {
  presence: PresenceStore;
  journal: Journal;
}): Handler<"State.StateChange"> {
  return ({ body, acceptedAt, optPlatform }) => applyStateChange(deps, body, acceptedAt, optPlatform);
}

/**
 * What ingest does before it answers a callback: a presence change is applied there and then, so
 * every message callback Tencent sends after a Logout, Login or kick is routed with it already
 * stored (the ingest queue does not keep order). Resolves true when the callback is fully handled;
 * false sends it on the ingest queue as usual — also when the write failed, so the router applies it
 * (still in EventTime order) and the callback is never lost.
 */
export function makeIngestPresence(deps: {
  presence: PresenceStore;
  journal: Journal;
  onError?: (error: unknown) => void;
}): (callback: AcceptedCallback) => Promise<boolean> {
  return async (callback) => {
    if (callback.command !== "State.StateChange") return false;
    try {
      await applyStateChange(deps, callback.body, callback.acceptedAt, callback.optPlatform);
      return true;
    } catch (error) {
      deps.onError?.(error);
      return false;
    }
  };
}
