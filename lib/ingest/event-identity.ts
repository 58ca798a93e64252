import { createHash } from "node:crypto";

/**
 * What makes two callbacks "the same event", so routing happens once per event however often and in
 * whatever form it arrives (Tencent retrying a timed-out callback, SQS delivering twice, a copy that
 * differs in `EventTime` or any other byte that does not identify the event).
 *
 * The key is `<family>:<base64url sha256 of the identifying fields>`: at most ~60 ASCII characters
 * whatever the ids, free of user ids in clear, so any store can use it as its key as is. It is the
 * key of the router's event claims (lib/ingest/event-claims.ts: one conditional PutItem per event,
 * with a TTL).
 *
 * Per family:
 * - one-to-one message: `MsgKey` ("unique message key", tencent-chat.md §2.1) with sender and
 *   recipient (REST admin_msgwithdraw addresses a message by all three); without a MsgKey,
 *   MsgSeq + MsgRandom + MsgTime (the documented identity of a C2C message: MsgSeq alone repeats);
 *   with none of them, the body without `EventTime`.
 * - group message: GroupId + TopicId + MsgSeq ("unique per group; increases strictly from 1",
 *   tencent-chat.md §2.2; a topic has its own sequence).
 * - recalls: the recalled message's identity (a message is recalled once).
 * - presence, profile, membership, group info: the user or group, what changed, and `EventTime`.
 *   These are states, not messages: the same change legitimately recurs (log in, out, in again; join,
 *   leave, join), so the event time is part of what identifies them, and a copy that differs only in
 *   EventTime is harmless because every store applies them in EventTime order and idempotently
 *   (presence stays EventTime-ordered: the older copy never overwrites the newer state).
 * - fan-out pages (chatpush's own): group, message key and page number.
 */
export interface EventIdentity {
  family: string;
  key: string;
}

/** The shape of whatever travels on the ingest queue: a command and its body. */
export interface IdentifiableEvent {
  command: string;
  acceptedAt: number;
  body: unknown;
}

type Body = Record<string, unknown>;

export function eventIdentity(event: IdentifiableEvent): EventIdentity {
  const body = (typeof event.body === "object" && event.body !== null ? event.body : {}) as Body;
  const [family, parts] = identifyingParts(event.command, body, event.acceptedAt);
  const digest = createHash("sha256").update(JSON.stringify(parts), "utf8").digest("base64url");
  return { family, key: `${family}:${digest}` };
}

function identifyingParts(command: string, b: Body, acceptedAt: number): [string, unknown[]] {
  const at = b.EventTime ?? acceptedAt;
  switch (command) {
    case "C2C.CallbackAfterSendMsg": {
      const ends = [b.From_Account, b.To_Account];
      if (typeof b.MsgKey === "string" && b.MsgKey !== "") return ["c2c", [...ends, b.MsgKey]];
      if (b.MsgSeq !== undefined || b.MsgRandom !== undefined || b.MsgTime !== undefined) {
        return ["c2c", [...ends, b.MsgSeq ?? null, b.MsgRandom ?? null, b.MsgTime ?? null]];
      }
      const { EventTime: _eventTime, ...rest } = b;
      return ["c2c", [...ends, rest]];
    }
    case "Group.CallbackAfterSendMsg":
      return ["group", [b.GroupId, b.TopicId ?? "", b.MsgSeq]];
    case "C2C.CallbackAfterMsgWithDraw":
      return ["c2c-recall", [b.From_Account, b.To_Account, b.MsgKey]];
    case "Group.CallbackAfterRecallMsg": {
      const seqs = Array.isArray(b.MsgSeqList)
        ? b.MsgSeqList.map((m) => Number((m as Body | null)?.MsgSeq)).sort((x, y) => x - y)
        : [];
      return ["group-recall", [b.GroupId, b.TopicId ?? "", seqs]];
    }
    case "State.StateChange": {
      const info = (b.Info ?? {}) as Body;
      const kicked = Array.isArray(b.KickedDevice)
        ? b.KickedDevice.map((d) => String((d as Body | null)?.Platform ?? "")).sort()
        : [];
      return ["presence", [info.To_Account, info.Action, info.Reason ?? "", at, kicked]];
    }
    case "Profile.CallbackPortraitSet":
      return ["profile", [b.From_Account, at, b.ProfileItem ?? []]];
    case "Group.CallbackAfterCreateGroup":
      return ["group-created", [b.GroupId, at, members(b.MemberList)]];
    case "Group.CallbackAfterNewMemberJoin":
      return ["group-join", [b.GroupId, at, members(b.NewMemberList)]];
    case "Group.CallbackAfterMemberExit":
      return ["group-exit", [b.GroupId, at, members(b.ExitMemberList)]];
    case "Group.CallbackAfterGroupDestroyed":
      return ["group-destroyed", [b.GroupId, at]];
    case "Group.CallbackAfterGroupInfoChanged":
      return ["group-info", [b.GroupId, at, b.Name ?? null]];
    case "chatpush.GroupFanoutPage": {
      const content = (b.content ?? {}) as Body;
      return ["fanout", [b.groupId, content.messageKey, b.page]];
    }
    default: {
      // Not a command ingest accepts; identify it by everything but the event time.
      const { EventTime: _eventTime, ...rest } = b;
      return ["other", [command, rest]];
    }
  }
}

function members(list: unknown): string[] {
  if (!Array.isArray(list)) return [];
  return list.map((m) => String((m as Body | null)?.Member_Account ?? "")).sort();
}
