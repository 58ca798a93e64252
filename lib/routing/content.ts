import type { MsgElement } from "../tencent/callback.schema.js";

/**
 * What a notification says for a message body. Tencent's own offline push joins the per-element
 * texts with no separator (tencent-chat.md §3); we do the same, with English placeholders for media.
 */
const PLACEHOLDERS: Record<string, string> = {
  TIMImageElem: "[Image]",
  TIMSoundElem: "[Voice]",
  TIMVideoFileElem: "[Video]",
  TIMFileElem: "[File]",
  TIMLocationElem: "[Location]",
  TIMFaceElem: "[Sticker]",
  TIMRelayElem: "[Chat history]",
};

/** Longest body we carry on the queue; each vendor builder trims further to its own limit. */
export const MAX_BODY_CHARS = 1000;

export interface MessageText {
  /** Empty when nothing in the message is pushable (a lone custom element without Desc). */
  text: string;
  /** A custom element's `Sound`: the iOS sound file Tencent would play. */
  sound?: string;
}

function stringField(content: Record<string, unknown> | undefined, key: string): string | undefined {
  const value = content?.[key];
  return typeof value === "string" && value.length > 0 ? value : undefined;
}

function elementText(element: MsgElement): string {
  const content = element.MsgContent as Record<string, unknown> | undefined;
  switch (element.MsgType) {
    case "TIMTextElem":
      return stringField(content, "Text") ?? "";
    case "TIMCustomElem":
      // Data is app-private and never shown; Desc is the push text (no Desc = nothing to show).
      return stringField(content, "Desc") ?? "";
    default:
      return PLACEHOLDERS[element.MsgType] ?? "";
  }
}

export function messageText(body: readonly MsgElement[]): MessageText {
  const text = truncate(body.map(elementText).join("").trim(), MAX_BODY_CHARS);
  const custom = body.find((e) => e.MsgType === "TIMCustomElem");
  const sound = stringField(custom?.MsgContent as Record<string, unknown> | undefined, "Sound");
  return sound === undefined ? { text } : { text, sound };
}

/** Cuts to at most `max` code points, never splitting a surrogate pair, marking the cut with "…". */
export function truncate(text: string, max: number): string {
  const points = Array.from(text);
  if (points.length <= max) return text;
  return `${points.slice(0, Math.max(0, max - 1)).join("")}…`;
}

export function c2cConversationId(peer: string): string {
  return `c2c_${peer}`;
}

/** The `ext` the push plugin's click handler parses to open the conversation. */
export function conversationExt(conversationId: string): string {
  return JSON.stringify({ conversationID: conversationId });
}
