import { describe, expect, it } from "vitest";
import { routerHarness } from "./harness.js";

const NOW = 1_764_085_300_000;

describe("Profile.CallbackPortraitSet", () => {
  it("keeps the newest nickname, whatever order the callbacks arrive in", async () => {
    const h = routerHarness(NOW);
    const portrait = (Value: string, EventTime: number) =>
      h.router.handle({
        command: "Profile.CallbackPortraitSet",
        acceptedAt: NOW,
        body: { From_Account: "alice", EventTime, ProfileItem: [{ Tag: "Tag_Profile_IM_Nick", Value }] },
      });
    await portrait("Alice", NOW - 100);
    await portrait("Old Alice", NOW - 200);
    expect(await h.profiles.getNicknames(["alice"])).toEqual(new Map([["alice", "Alice"]]));
  });

  it("ignores profile changes that are not the nickname", async () => {
    const h = routerHarness(NOW);
    await h.router.handle({
      command: "Profile.CallbackPortraitSet",
      acceptedAt: NOW,
      body: {
        From_Account: "alice",
        ProfileItem: [{ Tag: "Tag_Profile_IM_Image", Value: "https://x/a.png" }],
      },
    });
    expect(await h.profiles.getNicknames(["alice"])).toEqual(new Map());
    expect(h.journal.entries).toEqual([]);
  });
});
