import type { C2CAfterSendMsg } from "../tencent/callback.schema.js";
import type { MessageContent } from "./compose.js";
import { c2cConversationId, conversationExt, messageText, messageTexts } from "./content.js";
import { deliverMessage } from "./deliver.js";
import type { Handler, RouterDeps } from "./deps.js";
import { senderName } from "./names.js";
import { type ParsedPushOptions, senderPushOptions } from "./push-options.js";

/** Why a message produces no push for anybody, before any recipient is looked at. */
export function messageSkipReason(
  msg: C2CAfterSendMsg,
  text: string,
  options: ParsedPushOptions["options"] = {},
): string | undefined {
  if (msg.OnlineOnlyFlag === 1) return "online-only message";
  if (msg.SendMsgResult !== undefined && msg.SendMsgResult !== 0) return `send failed (${msg.SendMsgResult})`;
  if (msg.From_Account === msg.To_Account) return "recipient is the sender";
  if (options.noPush) return "the sender switched offline push off (OfflinePushInfo.PushFlag 1)";
  // Tencent pushes a lone custom element without Desc only when OfflinePushInfo gives a Desc (§3).
  if (text === "" && options.desc === undefined) return "nothing to show (custom element without Desc)";
  return undefined;
}

export function c2cMessageKey(
  msg: Pick<C2CAfterSendMsg, "MsgKey" | "MsgSeq" | "MsgRandom" | "MsgTime">,
): string {
  return msg.MsgKey ?? `${msg.MsgSeq ?? 0}_${msg.MsgRandom ?? 0}_${msg.MsgTime ?? 0}`;
}

/** Logs each sender push option that was ignored, so a sender can see why (never a failed callback). */
export function reportIgnoredOptions(
  deps: Pick<RouterDeps, "journal">,
  messageKey: string,
  userId: string,
  problems: readonly string[],
): void {
  for (const problem of problems) {
    deps.journal.record({ stage: "ignored", messageKey, userId, reason: `sender push option: ${problem}` });
  }
}

/**
 * `C2C.CallbackAfterSendMsg`: one recipient, all of their devices that should be pushed; title =
 * the sender's name, body = the message text in each device's language, both replaced by what the
 * sender's OfflinePushInfo asks for.
 */
export function makeC2CMessageHandler(deps: RouterDeps): Handler<"C2C.CallbackAfterSendMsg"> {
  return async ({ body: msg, acceptedAt }) => {
    const messageKey = c2cMessageKey(msg);
    const recipient = msg.To_Account;
    const { text, sound, ext } = messageText(msg.MsgBody);
    const { options, problems } = senderPushOptions(msg.CloudCustomData);
    reportIgnoredOptions(deps, messageKey, msg.From_Account, problems);
    const skip = messageSkipReason(msg, text, options);
    if (skip !== undefined) {
      deps.journal.record({ stage: "skipped", messageKey, userId: recipient, reason: skip });
      return;
    }

    // The recipient's presence, preferences and devices (strongly consistent) and, in parallel, the
    // sender's nickname (eventually consistent, half the read), unless OfflinePushInfo.Title replaces it.
    const [users, title] = await Promise.all([
      deps.users.getUsers([recipient]),
      options.title ?? senderName(deps, msg.From_Account, messageKey),
    ]);
    const conversationId = c2cConversationId(msg.From_Account);
    const content: MessageContent = {
      conversationId,
      messageKey,
      sentAt: (msg.MsgTime ?? Math.floor(acceptedAt / 1000)) * 1000,
      title,
      bodies: messageTexts(msg.MsgBody),
      ext: ext ?? conversationExt(conversationId),
      ...(sound !== undefined ? { sound } : {}),
      options,
    };
    await deliverMessage(deps, {
      content,
      recipients: [{ userId: recipient, user: users.get(recipient) }],
      conversationIds: [conversationId],
      acceptedAt,
    });
  };
}
