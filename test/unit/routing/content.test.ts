import { describe, expect, it } from "vitest";
import {
  c2cConversationId,
  conversationExt,
  MAX_BODY_CHARS,
  messageText,
  truncate,
} from "../../../lib/routing/content.js";

const text = (Text: string) => ({ MsgType: "TIMTextElem", MsgContent: { Text } });

describe("messageText", () => {
  it("uses a text element's text", () => {
    expect(messageText([text("Are we still on for 7?")])).toEqual({ text: "Are we still on for 7?" });
  });

  it.each([
    ["TIMImageElem", "[Image]"],
    ["TIMSoundElem", "[Voice]"],
    ["TIMVideoFileElem", "[Video]"],
    ["TIMFileElem", "[File]"],
    ["TIMLocationElem", "[Location]"],
    ["TIMFaceElem", "[Sticker]"],
    ["TIMRelayElem", "[Chat history]"],
  ])("shows %s as %s", (MsgType, placeholder) => {
    expect(messageText([{ MsgType, MsgContent: {} }]).text).toBe(placeholder);
  });

  it("uses a custom element's Desc and Sound, never its Data", () => {
    const result = messageText([
      {
        MsgType: "TIMCustomElem",
        MsgContent: { Data: "secret-payload", Desc: "Incoming call", Sound: "ring.caf" },
      },
    ]);
    expect(result).toEqual({ text: "Incoming call", sound: "ring.caf" });
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
