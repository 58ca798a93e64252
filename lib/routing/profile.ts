import type { Handler, RouterDeps } from "./deps.js";

/** Tencent's nickname tag (tencent-chat.md §2.7). */
const NICKNAME_TAG = "Tag_Profile_IM_Nick";

/** `Profile.CallbackPortraitSet`: keeps the newest nickname, the title of the user's pushes. */
export function makeProfileHandler(
  deps: Pick<RouterDeps, "profiles" | "journal">,
): Handler<"Profile.CallbackPortraitSet"> {
  return async ({ body: event, acceptedAt }) => {
    const nick = event.ProfileItem.find((item) => item.Tag === NICKNAME_TAG);
    if (nick?.Value === undefined) return;
    await deps.profiles.setNickname(event.From_Account, String(nick.Value), event.EventTime ?? acceptedAt);
    deps.journal.record({ stage: "profile", userId: event.From_Account, reason: "nickname" });
  };
}
