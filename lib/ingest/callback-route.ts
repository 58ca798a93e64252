import { type HttpRequest, type HttpResponse, type HttpRoute, json } from "../http/types.js";
import type { Clock, IngestQueue } from "../ports/index.js";
import { isHandledCommand, parseCallback } from "../tencent/callback.schema.js";
import { verifyCallbackAuth } from "../tencent/sign.js";

export interface CallbackRouteDeps {
  /** Our SDKAppID, as the console shows it. */
  sdkAppId: string;
  /** The callback authentication token; undefined when authentication is off in the console. */
  callbackToken: () => Promise<string | undefined>;
  queue: IngestQueue;
  clock: Clock;
}

export const CALLBACK_PATH = "/callback";

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
    if (request.method !== "POST") return fail(405, "callbacks are POST requests");

    const nowMs = deps.clock.now();
    const token = await deps.callbackToken();
    const auth = verifyCallbackAuth({
      sdkAppId: deps.sdkAppId,
      query: request.query,
      nowMs,
      ...(token !== undefined ? { token } : {}),
    });
    if (!auth.ok) return fail(auth.status, auth.error);

    let body: unknown;
    try {
      body = JSON.parse(request.body);
    } catch {
      return fail(400, "body is not valid JSON", "body");
    }
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

    await deps.queue.publish(parsed.callback);
    return ok();
  };
}
