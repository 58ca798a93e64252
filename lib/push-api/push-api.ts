import { parseBoundedJson } from "../http/json.js";
import { type HttpRequest, type HttpResponse, type HttpRoute, json } from "../http/types.js";
import type { Clock } from "../ports/clock.js";
import { OFFLINE_PUSH_INFO_MEMBER, senderPushOptions } from "../routing/push-options.js";
import { authenticateAdmin } from "./admin-auth.js";
import { failAnswer, okAnswer, type RestAnswer, RestRefusal, refuse, TENCENT } from "./errors.js";
import { DEFAULT_BROADCASTS_PER_DAY, REVOKE_WINDOW_MS } from "./limits.js";
import type {
  PushProfileStore,
  PushTask,
  PushTaskStore,
  ServerPushQueue,
  ServerPushTask,
  TaskKind,
} from "./ports.js";
import { SERVER_PUSH_PAGE, SERVER_PUSH_REVOKE } from "./ports.js";
import { type PushRequest, parsePushRequest } from "./push.schema.js";
import { statistics } from "./statistics.js";
import { TAG_COMMANDS, type TagCommand, tagCommand } from "./tags-api.js";
import { isTaskId, newTaskId } from "./task-id.js";

/**
 * Tencent's REST push API, drop-in: the same paths, query, bodies and answers as Tencent's
 * (tencent-calls-and-server-push.md §4, §6 items 13–15), on chatpush's function URL, so an app server
 * switches by changing the host. Pushes are answered with a TaskId as soon as their fan-out is on the
 * ingest queue; the router then reads the audience page by page (lib/routing/server-push.ts).
 */
export interface PushApiDeps {
  sdkAppId: number;
  /** CHATPUSH_ADMIN_IDENTIFIER (default "administrator"): the account REST calls must be made as. */
  adminIdentifier: string;
  /** The app's UserSig secret key (the one the device API uses). */
  userSigKey: () => Promise<string>;
  clock: Clock;
  profiles: PushProfileStore;
  tasks: PushTaskStore;
  queue: ServerPushQueue;
  /** timpush/push and im_push calls a day (Tencent's default 100). */
  broadcastsPerDay?: number;
  /** Random bytes for TaskIds (tests pin them). */
  random?: () => Buffer;
  onError?: (error: unknown, request: HttpRequest) => void;
}

const PUSHES: Record<string, TaskKind> = {
  "/v4/timpush/batch": "batch",
  "/v4/timpush/push": "push",
  "/v4/all_member_push/im_push": "im_push",
};
const REVOKE_PATH = "/v4/timpush/revoke";
const STATISTICS_PATH = "/v4/timpush/all_member_push_statistics";
const TAG_PREFIX = "/v4/all_member_push/";
/** A push body is a few KB (500 accounts, a 12 KB message at most); this bounds anything else. */
const MAX_REST_BODY_BYTES = 256 * 1024;

/** Which de-duplication scope a kind's MsgRandom lives in: batches apart from broadcasts. */
const scopeOf = (kind: TaskKind) => (kind === "batch" ? "batch" : "broadcast");

function answer(value: RestAnswer, status = 200): HttpResponse {
  return json(status, value);
}

