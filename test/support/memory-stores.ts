import { TokenInUseError, takeoverDecision } from "../../lib/devices/token-ownership.js";
import { type Device, registrationKey } from "../../lib/model/index.js";
import type {
  AppState,
  BadgeStore,
  Connections,
  DeviceStore,
  GlobalReceiveOpt,
  PreferenceStore,
  Preferences,
  Presence,
  PresenceStore,
  ProfileStore,
  ReceiveOpt,
  RecipientReader,
  SenderProfile,
  UserRecord,
} from "../../lib/ports/stores.js";

/**
 * In-memory DeviceStore and PresenceStore with the ports' full semantics, for unit tests. Values are
 * copied in and out, so a test cannot change stored state by mutating what it passed or got back.
 */

export class MemoryDeviceStore implements DeviceStore {
  /** By user, then by registration key (a phone's VoIP token sits beside its alert token). */
  private readonly byUser = new Map<string, Map<string, Device>>();

  async put(device: Device): Promise<void> {
    // A token belongs to one registration; it moves only as lib/devices/token-ownership.ts allows.
    for (const [userId, devices] of this.byUser) {
      for (const held of devices.values()) {
        if (held.vendor !== device.vendor || held.token !== device.token) continue;
        const holder = { userId, deviceId: held.deviceId, updatedAt: held.updatedAt };
        if (!takeoverDecision(holder, device, device.updatedAt).allowed) throw new TokenInUseError();
      }
    }
    // Whoever held it before (another user, or another device id of the same user) loses it.
    for (const [userId, devices] of this.byUser) {
      for (const [key, held] of devices) {
        const same = userId === device.userId && held.deviceId === device.deviceId;
        if (!same && held.vendor === device.vendor && held.token === device.token) devices.delete(key);
      }
      if (devices.size === 0) this.byUser.delete(userId);
    }
    let devices = this.byUser.get(device.userId);
    if (devices === undefined) {
      devices = new Map();
      this.byUser.set(device.userId, devices);
    }
    devices.set(registrationKey(device), { ...device });
  }

  /** Without `onlyIfToken` both of the device's registrations go; with it, the one with that token. */
  async remove(userId: string, deviceId: string, onlyIfToken?: string): Promise<boolean> {
    const devices = this.byUser.get(userId);
    if (devices === undefined) return false;
    let removed = false;
    for (const key of [deviceId, registrationKey({ deviceId, pushType: "voip" })]) {
      const held = devices.get(key);
      if (held === undefined || (onlyIfToken !== undefined && held.token !== onlyIfToken)) continue;
      devices.delete(key);
      removed = true;
    }
    if (devices.size === 0) this.byUser.delete(userId);
    return removed;
  }

  /** Sorted by deviceId (alert before VoIP), so assertions do not depend on insertion order. */
  async list(userId: string): Promise<Device[]> {
    return [...(this.byUser.get(userId)?.entries() ?? [])]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([, device]) => ({ ...device }));
  }

  /** Test helper: every registration of every user. */
  all(): Device[] {
    return [...this.byUser.values()]
      .flatMap((devices) => [...devices.values()])
      .map((device) => ({ ...device }));
  }
}

export class MemoryPresenceStore implements PresenceStore {
  private readonly byUser = new Map<string, Presence>();
  private readonly unread = new Map<string, { count: number; at: number }>();

  /** With `devices`, a report for a device the user never registered is refused, as the adapter does. */
  constructor(private readonly devices?: MemoryDeviceStore) {}

  async updateConnections(
    userId: string,
    decide: (current: Connections) => Connections | undefined,
  ): Promise<Connections> {
    // The caller's rule decides (lib/routing/presence.ts), as with the DynamoDB adapter.
    const current = this.get(userId);
    const next = decide(current.connections);
    if (next === undefined) return current.connections;
    this.byUser.set(userId, { ...current, connections: structuredClone(next) });
    return next;
  }

  async applyAppState(
    userId: string,
    state: AppState,
    at: number,
    unreadCount?: number,
    deviceId?: string,
  ): Promise<boolean> {
    const current = this.get(userId);
    if (deviceId !== undefined) {
      if (this.devices && !(await this.devices.list(userId)).some((d) => d.deviceId === deviceId))
        return false;
      const own = current.devices[deviceId];
      if (own === undefined || own.at <= at) current.devices[deviceId] = { state, at };
    } else if (current.app === undefined || current.app.at <= at) {
      current.app = { state, at };
    }
    this.byUser.set(userId, current);
    if (unreadCount !== undefined) await this.setUnreadCount(userId, unreadCount, at);
    return true;
  }

  async setUnreadCount(userId: string, unreadCount: number, at: number): Promise<void> {
    const current = this.unread.get(userId);
    if (current === undefined || current.at <= at) this.unread.set(userId, { count: unreadCount, at });
  }

  /** Test helper: the badge base the app last reported, and when. */
  unreadReport(userId: string): { count: number; at: number } | undefined {
    return this.unread.get(userId);
  }

