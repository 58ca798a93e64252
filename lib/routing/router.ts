import { makeC2CMessageHandler } from "./c2c-message.js";
import { CALL_EXPIRY_COMMAND, makeCallHandlers } from "./calls.js";
import type { Handler, RouterCommand, RouterDeps, RouterEvent } from "./deps.js";
import { FANOUT_COMMAND } from "./fanout.js";
import { makeGroupMessageHandlers } from "./group-message.js";
import { makeMembershipHandlers } from "./membership.js";
import { makePresenceChangeHandler } from "./presence-change.js";
import { makeProfileHandler } from "./profile.js";
import { makeRecallHandlers } from "./recall.js";
import { makeServerPushHandlers } from "./server-push.js";

export { c2cMessageKey, messageSkipReason } from "./c2c-message.js";
export type { RouterDeps, RouterEvent } from "./deps.js";

export interface Router {
  handle(event: RouterEvent): Promise<void>;
}

/** Every command the router handles, each by its family's module (STYLE.md 15). */
export type HandlerTable = { [C in RouterCommand]: Handler<C> };

/**
 * The ingest queue's consumer: one handler per command, each from its callback family's module
 * (one-to-one message, group message and fan-out page, membership, presence, profile, recall).
 * A new family (calls) adds its module and its lines here.
 */
export function makeRouter(deps: RouterDeps): Router {
  const group = makeGroupMessageHandlers(deps);
  const membership = makeMembershipHandlers(deps);
  const recall = makeRecallHandlers(deps);
  // Call signaling is a custom message: the calls family sees each message first (calls.ts).
  const calls = makeCallHandlers(deps);
  const serverPush = makeServerPushHandlers(deps);
  const table: HandlerTable = {
    "C2C.CallbackAfterSendMsg": calls.c2c(makeC2CMessageHandler(deps)),
    "Group.CallbackAfterSendMsg": calls.group(group.message),
    [FANOUT_COMMAND]: group.page,
    "Group.CallbackAfterCreateGroup": membership.created,
    "Group.CallbackAfterNewMemberJoin": membership.joined,
    "Group.CallbackAfterMemberExit": membership.exited,
    "Group.CallbackAfterGroupDestroyed": membership.destroyed,
    "Group.CallbackAfterGroupInfoChanged": membership.infoChanged,
    "State.StateChange": makePresenceChangeHandler(deps),
    "Profile.CallbackPortraitSet": makeProfileHandler(deps),
    "C2C.CallbackAfterMsgWithDraw": recall.c2c,
    "Group.CallbackAfterRecallMsg": recall.group,
    [CALL_EXPIRY_COMMAND]: calls.expiry,
    "chatpush.ServerPushPage": serverPush.page,
    "chatpush.ServerPushRevoke": serverPush.revoke,
  };
  return {
    handle: (event) => (table[event.command] as Handler<typeof event.command>)(event as never),
  };
}
