import type { Notification } from "../model/index.js";
import type { GroupAfterSendMsg } from "../tencent/callback.schema.js";
import type { MentionKind } from "./compose.js";
import { conversationExt } from "./content.js";
import { CATALOGUE, type Language } from "./texts.js";

export type { MentionKind } from "./compose.js";

/**
 * Group types whose members get online delivery only, by Tencent's defaults (Meeting, AVChatRoom and
 * their legacy or live names; tencent-chat.md §2.2): no offline push unless configured otherwise.
 */
const ONLINE_ONLY_GROUP_TYPES = new Set(["meeting", "chatroom", "avchatroom", "live"]);

export function isOnlineOnlyGroupType(type: string | undefined): boolean {
  return type !== undefined && ONLINE_ONLY_GROUP_TYPES.has(type.toLowerCase());
}

/**
 * The conversation a group message belongs to: `group_<groupID>`, or for a Community topic
 * `group_<topicID>`, which is how the SDK names a topic's conversation (a topic id is
 * `<communityID>@TOPIC#_<part>`, V2TIMTopicInfo.topicID in the SDK headers).
 */
export function groupConversationId(groupId: string, topicId?: string): string {
  return `group_${topicId !== undefined && topicId !== "" ? topicId : groupId}`;
}

/**
 * A group message's key: its group (or topic) and its MsgSeq, which is what Group.CallbackAfterRecallMsg
 * names. MsgSeq counts per topic in a topic-enabled Community, so the topic id (which contains the
 * community's id) takes the group's place there: two topics' messages never share a key.
 */
export function groupMessageKey(groupId: string, msgSeq: number, topicId?: string): string {
  return `${topicId !== undefined && topicId !== "" ? topicId : groupId}#${msgSeq}`;
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

/** How a member is mentioned: by name wins over @all. */
export function mentionOf(mentions: Mentions, userId: string): MentionKind {
  if (mentions.users.has(userId)) return "you";
  return mentions.all ? "all" : undefined;
}

/**
 * The notification that replaces a recalled message's, in the device's language: the recalled
 * message's own replacement key (so it replaces exactly that notification, not the conversation's
 * newest), quiet (no sound, no vibration), no badge change.
 */
export function recallNotification(
  original: { title: string; conversationId: string; messageKey: string; sentAt: number },
  language: Language,
): Notification {
  return {
    title: original.title,
    body: CATALOGUE[language].recalled,
    ext: conversationExt(original.conversationId),
    conversationId: original.conversationId,
    messageKey: `${original.messageKey}:recall`,
    collapseKey: original.messageKey,
    quiet: true,
    sentAt: original.sentAt,
  };
}
