import type { Vendor } from "../model/index.js";
import type {
  BadgeStore,
  Clock,
  DeliveryLog,
  DeliveryQueue,
  GroupStore,
  Journal,
  PresenceStore,
  ProfileDirectory,
  ProfileStore,
  RecipientReader,
} from "../ports/index.js";
import type { ServerPushDeps, ServerPushEvent } from "../push-api/ports.js";
import type { AcceptedCallback } from "../tencent/callback.schema.js";
import type { CallDeps, CallExpiryEvent } from "./calls.js";
import type { FanoutEvent, FanoutQueue } from "./fanout.js";
import type { Language } from "./texts.js";

/** Everything the callback families need; each family takes only what it uses. */
export interface RouterDeps {
  users: RecipientReader;
  presence: PresenceStore;
  profiles: ProfileStore;
  badges: BadgeStore;
  /** Tencent's REST portrait_get, for senders whose nickname was never seen; absent = no look-ups. */
  directory?: ProfileDirectory;
  groups: GroupStore;
  queue: DeliveryQueue;
  fanout: FanoutQueue;
  deliveries: DeliveryLog;
  journal: Journal;
  clock: Clock;
  /** Most targets per job, per vendor (VENDOR_SETTINGS.maxTargetsPerJob). */
  maxTargetsPerJob: (vendor: Vendor) => number;
  /**
   * Members per fan-out page. Default 5000: five member Queries and fifty BatchGetItems, well inside a
   * Lambda's time, and big enough that each vendor's jobs of a page fill one SendMessageBatch.
   */
  fanoutPageSize?: number;
  /** Push offline for Meeting / AVChatRoom groups too (Tencent's default is online only). */
  pushOnlineOnlyGroups?: boolean;
  /** The texts for devices that registered no (or an unknown) locale; default English. */
  defaultLanguage?: Language;
  /** Call tracking (lib/routing/calls.ts): absent = call signaling rings nobody. */
  calls?: CallDeps;
  /** Tencent's REST pushes (lib/push-api): tags, the audience index, tasks; absent = not served. */
  serverPush?: ServerPushDeps;
  /**
   * The app admin account (CHATPUSH_ADMIN_IDENTIFIER) and the name its messages and pushes show
   * (CHATPUSH_ADMIN_DISPLAY_NAME) instead of the account's id, e.g. "administrator".
   */
  admin?: { identifier: string; displayName?: string };
}

export type RouterEvent = AcceptedCallback | FanoutEvent | ServerPushEvent | CallExpiryEvent;
export type RouterCommand = RouterEvent["command"];

/** The handler of one command: its event, with the body typed for that command. */
export type Handler<C extends RouterCommand> = (event: Extract<RouterEvent, { command: C }>) => Promise<void>;
