import type { MessageContent } from "../routing/compose.js";
import {
  c2cConversationId,
  conversationExt,
  type MessageTexts,
  messageText,
  messageTexts,
} from "../routing/content.js";
import {
  OFFLINE_PUSH_INFO_MEMBER,
  type SenderPushOptions,
  senderPushOptions,
} from "../routing/push-options.js";
import { LANGUAGES } from "../routing/texts.js";
import type { MsgElement } from "../tencent/callback.schema.js";
import { userIdProblem } from "../tencent/ids.js";
import { parseCondition } from "./condition.js";
import { refuse, TENCENT, type TencentCode } from "./errors.js";
import {
  MAX_BATCH_ACCOUNTS,
  MAX_DATA_ID_BYTES,
  MAX_MSG_LIFETIME_SECONDS,
  MAX_MSG_RANDOM,
  utf8Length,
} from "./limits.js";
import type { PushCondition, TaskKind } from "./ports.js";

/**
 * The bodies of `timpush/batch`, `timpush/push` and `all_member_push/im_push`, checked field by field
 * with the code Tencent answers for each (lib/push-api/errors.ts). Tencent gives most limits a code of
 * their own (a tag too long, too many tags, an empty tag…), which reads clearer as a table of checks
 * than as schema issues mapped back to codes.
 */

export interface PushRequest {
  kind: TaskKind;
  from: string;
  msgRandom: number;
  /** batch: the recipients (deduplicated, in order). */
  accounts?: string[];
  condition?: PushCondition;
  dataId?: string;
  lifetimeSeconds?: number;
  /**
   * Why nothing goes out offline although the request is valid: `PushFlag` 1 ("online only", and
   * chatpush has no online channel), or im_push's `MsgLifeTime` 0 ("online users only").
   */
  onlineOnly?: string;
  /** The notification without its key (the TaskId) and time. */
  content: Omit<MessageContent, "messageKey" | "sentAt">;
}

type Fields = Record<string, unknown>;

const isObject = (value: unknown): value is Fields =>
  typeof value === "object" && value !== null && !Array.isArray(value);

function account(value: unknown, field: string, code: TencentCode): string {
  if (typeof value !== "string") refuse(code, field, "must be a UserID string");
  const problem = userIdProblem(value);
  if (problem !== undefined) refuse(code, field, problem);
  return value;
}

function msgRandom(value: unknown): number {
  if (value === undefined || value === null) refuse(TENCENT.msgRandom, "MsgRandom", "is missing");
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > MAX_MSG_RANDOM) {
    refuse(TENCENT.msgRandom, "MsgRandom", `must be an integer from 0 to ${MAX_MSG_RANDOM}`);
  }
  return value;
}

function accounts(value: unknown): string[] {
  if (value === undefined || value === null) refuse(TENCENT.toAccount, "To_Account", "is missing");
  if (!Array.isArray(value)) refuse(TENCENT.toAccount, "To_Account", "must be an array of UserIDs");
  if (value.length === 0)
    refuse(TENCENT.toAccount, "To_Account", `must hold 1 to ${MAX_BATCH_ACCOUNTS} accounts`);
  if (value.length > MAX_BATCH_ACCOUNTS)
    refuse(TENCENT.tooManyAccounts, "To_Account", `holds more than ${MAX_BATCH_ACCOUNTS} accounts`);
  return [...new Set(value.map((entry, i) => account(entry, `To_Account[${i}]`, TENCENT.toAccount)))];
}

function msgBody(value: unknown, required: boolean): MsgElement[] | undefined {
  if (value === undefined || value === null) {
    if (required) refuse(TENCENT.badMsgBody, "MsgBody", "is missing");
    return undefined;
  }
  if (!Array.isArray(value))
    refuse(TENCENT.msgBodyNotArray, "MsgBody", "must be an array of message elements");
  if (value.length === 0 && required) refuse(TENCENT.badMsgBody, "MsgBody", "holds no element");
  value.forEach((element, i) => {
    if (!isObject(element) || typeof element.MsgType !== "string")
      refuse(TENCENT.badMsgBody, `MsgBody[${i}].MsgType`, "must be a message element type");
    if (element.MsgContent !== undefined && !isObject(element.MsgContent))
      refuse(TENCENT.badMsgBody, `MsgBody[${i}].MsgContent`, "must be an object");
  });
  return value as MsgElement[];
}

function lifetime(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (
    typeof value !== "number" ||
    !Number.isInteger(value) ||
    value < 0 ||
    value > MAX_MSG_LIFETIME_SECONDS
  ) {
    refuse(
      TENCENT.lifetime,
      "MsgLifeTime",
      `must be an integer from 0 to ${MAX_MSG_LIFETIME_SECONDS} seconds`,
    );
  }
  return value;
}

function dataId(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") refuse(TENCENT.badFormat, "DataId", "must be a string");
  if (utf8Length(value) > MAX_DATA_ID_BYTES)
    refuse(TENCENT.badFormat, "DataId", `must be at most ${MAX_DATA_ID_BYTES} bytes`);
  return value;
}

