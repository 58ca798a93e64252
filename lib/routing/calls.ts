import { type CallInfo, type Device, type Notification, platformOf } from "../model/index.js";
import type {
  CALL_EXPIRY_COMMAND,
  CallEndReason,
  CallExpiryQueue,
  CallExpiryTask,
  CallRing,
  CallStore,
  Preferences,
  RingContent,
  RungDevice,
  UserRecord,
} from "../ports/index.js";
import type { PreferenceDecision } from "../preferences/rules.js";
import { isInGlobalWindow } from "../preferences/rules.js";
import type { C2CAfterSendMsg, GroupAfterSendMsg } from "../tencent/callback.schema.js";
import { c2cMessageKey } from "./c2c-message.js";
import { c2cConversationId } from "./content.js";
import { deviceLanguage, enqueue } from "./deliver.js";
import type { Handler, RouterDeps } from "./deps.js";
import { groupConversationId, groupMessageKey, isOnlineOnlyGroupType } from "./group.js";
import { senderName } from "./names.js";
import { type Reachable, toTarget } from "./pack.js";
import { deviceSkipReason } from "./presence.js";
import { type CallSignal, MAX_RING_SECONDS, parseSignaling, type SignalingEnvelope } from "./signaling.js";
import { CATALOGUE, LANGUAGES, type Language } from "./texts.js";

/**
 * Calls (issue 11 item 3; tencent-calls-and-server-push.md §6): a TUICallKit-style signaling
 * invitation rings the invitees' offline phones, and whatever ends it — the caller's cancel, the
 * invitee's answer or decline (on all of that invitee's devices), the SDK's timeout, a hang-up, or
 * chatpush's own expiry at the invitation's `timeout` — replaces the ring on exactly the devices that
 * got it. Each inviteID is tracked in the CallStore (a record per invitee, claimed once), so an invitee
 * is rung at most once per invitation and a ring is ended at most once.
 *
 * Deliveries: an iPhone with a PushKit token gets a VoIP push (lib/vendors/apns.ts builds it from
 * `notification.call` and the target's `pushType: "voip"`), other iOS devices a time-sensitive alert
 * with the ringtone, Android an FCM high-priority data message or the Chinese vendors' call
 * classification (`purpose: "call"`). The end never goes over PushKit (Apple: VoIP pushes only start
 * calls, §3): it goes to the alert tokens and Android devices that got the ring, on the ring's
 * replacement key, as a quiet "Missed call" (FCM: a data "cancel"); a phone rung over PushKit gets
 * the "Missed call" on its alert token when the invitee missed the call (not when they answered or
 * declined it), and nothing when it has no alert token.
 *
 * Mute and do-not-disturb: whether Tencent's own push lets calls through a chat mute is UNCONFIRMED
 * (§8). chatpush's choice, `callPreferenceDecision`: a call is a person asking for you now, like an
 * @mention, so it rings through a conversation muted with options 2, 3 and 4 (receive without
 * notification, @mentions only); it does not ring for option 1 (receive nothing: the SDK does not
 * even get the invitation) nor inside the global do-not-disturb window (the user asked for no pushes
 * then; the call shows as missed in the chat).
 */

export { CALL_EXPIRY_COMMAND, type CallExpiryEvent } from "../ports/index.js";

/** What the call family needs besides the router's usual ports; absent = calls ring nobody. */
export interface CallDeps {
  store: CallStore;
  expiry: CallExpiryQueue;
}

/**
 * How long an invitation with signaling `timeout` 0 ("no timeout detection", §1.1) rings: TUICalling's
 * own timeout (Tencent-RTC/TUICallKit TRTCCallingImpl.java `TIME_OUT_COUNT = 30`).
 */
export const DEFAULT_RING_SECONDS = 30;
/**
 * How long call records outlive the ring: a cancel or an SDK timeout routed late (an ingest retry)
 * still finds the call, and a duplicate invite still finds its invitee claimed. Past it, an invite
 * is older than MsgTime + timeout and is dropped as rung out anyway.
 */
