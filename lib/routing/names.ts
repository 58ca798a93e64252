import type { RouterDeps } from "./deps.js";

/**
 * A sender's name for a notification title or a group body: the nickname chatpush knows (from
 * Profile.CallbackPortraitSet or an earlier look-up), else Tencent's directory is asked once (REST
 * portrait_get) and the answer kept in the user item, else the user ID, as Tencent's own push does
 * (tencent-chat.md §3: "just text if the sender has no nickname"). The sender's item is read here,
 * eventually consistent (`ProfileStore.getProfile`): half a recipient's read, and a name may lag.
 */
export async function senderName(
  deps: Pick<RouterDeps, "directory" | "profiles" | "journal" | "clock" | "admin">,
  userId: string,
  messageKey: string,
): Promise<string> {
  // The app admin (a REST sendmsg without From_Account, a server push) shows the configured name
  // (CHATPUSH_ADMIN_DISPLAY_NAME), not its account id "administrator" (issue 11 item 2).
  if (deps.admin?.displayName !== undefined && userId === deps.admin.identifier)
    return deps.admin.displayName;
  const user = await deps.profiles.getProfile(userId);
  if (user.nickname !== undefined && user.nickname !== "") return user.nickname;
  if (user.nicknameKnown || deps.directory === undefined) return userId;
  try {
    const nickname = (await deps.directory.nicknames([userId])).get(userId);
    await deps.profiles.recordLookup(userId, nickname, deps.clock.now());
    deps.journal.record({
      stage: "profile",
      messageKey,
      userId,
      reason: nickname === undefined ? "no nickname at Tencent (portrait_get)" : "nickname from portrait_get",
    });
    return nickname !== undefined && nickname !== "" ? nickname : userId;
  } catch (error) {
    // The push goes out titled with the user ID; the look-up is tried again on the next message.
    deps.journal.record({
      stage: "profile",
      messageKey,
      userId,
      reason: `nickname look-up failed: ${(error as Error).message}`,
    });
    return userId;
  }
}
