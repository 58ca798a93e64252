/**
 * The one catalogue of what chatpush writes into a notification itself: placeholders for media,
 * mention markers, the recall text and the call texts, in Chinese and English. The wording is Tencent's own, from
 * TUIKit's string tables (TencentCloud/TIMSDK, iOS/TUIKit/TIMCommon/Resources/
 * TIMCommonLocalizable.bundle/Localizable/{zh-Hans,en}.lproj/Localizable.strings), the texts Tencent's
 * apps show for the same messages, so a push reads like the conversation list it opens.
 */

export const LANGUAGES = ["en", "zh"] as const;
export type Language = (typeof LANGUAGES)[number];

export interface Texts {
  image: string;
  voice: string;
  video: string;
  file: string;
  /** TIMFaceElem. */
  sticker: string;
  location: string;
  /** TIMRelayElem (merged / forwarded messages). */
  chatHistory: string;
  /** A group message that @mentions the recipient. */
  mentionYou: string;
  /** A group message that @mentions everybody. */
  mentionAll: string;
  /** The body of the notification that replaces a recalled message's. */
  recalled: string;
  /** A call invitation's body (its title is the caller's name). */
  newCall: string;
  /** The body that replaces a ring nobody answered (cancelled, timed out, busy). */
  missedCall: string;
  /** The body that replaces a ring the invitee answered (on this or another of their devices). */
  callAnswered: string;
  /** The body that replaces a ring the invitee declined. */
  callDeclined: string;
  /** What kind of call it is (the iOS alert's subtitle). */
  audioCall: string;
  videoCall: string;
}

export const CATALOGUE: Record<Language, Texts> = {
  zh: {
    image: "[图片]", // TUIkitMessageTypeImage
    voice: "[语音]", // TUIKitMessageTypeVoice
    video: "[视频]", // TUIkitMessageTypeVideo
    file: "[文件]", // TUIkitMessageTypeFile
    sticker: "[动画表情]", // TUIKitMessageTypeAnimateEmoji
    // UNCONFIRMED: TIMCommon has no location string; Tencent's server push writes "[Location]"
    // (tencent-chat.md §3); 位置 is the word TUIKit uses for the location feature.
    location: "[位置]",
    chatHistory: "[聊天记录]", // TUIKitRelayChatHistory
    mentionYou: "[有人@我]", // TUIKitConversationTipsAtMe
    mentionAll: "[@所有人]", // TUIKitConversationTipsAtAll
    recalled: "有一条消息被撤回", // TUIKitMessageTipsNormalRecallMessage
    // Calls: TUICallKit's own strings (Tencent-RTC/TUICallKit Android/tuicallkit-kt/src/main/res/
    // values-zh/strings.xml) and TUIChat's call texts (TencentCloud/TIMSDK iOS/TUIKit/TUIChat/
    // Resources/TUIChatLocalizable.bundle/Localizable/zh-Hans.lproj/Localizable.strings).
    newCall: "您有一个新的通话", // tuicallkit_have_a_new_call: what TUICallKit's offline push says
    missedCall: "未接来电", // tuicallkit_record_tab_title_miss
    callAnswered: "已接通", // tuicallkit_accept_single
    callDeclined: "已拒绝", // TUIChatCallRejectInCallee
    audioCall: "语音通话", // tuicallkit_audio_call
    videoCall: "视频通话", // tuicallkit_video_call
  },
  en: {
    image: "[Image]",
    voice: "[Voice]",
    video: "[Video]",
    file: "[File]",
    sticker: "[Animated Sticker]",
    // Tencent's own offline push text for a location element (tencent-chat.md §3, APNs format doc).
    location: "[Location]",
    chatHistory: "[Chat History]",
    mentionYou: "[You were mentioned]",
    mentionAll: "[@All]",
    recalled: "A message is recalled",
    // values-en/strings.xml and en.lproj, as above.
    newCall: "You have a new call", // tuicallkit_have_a_new_call
    // TUICallKit's call list says "Missed" (tuicallkit_record_result_missed); as a notification body
    // the noun needs its object.
    missedCall: "Missed call",
    callAnswered: "Connected", // tuicallkit_accept_single
    callDeclined: "Declined", // TUIChatCallRejectInCallee
    audioCall: "Voice Call", // tuicallkit_audio_call
    videoCall: "Video Call", // tuicallkit_video_call
  },
};

/** Reads CHATPUSH_DEFAULT_LOCALE-style values: a BCP 47 tag whose language the catalogue has. */
export function parseLanguage(locale: string | undefined): Language | undefined {
  if (locale === undefined) return undefined;
  const language = locale.trim().toLowerCase().split(/[-_]/)[0];
  return (LANGUAGES as readonly string[]).includes(language ?? "") ? (language as Language) : undefined;
}

/** The catalogue language for a device's `locale` (`zh-CN`, `zh-Hant-TW`, `en-US`…), else the default. */
export function languageOf(locale: string | undefined, fallback: Language): Language {
  return parseLanguage(locale) ?? fallback;
}

/** The fallback when neither the device nor the configuration names a language. */
export const DEFAULT_LANGUAGE: Language = "en";
