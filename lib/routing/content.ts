import type { MsgElement } from "../tencent/callback.schema.js";
import { CATALOGUE, LANGUAGES, type Language, type Texts } from "./texts.js";

/**
 * What a notification says for a message body. Tencent's own offline push joins the per-element
 * texts with no separator (tencent-chat.md §3); we do the same, with the catalogue's placeholders for
 * media in the recipient device's language.
 */
const PLACEHOLDERS: Record<string, keyof Texts> = {
  TIMImageElem: "image",
  TIMSoundElem: "voice",
  TIMVideoFileElem: "video",
  TIMFileElem: "file",
  TIMLocationElem: "location",
  TIMFaceElem: "sticker",
  TIMRelayElem: "chatHistory",
};

/** Longest body we carry on the queue; each vendor builder trims further to its own limit. */
export const MAX_BODY_CHARS = 1000;

export interface MessageText {
  /** Empty when nothing in the message is pushable (a lone custom element without Desc). */
  text: string;
  /** A custom element's `Sound`: the iOS sound file Tencent would play. */
  sound?: string;
  /**
   * A custom element's `Ext`: Tencent sends it as the notification's ext (tencent-chat.md §3); an
   * OfflinePushInfo `Ext` wins over it.
   */
  ext?: string;
}

/** The message's text in every catalogue language (a notification differs per device language). */
export type MessageTexts = Record<Language, string>;

function stringField(content: Record<string, unknown> | undefined, key: string): string | undefined {
  const value = content?.[key];
  return typeof value === "string" && value.length > 0 ? value : undefined;
}

function elementText(element: MsgElement, texts: Texts): string {
  const content = element.MsgContent as Record<string, unknown> | undefined;
  switch (element.MsgType) {
    case "TIMTextElem":
      return stringField(content, "Text") ?? "";
    case "TIMCustomElem":
      // Data is app-private and never shown; Desc is the push text (no Desc = nothing to show).
      return stringField(content, "Desc") ?? "";
    default: {
      const placeholder = PLACEHOLDERS[element.MsgType];
      return placeholder === undefined ? "" : texts[placeholder];
    }
  }
}

export function messageText(body: readonly MsgElement[], language: Language = "en"): MessageText {
  const text = truncate(
    body
      .map((element) => elementText(element, CATALOGUE[language]))
      .join("")
      .trim(),
    MAX_BODY_CHARS,
  );
  // A message has at most one custom element (tencent-chat.md §3).
  const custom = body.find((e) => e.MsgType === "TIMCustomElem")?.MsgContent as
    | Record<string, unknown>
    | undefined;
  const sound = stringField(custom, "Sound");
  const ext = stringField(custom, "Ext");
  return {
    text,
    ...(sound !== undefined ? { sound } : {}),
    ...(ext !== undefined ? { ext } : {}),
  };
}

/** The message's text in each catalogue language. */
export function messageTexts(body: readonly MsgElement[]): MessageTexts {
  return Object.fromEntries(
    LANGUAGES.map((language) => [language, messageText(body, language).text]),
  ) as MessageTexts;
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
