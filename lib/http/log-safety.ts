/**
 * What may reach a log line. Two rules, applied to every line chatpush writes (Powertools in Lambda,
 * the journal and console locally):
 * 1. No control character raw: C0/C1 controls, DEL, the Unicode line and paragraph separators, bidi
 *    overrides and lone surrogates are written as `\uXXXX`, so a user id holding "\n" cannot forge a
 *    line and a right-to-left override cannot disguise one.
 * 2. No secret whole: values under secret-bearing names (token, userSig, authorization, privateKey,
 *    appSecret, access_token, …) keep at most their first 6 and last 4 characters, and any long opaque
 *    run inside free text (device tokens, UserSigs, OAuth tokens, keys, JWT parts in an error message)
 *    is shortened the same way.
 */

const UNSAFE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point
  /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** `text` with every unsafe character as a visible `\uXXXX` escape. */
export function escapeControl(text: string): string {
  return text.replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** Names (compared lower-case, without `_` and `-`) whose values are secrets, whatever they hold. */
const SECRET_NAMES: ReadonlySet<string> = new Set([
  "token",
  "tokens",
  "devicetoken",
  "pushtoken",
  "regid",
  "registrationid",
  "registrationtoken",
  "usersig",
  "authorization",
  "privatekey",
  "secret",
  "secretkey",
  "appsecret",
  "clientsecret",
  "mastersecret",
  "appkey",
  "apikey",
  "accesstoken",
  "authtoken",
  "refreshtoken",
  "idtoken",
  "password",
  "sign",
  "callbacktoken",
  "credentials",
]);

export function isSecretName(name: string): boolean {
  return SECRET_NAMES.has(name.toLowerCase().replace(/[_-]/g, ""));
}

/**
 * Fields that hold our own identifiers, already validated at the edge: they are shown whole (a device
 * id may be a UUID, which the opaque-run rule would otherwise shorten).
 */
const IDENTITY_NAMES: ReadonlySet<string> = new Set([
  "stage",
  "userId",
  "deviceId",
  "messageKey",
  "groupId",
  "vendor",
  "conversationId",
  "messageId",
  "requestId",
  "function_request_id",
  "xray_trace_id",
]);

/**
 * 32+ characters of base64url / hex / Tencent-base64 in a row: a token, a key or a sig. `/` ends a
 * run, so file paths in stack traces stay readable; a base64 secret is then cut into runs, and no
 * run of 32 or more is shown whole.
 */
const OPAQUE_RUN = /[A-Za-z0-9+=_*-]{32,}/g;

/** A secret as it may be logged: long ones keep 6 + 4 characters to tell them apart, short ones nothing. */
export function redactValue(secret: string): string {
  return secret.length >= 24 ? `${secret.slice(0, 6)}…${secret.slice(-4)}` : "…";
}

/**
 * A run with a digit in it: random secrets have digits (a 32-character base64 run lacks one with a
 * chance of about 1 in 1,000), long identifiers such as `IdempotencyAlreadyInProgressError` do not.
 */
function redactOpaque(run: string): string {
  return /\d/.test(run) ? redactValue(run) : run;
}

/** A string as it may be logged under `key`. */
export function safeLogString(key: string, text: string): string {
  if (isSecretName(key)) return redactValue(text);
  const escaped = escapeControl(text);
  return IDENTITY_NAMES.has(key) ? escaped : escaped.replace(OPAQUE_RUN, redactOpaque);
}

/**
 * A JSON.stringify replacer that applies both rules (Powertools Logger's `jsonReplacerFn`). Objects
 * under a secret name are replaced whole: a credentials object holds nothing else worth logging.
 */
export function logReplacer(key: string, value: unknown): unknown {
  // JSON writes a line feed as `\n`, never raw: a stack trace keeps its frames apart.
  if (typeof value === "string" && key === "stack")
    return safeLogString(key, value).replace(/\\u000a/g, "\n");
  if (typeof value === "string") return safeLogString(key, value);
  if (key !== "" && isSecretName(key) && value !== null && typeof value === "object") return "[redacted]";
  return value;
}

/** A copy of a flat or nested record with both rules applied (the local journal and console). */
export function safeForLog<T>(value: T): T {
  return JSON.parse(JSON.stringify(value, logReplacer)) as T;
}

/** An error as it may be printed: the same name, its message and stack made safe. */
export function loggableError(error: unknown): Error {
  if (!(error instanceof Error)) return new Error(safeLogString("message", String(error)));
  const safe = new Error(safeLogString("message", error.message));
  safe.name = error.name;
  if (error.stack !== undefined) safe.stack = safeLogString("stack", error.stack);
  return safe;
}
