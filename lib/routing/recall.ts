import type { Notification } from "../model/index.js";
import { c2cConversationId } from "./content.js";
import { deviceLanguage, enqueue } from "./deliver.js";
import type { Handler, RouterDeps } from "./deps.js";
import { groupConversationId, groupMessageKey, recallNotification } from "./group.js";
import type { Reachable } from "./pack.js";
import type { Language } from "./texts.js";

/**
 * `C2C.CallbackAfterMsgWithDraw` and `Group.CallbackAfterRecallMsg`: the recalled message's
 * notification is replaced on exactly the devices that got it (the workers record them), on the
 * recalled message's own replacement key, quietly, in each device's language. A user who was not
 * notified of the original is not notified of the recall.
 */
export function makeRecallHandlers(deps: RouterDeps): {
  c2c: Handler<"C2C.CallbackAfterMsgWithDraw">;
  group: Handler<"Group.CallbackAfterRecallMsg">;
} {
  async function recall(
    original: { title: string; conversationId: string; messageKey: string; sentAt: number },
    acceptedAt: number,
    knownSender?: string,
  ): Promise<void> {
    const delivered = await deps.deliveries.deliveredTo(original.messageKey);
    if (delivered.length === 0) {
      deps.journal.record({
        stage: "skipped",
        messageKey: `${original.messageKey}:recall`,
        reason: "nobody was notified of it",
      });
      return;
    }
    // The recipients' devices say which language each reads; the sender's item gives the title.
    const ids = [...new Set(delivered.map((d) => d.target.userId))];
    const [users, sender] = await Promise.all([
      deps.users.getUsers(ids),
      knownSender === undefined ? undefined : deps.profiles.getProfile(knownSender),
    ]);
    const title = sender?.nickname || original.title;
    const batches = new Map<Language, { notification: Notification; devices: Reachable[] }>();
    for (const { vendor, target } of delivered) {
      const device = users.get(target.userId)?.devices.find((d) => d.deviceId === target.deviceId);
      const language = deviceLanguage(device, deps);
      let batch = batches.get(language);
      if (batch === undefined) {
        batch = { notification: recallNotification({ ...original, title }, language), devices: [] };
        batches.set(language, batch);
      }
      // The token that got the original; the replacement changes no badge.
      const { badge: _badge, ...replaced } = target;
      batch.devices.push({ ...replaced, vendor });
    }
    await enqueue(deps, [...batches.values()], acceptedAt);
  }

  return {
    async c2c({ body: event, acceptedAt }) {
      await recall(
        {
          title: event.From_Account,
          conversationId: c2cConversationId(event.From_Account),
          messageKey: event.MsgKey,
          sentAt: event.EventTime ?? acceptedAt,
        },
        acceptedAt,
        event.From_Account,
      );
    },
    async group({ body: event, acceptedAt }) {
      const topicId = event.TopicId !== undefined && event.TopicId !== "" ? event.TopicId : undefined;
      const group = await deps.groups.getGroup(event.GroupId);
      for (const { MsgSeq } of event.MsgSeqList) {
        await recall(
          {
            title: group?.name ?? event.GroupId,
            conversationId: groupConversationId(event.GroupId, topicId),
            messageKey: groupMessageKey(event.GroupId, MsgSeq, topicId),
            sentAt: event.EventTime ?? acceptedAt,
          },
          acceptedAt,
        );
      }
    },
  };
}