export const CALL_RECORD_MARGIN_SECONDS = 15 * 60;
/**
 * chatpush's own end comes this long after the timeout, so that the SDK's timeout message, which
 * names who timed out (§1.1), usually ends the ring first.
 */
export const EXPIRY_GRACE_SECONDS = 2;
/** SQS DelaySeconds is at most 900 (SendMessage API reference); a longer ring is re-queued. */
const MAX_DELAY_SECONDS = 900;

/** The replacement key of a call's notifications: the ring and its end share it (§6 item 9). */
export function callCollapseKey(inviteId: string): string {
  return `call_${inviteId}`;
}

/** The seconds an invitation rings. */
export function ringSeconds(timeoutSeconds: number): number {
  return timeoutSeconds > 0 ? timeoutSeconds : DEFAULT_RING_SECONDS;
}

/**
 * Whether a call may ring the user, by the receive options the app reported (see the module comment).
 * `conversationId` is the caller's one-to-one conversation or the group's.
 */
export function callPreferenceDecision(
  prefs: Preferences | undefined,
  conversationId: string,
  nowMs: number,
): PreferenceDecision {
  if (prefs === undefined) return { notify: true };
  if (prefs.conversations[conversationId] === 1) {
    return { notify: false, reason: "conversation muted: receive nothing (calls too)" };
  }
  if (prefs.all?.receiveOpt === 2 && isInGlobalWindow(prefs.all, nowMs)) {
    return { notify: false, reason: "do not disturb (calls too)" };
  }
  return { notify: true };
}

/**
 * The device of each of the user's phones a ring goes to: its PushKit registration when it has one
 * (a call rings the VoIP token, never also the alert token), else its alert / Android registration.
 */
export function ringDevices(devices: readonly Device[]): Device[] {
  const byId = new Map<string, Device[]>();
  for (const device of devices) byId.set(device.deviceId, [...(byId.get(device.deviceId) ?? []), device]);
  const chosen: Device[] = [];
  for (const entries of byId.values()) {
    const voip = entries.find((d) => d.pushType === "voip" && d.vendor === "apns");
    const alert = entries.find((d) => d.pushType !== "voip");
    const device = voip ?? alert;
    if (device === undefined) continue;
    // A VoIP registration may carry no locale; the phone's alert registration says its language.
    const locale = device.locale ?? alert?.locale;
    chosen.push({ ...device, ...(locale !== undefined ? { locale } : {}) });
  }
  return chosen;
}

/**
 * The push's `ext`: the conversation, as chatpush's plugin opens it, and the `entity` of Tencent's own
 * call pushes (TencentCloud/TIMSDK Android/TUIKit/TUICore/tuicore/src/main/java/com/tencent/qcloud/
 * tuicore/push/OfflinePushExtInfo.java, OfflinePushExtBusinessInfo.java: `action` 2 =
 * REDIRECT_ACTION_CALL, `chatType` 1 C2C / 2 group), whose `content` is TUICalling's CallModel JSON
 * (`call_id`, `room_id`, `group_id`, `call_type`, `invited_list`, `timeout`, `version`: what
 * TRTCCallingImpl.receiveNewInvitation reads to rebuild the invitation; tencent-calls-and-server-push.md §1.5).
 */
export function callExt(call: CallInfo, conversationId: string): string {
  const room = call.roomId !== undefined && /^\d+$/.test(call.roomId) ? Number(call.roomId) : call.roomId;
  const content = {
    version: 4,
    call_id: call.inviteId,
    ...(room !== undefined ? { room_id: room } : {}),
    group_id: call.groupId ?? "",
    call_type: call.media === "video" ? 2 : 1,
    invited_list: call.invitees,
    timeout: call.timeoutSeconds,
  };
  return JSON.stringify({
    conversationID: conversationId,
    entity: {
      version: 1,
      chatType: call.groupId === undefined ? 1 : 2,
      action: 2,
      sender: call.callerId,
      nickname: call.callerName,
      faceUrl: "",
      content: JSON.stringify(content),
      sendTime: Math.floor(call.invitedAt / 1000),
    },
  });
}

