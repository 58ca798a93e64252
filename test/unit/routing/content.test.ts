import { describe, expect, it } from "vitest";
import {
  c2cConversationId,
  conversationExt,
  MAX_BODY_CHARS,
  messageText,
  messageTexts,
  truncate,
} from "../../../lib/routing/content.js";
import { languageOf, parseLanguage } from "../../../lib/routing/texts.js";

const text = (Text: string) => ({ MsgType: "TIMTextElem", MsgContent: { Text } });

describe("messageText", () => {
  it("uses a text element's text", () => {
    expect(messageText([text("Are we still on for 7?")])).toEqual({ text: "Are we still on for 7?" });
  });

  it.each([
    ["TIMImageElem", "[Image]", "[图片]"],
    ["TIMSoundElem", "[Voice]", "[语音]"],
    ["TIMVideoFileElem", "[Video]", "[视频]"],
    ["TIMFileElem", "[File]", "[文件]"],
    ["TIMLocationElem", "[Location]", "[位置]"],
    ["TIMFaceElem", "[Animated Sticker]", "[动画表情]"],
    ["TIMRelayElem", "[Chat History]", "[聊天记录]"],
  ])("shows %s as %s in English and %s in Chinese (TUIKit's strings)", (MsgType, en, zh) => {
    expect(messageText([{ MsgType, MsgContent: {} }]).text).toBe(en);
    expect(messageText([{ MsgType, MsgContent: {} }], "zh").text).toBe(zh);
    expect(messageTexts([text("看"), { MsgType, MsgContent: {} }])).toEqual({ en: `看${en}`, zh: `看${zh}` });
  });

  it("uses a custom element's Desc, Sound and Ext, never its Data", () => {
    const result = messageText([
      {
        MsgType: "TIMCustomElem",
        MsgContent: { Data: "secret-payload", Desc: "Incoming call", Sound: "ring.caf", Ext: '{"k":1}' },
      },
    ]);
    expect(result).toEqual({ text: "Incoming call", sound: "ring.caf", ext: '{"k":1}' });
  });

  it("has nothing to show for a custom element without Desc", () => {
    expect(messageText([{ MsgType: "TIMCustomElem", MsgContent: { Data: "{}" } }]).text).toBe("");
  });

  it("joins elements with no separator, as Tencent does", () => {
    expect(
      messageText([text("hello"), { MsgType: "TIMCustomElem", MsgContent: { Desc: "world" } }]).text,
    ).toBe("helloworld");
  });

  it("ignores unknown element types and missing contents", () => {
    expect(messageText([{ MsgType: "TIMFutureElem" }, text("hi")]).text).toBe("hi");
    expect(messageText([]).text).toBe("");
  });

  it("caps very long text", () => {
    const long = messageText([text("x".repeat(5000))]).text;
    expect(Array.from(long)).toHaveLength(MAX_BODY_CHARS);
    expect(long.endsWith("…")).toBe(true);
  });
});

describe("truncate", () => {
  it("keeps short text as it is", () => {
    expect(truncate("short", 10)).toBe("short");
  });

  it("never splits a surrogate pair", () => {
    const cut = truncate("😀😀😀😀", 3);
    expect(cut).toBe("😀😀…");
    expect(Buffer.from(cut, "utf8").toString("utf8")).toBe(cut);
  });
});

describe("conversation ids", () => {
  it("builds the ext the plugin's click handler parses", () => {
    expect(conversationExt(c2cConversationId("alice"))).toBe('{"conversationID":"c2c_alice"}');
  });
});

describe("device languages", () => {
  it.each([
    ["zh-CN", "zh"],
    ["zh_TW", "zh"],
    ["zh-Hant-HK", "zh"],
    ["en-US", "en"],
    ["EN", "en"],
  ])("reads %s as %s", (locale, language) => {
    expect(parseLanguage(locale)).toBe(language);
    expect(languageOf(locale, "en")).toBe(language);
  });

  it("falls back to the configured default for no or an unknown locale", () => {
    expect(languageOf(undefined, "zh")).toBe("zh");
    expect(languageOf("ja-JP", "zh")).toBe("zh");
    expect(parseLanguage("ja-JP")).toBeUndefined();
  });
});
