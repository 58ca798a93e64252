/**
 * What one push says, vendor-neutral. Vendor builders turn it into each vendor's wire shape and
 * trim `title` / `body` to that vendor's limits.
 *
 * Everything past the first block is optional: a notification built from a plain chat message has
 * only title, body, ext and the keys. The optional parts come from what the sender asked for
 * (Tencent's `OfflinePushInfo`, tencent-chat.md §4), from what the push is for (`purpose`), or from a
 * call invitation (`call`).
 */
export interface Notification {
  title: string;
  body: string;
  /** JSON string the plugin's click handler parses, e.g. {"conversationID":"c2c_alice"}. */
  ext: string;
  /**
   * Conversation the message belongs to ("c2c_alice", "group_@TGS#1", a topic's id): the thread a
   * vendor groups notifications by (APNs `thread-id`, Android group), never the replacement key.
   */
  conversationId: string;
  /** Tencent's message key (C2C MsgKey, group `<GroupId>#<MsgSeq>`), for tracing and recall. */
  messageKey: string;
  /** Epoch ms the message was sent. */
  sentAt: number;

  /**
   * The replacement key of this message's notification: APNs `apns-collapse-id`, FCM `tag`, the
   * Chinese vendors' notify id / tag are derived from it (see `collapseKeyOf`). One per message, so a
   * newer message never overwrites an older one's notification; a recall carries the recalled
   * message's key so it replaces exactly that notification. Absent = the messageKey.
   */
  collapseKey?: string;

  /**
   * App icon badge for every target of the job; a target's own `badge` (the recipient's counted
   * unread number) wins. Absent on both = leave the badge alone (Tencent's `BadgeMode` 1).
   */
  badge?: number;
  /** Badge increment for vendors that take one (Huawei/Honor `add_num`; Tencent's `BadgeAddNum`). */
  badgeAdd?: number;

  /**
   * What the push is for, which decides each Chinese vendor's classification (vendors.md §10):
   * "im" (default) a chat message, "operations" a notice sent by the app server (public / marketing
   * class unless the sender classified it as IM), "call" a call invitation or its end.
   */
  purpose?: NotificationPurpose;
  /**
   * Replaces a notification already shown (a recall, a missed call): no sound, no vibration, low
   * priority wherever the vendor allows it, so the phone does not ring again.
   */
  quiet?: boolean;

  /** What the sender asked for on iOS (ApnsInfo). */
  ios?: IosPushOptions;
  /** What the sender asked for on Android (AndroidInfo): per-vendor overrides of the credential. */
  android?: AndroidPushOptions;
  /** A call invitation or its end (tencent-calls-and-server-push.md §6). */
  call?: CallInfo;
}

export type NotificationPurpose = "im" | "operations" | "call";

/** `OfflinePushInfo.ApnsInfo` and the custom element's `Sound` (tencent-chat.md §3, §4.3). */
export interface IosPushOptions {
  /** Sound file name with extension, bundled in the app; absent = "default". */
  sound?: string;
  /** `push.no_sound`: no sound at all. */
  silent?: boolean;
  /** Replaces the notification's title on APNs only. */
  title?: string;
  subtitle?: string;
  /** Image URL; needs a Notification Service Extension, hence `mutable-content`. */
  image?: string;
  mutableContent?: boolean;
  interruptionLevel?: "passive" | "active" | "time-sensitive" | "critical";
}

/** `OfflinePushInfo.AndroidInfo` (tencent-chat.md §4.2). Each field overrides the credential's default. */
export interface AndroidPushOptions {
  /** Ringtone file name without extension (res/raw); only Huawei and Google honour one. */
  sound?: string;
  huaweiChannelId?: string;
  huaweiCategory?: string;
  huaweiImportance?: "LOW" | "NORMAL";
  huaweiImage?: string;
  honorImportance?: "LOW" | "NORMAL";
  honorImage?: string;
  xiaomiChannelId?: string;
  oppoChannelId?: string;
  oppoCategory?: string;
  oppoNotifyLevel?: number;
  vivoClassification?: 0 | 1;
  vivoCategory?: string;
  googleChannelId?: string;
  googleImage?: string;
  googlePriority?: "normal" | "high";
  meizuNoticeMsgType?: 0 | 1;
}

/**
 * A call, from a TUICallKit-style signaling message. `ring` starts ringing (a VoIP push to a PushKit
 * token, a high-priority data message on FCM, a call-class notification elsewhere); `ended` stops it
 * (never a VoIP push: a "Missed call" alert on the ring's replacement key, an FCM data cancel).
 */
export interface CallInfo {
  action: "ring" | "ended";
  /** Signaling `inviteID`: ties the invite to its cancel / accept / reject / timeout. */
  inviteId: string;
  callerId: string;
  callerName: string;
  media: "audio" | "video";
  /** Group calls only. */
  groupId?: string;
  invitees: string[];
  /** Seconds the invitation rings (signaling `timeout`). */
  timeoutSeconds: number;
  /** Epoch ms the invitation was sent. */
  invitedAt: number;
  /** TRTC room id, as the app needs it to join. */
  roomId?: string;
  /** The signaling envelope (TIMCustomElem.Data) as sent, so the app can rebuild the invitation. */
  signaling?: string;
  /** Why the ringing ended (cancelled, answered, rejected, timeout, hangup), for `ended`. */
  endReason?: string;
}

/** The key a vendor's replacement id is derived from: the message's own unless it names another. */
export function collapseKeyOf(notification: Pick<Notification, "collapseKey" | "messageKey">): string {
  return notification.collapseKey ?? notification.messageKey;
}