/** A ring in one language: title = the caller's name, body "You have a new call" (§6 item 10). */
export function ringNotification(content: RingContent, language: Language, messageKey: string): Notification {
  const texts = CATALOGUE[language];
  return {
    title: content.title,
    body: texts.newCall,
    ext: content.ext,
    conversationId: content.conversationId,
    messageKey,
    sentAt: content.call.invitedAt,
    collapseKey: callCollapseKey(content.call.inviteId),
    purpose: "call",
    call: content.call,
    ios: { subtitle: content.call.media === "video" ? texts.videoCall : texts.audioCall },
  };
}

const END_TEXTS: Readonly<Record<CallEndReason, "missedCall" | "callAnswered" | "callDeclined">> = {
  cancelled: "missedCall",
  timeout: "missedCall",
  busy: "missedCall",
  hangup: "missedCall",
  answered: "callAnswered",
  declined: "callDeclined",
};

/**
 * What replaces a ring, in one language: the same title and replacement key, quietly, with "Missed
 * call" (or "Connected" / "Declined" when the invitee answered or declined on another device).
 */
export function endedNotification(
  content: RingContent,
  language: Language,
  end: { by: string; reason: CallEndReason; at: number },
): Notification {
  const texts = CATALOGUE[language];
  return {
    title: content.title,
    body: texts[END_TEXTS[end.reason]],
    ext: content.ext,
    conversationId: content.conversationId,
    messageKey: end.by,
    sentAt: end.at,
    collapseKey: callCollapseKey(content.call.inviteId),
    purpose: "call",
    quiet: true,
    call: { ...content.call, action: "ended", endReason: end.reason },
    ios: { subtitle: content.call.media === "video" ? texts.videoCall : texts.audioCall },
  };
}

/** What one call signaling message is, where it came from. */
interface CallMessage {
  messageKey: string;
  from: string;
  /** Who the message ringing would ring: the C2C recipient, or the group invitation's invitees. */
  invitees: readonly string[];
  groupId?: string;
  /** Epoch ms the message was sent (MsgTime). */
  sentAt: number;
  onlineOnly: boolean;
  /** Why nothing of this message counts (a failed send, an online-only group type). */
  ignoredBecause?: string;
  acceptedAt: number;
  envelope: SignalingEnvelope;
  signal: CallSignal;
}

/** The messages' own skip reasons for the signals that change nothing. */
const IGNORED: Partial<Record<CallSignal["kind"], string>> = {
  switch: "call signaling: a media switch during a call, not a new call",
  unknown: "call signaling: an invite without audioCall / videoCall, not a new call",
};

/**
 * `C2C.CallbackAfterSendMsg` and `Group.CallbackAfterSendMsg` see call signaling first (wrapping the
 * message handlers: anything else goes on to them unchanged), and `chatpush.CallExpiry` ends rings
 * at their timeout.
 */
