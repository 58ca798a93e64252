/**
 * Tencent's answers to its REST push APIs, so an app server written against Tencent reads ours the same
 * way: HTTP 200 with `{"ActionStatus":"OK"|"FAIL","ErrorCode","ErrorInfo"}` in the body ("the HTTP
 * return code of the push service REST API is 200 unless a network error occurs",
 * https://trtc.io/document/74196; REST rules, https://www.tencentcloud.com/document/product/1047/34620).
 * A refused request names the offending field at the start of `ErrorInfo`.
 */

/** Codes with the page that documents each. */
export const TENCENT = {
  // Common REST codes (https://cloud.tencent.com/document/product/679/131708, tencent-chat.md §5.1).
  /** "HTTP parse error": not a POST, a bad query value. */
  httpParse: 60002,
  /** "Bad account or UserSig in the URL": identifier or usersig missing. */
  badAccount: 60004,
  /** "SDKAppID is invalid": a request for another app than ours. */
  badSdkAppId: 60006,
  /** "Bad request URL/resource": a REST path chatpush does not serve. */
  badResource: 60009,
  /** "sdkappid missing". */
  noSdkAppId: 60012,
  // UserSig codes (same page, "账号错误码"; tencent-chat.md §6).
  userSigExpired: 70001,
  userSigEmpty: 70002,
  userSigUnparsable: 70003,
  /** "UserSig verification failed": signed with another key. */
  userSigBadKey: 70009,
  /** "The UserID in the request does not match the UserID the UserSig was made for". */
  userSigIdentifier: 70013,
  /** "The SDKAppID in the request does not match the SDKAppID the UserSig was made for". */
  userSigSdkAppId: 70014,
  // Push service codes (https://trtc.io/document/74196, "Server Error Code").
  json: 90001,
  /** "MsgRandom missing or not an Integer". */
  msgRandom: 90005,
  /** "The request requires App administrator permissions". */
  needsAdmin: 90009,
  /** "Number of requested accounts exceeds the limit". */
  tooManyAccounts: 90018,
  /** "Tag length exceeds the limit (≤ 50 bytes)". */
  tagTooLong: 90020,
  /** "Duplicate tags exist in the TagsOr and TagsAnd push conditions". */
  duplicateTags: 90022,
  /** "Push interval must be greater than 1 second". */
  tooFrequent: 90024,
  /** "Error in offline message storage time" (MsgLifeTime). */
  lifetime: 90026,
  /** "More than 10 tags in the push condition, or in the add-tag request". */
  tooManyTags: 90032,
  /** "Invalid attribute". */
  badAttribute: 90033,
  /** "Push by attribute and by tag cannot coexist". */
  mixedCondition: 90039,
  /** "One of the push conditions has an empty tag". */
  emptyTag: 90040,
  /** "Push times exceed the daily limit (default: 100)". */
  dailyQuota: 90047,
  /** "Invalid TaskId, no push record". */
  unknownTask: 90049,
  /** "Repeated withdrawal". */
  alreadyRevoked: 90050,
  /** "Withdrawal must be requested within 24 hours". */
  revokeExpired: 90052,
  // sendmsg / batchsendmsg codes (https://www.tencentcloud.com/document/product/1047/34919 and
  // 1047/34920, tencent-chat.md §5.2, §5.3): the push pages list no code for these fields.
  badMsgBody: 90002,
  /** "To_Account missing" (also: an entry that is not a UserID). */
  toAccount: 90003,
  /** "MsgBody not an array". */
  msgBodyNotArray: 90007,
  /** "From_Account missing or invalid". */
  fromAccount: 90008,
  /** "Bad format": a field of the wrong type that no more specific code covers. */
  badFormat: 90010,
  /** "OfflinePushInfo has an invalid format" (tencent-chat.md §8, push-related codes). */
  offlinePushInfo: 90043,
  /** "Internal error" (tencent-chat.md §5.2). */
  internal: 91000,
} as const;

export type TencentCode = (typeof TENCENT)[keyof typeof TENCENT];

/** A refused request: Tencent's code and what is wrong, starting with the field's name. */
export class RestRefusal extends Error {
  override name = "RestRefusal";
  constructor(
    readonly code: TencentCode,
    readonly field: string,
    problem: string,
  ) {
    super(`${field} ${problem}`);
  }
}

export function refuse(code: TencentCode, field: string, problem: string): never {
  throw new RestRefusal(code, field, problem);
}

export interface RestAnswer {
  ActionStatus: "OK" | "FAIL";
  ErrorCode: number;
  ErrorInfo: string;
  [key: string]: unknown;
}

export function okAnswer(extra: Record<string, unknown> = {}): RestAnswer {
  return { ActionStatus: "OK", ErrorCode: 0, ErrorInfo: "", ...extra };
}

export function failAnswer(code: number, info: string): RestAnswer {
  return { ActionStatus: "FAIL", ErrorCode: code, ErrorInfo: info };
}