interface PushInfo {
  options: SenderPushOptions;
  pushFlagOff: boolean;
}

/**
 * `OfflinePushInfo` with the same reader as a chat message's (lib/routing/push-options.ts), but
 * strict: where a message's broken option is ignored, an admin's broken request is refused (90043)
 * naming the field. Server pushes count no badge unless `ApnsInfo.BadgeMode` is 0: "the default is 1
 * in pure-push APIs" (tencent-chat.md §4.3), "unread is not counted by default"
 * (https://trtc.io/zh/document/67553, https://trtc.io/zh/document/60561: 默认不计未读数).
 */
function offlinePushInfo(value: unknown, required: boolean): PushInfo {
  if (value === undefined || value === null) {
    if (required) refuse(TENCENT.offlinePushInfo, OFFLINE_PUSH_INFO_MEMBER, "is missing");
    return { options: { noBadge: true }, pushFlagOff: false };
  }
  if (!isObject(value)) refuse(TENCENT.offlinePushInfo, OFFLINE_PUSH_INFO_MEMBER, "must be an object");
  const { options, problems } = senderPushOptions(JSON.stringify({ [OFFLINE_PUSH_INFO_MEMBER]: value }));
  // An empty Title or Desc is Tencent's "not set" (it then derives the text), not an error.
  const [problem] = problems.filter((p) => !p.endsWith(" is empty"));
  if (problem !== undefined) {
    const [field = OFFLINE_PUSH_INFO_MEMBER, ...rest] = problem.split(" ");
    refuse(TENCENT.offlinePushInfo, field, rest.join(" "));
  }
  const apns = isObject(value.ApnsInfo) ? value.ApnsInfo : {};
  const countsBadge = apns.BadgeMode === 0 || apns.BadgeMode === "0";
  const pushFlagOff = options.noPush === true;
  const { noPush: _noPush, ...rest } = options;
  return { options: { ...rest, ...(countsBadge ? {} : { noBadge: true }) }, pushFlagOff };
}

const EMPTY_TEXTS = Object.fromEntries(LANGUAGES.map((language) => [language, ""])) as MessageTexts;

/** Parses one push request's body; throws RestRefusal with Tencent's code. */
export function parsePushRequest(
  kind: TaskKind,
  body: unknown,
  context: { adminIdentifier: string; attrNames: ReadonlySet<string> },
): PushRequest {
  if (!isObject(body)) refuse(TENCENT.json, "body", "must be a JSON object");
  const random = msgRandom(body.MsgRandom);
  const from =
    kind === "batch" || body.From_Account !== undefined
      ? account(body.From_Account, "From_Account", TENCENT.fromAccount)
      : context.adminIdentifier;
  const recipients = kind === "batch" ? accounts(body.To_Account) : undefined;
  const condition = kind === "batch" ? undefined : parseCondition(body.Condition, context.attrNames);
  // im_push carries a message; timpush/push may (its IM-message variant); timpush/batch pushes only.
  const elements = kind === "batch" ? undefined : msgBody(body.MsgBody, kind === "im_push");
  const life = kind === "im_push" ? lifetime(body.MsgLifeTime) : undefined;
  const { options, pushFlagOff } = offlinePushInfo(body.OfflinePushInfo, kind === "batch");
  const data = kind === "batch" ? dataId(body.DataId) : undefined;

  const text = elements === undefined ? undefined : messageText(elements);
  if (options.desc === undefined && (text?.text ?? "") === "" && !pushFlagOff) {
    refuse(
      TENCENT.offlinePushInfo,
      "OfflinePushInfo.Desc",
      elements === undefined
        ? "is needed: it is the notification's text"
        : "is needed: MsgBody has no text to show",
    );
  }
  const conversationId = c2cConversationId(from);
  // A push-only notice opens nothing by default; a message opens its conversation with the sender.
  const ext = text?.ext ?? (elements === undefined ? "{}" : conversationExt(conversationId));
  const onlineOnly = pushFlagOff
    ? "OfflinePushInfo.PushFlag 1: online delivery only, and chatpush pushes offline only"
    : kind === "im_push" && (life ?? 0) === 0
      ? "MsgLifeTime 0: im_push reaches online users only (Tencent's default)"
      : undefined;
  return {
    kind,
    from,
    msgRandom: random,
    ...(recipients !== undefined && { accounts: recipients }),
    ...(condition !== undefined && { condition }),
    ...(data !== undefined && { dataId: data }),
    ...(life !== undefined && { lifetimeSeconds: life }),
    ...(onlineOnly !== undefined && { onlineOnly }),
    content: {
      conversationId,
      title: "",
      bodies: elements === undefined ? EMPTY_TEXTS : messageTexts(elements),
      ext,
      ...(text?.sound !== undefined && { sound: text.sound }),
      options,
      purpose: "operations",
    },
  };
}