export function makeCallHandlers(deps: RouterDeps): {
  c2c: (next: Handler<"C2C.CallbackAfterSendMsg">) => Handler<"C2C.CallbackAfterSendMsg">;
  group: (next: Handler<"Group.CallbackAfterSendMsg">) => Handler<"Group.CallbackAfterSendMsg">;
  expiry: Handler<typeof CALL_EXPIRY_COMMAND>;
} {
  const { journal } = deps;
  const skip = (messageKey: string, reason: string, userId?: string) =>
    journal.record({ stage: "skipped", messageKey, ...(userId !== undefined ? { userId } : {}), reason });

  async function onCall(message: CallMessage): Promise<void> {
    const { messageKey, signal, envelope } = message;
    if (message.ignoredBecause !== undefined) return skip(messageKey, message.ignoredBecause);
    const ignored = IGNORED[signal.kind];
    if (ignored !== undefined) return skip(messageKey, ignored);
    const calls = deps.calls;
    if (calls === undefined) return skip(messageKey, "call signaling: call tracking is not configured");
    switch (signal.kind) {
      case "invite":
        // Tencent gives online-only signaling no offline push, nor its follow-ups (§1.1, §1.3).
        if (message.onlineOnly) return skip(messageKey, "online-only call invitation (OnlineOnlyFlag 1)");
        return ring(calls, message, signal);
      case "hangup":
        return end(calls, envelope.inviteId, "all", "hangup", messageKey);
      case "cancel":
        return end(calls, envelope.inviteId, "all", "cancelled", messageKey);
      // Accept and reject go from the invitee to the inviter: the sender is the invitee (§1.3).
      case "accept":
        return end(calls, envelope.inviteId, [message.from], "answered", messageKey);
      case "reject":
        return end(calls, envelope.inviteId, [message.from], signal.busy ? "busy" : "declined", messageKey);
      case "timeout":
        // The SDK names who timed out; none named = everybody.
        return end(
          calls,
          envelope.inviteId,
          envelope.inviteeList.length > 0 ? envelope.inviteeList : "all",
          "timeout",
          messageKey,
        );
    }
  }

  async function ring(
    calls: CallDeps,
    message: CallMessage,
    signal: Extract<CallSignal, { kind: "invite" }>,
  ): Promise<void> {
    const { messageKey, envelope } = message;
    const now = deps.clock.now();
    const seconds = ringSeconds(envelope.timeoutSeconds);
    const endsAt = message.sentAt + seconds * 1000;
    if (now >= endsAt) {
      return skip(
        messageKey,
        `call invitation rang out at ${new Date(endsAt).toISOString()} (MsgTime + timeout)`,
      );
    }
    const over = await calls.store.callEnded(envelope.inviteId);
    if (over !== undefined) return skip(messageKey, `the call already ended (${over.reason})`);
    const invitees = [...new Set(message.invitees)].filter((id) => id !== message.from);
    if (invitees.length === 0) return skip(messageKey, "call invitation: nobody to ring but the caller");

    const caller = message.from;
    const [users, callerName] = await Promise.all([
      deps.users.getUsers(invitees),
      senderName(deps, caller, messageKey),
    ]);
    const conversationId =
      message.groupId === undefined ? c2cConversationId(caller) : groupConversationId(message.groupId);
    const call: CallInfo = {
      action: "ring",
      inviteId: envelope.inviteId,
      callerId: caller,
      callerName,
      media: signal.media,
      ...(message.groupId !== undefined ? { groupId: message.groupId } : {}),
      invitees: message.groupId === undefined ? invitees : envelope.inviteeList,
      timeoutSeconds: seconds,
      invitedAt: message.sentAt,
      ...(signal.roomId !== undefined ? { roomId: signal.roomId } : {}),
      signaling: envelope.raw,
    };
    const content: RingContent = {
      call,
      title: callerName,
      conversationId,
      ext: callExt(call, conversationId),
    };
    const expiresAt = Math.ceil(endsAt / 1000) + CALL_RECORD_MARGIN_SECONDS;

    const claimed: CallRing[] = [];
    for (const userId of invitees) {
      const devices = reachableDevices(messageKey, userId, users.get(userId), conversationId, now);
      if (devices.length === 0) continue;
      const stored = await calls.store.claimRing({
        inviteId: envelope.inviteId,
        userId,
        state: "ringing",
        rungBy: messageKey,
        content,
        devices,
        expiresAt,
      });
      // Claimed by another callback for the same inviteID (a duplicate invite, a group invite and a
      // helper message), or ended before this invite was routed: never rung twice.
      if (stored.rungBy !== messageKey) {
        skip(
          messageKey,
          stored.state === "ended"
            ? `the call already ended for them (${stored.endReason ?? "ended"})`
            : "already rung for this invitation",
          userId,
        );
      } else if (stored.state === "ended") {
        skip(messageKey, `the call already ended for them (${stored.endReason ?? "ended"})`, userId);
      } else {
        claimed.push(stored);
      }
    }
    if (claimed.length === 0) return;

    // A cancel routed while we claimed wrote its end before reading the rings; whichever of us read
    // second saw the other, so either it ends these rings or we do here, unsent.
    const ended = await calls.store.callEnded(envelope.inviteId);
    if (ended !== undefined) {
      for (const ringed of claimed) {
        await calls.store.endRing(envelope.inviteId, ringed.userId, ended);
        skip(messageKey, `the call already ended (${ended.reason})`, ringed.userId);
      }
      return;
    }
    // The stored ring, not this routing's view: a retried callback queues exactly the jobs it queued.
    await enqueue(
      deps,
      claimed.flatMap((ringed) =>
        byLanguage(ringed.devices).map(([language, devices]) => ({
          notification: ringNotification(ringed.content ?? content, language, messageKey),
          devices,
        })),
      ),
      message.acceptedAt,
    );
    const task: CallExpiryTask = { inviteId: envelope.inviteId, endsAt, hop: 0 };
    await calls.expiry.schedule(task, expiryDelay(endsAt, now));
  }

  /** The user's devices a ring goes to, each skipped one journalled with its reason. */
  function reachableDevices(
    messageKey: string,
    userId: string,
    user: UserRecord | undefined,
    conversationId: string,
    now: number,
  ): RungDevice[] {
    const preference = callPreferenceDecision(user?.preferences, conversationId, now);
    if (!preference.notify) {
      skip(messageKey, preference.reason, userId);
      return [];
    }
    const devices = ringDevices(user?.devices ?? []);
    if (devices.length === 0) {
      skip(messageKey, "no registered device", userId);
      return [];
    }
    const rung: RungDevice[] = [];
    for (const device of devices) {
      // Tencent's VoIP push is offline push only (§1.5): an app in the foreground rings from the SDK.
      const reason = user === undefined ? undefined : deviceSkipReason(user.presence, device, now);
      if (reason !== undefined) {
        journal.record({
          stage: "skipped",
          messageKey,
          userId,
          deviceId: device.deviceId,
          vendor: device.vendor,
          reason,
        });
        continue;
      }
      rung.push({
        vendor: device.vendor,
        target: toTarget({ ...device, platform: platformOf(device) }),
        language: deviceLanguage(device, deps),
      });
    }
    return rung;
  }

  /**
   * Ends the ringing of `scope` (everybody, or the named invitees) for one invitation, as the event
   * `by` says, and queues the replacement of each ring on the devices that got it except PushKit ones.
   */
  async function end(
    calls: CallDeps,
    inviteId: string,
    scope: readonly string[] | "all",
    reason: CallEndReason,
    by: string,
  ): Promise<void> {
    const at = deps.clock.now();
    // However late a duplicate invite comes while this is kept, it finds the call over.
    const expiresAt = Math.ceil(at / 1000) + MAX_RECORD_SECONDS;
    if (scope === "all") await calls.store.endCall({ inviteId, by, reason, at, expiresAt });
    const rings = await calls.store.rings(inviteId, scope === "all" ? undefined : scope);
    const found = new Set(rings.map((r) => r.userId));
    // Named invitees without a ring yet (an accept routed before its invite): recorded as ended.
    const pending = scope === "all" ? [] : scope.filter((userId) => !found.has(userId));
    for (const userId of pending) await calls.store.endRing(inviteId, userId, { by, reason, at, expiresAt });

    const ended: { ring: CallRing; content: RingContent; reason: CallEndReason; endedAt: number }[] = [];
    for (const ringed of rings) {
      const stored =
        ringed.state === "ringing"
          ? await calls.store.endRing(inviteId, ringed.userId, { by, reason, at, expiresAt })
          : ringed;
      // Ended by another event (an answer before this cancel): that event replaced the ring.
      if (stored.endedBy !== by || stored.content === undefined) continue;
      ended.push({
        ring: stored,
        content: stored.content,
        reason: stored.endReason ?? reason,
        endedAt: stored.endedAt ?? at,
      });
    }
    // A phone rung over PushKit gets its "Missed call" on its alert token, when it has one (§6 item 11:
    // never a VoIP push to end a call, "optionally send an alert Missed call"): one read per such user.
    const alertUsers = ended
      .filter((e) => MISSED.has(e.reason) && e.ring.devices.some((d) => d.target.pushType === "voip"))
      .map((e) => e.ring.userId);
    const users =
      alertUsers.length > 0 ? await deps.users.getUsers(alertUsers) : new Map<string, UserRecord>();

    const batches: { notification: Notification; devices: Reachable[] }[] = [];
    for (const { ring: stored, content, reason: endReason, endedAt } of ended) {
      const shown: RungDevice[] = [];
      for (const device of stored.devices) {
        const { vendor, target } = device;
        if (target.pushType !== "voip") {
          shown.push(device);
          continue;
        }
        const alert = MISSED.has(endReason)
          ? users
              .get(stored.userId)
              ?.devices.find(
                (d) => d.deviceId === target.deviceId && d.vendor === "apns" && d.pushType !== "voip",
              )
          : undefined;
        if (alert !== undefined) {
          shown.push({
            vendor: "apns",
            target: toTarget({ ...alert, platform: platformOf(alert) }),
            language: device.language,
          });
          continue;
        }
        // Apple: no VoIP push to cancel a call; the woken app learns the end from the IM SDK and ends
        // its CallKit call (tencent-calls-and-server-push.md §3, §6 item 11).
        journal.record({
          stage: "skipped",
          messageKey: by,
          userId: target.userId,
          deviceId: target.deviceId,
          vendor,
          reason: MISSED.has(endReason)
            ? "rang over PushKit and no alert token for the Missed call: the app ends its CallKit call"
            : "rang over PushKit: no VoIP push ends a call, the app ends its CallKit call",
        });
      }
      for (const [language, devices] of byLanguage(shown)) {
        batches.push({
          notification: endedNotification(content, language, { by, reason: endReason, at: endedAt }),
          devices,
        });
      }
    }
    if (batches.length === 0 && rings.length === 0) {
      skip(by, `call signaling: no ring to stop for invitation ${inviteId}`);
      return;
    }
    await enqueue(deps, batches, at);
  }

  return {
    c2c: (next) => async (event) => {
      const msg = event.body;
      const parsed = parseSignaling(msg.MsgBody);
      if (parsed.kind === "message" || parsed.kind === "other-signaling") return next(event);
      const messageKey = c2cMessageKey(msg);
      if (parsed.kind === "call-helper") {
        // TUICalling sends its helper online only (TRTCCallingImpl.java sendOnlineMessageWithOfflinePushInfo,
        // §1.4); one sent for offline users is the app's own custom message: pushed by its Desc as Tencent does.
        return msg.OnlineOnlyFlag === 1 ? skip(messageKey, CALL_HELPER_SKIP) : next(event);
      }
      await onCall({
        messageKey,
        from: msg.From_Account,
        invitees: [msg.To_Account],
        sentAt: sentAtOf(msg, event.acceptedAt),
        onlineOnly: msg.OnlineOnlyFlag === 1,
        ...notDelivered(msg),
        acceptedAt: event.acceptedAt,
        envelope: parsed.envelope,
        signal: parsed.signal,
      });
    },
    group: (next) => async (event) => {
      const msg = event.body;
      const parsed = parseSignaling(msg.MsgBody);
      if (parsed.kind === "message" || parsed.kind === "other-signaling") return next(event);
      const topicId = msg.TopicId !== undefined && msg.TopicId !== "" ? msg.TopicId : undefined;
      // TUICalling's helper is a one-to-one message: in a group it is the app's own custom message.
      if (parsed.kind === "call-helper") return next(event);
      const messageKey = groupMessageKey(msg.GroupId, msg.MsgSeq, topicId);
      const onlineOnlyType =
        isOnlineOnlyGroupType(msg.Type) && !deps.pushOnlineOnlyGroups
          ? `${msg.Type} groups are online only`
          : undefined;
      const voided = notDelivered(msg).ignoredBecause ?? onlineOnlyType;
      await onCall({
        messageKey,
        from: msg.From_Account,
        // Group calls ring the invitation's invitees only, never the whole group (§1.3, §6 item 4).
        invitees: parsed.envelope.inviteeList,
        groupId: msg.GroupId,
        sentAt: sentAtOf(msg, event.acceptedAt),
        onlineOnly: msg.OnlineOnlyFlag === 1,
        ...(voided !== undefined ? { ignoredBecause: voided } : {}),
        acceptedAt: event.acceptedAt,
        envelope: parsed.envelope,
        signal: parsed.signal,
      });
    },
    expiry: async ({ body: task }) => {
      const calls = deps.calls;
      if (calls === undefined) return;
      const now = deps.clock.now();
      // Early (a ring longer than SQS can delay at once, or a clock apart): put back until it is due.
      if (now + 1000 < task.endsAt) {
        await calls.expiry.schedule({ ...task, hop: task.hop + 1 }, expiryDelay(task.endsAt, now));
        return;
      }
      await end(calls, task.inviteId, "all", "timeout", expiryKey(task.inviteId));
    },
  };
}