  /** Test helper: what is stored for the user (empty presence when nothing is). */
  get(userId: string): Presence {
    return structuredClone(this.byUser.get(userId) ?? { connections: {}, devices: {} });
  }
}

/** Badges as the DynamoDB adapter counts them: the reported base plus one per message counted since. */
export class MemoryBadgeStore implements BadgeStore {
  private readonly byUser = new Map<string, { baseAt: number | undefined; counted: Set<string> }>();

  constructor(private readonly presence: MemoryPresenceStore) {}

  async countPush(userIds: readonly string[], messageKey: string): Promise<Map<string, number>> {
    const badges = new Map<string, number>();
    for (const userId of new Set(userIds)) {
      const report = this.presence.unreadReport(userId);
      let entry = this.byUser.get(userId);
      // A newer report of the unread count restarts the count of pushes.
      if (entry === undefined || entry.baseAt !== report?.at) {
        entry = { baseAt: report?.at, counted: new Set() };
        this.byUser.set(userId, entry);
      }
      entry.counted.add(messageKey);
      badges.set(userId, (report?.count ?? 0) + entry.counted.size);
    }
    return badges;
  }
}

export class MemoryProfileStore implements ProfileStore {
  private readonly names = new Map<string, { nickname: string; at: number }>();

  async setNickname(userId: string, nickname: string, at: number): Promise<void> {
    const current = this.names.get(userId);
    if (current === undefined || current.at <= at) this.names.set(userId, { nickname, at });
  }

  async getNicknames(userIds: readonly string[]): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    for (const id of userIds) {
      const name = this.names.get(id);
      if (name !== undefined) found.set(id, name.nickname);
    }
    return found;
  }

  async getProfile(userId: string): Promise<SenderProfile> {
    const name = this.names.get(userId);
    return {
      ...(name !== undefined ? { nickname: name.nickname } : {}),
      ...(this.known(userId) ? { nicknameKnown: true } : {}),
    };
  }

  readonly lookedUp = new Set<string>();

  async recordLookup(userId: string, nickname: string | undefined, at: number): Promise<void> {
    this.lookedUp.add(userId);
    if (nickname !== undefined) await this.setNickname(userId, nickname, at);
  }

  /** The nickname is known, or Tencent's directory was asked. */
  known(userId: string): boolean {
    return this.names.has(userId) || this.lookedUp.has(userId);
  }
}

/** Receive options as the app reported them; per conversation and for the global option the newest `at` wins. */
export class MemoryPreferenceStore implements PreferenceStore {
  private readonly byUser = new Map<
    string,
    { conversations: Map<string, { receiveOpt: ReceiveOpt; at: number }>; all?: GlobalReceiveOpt }
  >();

  async setConversationOpt(
    userId: string,
    conversationId: string,
    receiveOpt: ReceiveOpt,
    at: number,
  ): Promise<void> {
    const user = this.user(userId);
    const current = user.conversations.get(conversationId);
    if (current === undefined || current.at <= at) user.conversations.set(conversationId, { receiveOpt, at });
  }

  async setGlobalOpt(userId: string, opt: GlobalReceiveOpt): Promise<void> {
    const user = this.user(userId);
    if (user.all === undefined || user.all.at <= opt.at) user.all = { ...opt };
  }

  /** Unknown users have no preferences: `{conversations: {}}`. */
  async getPreferences(userId: string): Promise<Preferences> {
    const user = this.byUser.get(userId);
    const conversations: Record<string, ReceiveOpt> = {};
    for (const [conversationId, { receiveOpt }] of user?.conversations ?? []) {
      conversations[conversationId] = receiveOpt;
    }
    return user?.all === undefined ? { conversations } : { conversations, all: { ...user.all } };
  }

  private user(userId: string) {
    let user = this.byUser.get(userId);
    if (user === undefined) {
      user = { conversations: new Map() };
      this.byUser.set(userId, user);
    }
    return user;
  }
}

/** The RecipientReader view over the three memory stores, as the DynamoDB adapter gives it in one read. */
export class MemoryRecipients implements RecipientReader {
  constructor(
    private readonly devices: MemoryDeviceStore,
    private readonly presence: MemoryPresenceStore,
    private readonly profiles: MemoryProfileStore,
    private readonly preferences?: MemoryPreferenceStore,
  ) {}

  async getUsers(userIds: readonly string[]): Promise<Map<string, UserRecord>> {
    const users = new Map<string, UserRecord>();
    for (const userId of userIds) {
      const preferences = await this.preferences?.getPreferences(userId);
      const known =
        preferences !== undefined && (Object.keys(preferences.conversations).length > 0 || preferences.all);
      users.set(userId, {
        userId,
        presence: this.presence.get(userId),
        devices: await this.devices.list(userId),
        ...(await this.profiles.getProfile(userId)),
        ...(known ? { preferences } : {}),
      });
    }
    return users;
  }
}
