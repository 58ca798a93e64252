import { describe, expect, it } from "vitest";
import { eventIdentity } from "../../../lib/ingest/event-identity.js";

const at = 1_764_085_300_000;
const id = (command: string, body: Record<string, unknown>, acceptedAt = at) =>
  eventIdentity({ command, acceptedAt, body }).key;

const c2c = {
  From_Account: "alice",
  To_Account: "bob",
  MsgSeq: 48374,
  MsgRandom: 2837546,
  MsgTime: 1764085300,
  MsgKey: "48374_2837546_1764085300",
  MsgBody: [{ MsgType: "TIMTextElem", MsgContent: { Text: "hi" } }],
  EventTime: at,
};

describe("eventIdentity", () => {
  it("is the same for two copies of one C2C message that differ in EventTime, UnreadMsgNum or acceptance time", () => {
    const copy = { ...c2c, EventTime: at + 1234, UnreadMsgNum: 9 };
    expect(id("C2C.CallbackAfterSendMsg", copy, at + 5000)).toBe(id("C2C.CallbackAfterSendMsg", c2c));
  });

  it("differs for another MsgKey, another recipient, or the recall of that message", () => {
    const key = id("C2C.CallbackAfterSendMsg", c2c);
    expect(id("C2C.CallbackAfterSendMsg", { ...c2c, MsgKey: "1_2_3" })).not.toBe(key);
    expect(id("C2C.CallbackAfterSendMsg", { ...c2c, To_Account: "carol" })).not.toBe(key);
    expect(
      id("C2C.CallbackAfterMsgWithDraw", { From_Account: "alice", To_Account: "bob", MsgKey: c2c.MsgKey }),
    ).not.toBe(key);
  });

  it("falls back to MsgSeq + MsgRandom + MsgTime without a MsgKey", () => {
    const { MsgKey: _, ...noKey } = c2c;
    expect(id("C2C.CallbackAfterSendMsg", { ...noKey, EventTime: 1 })).toBe(
      id("C2C.CallbackAfterSendMsg", noKey),
    );
    expect(id("C2C.CallbackAfterSendMsg", { ...noKey, MsgRandom: 1 })).not.toBe(
      id("C2C.CallbackAfterSendMsg", noKey),
    );
  });

  it("identifies a group message by GroupId + TopicId + MsgSeq", () => {
    const group = { GroupId: "@TGS#1", From_Account: "alice", MsgSeq: 42, EventTime: at, MsgBody: [] };
    const key = id("Group.CallbackAfterSendMsg", group);
    expect(id("Group.CallbackAfterSendMsg", { ...group, EventTime: at + 1, Random: 7 })).toBe(key);
    expect(id("Group.CallbackAfterSendMsg", { ...group, MsgSeq: 43 })).not.toBe(key);
    expect(id("Group.CallbackAfterSendMsg", { ...group, TopicId: "@TGS#_1@TOPIC#_a" })).not.toBe(key);
  });

  it("keeps presence changes apart by EventTime: log in, out and in again are three events", () => {
    const login = { Info: { Action: "Login", To_Account: "bob", Reason: "Register" }, EventTime: at };
    expect(id("State.StateChange", { ...login, EventTime: at + 60_000 })).not.toBe(
      id("State.StateChange", login),
    );
    expect(id("State.StateChange", { ...login })).toBe(id("State.StateChange", login));
  });

  it("is a short ASCII key whatever the ids (usable as a DynamoDB key as is)", () => {
    const key = id("C2C.CallbackAfterSendMsg", {
      ...c2c,
      MsgKey: "k".repeat(64),
      From_Account: "u".repeat(32),
    });
    expect(key).toMatch(/^c2c:[A-Za-z0-9_-]{43}$/);
    expect(key).not.toContain("alice");
  });
});
