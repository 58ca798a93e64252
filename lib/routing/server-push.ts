import type { Notification } from "../model/index.js";
import { audiencePlan, inSegment, matches } from "../push-api/condition.js";
import type { PushProfile, ServerPushDeps, ServerPushEvent, ServerPushTask } from "../push-api/ports.js";
import { SERVER_PUSH_PAGE } from "../push-api/ports.js";
import { TaskTally } from "../push-api/task-counts.js";
import { c2cConversationId } from "./content.js";
import { deliverMessage, enqueue } from "./deliver.js";
import type { Handler, RouterDeps } from "./deps.js";
import { senderName } from "./names.js";
import type { Reachable } from "./pack.js";

const DEFAULT_PAGE_SIZE = 5000;
/**
 * A user the push to all finds without devices leaves the index, unless they registered within this
 * long before the page read them (their registration may be racing the push; clocks of two functions
 * differ by far less).
 */
const INDEX_CLEANUP_MARGIN_MS = 60_000;
const EMPTY_PROFILE: PushProfile = { tags: [], attrs: {} };

/**
 * Tencent's REST pushes (lib/push-api), fanned out like a group message: the same paged, packed queues
 * and the same presence, receive-option and badge rules per device, with `purpose: "operations"` so
 * each Chinese vendor files it as what it is (IM only when the request's OfflinePushInfo says so).
 *
 * - A batch (`timpush/batch`, ≤ 500 accounts) is one page.
 * - A push to all, a tag or an attribute reads the index of its condition's driving segments
 *   (lib/push-api/condition.ts `audiencePlan`), never a scan: page 0 starts one chain of pages per
 *   driving segment and shard, each page queues its successor before working on its own, and reads
 *   up to 5,000 user ids (one Query), their tags when the condition needs them (one BatchGetItem per
 *   100), and their user items (the same BatchGetItems as a group page).
 * - Each page adds its counts to the task once (lib/push-api/task-counts.ts); its jobs carry the
 *   TaskId, so the workers count their outcomes per job and stop sending once the task is revoked.
 */
export function makeServerPushHandlers(deps: RouterDeps): {
  page: Handler<typeof SERVER_PUSH_PAGE>;
  revoke: Handler<"chatpush.ServerPushRevoke">;
} {
  const pageSize = deps.fanoutPageSize ?? DEFAULT_PAGE_SIZE;
  const push = (): ServerPushDeps => {
    if (deps.serverPush === undefined) throw new Error("server pushes are not configured for this router");
    return deps.serverPush;
  };
  const pageEvent = (task: ServerPushTask): ServerPushEvent => ({
    command: SERVER_PUSH_PAGE,
    acceptedAt: task.acceptedAt,
    body: task,
  });

  /** Up to a page of candidates for `task`, after queueing what comes next. */
  async function candidates(
    sp: ServerPushDeps,
    task: ServerPushTask,
  ): Promise<{ userIds: string[]; fromAll: boolean }> {
    const { audience } = task;
    if (audience.kind === "accounts") return { userIds: audience.accounts, fromAll: false };
    const plan = audiencePlan(audience.condition);
    let at = audience.at;
    const following: ServerPushTask[] = [];
    if (at === undefined) {
      // Page 0: one chain per driving segment and shard, read in parallel; this page reads the first.
      const starts = plan.drivers.flatMap((_, driver) =>
        Array.from({ length: sp.audience.shards }, (_, shard) => ({ driver, shard })),
      );
      at = starts[0]!;
      for (const start of starts.slice(1))
        following.push({ ...task, audience: { ...audience, at: start }, page: task.page + 1 });
    }
    const segment = plan.drivers[at.driver]!;
    const found = await sp.audience.page(segment, at.shard, at.cursor, pageSize);
    if (found.next !== undefined)
      following.push({
        ...task,
        audience: { ...audience, at: { ...at, cursor: found.next } },
        page: task.page + 1,
      });
    if (following.length > 0) await sp.queue.publish(following.map(pageEvent));
    if (!plan.checkProfiles) return { userIds: found.userIds, fromAll: segment.kind === "all" };
    const profiles = await sp.profiles.getProfiles(found.userIds);
    const earlier = plan.drivers.slice(0, at.driver);
    const userIds = found.userIds.filter((userId) => {
      const profile = profiles.get(userId) ?? EMPTY_PROFILE;
      // Found in an earlier driving segment too: that segment's chain pushes them.
      return matches(audience.condition, profile) && !earlier.some((s) => inSegment(s, profile));
    });
    return { userIds, fromAll: segment.kind === "all" };
  }

  return {
    async page({ body: task }) {
      const sp = push();
      const messageKey = task.taskId;
      const stored = await sp.tasks.get(task.taskId);
      if (stored?.revokedAt !== undefined) {
        deps.journal.record({ stage: "skipped", messageKey, reason: "push task revoked" });
        return;
      }
      let { content } = task;
      if (content.title === "") {
        // No OfflinePushInfo.Title: the sender's name (the admin's configured display name, a nickname,
        // else the account), decided before any later page is queued so every page says the same.
        content = { ...content, title: await senderName(deps, task.from, messageKey) };
      }
      const current: ServerPushTask = { ...task, content };
      const { userIds, fromAll } = await candidates(sp, current);
      if (userIds.length === 0) return;
      const users = await deps.users.getUsers(userIds);
      if (fromAll) {
        const before = deps.clock.now() - INDEX_CLEANUP_MARGIN_MS;
        await Promise.all(
          userIds
            .filter((id) => (users.get(id)?.devices.length ?? 0) === 0)
            .map((id) => sp.audience.dropUser(id, before)),
        );
      }
      const tally = new TaskTally(task.taskId);
      await deliverMessage(
        { ...deps, journal: tally.journal(deps.journal), queue: tally.queue(deps.queue) },
        {
          content,
          recipients: userIds.map((userId) => ({ userId, user: users.get(userId) })),
          conversationIds: [content.conversationId],
          acceptedAt: task.acceptedAt,
        },
      );
      await sp.tasks.count(task.taskId, { ...tally.counts, recipients: userIds.length });
    },

    /**
     * `timpush/revoke` with a text: the task's notification is replaced on exactly the devices that got
     * it (the workers' records), on the task's own replacement key, quietly. Apple, Google, Huawei and
     * Honor replace a shown notification so (https://trtc.io/document/60571); chatpush's other vendor
     * requests carry the same key (notify_id, notifyKey), so they do too.
     */
    async revoke({ body, acceptedAt }) {
      const sp = push();
      const messageKey = `${body.taskId}:revoke`;
      const [task, delivered] = await Promise.all([
        sp.tasks.get(body.taskId),
        deps.deliveries.deliveredTo(body.taskId),
      ]);
      if (delivered.length === 0) {
        deps.journal.record({ stage: "skipped", messageKey, reason: "nobody was notified of it" });
        return;
      }
      const text = body.desc ?? body.title ?? "";
      const notification: Notification = {
        title: body.title ?? text,
        body: text,
        ext: body.ext ?? "{}",
        conversationId: c2cConversationId(task?.from ?? "administrator"),
        messageKey,
        collapseKey: body.taskId,
        quiet: true,
        purpose: "operations",
        sentAt: acceptedAt,
      };
      // The token that got the original; the replacement changes no badge.
      const devices: Reachable[] = delivered.map(({ vendor, target }) => {
        const { badge: _badge, ...replaced } = target;
        return { ...replaced, vendor };
      });
      await enqueue(deps, [{ notification, devices }], acceptedAt);
    },
  };
}