/** The ends the invitee did not act on: their phone says "Missed call". */
const MISSED: ReadonlySet<CallEndReason> = new Set<CallEndReason>(["cancelled", "timeout", "busy", "hangup"]);

/** The longest any call record is kept: the longest ring plus the margin. */
const MAX_RECORD_SECONDS = MAX_RING_SECONDS + CALL_RECORD_MARGIN_SECONDS;

const CALL_HELPER_SKIP =
  "TUICalling's call helper message (businessID av_call): the call rings from its signaling invitation";

/** The key chatpush's own expiry of an invitation journals and replaces under. */
export function expiryKey(inviteId: string): string {
  return `call:${inviteId}:timeout`;
}

function expiryDelay(endsAt: number, now: number): number {
  return Math.min(MAX_DELAY_SECONDS, Math.max(0, Math.ceil((endsAt - now) / 1000)) + EXPIRY_GRACE_SECONDS);
}

function sentAtOf(msg: Pick<C2CAfterSendMsg | GroupAfterSendMsg, "MsgTime">, acceptedAt: number): number {
  return msg.MsgTime !== undefined ? msg.MsgTime * 1000 : acceptedAt;
}

/**
 * A signaling message that was not delivered (`SendMsgResult` ≠ 0, tencent-chat.md §2.1) changes
 * nothing: no ring, no end. Group callbacks carry no such field in Tencent's table (§2.2); read if sent.
 */
function notDelivered(msg: C2CAfterSendMsg | GroupAfterSendMsg): { ignoredBecause?: string } {
  const result = (msg as { SendMsgResult?: unknown }).SendMsgResult;
  return typeof result === "number" && result !== 0 ? { ignoredBecause: `send failed (${result})` } : {};
}

/** Devices grouped by the language their notification is written in, in catalogue order. */
function byLanguage(devices: readonly RungDevice[]): [Language, Reachable[]][] {
  const groups = new Map<Language, Reachable[]>();
  for (const { vendor, target, language } of devices) {
    const lang = (LANGUAGES as readonly string[]).includes(language) ? (language as Language) : "en";
    groups.set(lang, [...(groups.get(lang) ?? []), { ...target, vendor }]);
  }
  return LANGUAGES.filter((l) => groups.has(l)).map((l) => [l, groups.get(l)!]);
}
