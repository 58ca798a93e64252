import type { DeliveryTarget, Device, DevicePlatform, Vendor } from "../model/index.js";

/** The app's own report of where it is (the plugin's doForeground / doBackground). */
export type AppState = "foreground" | "background";

/**
 * What Tencent's State.StateChange callbacks said about one platform's IM connection. Tencent's
 * multi-device rules tell platforms apart (`OptPlatform`, `KickedDevice[].Platform`), not devices.
 */
export interface PlatformConnection {
  /** True after a Login, false after a Logout, a Disconnect or a kick. */
  connected: boolean;
  /** Epoch ms (Tencent's EventTime) of the change that set it: older changes are ignored. */
  at: number;
  /** Logged out (a Logout, or kicked by a login elsewhere): no push until the next Login here. */
  loggedOut: boolean;
  /** Set when the logout was a kick: the platform whose login kicked it (as Tencent names it). */
  kickedBy?: string;
  /** Epoch ms of the last Login here that kicked other devices (older SDKs then also send a Logout). */
  kickedOthersAt?: number;
}

/** Each mobile platform's connection; a platform never seen is absent. */
export type Connections = Partial<Record<DevicePlatform, PlatformConnection>>;

/** One app-state report (`PUT /v1/presence`). */
export interface AppStateReport {
  state: AppState;
  /** Epoch ms it was reported. */
  at: number;
}

/**
 * What chatpush knows about one user's reachability, merged from Tencent's State.StateChange
 * callbacks (IM connection per platform) and the device API (app state per device, or for all).
 */
export interface Presence {
  connections: Connections;
  /** The last report made without a deviceId: it applies to every device of the user. */
  app?: AppStateReport;
  /** The last report made with each deviceId. The newer of this and `app` is the device's state. */
  devices: Record<string, AppStateReport>;
}

/** Everything routing needs about one recipient, read in one request per user (or per 100 users). */
export interface UserRecord {
  userId: string;
  nickname?: string;
  /** The nickname was asked of Tencent (portrait_get) or set by a profile callback: do not ask again. */
  nicknameKnown?: boolean;
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

export interface PresenceStore {
  /**
   * Reads the user's platform connections, lets `decide` (a pure rule of lib/routing/presence.ts)
   * compute the next ones, and writes them in one conditional write that fails if anybody wrote in
   * between (then reads and decides again). `decide` returning undefined writes nothing. Resolves with
   * what is stored afterwards.
   */
  updateConnections(
    userId: string,
    decide: (current: Connections) => Connections | undefined,
  ): Promise<Connections>;
  /**
   * Applies the app's foreground / background report to one device (`deviceId`) or to all of the
   * user's devices; reports older than the one stored are ignored. `unreadCount` sets the badge base.
   * Resolves false, changing nothing, when `deviceId` names no registered device of the user.
   */
  applyAppState(
    userId: string,
    state: AppState,
    at: number,
    unreadCount?: number,
    deviceId?: string,
  ): Promise<boolean>;
  /** Sets the badge base without changing app state (setBadgeNum). */
  setUnreadCount(userId: string, unreadCount: number, at: number): Promise<void>;
}

/**
 * Badge numbers as Tencent's iOS push keeps them (tencent-chat.md §3, §7.3): the unread count the app
 * last reported (doBackground / setBadgeNum, through PresenceStore) plus one per notification pushed
 * to the user since.
 */
export interface BadgeStore {
  /**
   * Counts one push of `messageKey` for each user and resolves with each user's badge. Counting the
   * same message again for a user (a routing retried) does not count it twice.
   */
  countPush(userIds: readonly string[], messageKey: string): Promise<Map<string, number>>;
}

export type SenderProfile = Pick<UserRecord, "nickname" | "nicknameKnown">;

export interface ProfileStore {
  /** Keeps the newest nickname (by `at`). */
  setNickname(userId: string, nickname: string, at: number): Promise<void>;
  getNicknames(userIds: readonly string[]): Promise<Map<string, string>>;
  /**
   * What a title needs of a sender: the nickname and whether it is known. Eventually consistent —
   * half the read of a recipient's item (0.5 RRU up to 4 KB, https://aws.amazon.com/dynamodb/pricing/on-demand/,
   * limits-and-costs.md §1) — since a name may lag a profile callback by a second; a recipient's presence may not.
   */
  getProfile(userId: string): Promise<SenderProfile>;
  /**
   * Records what Tencent's directory said (a nickname, or none), so a sender is looked up once; a
   * newer nickname from a profile callback wins.
   */
  recordLookup(userId: string, nickname: string | undefined, at: number): Promise<void>;
}

/** Tencent's own user directory (REST portrait_get): for senders whose nickname chatpush never saw. */
export interface ProfileDirectory {
  /** Nicknames of the given users; a user without one (or unknown to Tencent) maps to undefined. */
  nicknames(userIds: readonly string[]): Promise<Map<string, string | undefined>>;
}

export interface RecipientReader {
  /**
   * Users that are unknown come back with no devices and empty presence. Reads are strongly
   * consistent: a presence change applied when its callback was answered is seen by every message
   * callback Tencent sends after it.
   */
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