export function makePushApi(deps: PushApiDeps): HttpRoute {
  const perDay = deps.broadcastsPerDay ?? DEFAULT_BROADCASTS_PER_DAY;

  async function push(kind: TaskKind, body: unknown): Promise<RestAnswer> {
    const condition = (body as { Condition?: { AttrsAnd?: unknown; AttrsOr?: unknown } } | null)?.Condition;
    const needsNames =
      typeof condition === "object" &&
      condition !== null &&
      ("AttrsAnd" in condition || "AttrsOr" in condition);
    const attrNames = new Set(needsNames ? Object.values(await deps.profiles.getAttrNames()) : []);
    const request = parsePushRequest(kind, body, { adminIdentifier: deps.adminIdentifier, attrNames });
    const now = deps.clock.now();
    const scope = scopeOf(kind);
    const fresh: PushTask = {
      taskId: newTaskId(kind, now, deps.random),
      kind,
      from: request.from,
      createdAt: now,
      counts: {},
    };
    if (request.dataId !== undefined) fresh.dataId = request.dataId;
    if (request.lifetimeSeconds !== undefined) fresh.lifetimeSeconds = request.lifetimeSeconds;

    const claim = await deps.tasks.claim(scope, request.msgRandom, fresh, now);
    let task = fresh;
    if (!claim.created) {
      // The same MsgRandom within 7 days is the same task: answered with its TaskId, pushed once. If
      // that call failed before its fan-out was handed on, this retry hands it on (the same page 0,
      // which routing remembers by its identity, so a crash between the two is pushed once too).
      if (claim.queued) return okAnswer({ TaskId: claim.taskId });
      task = (await deps.tasks.get(claim.taskId)) ?? {
        ...fresh,
        taskId: claim.taskId,
        createdAt: claim.createdAt,
      };
    } else if (kind !== "batch") {
      const quota = await deps.tasks.takeBroadcast(now, perDay);
      if (quota !== "ok") {
        await deps.tasks.release(scope, request.msgRandom, fresh.taskId);
        return quota === "interval"
          ? failAnswer(
              TENCENT.tooFrequent,
              "pushes to all users, tags or attributes must be more than 1 s apart",
            )
          : failAnswer(
              TENCENT.dailyQuota,
              `the daily limit of ${perDay} pushes to all users, tags or attributes is reached`,
            );
      }
    }
    await handOn(request, task);
    await deps.tasks.markQueued(scope, request.msgRandom);
    return okAnswer({ TaskId: task.taskId });
  }

  /** Page 0 of the fan-out onto the ingest queue (or, for a push that reaches nobody offline, its count). */
  async function handOn(request: PushRequest, task: PushTask): Promise<void> {
    if (request.onlineOnly !== undefined) {
      await deps.tasks.count(task.taskId, { "skipped:online only": 1 });
      return;
    }
    const page: ServerPushTask = {
      taskId: task.taskId,
      audience:
        request.accounts !== undefined
          ? { kind: "accounts", accounts: request.accounts }
          : { kind: "segments", ...(request.condition !== undefined && { condition: request.condition }) },
      content: { ...request.content, messageKey: task.taskId, sentAt: task.createdAt },
      from: request.from,
      page: 0,
      acceptedAt: task.createdAt,
    };
    await deps.queue.publish([{ command: SERVER_PUSH_PAGE, acceptedAt: task.createdAt, body: page }]);
  }

  /**
   * `timpush/revoke` (https://trtc.io/document/60571): stops the task's jobs not yet sent and, when
   * the request gives a text, replaces the notification on the devices that showed it (on the task's
   * own replacement key, quietly). Within 24 h, once (90052, 90050).
   */
  async function revoke(body: unknown): Promise<RestAnswer> {
    const fields = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
    const taskId = fields.TaskId;
    if (!isTaskId(taskId)) refuse(TENCENT.unknownTask, "TaskId", "names no push task");
    const task = await deps.tasks.get(taskId);
    if (task === undefined) refuse(TENCENT.unknownTask, "TaskId", "names no push task");
    const now = deps.clock.now();
    if (task.revokedAt !== undefined) refuse(TENCENT.alreadyRevoked, "TaskId", "was revoked already");
    if (now - task.createdAt > REVOKE_WINDOW_MS)
      refuse(TENCENT.revokeExpired, "TaskId", "is older than 24 hours: it can no longer be revoked");
    let replacement: { title?: string; desc?: string; ext?: string } = {};
    if (fields.OfflinePushInfo !== undefined) {
      const { options, problems } = senderPushOptions(
        JSON.stringify({ [OFFLINE_PUSH_INFO_MEMBER]: fields.OfflinePushInfo }),
      );
      const [problem] = problems.filter((p) => !p.endsWith(" is empty"));
      if (problem !== undefined) {
        const [field = OFFLINE_PUSH_INFO_MEMBER, ...rest] = problem.split(" ");
        refuse(TENCENT.offlinePushInfo, field, rest.join(" "));
      }
      replacement = {
        ...(options.title !== undefined && { title: options.title }),
        ...(options.desc !== undefined && { desc: options.desc }),
        ...(options.ext !== undefined && { ext: options.ext }),
      };
    }
    if ((await deps.tasks.revoke(taskId, now)) === undefined)
      refuse(TENCENT.alreadyRevoked, "TaskId", "was revoked already");
    if (replacement.title !== undefined || replacement.desc !== undefined) {
      await deps.queue.publish([
        { command: SERVER_PUSH_REVOKE, acceptedAt: now, body: { taskId, ...replacement } },
      ]);
    }
    return okAnswer();
  }

  async function serve(path: string, body: unknown): Promise<RestAnswer> {
    const kind = PUSHES[path];
    if (kind !== undefined) return push(kind, body);
    if (path === REVOKE_PATH) return revoke(body);
    if (path === STATISTICS_PATH) return statistics(body, deps.tasks);
    const command = path.startsWith(TAG_PREFIX) ? path.slice(TAG_PREFIX.length) : "";
    if ((TAG_COMMANDS as readonly string[]).includes(command))
      return tagCommand(command as TagCommand, body, deps.profiles);
    return refuse(
      TENCENT.badResource,
      "path",
      `${path} is not served here: chatpush serves Tencent's push APIs (timpush/batch, timpush/push, all_member_push/im_push, timpush/revoke, timpush/all_member_push_statistics and the tag and attribute APIs); other REST calls go to Tencent`,
    );
  }

  return async (request) => {
    if (!request.path.startsWith("/v4/")) return undefined;
    try {
      if (request.method !== "POST")
        return answer(failAnswer(TENCENT.httpParse, "method: REST calls are POST requests"));
      const auth = authenticateAdmin(request.query, {
        sdkAppId: deps.sdkAppId,
        adminIdentifier: deps.adminIdentifier,
        secretKey: await deps.userSigKey(),
        nowMs: deps.clock.now(),
      });
      if (!auth.ok) return answer(failAnswer(auth.code, auth.info));
      // "An empty body must be {}" (tencent-chat.md §5.1).
      const parsed = parseBoundedJson(request.body === "" ? "{}" : request.body, {
        maxBytes: MAX_REST_BODY_BYTES,
      });
      if (!parsed.ok) return answer(failAnswer(TENCENT.json, `body: ${parsed.error}`));
      return answer(await serve(request.path, parsed.value));
    } catch (error) {
      if (error instanceof RestRefusal) return answer(failAnswer(error.code, error.message));
      deps.onError?.(error, request);
      // Not the caller's fault: a 5xx, so the app server retries (with the same MsgRandom: pushed once).
      return answer(
        failAnswer(TENCENT.internal, "internal error; retry the call with the same MsgRandom"),
        500,
      );
    }
  };
}
