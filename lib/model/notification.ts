/**
 * What one push says, vendor-neutral. Vendor builders turn it into each vendor's wire shape and
 * trim `title` / `body` to that vendor's limits.
 */
export interface Notification {
  title: string;
  body: string;
  /** JSON string the plugin's click handler parses, e.g. {"conversationID":"c2c_alice"}. */
  ext: string;
  /** App icon badge; absent = leave the badge alone. */
  badge?: number;
  /** Sound file name; absent = the platform default sound. */
  sound?: string;
  /** Conversation the message belongs to ("c2c_alice", "group_@TGS#1"): thread id, tag, collapse key. */
  conversationId: string;
  /** Tencent's message key (C2C MsgKey, group `<GroupId>:<MsgSeq>`), for tracing and recall. */
  messageKey: string;
  /** Epoch ms the message was sent. */
  sentAt: number;
}
