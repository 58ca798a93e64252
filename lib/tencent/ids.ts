/**
 * The identifiers that arrive from outside and become DynamoDB keys, map keys, log fields or vendor
 * headers: Tencent user ids, group ids, topic ids, message keys, and the app's device ids. Each has
 * a documented length and alphabet; anything outside it is refused at the edge with a 400 naming the
 * field, so nothing answered 200 can later fail on a key DynamoDB refuses (partition key ≤ 2048
 * bytes, sort key ≤ 1024 bytes), a header HTTP/2 refuses, or a log line it forges.
 */

/**
 * UserID: "a string of up to 32 bytes" (REST account_import, https://www.tencentcloud.com/document/product/1047/34953;
 * multiaccount_import 1047/34954: "A single user name cannot exceed 32 bytes"); Use Limits
 * (1047/34381): letters and digits, no special characters. tls-sig-api-v2 source comments allow
 * `[a-zA-Z0-9_-]`. We accept visible ASCII (0x21–0x7e), so ids such as `user@example.com` or
 * Tencent's own `@TIM#SYSTEM` operator pass, while control characters, spaces, emoji and lone
 * surrogates never reach a key, a header or a log line.
 */
export const MAX_USER_ID_BYTES = 32;

/**
 * GroupID: "A custom group ID must be printable ASCII characters (0x20-0x7e) with a maximum length of
 * 48 bytes" (V2TIMGroupInfo.groupID, https://im.sdk.qcloud.com/doc/en/interfaceV2TIMGroupInfo.html).
 * Ids Tencent assigns (`@TGS#2J4SZEAEL`, Community `@TGS#_…`) are shorter.
 */
export const MAX_GROUP_ID_BYTES = 48;

/**
 * TopicId: `@TGS#_<groupId>@TOPIC#_<custom part>` (tencent-chat.md §2.2). UNCONFIRMED: no documented
 * length for the custom part was found; twice the group id's limit plus the markers bounds it.
 */
export const MAX_TOPIC_ID_BYTES = 128;

/**
 * MsgKey: opaque; REST responses describe it as at most 50 characters (tencent-chat.md §2.1), the
 * samples are `{MsgSeq}_{MsgRandom}_{MsgTime}`. 64 visible ASCII characters leave room and keep a
 * key that travels as APNs `apns-collapse-id` within that header's 64-byte limit.
 */
export const MAX_MSG_KEY_BYTES = 64;

/** The app's own device id (`PUT /v1/devices/{deviceId}`): ours to define. */
export const MAX_DEVICE_ID_LENGTH = 128;
const DEVICE_ID_ALPHABET = /^[A-Za-z0-9._:-]+$/;

const VISIBLE_ASCII = /^[\x21-\x7e]+$/;
const PRINTABLE_ASCII = /^[\x20-\x7e]+$/;

/**
 * Names that are properties of every plain object (`__proto__`, `constructor`, `hasOwnProperty`, …).
 * Used as a map key they read or overwrite the prototype instead of an entry, so they are never ids.
 */
const OBJECT_PROTOTYPE_NAMES: ReadonlySet<string> = new Set([
  ...Object.getOwnPropertyNames(Object.prototype),
  "prototype",
]);

export function isReservedKey(key: string): boolean {
  return OBJECT_PROTOTYPE_NAMES.has(key);
}

/** Why `value` is not a Tencent user id, or undefined when it is one. */
export function userIdProblem(value: string): string | undefined {
  if (value === "") return "must not be empty";
  if (!VISIBLE_ASCII.test(value)) return "must be visible ASCII (no spaces, control characters or emoji)";
  if (value.length > MAX_USER_ID_BYTES)
    return `must be at most ${MAX_USER_ID_BYTES} bytes (Tencent's UserID limit)`;
  return undefined;
}

export function groupIdProblem(value: string): string | undefined {
  if (value === "") return "must not be empty";
  if (!PRINTABLE_ASCII.test(value)) return "must be printable ASCII (0x20-0x7e)";
  if (value.length > MAX_GROUP_ID_BYTES)
    return `must be at most ${MAX_GROUP_ID_BYTES} bytes (Tencent's GroupID limit)`;
  return undefined;
}

export function topicIdProblem(value: string): string | undefined {
  if (value === "") return "must not be empty";
  if (!PRINTABLE_ASCII.test(value)) return "must be printable ASCII (0x20-0x7e)";
  if (value.length > MAX_TOPIC_ID_BYTES) return `must be at most ${MAX_TOPIC_ID_BYTES} bytes`;
  return undefined;
}

export function msgKeyProblem(value: string): string | undefined {
  if (value === "") return "must not be empty";
  if (!VISIBLE_ASCII.test(value)) return "must be visible ASCII (no spaces or control characters)";
  if (value.length > MAX_MSG_KEY_BYTES) return `must be at most ${MAX_MSG_KEY_BYTES} characters`;
  return undefined;
}

export function deviceIdProblem(value: string): string | undefined {
  if (value === "") return "must not be empty";
  if (value.length > MAX_DEVICE_ID_LENGTH) return `must be at most ${MAX_DEVICE_ID_LENGTH} characters`;
  if (!DEVICE_ID_ALPHABET.test(value)) return "may only contain A-Z a-z 0-9 . _ : -";
  if (isReservedKey(value)) return `must not be ${JSON.stringify(value)} (a reserved name)`;
  return undefined;
}
