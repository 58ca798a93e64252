import type { MemberPage } from "../ports/index.js";
import type { GroupAfterSendMsg } from "../tencent/callback.schema.js";
import { reportIgnoredOptions } from "./c2c-message.js";
import type { MessageContent } from "./compose.js";
import { conversationExt, type MessageTexts, messageText, messageTexts } from "./content.js";
import { deliverMessage } from "./deliver.js";
import type { Handler, RouterDeps } from "./deps.js";
import { type GroupFanoutTask, mentionsOfTask } from "./fanout.js";
import {
  groupConversationId,
  groupMessageKey,
  isOnlineOnlyGroupType,
  mentionOf,
  mentionsOf,
} from "./group.js";
import { senderName } from "./names.js";
import { senderPushOptions } from "./push-options.js";
import { LANGUAGES } from "./texts.js";

const DEFAULT_PAGE_SIZE = 5000;
/** The most members one GroupStore.listMembers call returns. */
const MEMBER_QUERY_LIMIT = 1000;

/**
 * The sender's group name card, when the callback carries one. UNCONFIRMED: Tencent documents no
 * such field in Group.CallbackAfterSendMsg (tencent-chat.md §2.2); `NameCard` is the member field's
 * name in get_group_member_info (§5.7), read here if a callback ever sends it.
 */
function nameCardOf(msg: GroupAfterSendMsg): string | undefined {
  const card = (msg as { NameCard?: unknown }).NameCard;
  return typeof card === "string" && card.trim() !== "" ? card : undefined;
}

/** "name: text" in every language, Tencent's group push format without the group name (it is the title). */
function groupBodies(name: string, texts: MessageTexts): MessageTexts {
  return Object.fromEntries(
    LANGUAGES.map((language) => [language, `${name}: ${texts[language]}`]),
  ) as MessageTexts;
}

/**
 * `Group.CallbackAfterSendMsg` and its fan-out pages (`chatpush.GroupFanoutPage`): every member but
 * the sender, through the same receive options, presence and badge rules as a one-to-one message.
 * Title = the group's name, body = "sender: text" (the sender's group name card, else nickname, else
 * user ID); a Community topic's message opens the topic's conversation.
 */
export function makeGroupMessageHandlers(deps: RouterDeps): {
  message: Handler<"Group.CallbackAfterSendMsg">;
  page: Handler<"chatpush.GroupFanoutPage">;
} {
  const pageSize = deps.fanoutPageSize ?? DEFAULT_PAGE_SIZE;

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
      deps.journal.record({
        stage: "skipped",
        messageKey: content.messageKey,
        reason: `no members known for group ${task.groupId} (was it created before chatpush? run the backfill)`,
      });
      return;
    }
    const recipients = page.members.filter((member) => member !== task.senderId);
    const users = await deps.users.getUsers(recipients);
    const mentions = mentionsOfTask(task);
    await deliverMessage(deps, {
      content,
      recipients: recipients.map((userId) => ({
        userId,
        user: users.get(userId),
        mention: mentionOf(mentions, userId),
      })),
      conversationIds: task.conversationIds,
      acceptedAt: task.acceptedAt,
    });
  }

  return {
    async message({ body: msg, acceptedAt }) {
      const topicId = msg.TopicId !== undefined && msg.TopicId !== "" ? msg.TopicId : undefined;
      const messageKey = groupMessageKey(msg.GroupId, msg.MsgSeq, topicId);
      const { text, sound, ext } = messageText(msg.MsgBody);
      const { options, problems } = senderPushOptions(msg.CloudCustomData);
      reportIgnoredOptions(deps, messageKey, msg.From_Account, problems);
      const skip =
        msg.OnlineOnlyFlag === 1
          ? "online-only message"
          : isOnlineOnlyGroupType(msg.Type) && !deps.pushOnlineOnlyGroups
            ? `${msg.Type} groups are online only`
            : options.noPush
              ? "the sender switched offline push off (OfflinePushInfo.PushFlag 1)"
              : text === "" && options.desc === undefined
                ? "nothing to show (custom element without Desc)"
                : undefined;
      if (skip !== undefined) {
        deps.journal.record({ stage: "skipped", messageKey, reason: skip });
        return;
      }
      // The sender's item is read only when the callback carries no name card.
      const [group, name] = await Promise.all([
        deps.groups.getGroup(msg.GroupId),
        nameCardOf(msg) ?? senderName(deps, msg.From_Account, messageKey),
      ]);
      const conversationId = groupConversationId(msg.GroupId, topicId);
      const content: MessageContent = {
        conversationId,
        messageKey,
        sentAt: (msg.MsgTime ?? Math.floor(acceptedAt / 1000)) * 1000,
        title: group?.name ?? msg.GroupId,
        bodies: groupBodies(name, messageTexts(msg.MsgBody)),
        ext: ext ?? conversationExt(conversationId),
        ...(sound !== undefined ? { sound } : {}),
        options,
      };
      const mentions = mentionsOf(msg);
      await fanoutPage({
        groupId: msg.GroupId,
        page: 0,
        senderId: msg.From_Account,
        content,
        conversationIds:
          topicId === undefined ? [conversationId] : [conversationId, groupConversationId(msg.GroupId)],
        mentionAll: mentions.all,
        mentioned: [...mentions.users],
        acceptedAt,
      });
    },
    page: ({ body }) => fanoutPage(fromEarlierRelease(body)),
  };
}

/**
 * A page queued by the release before per-language texts (its content had `text` and `senderName`)
 * is read the way that release meant it, so pages in flight during a deploy still go out.
 */
function fromEarlierRelease(task: GroupFanoutTask): GroupFanoutTask {
  const legacy = task.content as MessageContent & {
    groupId?: string;
    groupName?: string;
    senderName?: string;
    text?: string;
  };
  if (legacy.bodies !== undefined) return task;
  const conversationId = groupConversationId(task.groupId);
  const text = `${legacy.senderName ?? task.senderId}: ${legacy.text ?? ""}`;
  return {
    ...task,
    conversationIds: task.conversationIds ?? [conversationId],
    content: {
      conversationId,
      messageKey: legacy.messageKey,
      sentAt: legacy.sentAt,
      title: legacy.groupName ?? task.groupId,
      bodies: Object.fromEntries(LANGUAGES.map((language) => [language, text])) as MessageTexts,
      ext: conversationExt(conversationId),
      ...(legacy.sound !== undefined ? { sound: legacy.sound } : {}),
      options: {},
    },
  };
}
