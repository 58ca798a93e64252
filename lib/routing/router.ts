import type { DeliveryJob, Device, Notification, Vendor } from "../model/index.js";
import type {
  Clock,
  DeliveryQueue,
  Journal,
  PresenceStore,
  ProfileStore,
  RecipientReader,
} from "../ports/index.js";
import type {
  AcceptedCallback,
  C2CAfterSendMsg,
  PortraitSet,
  StateChange,
} from "../tencent/callback.schema.js";
import { c2cConversationId, conversationExt, messageText } from "./content.js";
import { packJobs } from "./pack.js";
import { affectsPushPresence, reachability } from "./presence.js";

export interface RouterDeps {
  users: RecipientReader;
  presence: PresenceStore;
  profiles: ProfileStore;
  queue: DeliveryQueue;
  journal: Journal;
  clock: Clock;
  /** Most targets per job, per vendor (VENDOR_SETTINGS.maxTargetsPerJob). */
  maxTargetsPerJob: (vendor: Vendor) => number;
}

export interface Router {
  handle(callback: AcceptedCallback): Promise<void>;
}

/** Why a message produces no push for anybody, before any recipient is looked at. */
export function messageSkipReason(msg: C2CAfterSendMsg, text: string): string | undefined {
  if (msg.OnlineOnlyFlag === 1) return "online-only message";
  if (msg.SendMsgResult !== undefined && msg.SendMsgResult !== 0) return `send failed (${msg.SendMsgResult})`;
  if (msg.From_Account === msg.To_Account) return "recipient is the sender";
  if (text === "") return "nothing to show (custom element without Desc)";
  return undefined;
}

export function c2cMessageKey(msg: C2CAfterSendMsg): string {
  return msg.MsgKey ?? `${msg.MsgSeq ?? 0}_${msg.MsgRandom ?? 0}_${msg.MsgTime ?? 0}`;
}

export function makeRouter(deps: RouterDeps): Router {
  const { journal } = deps;

  async function routeC2C(msg: C2CAfterSendMsg, acceptedAt: number): Promise<void> {
    const messageKey = c2cMessageKey(msg);
    const recipient = msg.To_Account;
    const { text, sound } = messageText(msg.MsgBody);
    const skip = messageSkipReason(msg, text);
    if (skip !== undefined) {
      journal.record({ stage: "skipped", messageKey, userId: recipient, reason: skip });
      return;
    }

    // One read for both: the recipient's presence and devices, and the sender's nickname.
    const users = await deps.users.getUsers([recipient, msg.From_Account]);
    const user = users.get(recipient);
    const reach = reachability(user?.presence ?? {}, deps.clock.now());
    if (reach !== "offline") {
      const reason = reach === "foreground" ? "online in the foreground" : "logged out";
      journal.record({ stage: "skipped", messageKey, userId: recipient, reason });
      return;
    }
    const devices = user?.devices ?? [];
    if (devices.length === 0) {
      journal.record({ stage: "skipped", messageKey, userId: recipient, reason: "no registered device" });
      return;
    }

    const conversationId = c2cConversationId(msg.From_Account);
    const notification: Notification = {
      title: users.get(msg.From_Account)?.nickname ?? msg.From_Account,
      body: text,
      ext: conversationExt(conversationId),
      conversationId,
      messageKey,
      sentAt: (msg.MsgTime ?? Math.floor(acceptedAt / 1000)) * 1000,
      ...(msg.UnreadMsgNum !== undefined && msg.UnreadMsgNum >= 0 ? { badge: msg.UnreadMsgNum } : {}),
      ...(sound !== undefined ? { sound } : {}),
    };
    await enqueue([{ notification, devices }], acceptedAt);
  }

  async function enqueue(
    batches: readonly { notification: Notification; devices: readonly Device[] }[],
    acceptedAt: number,
  ): Promise<void> {
    const jobs: DeliveryJob[] = batches.flatMap(({ notification, devices }) =>
      packJobs(notification, devices, acceptedAt, deps.maxTargetsPerJob),
    );
    await deps.queue.enqueue(jobs);
    for (const job of jobs) {
      for (const target of job.targets) {
        journal.record({
          stage: "queued",
          messageKey: job.notification.messageKey,
          userId: target.userId,
          deviceId: target.deviceId,
          vendor: job.vendor,
        });
      }
    }
  }

  async function applyStateChange(
    event: StateChange,
    acceptedAt: number,
    optPlatform?: string,
  ): Promise<void> {
    const { Action, To_Account } = event.Info;
    if (Action !== "Login" && Action !== "Logout" && Action !== "Disconnect") {
      journal.record({ stage: "ignored", userId: To_Account, reason: `state action ${Action}` });
      return;
    }
    if (!affectsPushPresence(optPlatform)) {
      journal.record({ stage: "ignored", userId: To_Account, reason: `${Action} on ${optPlatform}` });
      return;
    }
    const change = {
      action: Action,
      at: event.EventTime ?? acceptedAt,
      kicked: (event.KickedDevice?.length ?? 0) > 0,
    } as const;
    await deps.presence.applyConnection(To_Account, change);
    journal.record({ stage: "presence", userId: To_Account, reason: Action });
  }

  async function applyPortrait(event: PortraitSet, acceptedAt: number): Promise<void> {
    const nick = event.ProfileItem.find((item) => item.Tag === "Tag_Profile_IM_Nick");
    if (nick?.Value === undefined) return;
    await deps.profiles.setNickname(event.From_Account, String(nick.Value), event.EventTime ?? acceptedAt);
    journal.record({ stage: "profile", userId: event.From_Account, reason: "nickname" });
  }

  return {
    async handle(callback) {
      switch (callback.command) {
        case "C2C.CallbackAfterSendMsg":
          return routeC2C(callback.body, callback.acceptedAt);
        case "State.StateChange":
          return applyStateChange(callback.body, callback.acceptedAt, callback.optPlatform);
        case "Profile.CallbackPortraitSet":
          return applyPortrait(callback.body, callback.acceptedAt);
      }
    },
  };
}
