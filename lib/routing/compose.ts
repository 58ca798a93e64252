import type { IosPushOptions, Notification, NotificationPurpose } from "../model/index.js";
import type { MessageTexts } from "./content.js";
import type { SenderPushOptions } from "./push-options.js";
import { CATALOGUE, type Language } from "./texts.js";

/**
 * One message's notification, before it is written in a device's language: what routing decided
 * once per message and carries through a group fan-out (JSON on the ingest queue).
 */
export interface MessageContent {
  conversationId: string;
  messageKey: string;
  /** Epoch ms the message was sent. */
  sentAt: number;
  /** The title when the sender set none: the sender's name (one-to-one) or the group's. */
  title: string;
  /** The body when the sender set none, per language ("alice: [Image]" in a group). */
  bodies: MessageTexts;
  /** The ext when the sender's OfflinePushInfo sets none: the custom element's Ext, else the conversation. */
  ext: string;
  /** The custom element's `Sound` (an iOS sound file). */
  sound?: string;
  options: SenderPushOptions;
  /** What the push is for; absent = a chat message ("im"). A server push is "operations". */
  purpose?: NotificationPurpose;
}

/** How a member is mentioned in a group message: by name wins over @all. */
export type MentionKind = "you" | "all" | undefined;

/**
 * The notification as one device language reads it. Tencent's order of precedence (tencent-chat.md
 * §3, §4): OfflinePushInfo's Title / Desc / Ext / ApnsInfo over the custom element's Desc / Ext /
 * Sound over chatpush's defaults. A mentioned member's body starts with the catalogue's marker, as
 * Tencent's own conversation list shows it ("[有人@我]", "[@所有人]").
 */
export function composeNotification(
  content: MessageContent,
  language: Language,
  mention: MentionKind = undefined,
): Notification {
  const { options } = content;
  const texts = CATALOGUE[language];
  const prefix = mention === "you" ? `${texts.mentionYou} ` : mention === "all" ? `${texts.mentionAll} ` : "";
  const ios: IosPushOptions = {
    ...(content.sound !== undefined ? { sound: content.sound } : {}),
    ...options.ios,
  };
  // "push.no_sound" silences whatever sound the custom element named.
  if (ios.silent) delete ios.sound;
  return {
    title: options.title ?? content.title,
    body: `${prefix}${options.desc ?? content.bodies[language]}`,
    ext: options.ext ?? content.ext,
    conversationId: content.conversationId,
    messageKey: content.messageKey,
    sentAt: content.sentAt,
    ...(Object.keys(ios).length > 0 ? { ios } : {}),
    ...(options.android !== undefined ? { android: options.android } : {}),
    ...(content.purpose !== undefined ? { purpose: content.purpose } : {}),
  };
}
