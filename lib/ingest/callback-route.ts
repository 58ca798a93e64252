import { MAX_CALLBACK_BODY_BYTES, MAX_QUEUED_BYTES, parseBoundedJson, utf8Bytes } from "../http/json.js";
import { type HttpRequest, type HttpResponse, type HttpRoute, json } from "../http/types.js";
import type { Clock, IngestQueue } from "../ports/index.js";
import { type AcceptedCallback, isHandledCommand, parseCallback } from "../tencent/callback.schema.js";
import { verifyCallbackAuth } from "../tencent/sign.js";

export interface CallbackRouteDeps {
  /** Our SDKAppID, as the console shows it. */
  sdkAppId: string;
  /** The callback authentication token; undefined when authentication is off in the console. */
  callbackToken: () => Promise<string | undefined>;
  queue: IngestQueue;
  clock: Clock;
  /**
   * Work done before the answer instead of on the ingest queue (presence changes, so that no message
   * callback sent after them is routed without them). Resolves true when the callback needs no
   * queueing; false (or a throw) queues it as usual.
   */
  atIngest?: (callback: AcceptedCallback) => Promise<boolean>;
}

export const CALLBACK_PATH = "/callback";

/**
 * "A one-to-one or group message must be no longer than 12KB" (Use Limits,
 * https://www.tencentcloud.com/document/product/1047/34381); 64 KiB leaves room for the callback's
 * other fields and JSON escapes, and keeps a message's delivery jobs far inside SQS's limit.
 */
export const MAX_MESSAGE_CALLBACK_BYTES = 64 * 1024;
const MESSAGE_COMMANDS: ReadonlySet<string> = new Set([
  "C2C.CallbackAfterSendMsg",
  "Group.CallbackAfterSendMsg",
]);

/** Exactly the body Tencent documents for a processed callback (tencent-chat.md §1.5). */
export const CALLBACK_OK_BODY = JSON.stringify({ ActionStatus: "OK", ErrorInfo: "", ErrorCode: 0 });

function ok(): HttpResponse {
  return { status: 200, headers: { "content-type": "application/json" }, body: CALLBACK_OK_BODY };
}

function fail(status: number, message: string, field?: string): HttpResponse {
  return json(status, {
    ActionStatus: "FAIL",
    ErrorInfo: message,
    ErrorCode: 1,
    ...(field !== undefined ? { field } : {}),
  });
}

/**
 * POST /callback: verify, validate, put on the ingest queue, answer. Nothing else happens before the
 * answer, so it stays well inside Tencent's 2 s; once we answer OK the event is on a queue with a
 * dead-letter queue behind it, so it is delivered, retried or parked — never lost.
 */
export function makeCallbackRoute(deps: CallbackRouteDeps): HttpRoute {
  return async (request: HttpRequest) => {
    if (request.path !== CALLBACK_PATH) return undefined;
    if (request.method !== "POST") return fail(405, "callbacks are POST requests", "method");

    const nowMs = deps.clock.now();
    const token = await deps.callbackToken();
    const auth = verifyCallbackAuth({
      sdkAppId: deps.sdkAppId,
      query: request.query,
      nowMs,
      ...(token !== undefined ? { token } : {}),
    });
    if (!auth.ok) return fail(auth.status, auth.error, auth.field);

    // Bounded before parsing: no body may nest deep enough to overflow anything downstream (lib/http/json.ts).
    const json = parseBoundedJson(request.body, { maxBytes: MAX_CALLBACK_BODY_BYTES });
    if (!json.ok) return fail(json.status, json.error, json.field);
    const body = json.value;
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      return fail(400, "body must be a JSON object", "body");
    }

    const bodyCommand = (body as { CallbackCommand?: unknown }).CallbackCommand;
    const command =
      request.query.CallbackCommand ?? (typeof bodyCommand === "string" ? bodyCommand : undefined);
    if (command === undefined) return fail(400, "CallbackCommand is missing", "CallbackCommand");
    // Commands we do not act on are acknowledged, so enabling more callbacks in the console is harmless.
    if (!isHandledCommand(command)) return ok();

    const optPlatform = request.query.OptPlatform;
    const parsed = parseCallback(command, body, {
      acceptedAt: nowMs,
      ...(optPlatform !== undefined ? { optPlatform } : {}),
    });
    if (!parsed.ok) return fail(400, parsed.error, parsed.field);
    if (MESSAGE_COMMANDS.has(command) && utf8Bytes(request.body) > MAX_MESSAGE_CALLBACK_BYTES) {
      return fail(413, `a message callback is at most ${MAX_MESSAGE_CALLBACK_BYTES} bytes`, "MsgBody");
    }
    // What is queued must fit an SQS message, or it would be answered OK and never routed.
    if (utf8Bytes(JSON.stringify(parsed.callback)) > MAX_QUEUED_BYTES) {
      return fail(413, `the event is larger than ${MAX_QUEUED_BYTES} bytes once queued`, "body");
    }

    if (deps.atIngest !== undefined && (await deps.atIngest(parsed.callback).catch(() => false))) return ok();
    await deps.queue.publish(parsed.callback);
    return ok();
  };
}
