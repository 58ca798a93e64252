import { createHash, timingSafeEqual } from "node:crypto";

/**
 * Callback authentication (tencent-chat.md §1.3): when a token is set in the console, Chat appends
 * `RequestTime` (unix seconds) and `Sign = lowercase_hex(sha256(token + RequestTime))` to every
 * callback URL. It is a plain hash of the concatenation, not an HMAC.
 */
export function callbackSign(token: string, requestTime: string): string {
  return createHash("sha256")
    .update(token + requestTime, "utf8")
    .digest("hex");
}

export interface CallbackAuthInput {
  /** Our SDKAppID, as a decimal string. */
  sdkAppId: string;
  /**
   * The callback token; undefined = authentication off (only the local runtime allows that). A token
   * shorter than MIN_CALLBACK_TOKEN_LENGTH throws CallbackTokenConfigError.
   */
  token?: string;
  /** The callback URL's query parameters. */
  query: Record<string, string>;
  /** Epoch ms. */
  nowMs: number;
  /** How far RequestTime may be from now; Tencent's CN doc says to reject beyond 1 minute. */
  maxSkewSeconds?: number;
}

export type CallbackAuthResult =
  | { ok: true }
  | { ok: false; status: 401 | 403; error: string; field: "SdkAppid" | "Sign" | "RequestTime" };

/**
 * The shortest callback token chatpush accepts. Sign is a plain sha256(token + RequestTime) and
 * RequestTime is public, so the token is the only secret: an empty one makes Sign computable by
 * anyone, a short one guessable offline from a single signed URL. Tencent allows 1–128 characters
 * (tencent-chat.md §1.3, set_callback_token); we require 16, and the stack generates 32.
 */
export const MIN_CALLBACK_TOKEN_LENGTH = 16;

/** The configured token cannot authenticate anything: every callback is refused until it is fixed. */
export class CallbackTokenConfigError extends Error {
  override name = "CallbackTokenConfigError";
}

/** Throws CallbackTokenConfigError unless `token` is long enough to be a secret. */
export function assertCallbackToken(token: string, where = "the callback token"): void {
  if (token.length < MIN_CALLBACK_TOKEN_LENGTH) {
    throw new CallbackTokenConfigError(
      `${where} is ${token.length === 0 ? "empty" : `${token.length} characters long`}; callback authentication needs at least ${MIN_CALLBACK_TOKEN_LENGTH} characters (set the same value in the Chat console), so every callback is refused until it is fixed`,
    );
  }
}

const DEFAULT_MAX_SKEW_SECONDS = 60;
const UNIX_SECONDS = /^\d{1,12}$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * Checks that a callback is for our app (the docs require comparing `SdkAppid`, casing as Tencent
 * sends it) and, when a token is configured, that it is signed and fresh (replay protection).
 */
export function verifyCallbackAuth(input: CallbackAuthInput): CallbackAuthResult {
  const { query } = input;
  const sdkAppId = query.SdkAppid;
  if (sdkAppId === undefined || sdkAppId === "") {
    return { ok: false, status: 403, error: "SdkAppid query parameter is missing", field: "SdkAppid" };
  }
  if (sdkAppId !== input.sdkAppId) {
    return {
      ok: false,
      status: 403,
      error: `SdkAppid ${JSON.stringify(sdkAppId)} does not match this app`,
      field: "SdkAppid",
    };
  }
  if (input.token === undefined) return { ok: true };
  // Fail closed: a token too short to be a secret authenticates nothing (thrown, not a 401: it is ours to fix).
  assertCallbackToken(input.token);

  const sign = query.Sign;
  const requestTime = query.RequestTime;
  if (sign === undefined || sign === "") {
    return {
      ok: false,
      status: 401,
      error: "Sign query parameter is missing (callback authentication is on)",
      field: "Sign",
    };
  }
  if (requestTime === undefined || requestTime === "") {
    return {
      ok: false,
      status: 401,
      error: "RequestTime query parameter is missing (callback authentication is on)",
      field: "RequestTime",
    };
  }
  if (!UNIX_SECONDS.test(requestTime)) {
    return {
      ok: false,
      status: 401,
      error: `RequestTime ${JSON.stringify(requestTime)} is not unix seconds`,
      field: "RequestTime",
    };
  }
  const maxSkewMs = (input.maxSkewSeconds ?? DEFAULT_MAX_SKEW_SECONDS) * 1000;
  const skewMs = Math.abs(input.nowMs - Number(requestTime) * 1000);
  if (skewMs > maxSkewMs) {
    return {
      ok: false,
      status: 401,
      error: `RequestTime ${requestTime} is stale (${Math.round(skewMs / 1000)} s from now)`,
      field: "RequestTime",
    };
  }
  if (!signsEqual(callbackSign(input.token, requestTime), sign.toLowerCase())) {
    return { ok: false, status: 401, error: "Sign does not match", field: "Sign" };
  }
  return { ok: true };
}

/** Constant-time for any well-formed Sign; a malformed one is rejected on its shape alone. */
function signsEqual(expected: string, given: string): boolean {
  if (!SHA256_HEX.test(given)) return false;
  return timingSafeEqual(Buffer.from(expected, "hex"), Buffer.from(given, "hex"));
}
