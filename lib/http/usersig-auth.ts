import type * as z from "zod/mini";
import type { Clock } from "../ports/clock.js";
import { userIdProblem } from "../tencent/ids.js";
import { verifyUserSig } from "../tencent/usersig.js";
import { MAX_API_BODY_BYTES, parseBoundedJson } from "./json.js";
import { errorResponse, type HttpRequest, type HttpResponse } from "./types.js";

/**
 * What the app-facing APIs (devices, preferences) share: the caller proves who it is with its own IM
 * UserSig, so a user only ever reaches their own data; request parts are validated with the same 400s
 * (`{"error", "field"}`); and the same 401 / 405 / 204 responses. One copy, so the APIs cannot drift.
 */

export interface UserSigAuthOptions {
  sdkAppId: number;
  /** The app's UserSig secret key; the caller fetches and caches it. */
  userSigKey: () => Promise<string>;
  clock: Clock;
}

export type AuthResult = { ok: true; userId: string } | { ok: false; response: HttpResponse };

/** A validated request part, or the 400 to return instead. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; response: HttpResponse };

const AUTH_SCHEME = /^UserSig\s+(\S+)\s*$/i;

/** `Authorization: UserSig <usersig>` → the user the sig was issued to, or the 401 to return. */
export async function authenticateUser(
  request: HttpRequest,
  options: UserSigAuthOptions,
): Promise<AuthResult> {
  const header = request.headers.authorization;
  if (header === undefined || header.trim() === "") {
    return { ok: false, response: unauthorized('Authorization header is missing; send "UserSig <usersig>"') };
  }
  const match = AUTH_SCHEME.exec(header.trim());
  if (!match?.[1]) {
    return { ok: false, response: unauthorized('Authorization header must be "UserSig <usersig>"') };
  }
  const result = verifyUserSig(match[1], {
    sdkAppId: options.sdkAppId,
    secretKey: await options.userSigKey(),
    nowMs: options.clock.now(),
  });
  if (!result.ok) return { ok: false, response: unauthorized(`UserSig rejected: ${result.error}`) };
  // Genuine, but the user id becomes a key: it must follow Tencent's UserID rule (lib/tencent/ids.ts).
  const problem = userIdProblem(result.identifier);
  if (problem !== undefined) {
    return { ok: false, response: unauthorized(`UserSig rejected: TLS.identifier ${problem}`) };
  }
  return { ok: true, userId: result.identifier };
}

/** A percent-encoded path segment, decoded and validated; a 400 names `field`. */
export function parsePathParam<S extends z.ZodMiniType>(
  raw: string,
  schema: S,
  field: string,
): Parsed<z.output<S>> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    return { ok: false, response: errorResponse(400, `${field} is not valid percent-encoding`, field) };
  }
  const result = schema.safeParse(decoded);
  if (!result.success) {
    return { ok: false, response: errorResponse(400, result.error.issues[0]?.message ?? "invalid", field) };
  }
  return { ok: true, value: result.data };
}

/** The JSON body, validated; a 400 names the offending field ("body" when it is the body itself). */
export function parseJsonBody<S extends z.ZodMiniType>(request: HttpRequest, schema: S): Parsed<z.output<S>> {
  const parsed = parseBoundedJson(request.body, { maxBytes: MAX_API_BODY_BYTES });
  if (!parsed.ok) return { ok: false, response: errorResponse(parsed.status, parsed.error, parsed.field) };
  const result = schema.safeParse(parsed.value);
  if (result.success) return { ok: true, value: result.data };
  const issue = result.error.issues[0];
  // Unknown keys are reported on the object itself; name the offending key instead.
  const path =
    issue?.code === "unrecognized_keys" ? [...issue.path, ...issue.keys.slice(0, 1)] : (issue?.path ?? []);
  const field = path.map(String).join(".") || "body";
  return { ok: false, response: errorResponse(400, issue?.message ?? "invalid body", field) };
}

/** 405 with the `Allow` header; the APIs answer it before authenticating. */
export function methodNotAllowed(methods: readonly string[]): HttpResponse {
  const response = errorResponse(405, `method not allowed; use ${methods.join(" or ")}`, "method");
  return { ...response, headers: { ...response.headers, allow: methods.join(", ") } };
}

export function noContent(): HttpResponse {
  return { status: 204, body: "" };
}

function unauthorized(message: string): HttpResponse {
  const response = errorResponse(401, message, "Authorization");
  return { ...response, headers: { ...response.headers, "www-authenticate": "UserSig" } };
}
