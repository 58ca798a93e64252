import { TokenInUseError, takeoverDecision } from "../../lib/devices/token-ownership.js";
import type { Device } from "../../lib/model/index.js";
import type {
  AppState,
  ConnectionChange,
  DeviceStore,
  GlobalReceiveOpt,
  PreferenceStore,
  Preferences,
  Presence,
  PresenceStore,
  ProfileStore,
  ReceiveOpt,
  RecipientReader,
  UserRecord,
} from "../../lib/ports/stores.js";
import { applyConnectionChange } from "../../lib/routing/presence.js";

/**
 * In-memory DeviceStore and PresenceStore with the ports' full semantics, for unit tests. Values are
 * copied in and out, so a test cannot change stored state by mutating what it passed or got back.
 */

export class MemoryDeviceStore implements DeviceStore {
  private readonly byUser = new Map<string, Map<string, Device>>();

  async put(device: Device): Promise<void> {
    // A token belongs to one registration; it moves only as lib/devices/token-ownership.ts allows.
    for (const [userId, devices] of this.byUser) {
      for (const [deviceId, held] of devices) {
        if (held.vendor !== device.vendor || held.token !== device.token) continue;
        const holder = { userId, deviceId, updatedAt: held.updatedAt };
        if (!takeoverDecision(holder, device, device.updatedAt).allowed) throw new TokenInUseError();
      }
    }
    // Whoever held it before (another user, or another device id of the same user) loses it.
    for (const [userId, devices] of this.byUser) {
      for (const [deviceId, held] of devices) {
        const same = userId === device.userId && deviceId === device.deviceId;
        if (!same && held.vendor === device.vendor && held.token === device.token) devices.delete(deviceId);
      }
      if (devices.size === 0) this.byUser.delete(userId);
    }
    let devices = this.byUser.get(device.userId);
    if (devices === undefined) {
      devices = new Map();
      this.byUser.set(device.userId, devices);
    }
    devices.set(device.deviceId, { ...device });
  }

  async remove(userId: string, deviceId: string, onlyIfToken?: string): Promise<boolean> {
    const devices = this.byUser.get(userId);
    const held = devices?.get(deviceId);
    if (devices === undefined || held === undefined) return false;
    if (onlyIfToken !== undefined && held.token !== onlyIfToken) return false;
    devices.delete(deviceId);
    if (devices.size === 0) this.byUser.delete(userId);
    return true;
  }

  /** Sorted by deviceId, so assertions do not depend on insertion order. */
  async list(userId: string): Promise<Device[]> {
    return [...(this.byUser.get(userId)?.values() ?? [])]
      .sort((a, b) => a.deviceId.localeCompare(b.deviceId))
      .map((device) => ({ ...device }));
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

  async applyConnection(userId: string, change: ConnectionChange): Promise<void> {
    // The same pure rule the DynamoDB adapter applies (ordering, kick echoes).
    const next = applyConnectionChange(this.byUser.get(userId) ?? {}, change);
    if (next !== undefined) this.byUser.set(userId, next);
  }

  async applyAppState(userId: string, state: AppState, at: number, unreadCount?: number): Promise<void> {
    const current = this.byUser.get(userId) ?? {};
    if (current.appStateAt !== undefined && at < current.appStateAt) return;
    const next: Presence = { ...current, appState: state, appStateAt: at };
    if (unreadCount !== undefined) next.unreadCount = unreadCount;
    this.byUser.set(userId, next);
  }

  async setUnreadCount(userId: string, unreadCount: number, _at: number): Promise<void> {
    this.byUser.set(userId, { ...this.byUser.get(userId), unreadCount });
  }

  /** Test helper: what is stored for the user (empty presence when nothing is). */
  get(userId: string): Presence {
    return { ...this.byUser.get(userId) };
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
    const names = await this.profiles.getNicknames(userIds);
    const users = new Map<string, UserRecord>();
    for (const userId of userIds) {
      const nickname = names.get(userId);
      const preferences = await this.preferences?.getPreferences(userId);
      const known =
        preferences !== undefined && (Object.keys(preferences.conversations).length > 0 || preferences.all);
      users.set(userId, {
        userId,
        presence: this.presence.get(userId),
        devices: await this.devices.list(userId),
        ...(nickname !== undefined ? { nickname } : {}),
        ...(known ? { preferences } : {}),
      });
    }
    return users;
  }
}
