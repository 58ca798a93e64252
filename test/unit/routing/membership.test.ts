import { describe, expect, it } from "vitest";
import { routerHarness } from "./harness.js";

const NOW = 1_764_085_300_000;
const G = "@TGS#2MEMB";

describe("membership callbacks", () => {
  it("mirror creation (owner included), joins, exits, info changes and destruction", async () => {
    const h = routerHarness(NOW);
    const handle = h.router.handle;
    await handle({
      command: "Group.CallbackAfterCreateGroup",
      acceptedAt: NOW,
      body: {
        GroupId: G,
        Owner_Account: "alice",
        Type: "Work",
        Name: "Team",
        MemberList: [{ Member_Account: "bob" }],
      },
    });
    await handle({
      command: "Group.CallbackAfterNewMemberJoin",
      acceptedAt: NOW,
      body: { GroupId: G, NewMemberList: [{ Member_Account: "carol" }] },
    });
    await handle({
      command: "Group.CallbackAfterMemberExit",
      acceptedAt: NOW,
      body: { GroupId: G, ExitMemberList: [{ Member_Account: "bob" }] },
    });
    await handle({
      command: "Group.CallbackAfterGroupInfoChanged",
      acceptedAt: NOW,
      body: { GroupId: G, Name: "Team B", EventTime: NOW + 1 },
    });
    expect((await h.groups.listMembers(G, undefined, 100)).members.sort()).toEqual(["alice", "carol"]);
    expect(await h.groups.getGroup(G)).toMatchObject({ name: "Team B", type: "Work", ownerId: "alice" });
    await handle({ command: "Group.CallbackAfterGroupDestroyed", acceptedAt: NOW, body: { GroupId: G } });
    expect(await h.groups.getGroup(G)).toBeUndefined();
    expect(h.journal.entries.map((e) => e.reason)).toEqual([
      `created ${G} with 2 members`,
      `carol joined ${G}`,
      `bob left ${G}`,
      `info of ${G} changed`,
      `destroyed ${G}`,
    ]);
  });
});
