import type { Handler, RouterDeps } from "./deps.js";

/**
 * The group callbacks that keep chatpush's mirror of each group's members and name (Tencent keeps
 * membership on its side only): created, joined, left, destroyed, info changed.
 */
export function makeMembershipHandlers(deps: Pick<RouterDeps, "groups" | "journal">): {
  created: Handler<"Group.CallbackAfterCreateGroup">;
  joined: Handler<"Group.CallbackAfterNewMemberJoin">;
  exited: Handler<"Group.CallbackAfterMemberExit">;
  destroyed: Handler<"Group.CallbackAfterGroupDestroyed">;
  infoChanged: Handler<"Group.CallbackAfterGroupInfoChanged">;
} {
  const { groups, journal } = deps;
  return {
    async created({ body: event, acceptedAt }) {
      const at = event.EventTime ?? acceptedAt;
      await groups.putGroup({
        groupId: event.GroupId,
        updatedAt: at,
        ...(event.Type !== undefined ? { type: event.Type } : {}),
        ...(event.Name !== undefined ? { name: event.Name } : {}),
        ...(event.Owner_Account !== undefined ? { ownerId: event.Owner_Account } : {}),
      });
      // Whether MemberList includes the owner is undocumented; the owner is a member either way.
      const members = new Set(event.MemberList.map((m) => m.Member_Account));
      if (event.Owner_Account) members.add(event.Owner_Account);
      await groups.addMembers(event.GroupId, [...members], at);
      journal.record({ stage: "group", reason: `created ${event.GroupId} with ${members.size} members` });
    },
    async joined({ body, acceptedAt }) {
      const ids = body.NewMemberList.map((m) => m.Member_Account);
      await groups.addMembers(body.GroupId, ids, body.EventTime ?? acceptedAt);
      journal.record({ stage: "group", reason: `${ids.join(", ")} joined ${body.GroupId}` });
    },
    async exited({ body, acceptedAt }) {
      const ids = body.ExitMemberList.map((m) => m.Member_Account);
      await groups.removeMembers(body.GroupId, ids, body.EventTime ?? acceptedAt);
      journal.record({ stage: "group", reason: `${ids.join(", ")} left ${body.GroupId}` });
    },
    async destroyed({ body }) {
      await groups.deleteGroup(body.GroupId);
      journal.record({ stage: "group", reason: `destroyed ${body.GroupId}` });
    },
    async infoChanged({ body, acceptedAt }) {
      await groups.putGroup({
        groupId: body.GroupId,
        updatedAt: body.EventTime ?? acceptedAt,
        ...(body.Name !== undefined ? { name: body.Name } : {}),
        ...(body.Type !== undefined ? { type: body.Type } : {}),
      });
      journal.record({ stage: "group", reason: `info of ${body.GroupId} changed` });
    },
  };
}
