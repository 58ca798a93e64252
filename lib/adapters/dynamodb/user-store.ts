import { createHash } from "node:crypto";
import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import {
  BatchGetCommand,
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import {
  DEFAULT_TOKEN_TAKEOVER_AFTER_MS,
  type TokenHolder,
  TokenInUseError,
  takeoverDecision,
} from "../../devices/token-ownership.js";
import {
  DEVICE_PLATFORMS,
  type Device,
  registrationKey,
  registrationOfKey,
  type Vendor,
} from "../../model/index.js";
import type {
  AppState,
  AppStateReport,
  BadgeStore,
  Connections,
  DeviceStore,
  GlobalReceiveOpt,
  PlatformConnection,
  PreferenceStore,
  Preferences,
  Presence,
  PresenceStore,
  ProfileStore,
  ReceiveOpt,
  RecipientReader,
  SenderProfile,
  UserRecord,
} from "../../ports/index.js";
import { isReservedKey } from "../../tencent/ids.js";

/**
 * One item per user holds their nickname, presence and devices, so routing reads everything about
 * a recipient in one GetItem, and a group fan-out reads 100 recipients per BatchGetItem.
 * A second item per vendor token records which device owns it; a third, small one counts the badge.
 *
 *   pk USER#<userId>            sk USER   nickname, connections (per platform), app state,
 *                                         devices: {<deviceId>: {..., appState, appStateAt},
 *                                                   <deviceId>#voip: {...}  (a PushKit token)}
 *   pk USER#<userId>            sk BADGE  base (the app's unread count), baseAt, pushed, marks
 *   pk TOKEN#<vendor>#<sha256>  sk OWNER  userId, deviceId
 *
 * The badge has its own item because it is written on every push: an UpdateItem is charged by the
 * size of the item it changes (1 WRU per KB), and the user item with its tokens is 1–3 KB while the
 * badge item stays well under 1 KB, so each counted push costs exactly 1 WRU.
 */

/** Devices kept per user; the least recently registered is dropped beyond this. */
export const MAX_DEVICES_PER_USER = 20;
const BATCH_GET_LIMIT = 100;

type StoredDevice = Omit<Device, "userId" | "deviceId"> & { appState?: AppState; appStateAt?: number };

interface UserItem {
  pk: string;
  sk: string;
  userId: string;
  nickname?: string;
  nicknameAt?: number;
  /** Epoch ms Tencent's directory was asked for the nickname (portrait_get). */
  nicknameCheckedAt?: number;
  devices?: Record<string, StoredDevice>;
  connections?: Connections;
  /** Bumped by every write of `connections`: the condition that makes read-decide-write safe. */
  presenceRev?: number;
  /** The app-state report made for all devices. */
  appState?: AppState;
  appStateAt?: number;
  /** Before per-platform presence: one connection state for the whole user (read, never written). */
  connected?: boolean;
  connectionAt?: number;
  loggedOut?: boolean;
  kickedAt?: number;
  receiveOpts?: Record<string, { receiveOpt: ReceiveOpt; at: number }>;
  allOpt?: GlobalReceiveOpt;
  allOptAt?: number;
}

interface BadgeItem {
  base?: number;
  baseAt?: number;
  pushed?: number;
  /** Marks of the messages counted lately (a string set). */
  marks?: Set<string>;
}

const userKey = (userId: string) => ({ pk: `USER#${userId}`, sk: "USER" });
const badgeKey = (userId: string) => ({ pk: `USER#${userId}`, sk: "BADGE" });

/**
 * A routing that failed after counting is retried by SQS; the badge must not count that message
 * twice. Each counted message adds an 8-character mark (part of its key's SHA-256) to the item's
 * `marks` set, and counts only if the set does not hold it yet. The set is cut back to the newest
 * mark once it holds more than this many (one extra write per 64 pushes): retries come within
 * minutes, so the last 64 messages are all a guard needs, and 64 marks keep the item under 1 KB,
 * so a counted push costs 1 WRU (1 + 1/64 with the cut).
 */
const BADGE_GUARD_MARKS = 64;
/** Read-decide-write rounds for one presence change before giving up (the callback is then retried). */
const PRESENCE_ATTEMPTS = 10;
/** Counting writes in flight at once for one fan-out page (one UpdateItem per recipient). */
const BADGE_WRITE_CONCURRENCY = 32;
const tokenKey = (vendor: Vendor, token: string) => ({
  pk: `TOKEN#${vendor}#${createHash("sha256").update(token).digest("hex")}`,
  sk: "OWNER",
});

function isConditionFailure(error: unknown): boolean {
  return (
    error instanceof ConditionalCheckFailedException ||
    (error as Error)?.name === "ConditionalCheckFailedException"
  );
}

function toRecord(userId: string, item: UserItem | undefined): UserRecord {
  const appStates: Record<string, AppStateReport> = {};
  const devices = Object.entries(item?.devices ?? {})
    .map(([key, stored]) => {
      const { appState, appStateAt, ...device } = stored;
      // A phone's VoIP registration sits beside its alert one (registrationKey): one deviceId.
      const { deviceId, pushType } = registrationOfKey(key);
      const known = appStates[deviceId];
      if (
        appState !== undefined &&
        appStateAt !== undefined &&
        (known === undefined || known.at < appStateAt)
      )
        appStates[deviceId] = { state: appState, at: appStateAt };
      return { ...device, userId, deviceId, ...(pushType !== undefined ? { pushType } : {}) };
    })
    .sort((a, b) => a.updatedAt - b.updatedAt);
  const presence: Presence = {
    connections: item?.connections ?? legacyConnections(item),
    devices: appStates,
    ...(item?.appState !== undefined && item.appStateAt !== undefined
      ? { app: { state: item.appState, at: item.appStateAt } }
      : {}),
  };
  const preferences = toPreferences(item);
  return {
    userId,
    presence,
    devices,
    ...profileOf(item),
    ...(preferences !== undefined ? { preferences } : {}),
  };
}

function profileOf(item: Pick<UserItem, "nickname" | "nicknameCheckedAt"> | undefined): SenderProfile {
  return {
    ...(item?.nickname !== undefined ? { nickname: item.nickname } : {}),
    ...(item?.nickname !== undefined || item?.nicknameCheckedAt !== undefined ? { nicknameKnown: true } : {}),
  };
}

/** An item written before per-platform presence: its one connection state held for every platform. */
function legacyConnections(item: UserItem | undefined): Connections {
  if (item?.connectionAt === undefined) return {};
  const connection: PlatformConnection = {
    connected: item.connected ?? false,
    at: item.connectionAt,
    loggedOut: item.loggedOut ?? false,
    ...(item.kickedAt !== undefined ? { kickedOthersAt: item.kickedAt } : {}),
  };
  return Object.fromEntries(DEVICE_PLATFORMS.map((platform) => [platform, connection]));
}

function toPreferences(item: UserItem | undefined): Preferences | undefined {
  if (item?.receiveOpts === undefined && item?.allOpt === undefined) return undefined;
  const conversations: Record<string, ReceiveOpt> = {};
  for (const [id, entry] of Object.entries(item.receiveOpts ?? {})) conversations[id] = entry.receiveOpt;
  return { conversations, ...(item.allOpt !== undefined ? { all: item.allOpt } : {}) };
}

export class DynamoUserStore
  implements DeviceStore, PresenceStore, ProfileStore, RecipientReader, PreferenceStore, BadgeStore
{
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    /** After how long unrefreshed another user may take a registration's token (token-ownership.ts). */
    private readonly tokenTakeoverAfterMs = DEFAULT_TOKEN_TAKEOVER_AFTER_MS,
  ) {}

  private async getItem(userId: string): Promise<UserItem | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: userKey(userId), ConsistentRead: true }),
    );
    return Item as UserItem | undefined;
  }

  /** BatchGetItem in chunks of 100, the chunks of one call read in parallel (a fan-out page is 10). */
  async getUsers(userIds: readonly string[]): Promise<Map<string, UserRecord>> {
    const unique = [...new Set(userIds)];
    const items = new Map<string, UserItem>();
    const chunks: string[][] = [];
    for (let i = 0; i < unique.length; i += BATCH_GET_LIMIT)
      chunks.push(unique.slice(i, i + BATCH_GET_LIMIT));
    await Promise.all(
      chunks.map(async (chunk) => {
        let keys: Record<string, unknown>[] = chunk.map(userKey);
        for (let round = 0; keys.length > 0; round += 1) {
          if (round > 0) await sleep(Math.min(1000, 25 * 2 ** round));
          if (round > 8) throw new Error(`BatchGetItem left ${keys.length} keys unprocessed`);
          // Strongly consistent: a presence change written when its callback was answered is seen
          // by the message callbacks that follow it (1 RRU per user item instead of 0.5).
          const result = await this.db.send(
            new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: true } } }),
          );
          for (const item of (result.Responses?.[this.tableName] ?? []) as UserItem[])
            items.set(item.userId, item);
          keys = (result.UnprocessedKeys?.[this.tableName]?.Keys ?? []) as Record<string, unknown>[];
        }
      }),
    );
    return new Map(unique.map((id) => [id, toRecord(id, items.get(id))]));
  }

  async getProfile(userId: string): Promise<SenderProfile> {
    const { Item } = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: userKey(userId),
        ConsistentRead: false,
        ProjectionExpression: "nickname, nicknameCheckedAt",
      }),
    );
    return profileOf(Item as UserItem | undefined);
  }

  async getNicknames(userIds: readonly string[]): Promise<Map<string, string>> {
    const users = await this.getUsers(userIds);
    const names = new Map<string, string>();
    for (const [id, user] of users) if (user.nickname !== undefined) names.set(id, user.nickname);
    return names;
  }

  async list(userId: string): Promise<Device[]> {
    return toRecord(userId, await this.getItem(userId)).devices;
  }

  async put(device: Device): Promise<void> {
    const { userId, deviceId, vendor, token } = device;
    // Defence in depth (the device API refuses them): a prototype name would address the map itself.
    if (isReservedKey(deviceId)) throw new Error(`deviceId ${JSON.stringify(deviceId)} is a reserved name`);
    // Claims the token or throws TokenInUseError (lib/devices/token-ownership.ts decides).
    const previousOwner = await this.claimToken(device);
    if (previousOwner && (previousOwner.userId !== userId || previousOwner.deviceId !== deviceId)) {
      // The phone changed hands (or the app reinstalled under a new device id): the old registration goes.
      await this.remove(previousOwner.userId, previousOwner.deviceId, token);
    }

    const stored: StoredDevice = {
      vendor,
      token,
      updatedAt: device.updatedAt,
      ...(device.certificateId !== undefined ? { certificateId: device.certificateId } : {}),
      ...(device.appId !== undefined ? { appId: device.appId } : {}),
      ...(device.environment !== undefined ? { environment: device.environment } : {}),
      ...(device.pushType !== undefined ? { pushType: device.pushType } : {}),
      ...(device.platform !== undefined ? { platform: device.platform } : {}),
      ...(device.locale !== undefined ? { locale: device.locale } : {}),
    };
    // A VoIP registration is its own entry beside the phone's alert one (registrationKey).
    const key = registrationKey(device);
    const before = await this.setDevice(userId, key, stored);

    const replaced = before?.devices && Object.hasOwn(before.devices, key) ? before.devices[key] : undefined;
    if (replaced && (replaced.token !== token || replaced.vendor !== vendor)) {
      await this.deleteOwner(replaced.vendor, replaced.token, userId, deviceId);
    }
    const others = Object.entries(before?.devices ?? {}).filter(([id]) => id !== key);
    if (others.length + 1 > MAX_DEVICES_PER_USER) {
      const oldest = others
        .sort(([, a], [, b]) => a.updatedAt - b.updatedAt)
        .slice(0, others.length + 1 - MAX_DEVICES_PER_USER);
      for (const [id, d] of oldest) await this.remove(userId, registrationOfKey(id).deviceId, d.token);
    }
  }

  /**
   * Makes `device` the owner of its token, unless another user's current registration holds it
   * (TokenInUseError). The owner item is written conditionally on the holder read, so of two
   * concurrent claims one wins and the other decides again. Returns the previous holder.
   */
  private async claimToken(device: Device): Promise<{ userId: string; deviceId: string } | undefined> {
    const { userId, deviceId, vendor, token } = device;
    const owner = tokenKey(vendor, token);
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const { Item } = await this.db.send(
        new GetCommand({ TableName: this.tableName, Key: owner, ConsistentRead: true }),
      );
      const held =
        Item === undefined ? undefined : { userId: String(Item.userId), deviceId: String(Item.deviceId) };
      let holder: TokenHolder | undefined;
      if (held !== undefined) {
        holder = { ...held };
        if (held.userId !== userId && held.deviceId !== deviceId) {
          // Only a takeover by age needs the holder's registration (and finds a ghost owner record).
          const devices = (await this.getItem(held.userId))?.devices;
          // The holder's alert or VoIP registration of that device, whichever has the token.
          const registration = [held.deviceId, registrationKey({ deviceId: held.deviceId, pushType: "voip" })]
            .map((key) => (devices && Object.hasOwn(devices, key) ? devices[key] : undefined))
            .find((entry) => entry?.token === token);
          if (registration?.token === token && registration.vendor === vendor) {
            holder.updatedAt = registration.updatedAt;
          }
        }
      }
      const decision = takeoverDecision(holder, device, device.updatedAt, this.tokenTakeoverAfterMs);
      if (!decision.allowed) throw new TokenInUseError();
      try {
        await this.db.send(
          new PutCommand({
            TableName: this.tableName,
            Item: { ...owner, userId, deviceId },
            ...(held === undefined
              ? { ConditionExpression: "attribute_not_exists(pk)" }
              : {
                  ConditionExpression: "userId = :u AND deviceId = :d",
                  ExpressionAttributeValues: { ":u": held.userId, ":d": held.deviceId },
                }),
          }),
        );
        return held;
      } catch (error) {
        if (!isConditionFailure(error)) throw error; // someone claimed it in between: decide again
      }
    }
    throw new Error("the token's owner kept changing under us");
  }

  /** Sets devices.<id>, creating the map on a user's first device. Returns the item as it was. */
  private async setDevice(
    userId: string,
    deviceId: string,
    device: StoredDevice,
  ): Promise<UserItem | undefined> {
    return (await this.setMapEntry(userId, "devices", deviceId, device)).before;
  }

  /**
   * Sets `<map>.<key>` on the user's item, creating the map when it is the first entry (DynamoDB
   * cannot set a path inside a map that does not exist). With `newerThan`, the entry is only written
   * if its stored `at` is not newer (reports can arrive out of order). Returns the item as it was,
   * and whether the write happened.
   */
  private async setMapEntry(
    userId: string,
    map: "devices" | "receiveOpts",
    key: string,
    value: Record<string, unknown>,
    newerThan?: number,
  ): Promise<{ before: UserItem | undefined; written: boolean }> {
    const stale = newerThan === undefined ? "" : " AND (attribute_not_exists(#m.#k) OR #m.#k.#at <= :at)";
    try {
      const { Attributes } = await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: userKey(userId),
          UpdateExpression: "SET #m.#k = :v, userId = :u",
          ConditionExpression: `attribute_exists(#m)${stale}`,
          ExpressionAttributeNames: {
            "#m": map,
            "#k": key,
            ...(newerThan === undefined ? {} : { "#at": "at" }),
          },
          ExpressionAttributeValues: {
            ":v": value,
            ":u": userId,
            ...(newerThan === undefined ? {} : { ":at": newerThan }),
          },
          ReturnValues: "ALL_OLD",
        }),
      );
      return { before: Attributes as UserItem | undefined, written: true };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
    try {
      const { Attributes } = await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: userKey(userId),
          UpdateExpression: "SET #m = :m, userId = :u",
          ConditionExpression: "attribute_not_exists(#m)",
          ExpressionAttributeNames: { "#m": map },
          ExpressionAttributeValues: { ":m": { [key]: value }, ":u": userId },
          ReturnValues: "ALL_OLD",
        }),
      );
      return { before: Attributes as UserItem | undefined, written: true };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      // The map exists: either another write created it in between (try again), or our entry is stale.
      const item = await this.getItem(userId);
      const current = (item?.[map] as Record<string, { at?: number }> | undefined)?.[key];
      if (newerThan !== undefined && current?.at !== undefined && current.at > newerThan) {
        return { before: item, written: false };
      }
      return this.setMapEntry(userId, map, key, value, newerThan);
    }
  }

  async setConversationOpt(
    userId: string,
    conversationId: string,
    receiveOpt: ReceiveOpt,
    at: number,
  ): Promise<void> {
    await this.setMapEntry(userId, "receiveOpts", conversationId, { receiveOpt, at }, at);
  }

  async setGlobalOpt(userId: string, opt: GlobalReceiveOpt): Promise<void> {
    await this.setIfNewer(userId, "allOptAt", opt.at, { allOpt: opt });
  }

  async getPreferences(userId: string): Promise<Preferences> {
    return toRecord(userId, await this.getItem(userId)).preferences ?? { conversations: {} };
  }

  /**
   * Without `onlyIfToken` (clearToken: the user logs out on that phone) the device's alert and VoIP
   * registrations both go; with it (a dead token), only the registration that has that token.
   */
  async remove(
    userId: string,
    deviceId: string,
    onlyIfToken?: string,
    registeredBefore?: number,
  ): Promise<boolean> {
    const keys = [deviceId, registrationKey({ deviceId, pushType: "voip" })];
    if (onlyIfToken === undefined && registeredBefore === undefined)
      return this.removeAll(userId, deviceId, keys);
    for (const key of keys) {
      if (await this.removeEntry(userId, deviceId, key, onlyIfToken, registeredBefore)) return true;
    }
    return false;
  }

  /** Both registrations of a device in one write; false when it has neither. */
  private async removeAll(userId: string, deviceId: string, keys: string[]): Promise<boolean> {
    const names = Object.fromEntries(keys.map((key, i) => [`#k${i}`, key]));
    let before: Record<string, StoredDevice> | undefined;
    try {
      const { Attributes } = await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: userKey(userId),
          UpdateExpression: `REMOVE ${Object.keys(names)
            .map((n) => `devices.${n}`)
            .join(", ")}`,
          ConditionExpression: Object.keys(names)
            .map((n) => `attribute_exists(devices.${n})`)
            .join(" OR "),
          ExpressionAttributeNames: names,
          ReturnValues: "UPDATED_OLD",
        }),
      );
      before = (Attributes as UserItem | undefined)?.devices;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
    for (const key of keys) {
      const removed = before && Object.hasOwn(before, key) ? before[key] : undefined;
      if (removed) await this.deleteOwner(removed.vendor, removed.token, userId, deviceId);
    }
    return true;
  }

  /** One stored registration (`key`), under the conditions `remove` describes. */
  private async removeEntry(
    userId: string,
    deviceId: string,
    key: string,
    onlyIfToken?: string,
    registeredBefore?: number,
  ): Promise<boolean> {
    let removed: StoredDevice | undefined;
    // A dead-token answer removes the device only while it still has that token and (when the vendor
    // said when it learnt the token was dead) was not registered again after that.
    const conditions = [
      onlyIfToken === undefined ? "attribute_exists(devices.#d)" : "devices.#d.#token = :token",
      ...(registeredBefore === undefined ? [] : ["devices.#d.#updatedAt <= :before"]),
    ];
    const values = {
      ...(onlyIfToken === undefined ? {} : { ":token": onlyIfToken }),
      ...(registeredBefore === undefined ? {} : { ":before": registeredBefore }),
    };
    try {
      const { Attributes } = await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: userKey(userId),
          UpdateExpression: "REMOVE devices.#d",
          ConditionExpression: conditions.join(" AND "),
          ExpressionAttributeNames: {
            "#d": key,
            ...(onlyIfToken === undefined ? {} : { "#token": "token" }),
            ...(registeredBefore === undefined ? {} : { "#updatedAt": "updatedAt" }),
          },
          ...(Object.keys(values).length === 0 ? {} : { ExpressionAttributeValues: values }),
          ReturnValues: "UPDATED_OLD",
        }),
      );
      removed = (Attributes as UserItem | undefined)?.devices?.[key];
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
    if (removed) await this.deleteOwner(removed.vendor, removed.token, userId, deviceId);
    return true;
  }

  private async deleteOwner(vendor: Vendor, token: string, userId: string, deviceId: string): Promise<void> {
    try {
      await this.db.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: tokenKey(vendor, token),
          ConditionExpression: "userId = :u AND deviceId = :d",
          ExpressionAttributeValues: { ":u": userId, ":d": deviceId },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error; // already owned by someone else: leave it
    }
  }

  async updateConnections(
    userId: string,
    decide: (current: Connections) => Connections | undefined,
  ): Promise<Connections> {
    // Read, let the caller's rule decide, write only if nobody wrote in between (callbacks can race).
    for (let attempt = 0; attempt < PRESENCE_ATTEMPTS; attempt += 1) {
      // Writers that lost the race wait a little, spread apart, before reading again.
      if (attempt > 0) await sleep(Math.random() * 10 * 2 ** Math.min(attempt, 5));
      const item = await this.getItem(userId);
      const current = toRecord(userId, item).presence.connections;
      const next = decide(current);
      if (next === undefined) return current;
      const rev = item?.presenceRev;
      try {
        await this.db.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: userKey(userId),
            // The legacy one-state-per-user fields go once their state lives on per platform.
            UpdateExpression:
              "SET userId = :u, connections = :c, presenceRev = :next REMOVE connected, connectionAt, loggedOut, kickedAt",
            ConditionExpression:
              rev === undefined ? "attribute_not_exists(presenceRev)" : "presenceRev = :prev",
            ExpressionAttributeValues: {
              ":u": userId,
              ":c": next,
              ":next": (rev ?? 0) + 1,
              ...(rev !== undefined ? { ":prev": rev } : {}),
            },
          }),
        );
        return next;
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
    }
    throw new Error(`presence of ${userId} kept changing under us`);
  }

  async applyAppState(
    userId: string,
    state: AppState,
    at: number,
    unreadCount?: number,
    deviceId?: string,
  ): Promise<boolean> {
    if (deviceId === undefined) {
      await this.setIfNewer(userId, "appStateAt", at, { appState: state });
    } else if (!(await this.setDeviceAppState(userId, deviceId, state, at))) {
      return false;
    }
    if (unreadCount !== undefined) await this.setUnreadCount(userId, unreadCount, at);
    return true;
  }

  /** The device's own report, unless a newer one is stored; false when the device is not registered. */
  private async setDeviceAppState(
    userId: string,
    deviceId: string,
    state: AppState,
    at: number,
    key = deviceId,
  ): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: userKey(userId),
          UpdateExpression: "SET devices.#d.appState = :s, devices.#d.appStateAt = :at",
          ConditionExpression:
            "attribute_exists(devices.#d) AND (attribute_not_exists(devices.#d.appStateAt) OR devices.#d.appStateAt <= :at)",
          ExpressionAttributeNames: { "#d": key },
          ExpressionAttributeValues: { ":s": state, ":at": at },
        }),
      );
      return true;
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      // Either the device is unknown, or a newer report won (which is fine).
      const devices = (await this.getItem(userId))?.devices;
      if (devices?.[key] !== undefined) return true;
      // A phone registered with a VoIP token only keeps its app state on that registration.
      const voip = registrationKey({ deviceId, pushType: "voip" });
      return key === deviceId && devices?.[voip] !== undefined
        ? this.setDeviceAppState(userId, deviceId, state, at, voip)
        : false;
    }
  }

  async setUnreadCount(userId: string, unreadCount: number, at: number): Promise<void> {
    // A new base restarts the count of pushes; the marks stay, so a retried routing of a message
    // counted before still does not count.
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: badgeKey(userId),
          // BASE is a DynamoDB reserved word.
          UpdateExpression: "SET #base = :n, baseAt = :at, pushed = :zero",
          ConditionExpression: "attribute_not_exists(baseAt) OR baseAt <= :at",
          ExpressionAttributeNames: { "#base": "base" },
          ExpressionAttributeValues: { ":n": unreadCount, ":at": at, ":zero": 0 },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error; // a newer report already won
    }
  }

  async countPush(userIds: readonly string[], messageKey: string): Promise<Map<string, number>> {
    const mark = createHash("sha256").update(messageKey).digest().subarray(0, 6).toString("base64url");
    const badges = new Map<string, number>();
    const unique = [...new Set(userIds)];
    let next = 0;
    const worker = async () => {
      while (next < unique.length) {
        const userId = unique[next++]!;
        badges.set(userId, await this.countOne(userId, mark));
      }
    };
    await Promise.all(Array.from({ length: Math.min(BADGE_WRITE_CONCURRENCY, unique.length) }, worker));
    return badges;
  }

  private async countOne(userId: string, mark: string): Promise<number> {
    try {
      const { Attributes } = await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: badgeKey(userId),
          UpdateExpression: "ADD pushed :one, marks :marks",
          ConditionExpression: "attribute_not_exists(marks) OR NOT contains(marks, :mark)",
          ExpressionAttributeValues: { ":one": 1, ":marks": new Set([mark]), ":mark": mark },
          ReturnValues: "ALL_NEW",
        }),
      );
      const item = Attributes as BadgeItem | undefined;
      if ((item?.marks?.size ?? 0) > BADGE_GUARD_MARKS) {
        await this.db.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: badgeKey(userId),
            UpdateExpression: "SET marks = :marks",
            ExpressionAttributeValues: { ":marks": new Set([mark]) },
          }),
        );
      }
      return badgeOf(item);
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      // Already counted (a retried routing): the badge as it stands.
      const { Item } = await this.db.send(
        new GetCommand({ TableName: this.tableName, Key: badgeKey(userId), ConsistentRead: true }),
      );
      return badgeOf(Item as BadgeItem | undefined);
    }
  }

  async recordLookup(userId: string, nickname: string | undefined, at: number): Promise<void> {
    if (nickname !== undefined && nickname !== "") {
      await this.setIfNewer(userId, "nicknameAt", at, { nickname, nicknameCheckedAt: at });
      return;
    }
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: userKey(userId),
        UpdateExpression: "SET userId = :u, nicknameCheckedAt = :at",
        ExpressionAttributeValues: { ":u": userId, ":at": at },
      }),
    );
  }

  async setNickname(userId: string, nickname: string, at: number): Promise<void> {
    await this.setIfNewer(userId, "nicknameAt", at, { nickname });
  }

  /** Sets `fields` and `stampField = at` unless a newer write already happened. */
  private async setIfNewer(
    userId: string,
    stampField: string,
    at: number,
    fields: Record<string, unknown>,
  ): Promise<void> {
    const all = { ...fields, [stampField]: at, userId };
    const names = Object.fromEntries(Object.keys(all).map((k, i) => [`#f${i}`, k]));
    const values = Object.fromEntries(Object.values(all).map((v, i) => [`:v${i}`, v]));
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: userKey(userId),
          UpdateExpression: `SET ${Object.keys(names)
            .map((n, i) => `${n} = :v${i}`)
            .join(", ")}`,
          ConditionExpression: "attribute_not_exists(#stamp) OR #stamp <= :stamp",
          ExpressionAttributeNames: { ...names, "#stamp": stampField },
          ExpressionAttributeValues: { ...values, ":stamp": at },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error; // a newer report already won
    }
  }
}

function badgeOf(item: BadgeItem | undefined): number {
  return (item?.base ?? 0) + (item?.pushed ?? 0);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
