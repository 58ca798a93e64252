import type { Notification } from "../model/index.js";
import type { GroupAfterSendMsg } from "../tencent/callback.schema.js";
import { conversationExt } from "./content.js";

/**
 * Group types whose members get online delivery only, by Tencent's defaults (Meeting, AVChatRoom and
 * their legacy or live names; tencent-chat.md §2.2): no offline push unless configured otherwise.
 */
const ONLINE_ONLY_GROUP_TYPES = new Set(["meeting", "chatroom", "avchatroom", "live"]);

export function isOnlineOnlyGroupType(type: string | undefined): boolean {
  return type !== undefined && ONLINE_ONLY_GROUP_TYPES.has(type.toLowerCase());
}

export function groupConversationId(groupId: string): string {
  return `group_${groupId}`;
}

/** A group message's key: its group and its MsgSeq, which is what Group.CallbackAfterRecallMsg names. */
export function groupMessageKey(groupId: string, msgSeq: number): string {
  return `${groupId}#${msgSeq}`;
}

export interface Mentions {
  all: boolean;
  users: ReadonlySet<string>;
}

export function mentionsOf(msg: Pick<GroupAfterSendMsg, "GroupAtInfo">): Mentions {
  const users = new Set<string>();
  let all = false;
  for (const at of msg.GroupAtInfo ?? []) {
    if (at.GroupAtAllFlag === 1) all = true;
    else if (at.GroupAt_Account) users.add(at.GroupAt_Account);
  }
  return { all, users };
}

export type MentionKind = "you" | "all" | undefined;

/** How a member is mentioned: by name wins over @all. */
export function mentionOf(mentions: Mentions, userId: string): MentionKind {
  if (mentions.users.has(userId)) return "you";
  return mentions.all ? "all" : undefined;
}

/** What a mentioned member's notification says first, as Tencent's own "[有人@我]" / "[@所有人]". */
const MENTION_PREFIX: Record<Exclude<MentionKind, undefined>, string> = {
  you: "[@you] ",
  all: "[@all] ",
};

export interface GroupNotificationInput {
  groupId: string;
  groupName?: string;
  senderName: string;
  text: string;
  messageKey: string;
  sentAt: number;
  sound?: string;
}

/** Title = group name (else id); body = "sender: text"; ext opens the group conversation. */
export function groupNotification(input: GroupNotificationInput, mention: MentionKind): Notification {
  const conversationId = groupConversationId(input.groupId);
  const prefix = mention === undefined ? "" : MENTION_PREFIX[mention];
  return {
    title: input.groupName ?? input.groupId,
    body: `${prefix}${input.senderName}: ${input.text}`,
    ext: conversationExt(conversationId),
    conversationId,
    messageKey: input.messageKey,
    sentAt: input.sentAt,
    ...(input.sound !== undefined ? { ios: { sound: input.sound } } : {}),
  };
}

/** The notification that replaces a recalled message's, on the same conversation (collapse key). */
export function recallNotification(original: {
  title: string;
  conversationId: string;
  messageKey: string;
  sentAt: number;
  badge?: number;
}): Notification {
  return {
    title: original.title,
    body: "This message was recalled",
    ext: conversationExt(original.conversationId),
    conversationId: original.conversationId,
    messageKey: `${original.messageKey}:recall`,
    // The recalled message's own replacement key, so the recall replaces exactly its notification.
    collapseKey: original.messageKey,
    quiet: true,
    sentAt: original.sentAt,
    ...(original.badge !== undefined ? { badge: original.badge } : {}),
  };
}
