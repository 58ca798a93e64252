import type { DeliveryTarget, Device, Vendor } from "../model/index.js";

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
  /** Receive options the app reported; absent = receive and notify everything. */
  preferences?: Preferences;
}

export interface DeviceStore {
  /**
   * Registers or refreshes a device. A token is owned by one registration: if another user or device
   * held the same vendor token, that registration is removed (a phone that changed hands must not
   * receive its old owner's messages).
   */
  put(device: Device): Promise<void>;
  /**
   * Removes a device; with `onlyIfToken`, only while it still has that token (invalid-token cleanup);
   * with `registeredBefore` (epoch ms), only if it was not registered again after that time (the
   * vendor learnt the token was dead then, e.g. APNs' 410 `timestamp`).
   */
  remove(userId: string, deviceId: string, onlyIfToken?: string, registeredBefore?: number): Promise<boolean>;
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

/** `V2TIMReceiveMessageOpt`: 0 receive and notify, 1 receive nothing, 2 receive without notification,
 * 3 notify only when @mentioned, 4 receive only @mentions (tencent-chat.md §7.1). */
export type ReceiveOpt = 0 | 1 | 2 | 3 | 4;

/**
 * The global do-not-disturb of `setAllReceiveMessageOpt` (start time of day in `timeZone`) or
 * `setAllReceiveMessageOptWithTimestamp` (`startTimeStamp`, UTC seconds). Daily when `duration` is
 * below 86400 seconds, permanent from its start otherwise.
 */
export interface GlobalReceiveOpt {
  receiveOpt: 0 | 2;
  startHour?: number;
  startMinute?: number;
  startSecond?: number;
  startTimeStamp?: number;
  /** Seconds. */
  duration: number;
  /** IANA name; UTC when absent. */
  timeZone?: string;
  /** Epoch ms the app reported it (the "day of the call" for a permanent window). */
  at: number;
}

/** What the app reported of a user's receive options, as the SDK keeps them on Tencent's side. */
export interface Preferences {
  /** By conversation id (`c2c_<user>`, `group_<groupId>`). */
  conversations: Record<string, ReceiveOpt>;
  all?: GlobalReceiveOpt;
}

export interface PreferenceStore {
  setConversationOpt(
    userId: string,
    conversationId: string,
    receiveOpt: ReceiveOpt,
    at: number,
  ): Promise<void>;
  setGlobalOpt(userId: string, opt: GlobalReceiveOpt): Promise<void>;
  getPreferences(userId: string): Promise<Preferences>;
}

export interface GroupInfo {
  groupId: string;
  /** Tencent group type (Work, Public, Meeting, AVChatRoom, Community, or a legacy name). */
  type?: string;
  name?: string;
  ownerId?: string;
  /** Epoch ms of the newest callback applied to the group's info. */
  updatedAt: number;
}

export interface MemberPage {
  members: string[];
  /** Opaque cursor for the next page; absent on the last page. */
  next?: string;
}

/** The mirror of a group's membership, kept from Tencent's group callbacks. */
export interface GroupStore {
  /** Creates or updates the group's info; fields left undefined are kept. */
  putGroup(info: GroupInfo): Promise<void>;
  getGroup(groupId: string): Promise<GroupInfo | undefined>;
  addMembers(groupId: string, userIds: readonly string[], at: number): Promise<void>;
  removeMembers(groupId: string, userIds: readonly string[], at: number): Promise<void>;
  /** Removes the group and all its members. */
  deleteGroup(groupId: string): Promise<void>;
  /** One page of member ids, in a stable order; `limit` is at most 1000. */
  listMembers(groupId: string, cursor: string | undefined, limit: number): Promise<MemberPage>;
}

/** Which devices got a message's notification, so a recall reaches exactly those. */
export interface DeliveredTo {
  vendor: Vendor;
  target: DeliveryTarget;
}

export interface DeliveryLog {
  recordDelivered(messageKey: string, vendor: Vendor, targets: readonly DeliveryTarget[]): Promise<void>;
  deliveredTo(messageKey: string): Promise<DeliveredTo[]>;
}
