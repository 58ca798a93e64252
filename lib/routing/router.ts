import type { DeliveryJob, Device, Notification, Vendor } from "../model/index.js";
import type {
  Clock,
  DeliveryLog,
  DeliveryQueue,
  GroupStore,
  Journal,
  MemberPage,
  PresenceStore,
  ProfileStore,
  RecipientReader,
  UserRecord,
} from "../ports/index.js";
import { preferenceDecision } from "../preferences/rules.js";
import type {
  AcceptedCallback,
  C2CAfterSendMsg,
  C2CRecalled,
  GroupAfterSendMsg,
  GroupCreated,
  GroupRecalled,
  PortraitSet,
  StateChange,
} from "../tencent/callback.schema.js";
import { c2cConversationId, conversationExt, messageText } from "./content.js";
import {
  FANOUT_COMMAND,
  type FanoutEvent,
  type FanoutQueue,
  type GroupFanoutTask,
  mentionsOfTask,
} from "./fanout.js";
import {
  groupConversationId,
  groupMessageKey,
  groupNotification,
  isOnlineOnlyGroupType,
  type MentionKind,
  mentionOf,
  mentionsOf,
  recallNotification,
} from "./group.js";
import { packJobs, type Reachable } from "./pack.js";
import { affectsPushPresence, reachability } from "./presence.js";

export interface RouterDeps {
  users: RecipientReader;
  presence: PresenceStore;
  profiles: ProfileStore;
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
}

export type RouterEvent = AcceptedCallback | FanoutEvent;

export interface Router {
  handle(event: RouterEvent): Promise<void>;
}

/** Why a message produces no push for anybody, before any recipient is looked at. */
export function messageSkipReason(msg: C2CAfterSendMsg, text: string): string | undefined {
  if (msg.OnlineOnlyFlag === 1) return "online-only message";
  if (msg.SendMsgResult !== undefined && msg.SendMsgResult !== 0) return `send failed (${msg.SendMsgResult})`;
  if (msg.From_Account === msg.To_Account) return "recipient is the sender";
  if (text === "") return "nothing to show (custom element without Desc)";
  return undefined;
}

export function c2cMessageKey(
  msg: Pick<C2CAfterSendMsg, "MsgKey" | "MsgSeq" | "MsgRandom" | "MsgTime">,
): string {
  return msg.MsgKey ?? `${msg.MsgSeq ?? 0}_${msg.MsgRandom ?? 0}_${msg.MsgTime ?? 0}`;
}

/**
 * Why one recipient gets no push: not reachable by push (foreground, logged out), muted by their
 * receive options or do-not-disturb, or no device. The same rules for one-to-one and group messages.
 */
export function recipientSkipReason(
  user: UserRecord | undefined,
  input: { conversationId: string; mentioned: boolean; nowMs: number },
): string | undefined {
  const reach = reachability(user?.presence ?? {}, input.nowMs);
  if (reach === "foreground") return "online in the foreground";
  if (reach === "logged-out") return "logged out";
  const preference = preferenceDecision(user?.preferences, input);
  if (!preference.notify) return preference.reason;
  if ((user?.devices.length ?? 0) === 0) return "no registered device";
  return undefined;
}

const DEFAULT_PAGE_SIZE = 5000;
/** The most members one GroupStore.listMembers call returns. */
const MEMBER_QUERY_LIMIT = 1000;

