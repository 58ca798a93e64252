/**
 * Who may register a push token that another registration already holds. A push token is not a
 * secret from the app's point of view (it travels to our server, may sit in the app's logs or
 * backups), so "I know the token" must not be enough to take somebody's notifications.
 *
 * A token moves to a new registration only when
 * - it is the same user (an app reinstall under a new device id, a second sign-in on that phone), or
 * - it is the same device id (the phone changed hands and the new user logged in on it: the app's
 *   device id is what the phone's install reports, so the new user proves they hold that install), or
 * - the old registration has not been refreshed for `takeoverAfterMs` (apps upload their token at
 *   every login, so an owner who still uses the phone keeps refreshing it), or
 * - the old registration is gone (a ghost owner record left by a failure).
 * Otherwise the request is refused with 409 and the owner keeps the device.
 */

/** Default age after which a token's registration may be taken over by another user: 30 days. */
export const DEFAULT_TOKEN_TAKEOVER_AFTER_MS = 30 * 86_400_000;

export interface TokenHolder {
  userId: string;
  deviceId: string;
  /** When the holder last registered the token (epoch ms); undefined when the registration is gone. */
  updatedAt?: number;
}

export type TakeoverDecision =
  | { allowed: true; reason: "free" | "same-registration" | "same-user" | "same-device" | "stale" | "ghost" }
  | { allowed: false };

export function takeoverDecision(
  holder: TokenHolder | undefined,
  claimant: { userId: string; deviceId: string },
  nowMs: number,
  takeoverAfterMs = DEFAULT_TOKEN_TAKEOVER_AFTER_MS,
): TakeoverDecision {
  if (holder === undefined) return { allowed: true, reason: "free" };
  if (holder.userId === claimant.userId && holder.deviceId === claimant.deviceId) {
    return { allowed: true, reason: "same-registration" };
  }
  if (holder.userId === claimant.userId) return { allowed: true, reason: "same-user" };
  if (holder.deviceId === claimant.deviceId) return { allowed: true, reason: "same-device" };
  if (holder.updatedAt === undefined) return { allowed: true, reason: "ghost" };
  if (nowMs - holder.updatedAt >= takeoverAfterMs) return { allowed: true, reason: "stale" };
  return { allowed: false };
}

/** Another user's current registration holds this token; the device API answers 409. */
export class TokenInUseError extends Error {
  override name = "TokenInUseError";
  constructor() {
    super(
      "this push token is registered to another account's device; it moves only from that device id, or once that registration is unused for long enough",
    );
  }
}
