import { describe, expect, it } from "vitest";
import { parseSignaling } from "../../../lib/routing/signaling.js";
import type { MsgElement } from "../../../lib/tencent/callback.schema.js";

/** A TIMCustomElem whose Data is `data` (an object is JSON-encoded, as the SDK does). */
function custom(data: unknown): MsgElement[] {
  return [
    {
      MsgType: "TIMCustomElem",
      MsgContent: {
        Data: typeof data === "string" ? data : JSON.stringify(data),
        Desc: "",
        Ext: "",
        Sound: "",
      },
    },
  ];
}

/** TUICallKit's envelope (businessID 1) around its call JSON (double-encoded `data`). */
function envelope(actionType: number, call: unknown, extra: Record<string, unknown> = {}) {
  return {
    businessID: 1,
    inviteID: "7f3c-invite",
    inviter: "alice",
    actionType,
    inviteeList: ["bob"],
    groupID: "",
    timeout: 30,
    data: call === undefined ? undefined : JSON.stringify(call),
    ...extra,
  };
}

const videoCall = {
  version: 4,
  businessID: "av_call",
  platform: "Android",
  call_type: 2,
  room_id: 91544,
  data: { cmd: "videoCall", room_id: 91544, userIDs: ["bob"] },
};

describe("parseSignaling", () => {
  it("reads a TUICallKit video invitation: envelope, media, room, and the raw Data for the app", () => {
    const body = custom(envelope(1, videoCall));
    const parsed = parseSignaling(body);
    expect(parsed).toMatchObject({
      kind: "call",
      envelope: {
        inviteId: "7f3c-invite",
        inviter: "alice",
        actionType: 1,
        inviteeList: ["bob"],
        timeoutSeconds: 30,
      },
      signal: { kind: "invite", media: "video", roomId: "91544" },
    });
    expect(parsed.kind === "call" && parsed.envelope.raw).toBe(
      (body[0]!.MsgContent as { Data: string }).Data,
    );
    expect(parsed.kind === "call" && parsed.envelope.groupId).toBeUndefined();
  });

  it("reads an audio call, the V3 rtc_call protocol and the string room id", () => {
    const audio = { ...videoCall, call_type: 1, data: { cmd: "audioCall", room_id: 5 } };
    expect(parseSignaling(custom(envelope(1, audio)))).toMatchObject({
      signal: { kind: "invite", media: "audio", roomId: "5" },
    });
    const v3 = { businessID: "rtc_call", data: { cmd: "videoCall", str_room_id: "room-x" } };
    expect(parseSignaling(custom(envelope(1, v3)))).toMatchObject({
      kind: "call",
      signal: { kind: "invite", media: "video", roomId: "room-x" },
    });
  });

  it("reads the older format without a data object by call_type", () => {
    const old = { version: 4, businessID: "av_call", call_type: 2, room_id: 7 };
    expect(parseSignaling(custom(envelope(1, old)))).toMatchObject({
      signal: { kind: "invite", media: "video", roomId: "7" },
    });
  });

  it("reads a group invitation with its groupID and inviteeList", () => {
    const parsed = parseSignaling(
      custom(envelope(1, videoCall, { groupID: "@TGS#2team", inviteeList: ["bob", "erin", "bob"] })),
    );
    expect(parsed).toMatchObject({
      kind: "call",
      envelope: { groupId: "@TGS#2team", inviteeList: ["bob", "erin"] },
    });
  });

  it.each([
    [2, videoCall, { kind: "cancel" }],
    [3, videoCall, { kind: "accept" }],
    [4, videoCall, { kind: "reject", busy: false }],
    [4, { ...videoCall, line_busy: "line_busy" }, { kind: "reject", busy: true }],
    [4, { ...videoCall, data: { message: "lineBusy" } }, { kind: "reject", busy: true }],
    [5, videoCall, { kind: "timeout" }],
    // The SDK's own timeout: numeric inner businessID 1, or no data at all (TUIConstants CALL_TIMEOUT_BUSINESS_ID).
    [5, { businessID: 1 }, { kind: "timeout" }],
    [5, undefined, { kind: "timeout" }],
  ])("actionType %i → %j", (actionType, call, signal) => {
    expect(parseSignaling(custom(envelope(actionType, call)))).toMatchObject({ kind: "call", signal });
  });

  it("never reads a hang-up or a media switch as a new call", () => {
    const hangup = { ...videoCall, call_end: 42, data: undefined };
    expect(parseSignaling(custom(envelope(1, hangup, { timeout: 0 })))).toMatchObject({
      signal: { kind: "hangup" },
    });
    expect(parseSignaling(custom(envelope(1, { ...videoCall, data: { cmd: "hangup" } })))).toMatchObject({
      signal: { kind: "hangup" },
    });
    for (const cmd of ["switchToAudio", "switchToVideo"]) {
      expect(parseSignaling(custom(envelope(1, { ...videoCall, data: { cmd } })))).toMatchObject({
        signal: { kind: "switch" },
      });
    }
    expect(
      parseSignaling(custom(envelope(3, { ...videoCall, data: { cmd: "switchToAudio" } }))),
    ).toMatchObject({
      signal: { kind: "switch" },
    });
    expect(
      parseSignaling(custom(envelope(1, { ...videoCall, data: { cmd: "somethingNew" } }))),
    ).toMatchObject({
      signal: { kind: "unknown", cmd: "somethingNew" },
    });
  });

  it("tells TUICalling's group-call helper message apart", () => {
    expect(parseSignaling(custom({ businessID: "av_call", call_type: 2 }))).toEqual({ kind: "call-helper" });
  });

  it("treats signaling the app uses for something else as other signaling, not a call", () => {
    expect(parseSignaling(custom(envelope(1, { businessID: "my_game_invite" })))).toMatchObject({
      kind: "other-signaling",
    });
    expect(parseSignaling(custom(envelope(1, undefined, { data: "not json" })))).toMatchObject({
      kind: "other-signaling",
    });
    // A numeric inner businessID 1 is a call only on a timeout.
    expect(parseSignaling(custom(envelope(1, { businessID: 1 })))).toMatchObject({ kind: "other-signaling" });
  });

  it.each([
    ["text", [{ MsgType: "TIMTextElem", MsgContent: { Text: '{"businessID":1}' } }] as MsgElement[]],
    ["custom non-JSON", custom("{not json")],
    ["custom JSON array", custom("[1,2]")],
    ["TUIKit string businessID", custom({ businessID: "group_create", inviteID: "x", actionType: 1 })],
    ["string businessID 1", custom({ ...envelope(1, videoCall), businessID: "1" })],
    ["no inviteID", custom({ ...envelope(1, videoCall), inviteID: undefined })],
    ["inviteID with spaces", custom({ ...envelope(1, videoCall), inviteID: "a b" })],
    ["inviteID too long", custom({ ...envelope(1, videoCall), inviteID: "x".repeat(129) })],
    ["actionType 6", custom(envelope(6, videoCall))],
    ["actionType as string", custom({ ...envelope(1, videoCall), actionType: "1" })],
    ["inviteeList not an array", custom({ ...envelope(1, videoCall), inviteeList: "bob" })],
  ])("a %s is a normal message", (_, body) => {
    expect(parseSignaling(body)).toEqual({ kind: "message" });
  });

  it("caps the timeout and drops invalid invitee ids", () => {
    const parsed = parseSignaling(
      custom(envelope(1, videoCall, { timeout: 86_400, inviteeList: ["bob", "", 7, "erin"] })),
    );
    expect(parsed).toMatchObject({ envelope: { timeoutSeconds: 600, inviteeList: ["bob", "erin"] } });
    expect(parseSignaling(custom(envelope(1, videoCall, { timeout: -5 })))).toMatchObject({
      envelope: { timeoutSeconds: 0 },
    });
  });
});