export function makeRouter(deps: RouterDeps): Router {
  const { journal } = deps;
  const pageSize = deps.fanoutPageSize ?? DEFAULT_PAGE_SIZE;

  async function routeC2C(msg: C2CAfterSendMsg, acceptedAt: number): Promise<void> {
    const messageKey = c2cMessageKey(msg);
    const recipient = msg.To_Account;
    const { text, sound } = messageText(msg.MsgBody);
    const skip = messageSkipReason(msg, text);
    if (skip !== undefined) {
      journal.record({ stage: "skipped", messageKey, userId: recipient, reason: skip });
      return;
    }

    // One read for both: the recipient's presence, preferences and devices, and the sender's nickname.
    const users = await deps.users.getUsers([recipient, msg.From_Account]);
    const user = users.get(recipient);
    const conversationId = c2cConversationId(msg.From_Account);
    const reason = recipientSkipReason(user, { conversationId, mentioned: false, nowMs: deps.clock.now() });
    if (reason !== undefined) {
      journal.record({ stage: "skipped", messageKey, userId: recipient, reason });
      return;
    }
    const notification: Notification = {
      title: users.get(msg.From_Account)?.nickname ?? msg.From_Account,
      body: text,
      ext: conversationExt(conversationId),
      conversationId,
      messageKey,
      sentAt: (msg.MsgTime ?? Math.floor(acceptedAt / 1000)) * 1000,
      ...(msg.UnreadMsgNum !== undefined && msg.UnreadMsgNum >= 0 ? { badge: msg.UnreadMsgNum } : {}),
      ...(sound !== undefined ? { ios: { sound } } : {}),
    };
    await enqueue([{ notification, devices: user?.devices ?? [] }], acceptedAt);
  }

  async function routeGroupMessage(msg: GroupAfterSendMsg, acceptedAt: number): Promise<void> {
    const messageKey = groupMessageKey(msg.GroupId, msg.MsgSeq);
    const { text, sound } = messageText(msg.MsgBody);
    const skip =
      msg.OnlineOnlyFlag === 1
        ? "online-only message"
        : isOnlineOnlyGroupType(msg.Type) && !deps.pushOnlineOnlyGroups
          ? `${msg.Type} groups are online only`
          : text === ""
            ? "nothing to show (custom element without Desc)"
            : undefined;
    if (skip !== undefined) {
      journal.record({ stage: "skipped", messageKey, reason: skip });
      return;
    }
    const [group, sender] = await Promise.all([
      deps.groups.getGroup(msg.GroupId),
      deps.users.getUsers([msg.From_Account]),
    ]);
    const mentions = mentionsOf(msg);
    await fanoutPage({
      groupId: msg.GroupId,
      page: 0,
      senderId: msg.From_Account,
      content: {
        groupId: msg.GroupId,
        ...(group?.name !== undefined ? { groupName: group.name } : {}),
        senderName: sender.get(msg.From_Account)?.nickname ?? msg.From_Account,
        text,
        messageKey,
        sentAt: (msg.MsgTime ?? Math.floor(acceptedAt / 1000)) * 1000,
        ...(sound !== undefined ? { ios: { sound } } : {}),
      },
      mentionAll: mentions.all,
      mentioned: [...mentions.users],
      acceptedAt,
    });
  }

  /** Up to `pageSize` members, in as many listMembers calls as the store's page limit needs. */
  async function readMembers(groupId: string, cursor: string | undefined): Promise<MemberPage> {
    const members: string[] = [];
    let next = cursor;
    do {
      const page = await deps.groups.listMembers(
        groupId,
        next,
        Math.min(MEMBER_QUERY_LIMIT, pageSize - members.length),
      );
      members.push(...page.members);
      next = page.next;
    } while (next !== undefined && members.length < pageSize);
    return next === undefined ? { members } : { members, next };
  }

  /** One page of members: queue the next page first, then decide and enqueue this page's deliveries. */
  async function fanoutPage(task: GroupFanoutTask): Promise<void> {
    const { content } = task;
    const page = await readMembers(task.groupId, task.cursor);
    if (page.next !== undefined)
      await deps.fanout.publish({ ...task, cursor: page.next, page: task.page + 1 });
    if (task.page === 0 && page.members.length === 0) {
      journal.record({
        stage: "skipped",
        messageKey: content.messageKey,
        reason: `no members known for group ${task.groupId} (was it created before chatpush? run the backfill)`,
      });
      return;
    }

    const recipients = page.members.filter((member) => member !== task.senderId);
    const users = await deps.users.getUsers(recipients);
    const mentions = mentionsOfTask(task);
    const conversationId = groupConversationId(task.groupId);
    const nowMs = deps.clock.now();
    const byMention = new Map<MentionKind, Device[]>();
    for (const userId of recipients) {
      const user = users.get(userId);
      const mention = mentionOf(mentions, userId);
      const reason = recipientSkipReason(user, { conversationId, mentioned: mention !== undefined, nowMs });
      if (reason !== undefined) {
        journal.record({ stage: "skipped", messageKey: content.messageKey, userId, reason });
        continue;
      }
      const devices = byMention.get(mention) ?? [];
      devices.push(...(user?.devices ?? []));
      byMention.set(mention, devices);
    }
    await enqueue(
      [...byMention].map(([mention, devices]) => ({
        notification: groupNotification(content, mention),
        devices,
      })),
      task.acceptedAt,
    );
  }

  async function enqueue(
    batches: readonly { notification: Notification; devices: readonly Reachable[] }[],
    acceptedAt: number,
  ): Promise<void> {
    const jobs: DeliveryJob[] = batches.flatMap(({ notification, devices }) =>
      packJobs(notification, devices, acceptedAt, deps.maxTargetsPerJob),
    );
    if (jobs.length === 0) return;
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

  /** Replaces the notification on exactly the devices that got the original, on the same collapse key. */
  async function recall(messageKey: string, replacement: Notification, acceptedAt: number): Promise<void> {
    const delivered = await deps.deliveries.deliveredTo(messageKey);
    if (delivered.length === 0) {
      journal.record({
        stage: "skipped",
        messageKey: replacement.messageKey,
        reason: "nobody was notified of it",
      });
      return;
    }
    const devices = delivered.map(({ vendor, target }) => ({ ...target, vendor }));
    await enqueue([{ notification: replacement, devices }], acceptedAt);
  }

  async function recallC2C(event: C2CRecalled, acceptedAt: number): Promise<void> {
    const conversationId = c2cConversationId(event.From_Account);
    const sender = await deps.users.getUsers([event.From_Account]);
    const replacement = recallNotification({
      title: sender.get(event.From_Account)?.nickname ?? event.From_Account,
      conversationId,
      messageKey: event.MsgKey,
      sentAt: event.EventTime ?? acceptedAt,
      ...(event.UnreadMsgNum !== undefined && event.UnreadMsgNum >= 0 ? { badge: event.UnreadMsgNum } : {}),
    });
    await recall(event.MsgKey, replacement, acceptedAt);
  }

  async function recallGroup(event: GroupRecalled, acceptedAt: number): Promise<void> {
    const group = await deps.groups.getGroup(event.GroupId);
    for (const { MsgSeq } of event.MsgSeqList) {
      const messageKey = groupMessageKey(event.GroupId, MsgSeq);
      const replacement = recallNotification({
        title: group?.name ?? event.GroupId,
        conversationId: groupConversationId(event.GroupId),
        messageKey,
        sentAt: event.EventTime ?? acceptedAt,
      });
      await recall(messageKey, replacement, acceptedAt);
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

  async function groupCreated(event: GroupCreated, acceptedAt: number): Promise<void> {
    const at = event.EventTime ?? acceptedAt;
    await deps.groups.putGroup({
      groupId: event.GroupId,
      updatedAt: at,
      ...(event.Type !== undefined ? { type: event.Type } : {}),
      ...(event.Name !== undefined ? { name: event.Name } : {}),
      ...(event.Owner_Account !== undefined ? { ownerId: event.Owner_Account } : {}),
    });
    // Whether MemberList includes the owner is undocumented; the owner is a member either way.
    const members = new Set(event.MemberList.map((m) => m.Member_Account));
    if (event.Owner_Account) members.add(event.Owner_Account);
    await deps.groups.addMembers(event.GroupId, [...members], at);
    journal.record({ stage: "group", reason: `created ${event.GroupId} with ${members.size} members` });
  }

  return {
    async handle(event) {
      const at = event.acceptedAt;
      switch (event.command) {
        case "C2C.CallbackAfterSendMsg":
          return routeC2C(event.body, at);
        case "C2C.CallbackAfterMsgWithDraw":
          return recallC2C(event.body, at);
        case "State.StateChange":
          return applyStateChange(event.body, at, event.optPlatform);
        case "Profile.CallbackPortraitSet":
          return applyPortrait(event.body, at);
        case "Group.CallbackAfterSendMsg":
          return routeGroupMessage(event.body, at);
        case "Group.CallbackAfterRecallMsg":
          return recallGroup(event.body, at);
        case "Group.CallbackAfterCreateGroup":
          return groupCreated(event.body, at);
        case "Group.CallbackAfterNewMemberJoin": {
          const ids = event.body.NewMemberList.map((m) => m.Member_Account);
          await deps.groups.addMembers(event.body.GroupId, ids, event.body.EventTime ?? at);
          journal.record({ stage: "group", reason: `${ids.join(", ")} joined ${event.body.GroupId}` });
          return;
        }
        case "Group.CallbackAfterMemberExit": {
          const ids = event.body.ExitMemberList.map((m) => m.Member_Account);
          await deps.groups.removeMembers(event.body.GroupId, ids, event.body.EventTime ?? at);
          journal.record({ stage: "group", reason: `${ids.join(", ")} left ${event.body.GroupId}` });
          return;
        }
        case "Group.CallbackAfterGroupDestroyed":
          await deps.groups.deleteGroup(event.body.GroupId);
          journal.record({ stage: "group", reason: `destroyed ${event.body.GroupId}` });
          return;
        case "Group.CallbackAfterGroupInfoChanged":
          await deps.groups.putGroup({
            groupId: event.body.GroupId,
            updatedAt: event.body.EventTime ?? at,
            ...(event.body.Name !== undefined ? { name: event.body.Name } : {}),
            ...(event.body.Type !== undefined ? { type: event.body.Type } : {}),
          });
          journal.record({ stage: "group", reason: `info of ${event.body.GroupId} changed` });
          return;
        case FANOUT_COMMAND:
          return fanoutPage(event.body);
      }
    },
  };
}
