import { describe, expect, it } from "vitest";
import { FANOUT_COMMAND } from "../../../lib/routing/fanout.js";
import { CALLBACK_SCHEMAS } from "../../../lib/tencent/callback.schema.js";
import { routerHarness } from "./harness.js";

const NOW = 1_764_085_300_000;

describe("the router's dispatch table", () => {
  it("has a handler for every command ingest accepts, and for fan-out pages", async () => {
    const h = routerHarness(NOW);
    // A command the table did not know would throw "not a function"; every one is routed.
    const minimal: Record<string, unknown> = {
      "C2C.CallbackAfterSendMsg": { From_Account: "a", To_Account: "b", MsgBody: [] },
      "C2C.CallbackAfterMsgWithDraw": { From_Account: "a", To_Account: "b", MsgKey: "k" },
      "State.StateChange": { Info: { Action: "Login", To_Account: "b" } },
      "Profile.CallbackPortraitSet": { From_Account: "a", ProfileItem: [] },
      "Group.CallbackAfterSendMsg": { GroupId: "g", From_Account: "a", MsgSeq: 1, MsgBody: [] },
      "Group.CallbackAfterRecallMsg": { GroupId: "g", MsgSeqList: [] },
      "Group.CallbackAfterCreateGroup": { GroupId: "g", MemberList: [] },
      "Group.CallbackAfterNewMemberJoin": { GroupId: "g", NewMemberList: [] },
      "Group.CallbackAfterMemberExit": { GroupId: "g", ExitMemberList: [] },
      "Group.CallbackAfterGroupDestroyed": { GroupId: "g" },
      "Group.CallbackAfterGroupInfoChanged": { GroupId: "g" },
    };
    expect(Object.keys(minimal).sort()).toEqual(Object.keys(CALLBACK_SCHEMAS).sort());
    for (const [command, body] of Object.entries(minimal)) {
      await expect(h.router.handle({ command, acceptedAt: NOW, body } as never)).resolves.toBeUndefined();
    }
    await expect(
      h.router.handle({
        command: FANOUT_COMMAND,
        acceptedAt: NOW,
        body: {
          groupId: "g",
          page: 1,
          senderId: "a",
          content: {
            conversationId: "group_g",
            messageKey: "g#1",
            sentAt: NOW,
            title: "g",
            bodies: { en: "x", zh: "x" },
            ext: "{}",
            options: {},
          },
          conversationIds: ["group_g"],
          mentionAll: false,
          mentioned: [],
          acceptedAt: NOW,
        },
      }),
    ).resolves.toBeUndefined();
  });
});
