import type { Device } from "../model/index.js";

/** The app's own report of where it is (the plugin's doForeground / doBackground). */
export type AppState = "foreground" | "background";

/**
 * What chatpush knows about one user's reachability, merged from Tencent's State.StateChange
 * callbacks (IM connection) and the device API (app state).
 */
export interface Presence {
  /** IM connection of a mobile client: true after Login, false after Logout / Disconnect. */
  connected?: boolean;
  /** Epoch ms of the State.StateChange that set `connected`. */
  connectionAt?: number;
  /** True after a Logout that was not the echo of a multi-device kick; cleared by the next Login. */
  loggedOut?: boolean;
  /** Epoch ms of the last Login that kicked other devices (older SDKs then also send a Logout). */
  kickedAt?: number;
  appState?: AppState;
  /** Epoch ms of the last app-state report. */
  appStateAt?: number;
  /** Unread count the app reported with doBackground / setBadgeNum. */
  unreadCount?: number;
}

/** Everything routing needs about one recipient, read in one request per user (or per 100 users). */
export interface UserRecord {
  userId: string;
  nickname?: string;
  presence: Presence;
  devices: Device[];
}

export interface DeviceStore {
  /**
   * Registers or refreshes a device. A token is owned by one registration: if another user or device
   * held the same vendor token, that registration is removed (a phone that changed hands must not
   * receive its old owner's messages).
   */
  put(device: Device): Promise<void>;
  /** Removes a device; with `onlyIfToken`, only while it still has that token (invalid-token cleanup). */
  remove(userId: string, deviceId: string, onlyIfToken?: string): Promise<boolean>;
  list(userId: string): Promise<Device[]>;
}

export interface ConnectionChange {
  action: "Login" | "Logout" | "Disconnect";
  /** Epoch ms (Tencent's EventTime). */
  at: number;
  /** Login that kicked other devices. */
  kicked: boolean;
}

export interface PresenceStore {
  /** Applies a State.StateChange; changes older than what is stored are ignored (callbacks can reorder). */
  applyConnection(userId: string, change: ConnectionChange): Promise<void>;
  /** Applies the app's foreground / background report; `unreadCount` updates the badge base. */
  applyAppState(userId: string, state: AppState, at: number, unreadCount?: number): Promise<void>;
  /** Sets the badge base without changing app state (setBadgeNum). */
  setUnreadCount(userId: string, unreadCount: number, at: number): Promise<void>;
}

export interface ProfileStore {
  /** Keeps the newest nickname (by `at`). */
  setNickname(userId: string, nickname: string, at: number): Promise<void>;
  getNicknames(userIds: readonly string[]): Promise<Map<string, string>>;
}

export interface RecipientReader {
  /** Users that are unknown come back with no devices and empty presence. */
  getUsers(userIds: readonly string[]): Promise<Map<string, UserRecord>>;
}
