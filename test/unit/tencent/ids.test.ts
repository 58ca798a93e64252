import { describe, expect, it } from "vitest";
import { parseCallback } from "../../../lib/tencent/callback.schema.js";
import {
  deviceIdProblem,
  groupIdProblem,
  isReservedKey,
  MAX_GROUP_ID_BYTES,
  MAX_MSG_KEY_BYTES,
  MAX_USER_ID_BYTES,
  msgKeyProblem,
  userIdProblem,
} from "../../../lib/tencent/ids.js";

describe("Tencent ids", () => {
  it.each(["alice", "user_01-a", "a@example.com", "@TIM#SYSTEM", "u".repeat(MAX_USER_ID_BYTES)])(
    "accepts the user id %s",
    (id) => expect(userIdProblem(id)).toBeUndefined(),
  );

  it.each([
    ["empty", ""],
    ["one byte over Tencent's 32", "u".repeat(MAX_USER_ID_BYTES + 1)],
    ["a line feed (forges journal lines)", "bob\nx"],
    ["NUL", "bob\u0000"],
    ["a space", "bob smith"],
    ["an emoji", "bob😀"],
    ["a lone surrogate", "bob\ud800"],
  ])("refuses a user id with %s", (_, id) => expect(userIdProblem(id)).toBeDefined());

  it("takes group ids of printable ASCII up to 48 bytes (V2TIMGroupInfo.groupID)", () => {
    expect(groupIdProblem("@TGS#2J4SZEAEL")).toBeUndefined();
    expect(groupIdProblem("g".repeat(MAX_GROUP_ID_BYTES))).toBeUndefined();
    expect(groupIdProblem("g".repeat(MAX_GROUP_ID_BYTES + 1))).toBeDefined();
    expect(groupIdProblem("grp\u0001")).toBeDefined();
  });

  it("takes MsgKeys that fit an apns-collapse-id (64 bytes of visible ASCII)", () => {
    expect(msgKeyProblem("48374_2837546_1557481126")).toBeUndefined();
    expect(msgKeyProblem("k".repeat(MAX_MSG_KEY_BYTES + 1))).toBeDefined();
    expect(msgKeyProblem("k".repeat(3000))).toBeDefined();
    expect(msgKeyProblem("key😀")).toBeDefined();
  });

  it.each(["__proto__", "constructor", "hasOwnProperty", "toString", "valueOf", "prototype"])(
    "treats %s as a reserved name, never a device id",
    (name) => {
      expect(isReservedKey(name)).toBe(true);
      expect(deviceIdProblem(name)).toMatch(/reserved/);
    },
  );
});

describe("callbacks name the id field they refuse", () => {
  const meta = { acceptedAt: 0 };
  it.each([
    ["Group.CallbackAfterCreateGroup", { GroupId: "g1", Owner_Account: "o".repeat(1022) }, "Owner_Account"],
    [
      "C2C.CallbackAfterMsgWithDraw",
      { From_Account: "a", To_Account: "b", MsgKey: "k".repeat(3000) },
      "MsgKey",
    ],
    ["C2C.CallbackAfterSendMsg", { From_Account: "a\nb", To_Account: "b" }, "From_Account"],
    ["State.StateChange", { Info: { Action: "Login", To_Account: "b\u0000" } }, "Info.To_Account"],
    [
      "Group.CallbackAfterNewMemberJoin",
      { GroupId: "g", NewMemberList: [{ Member_Account: "😀" }] },
      "NewMemberList.0.Member_Account",
    ],
    ["Group.CallbackAfterSendMsg", { GroupId: "g".repeat(49), From_Account: "a", MsgSeq: 1 }, "GroupId"],
  ] as const)("%s refuses a bad %s", (command, body, field) => {
    expect(parseCallback(command, body, meta)).toMatchObject({ ok: false, field });
  });

  it("keeps an empty Operator_Account (system operations send one)", () => {
    expect(
      parseCallback("Group.CallbackAfterMemberExit", { GroupId: "g", Operator_Account: "" }, meta).ok,
    ).toBe(true);
  });
});
