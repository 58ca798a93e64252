import { en } from "zod/locales";
import * as z from "zod/mini";
import { groupIdProblem, msgKeyProblem, topicIdProblem, userIdProblem } from "./ids.js";

// zod/mini registers no locale, so every built-in message would read "Invalid input". Classic zod
// registers English on first use unless a locale is already set; do the same. (`en` comes from
// "zod/locales", not `z.locales.en`: the namespace would put every locale in the bundle.)
if (!z.config().localeError) z.config(en());

/**
 * Schemas of the callback bodies chatpush acts on (reference: tencent-chat.md §2). Tencent's docs and
 * samples disagree on field types and presence, so only what routing cannot do without is required;
 * everything else is optional and unknown fields pass through untouched.
 */

/** Integers that Tencent sometimes sends as strings (EventTime in the intl samples). */
const looseInt = z.pipe(
  z.transform((v: unknown) => (typeof v === "string" && /^-?\d+$/.test(v.trim()) ? Number(v) : v)),
  z.number().check(z.int()),
);

/** A string checked by one of lib/tencent/ids.ts's rules; the message names what is wrong with it. */
function idString(problemOf: (value: string) => string | undefined, optionalEmpty = false) {
  return z.string().check(
    z.superRefine((value, ctx) => {
      if (optionalEmpty && value === "") return;
      const problem = problemOf(value);
      if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem, input: value });
    }),
  );
}

// Every id that becomes a key, a header or a log field is checked here (lib/tencent/ids.ts).
const userId = idString(userIdProblem);
/** An optional user id some callbacks send empty (system operations); "" is kept and never keyed. */
const optionalUserId = z.optional(idString(userIdProblem, true));
const msgKey = idString(msgKeyProblem);
const topicId = z.optional(idString(topicIdProblem, true));
/** Group names are at most 100 bytes of UTF-8 (V2TIMGroupInfo.groupName); a generous cap. */
const groupName = z.optional(z.string().check(z.maxLength(1024, "must be at most 1024 characters")));

export const msgElementSchema = z.looseObject({
  MsgType: z.string(),
  MsgContent: z.optional(z.looseObject({})),
});
export type MsgElement = z.infer<typeof msgElementSchema>;

export const c2cAfterSendMsgSchema = z.looseObject({
  CallbackCommand: z.optional(z.string()),
  From_Account: userId,
  To_Account: userId,
  MsgSeq: z.optional(looseInt),
  MsgRandom: z.optional(looseInt),
  MsgTime: z.optional(looseInt),
  MsgKey: z.optional(msgKey),
  MsgId: z.optional(z.string()),
  OnlineOnlyFlag: z.optional(looseInt),
  SendMsgResult: z.optional(looseInt),
  ErrorInfo: z.optional(z.string()),
  UnreadMsgNum: z.optional(looseInt),
  MsgBody: z._default(z.array(msgElementSchema), []),
  CloudCustomData: z.optional(z.string()),
  EventTime: z.optional(looseInt),
});
export type C2CAfterSendMsg = z.infer<typeof c2cAfterSendMsgSchema>;

export const stateChangeSchema = z.looseObject({
  CallbackCommand: z.optional(z.string()),
  EventTime: z.optional(looseInt),
  Info: z.looseObject({
    Action: z.string(),
    To_Account: userId,
    Reason: z.optional(z.string()),
  }),
  KickedDevice: z.optional(z.array(z.looseObject({ Platform: z.optional(z.string()) }))),
});
export type StateChange = z.infer<typeof stateChangeSchema>;

export const portraitSetSchema = z.looseObject({
  CallbackCommand: z.optional(z.string()),
  Operator_Account: optionalUserId,
  From_Account: userId,
  EventTime: z.optional(looseInt),
  ProfileItem: z._default(
    z.array(
      z.looseObject({
        Tag: z.string(),
        // Profile values are at most 500 bytes (custom fields, Use Limits 1047/34381); the nickname is stored.
        Value: z.optional(
          z.union([z.string().check(z.maxLength(4096, "must be at most 4096 characters")), z.number()]),
        ),
      }),
    ),
    [],
  ),
});
export type PortraitSet = z.infer<typeof portraitSetSchema>;

const groupId = idString(groupIdProblem);
const memberList = z._default(z.array(z.looseObject({ Member_Account: userId })), []);

export const groupAtInfoSchema = z.looseObject({
  GroupAtAllFlag: z.optional(looseInt),
  GroupAt_Account: optionalUserId,
});

export const groupAfterSendMsgSchema = z.looseObject({
  CallbackCommand: z.optional(z.string()),
  GroupId: groupId,
  Type: z.optional(z.string()),
  From_Account: userId,
  Operator_Account: optionalUserId,
  Random: z.optional(looseInt),
  MsgId: z.optional(z.string()),
  MsgSeq: looseInt,
  MsgTime: z.optional(looseInt),
  OnlineOnlyFlag: z.optional(looseInt),
  MsgBody: z._default(z.array(msgElementSchema), []),
  CloudCustomData: z.optional(z.string()),
  TopicId: topicId,
  EventTime: z.optional(looseInt),
  GroupAtInfo: z.optional(z.array(groupAtInfoSchema)),
});
export type GroupAfterSendMsg = z.infer<typeof groupAfterSendMsgSchema>;

export const groupCreatedSchema = z.looseObject({
  CallbackCommand: z.optional(z.string()),
  GroupId: groupId,
  Operator_Account: optionalUserId,
  Owner_Account: optionalUserId,
  Type: z.optional(z.string()),
  Name: groupName,
  MemberList: memberList,
  EventTime: z.optional(looseInt),
});
export type GroupCreated = z.infer<typeof groupCreatedSchema>;

export const memberJoinedSchema = z.looseObject({
  CallbackCommand: z.optional(z.string()),
  GroupId: groupId,
  Type: z.optional(z.string()),
  JoinType: z.optional(z.string()),
  Operator_Account: optionalUserId,
  NewMemberList: memberList,
  EventTime: z.optional(looseInt),
});
export type MemberJoined = z.infer<typeof memberJoinedSchema>;

export const memberExitedSchema = z.looseObject({
  CallbackCommand: z.optional(z.string()),
  GroupId: groupId,
  Type: z.optional(z.string()),
  ExitType: z.optional(z.string()),
  Operator_Account: optionalUserId,
  ExitMemberList: memberList,
  EventTime: z.optional(looseInt),
});
export type MemberExited = z.infer<typeof memberExitedSchema>;

export const groupDestroyedSchema = z.looseObject({
  CallbackCommand: z.optional(z.string()),
  GroupId: groupId,
  Type: z.optional(z.string()),
  Owner_Account: optionalUserId,
  Name: groupName,
  EventTime: z.optional(looseInt),
});
export type GroupDestroyed = z.infer<typeof groupDestroyedSchema>;

export const groupInfoChangedSchema = z.looseObject({
  CallbackCommand: z.optional(z.string()),
  GroupId: groupId,
  Type: z.optional(z.string()),
  Operator_Account: optionalUserId,
  Name: groupName,
  EventTime: z.optional(looseInt),
});
export type GroupInfoChanged = z.infer<typeof groupInfoChangedSchema>;

export const c2cRecalledSchema = z.looseObject({
  CallbackCommand: z.optional(z.string()),
  From_Account: userId,
  To_Account: userId,
  MsgKey: msgKey,
  UnreadMsgNum: z.optional(looseInt),
  EventTime: z.optional(looseInt),
});
export type C2CRecalled = z.infer<typeof c2cRecalledSchema>;

export const groupRecalledSchema = z.looseObject({
  CallbackCommand: z.optional(z.string()),
  GroupId: groupId,
  Type: z.optional(z.string()),
  Operator_Account: optionalUserId,
  MsgSeqList: z.array(z.looseObject({ MsgSeq: looseInt })),
  TopicId: topicId,
  EventTime: z.optional(looseInt),
});
export type GroupRecalled = z.infer<typeof groupRecalledSchema>;

/** The callbacks chatpush handles, by CallbackCommand. Others are acknowledged and ignored. */
export const CALLBACK_SCHEMAS = {
  "C2C.CallbackAfterSendMsg": c2cAfterSendMsgSchema,
  "C2C.CallbackAfterMsgWithDraw": c2cRecalledSchema,
  "State.StateChange": stateChangeSchema,
  "Profile.CallbackPortraitSet": portraitSetSchema,
  "Group.CallbackAfterSendMsg": groupAfterSendMsgSchema,
  "Group.CallbackAfterRecallMsg": groupRecalledSchema,
  "Group.CallbackAfterCreateGroup": groupCreatedSchema,
  "Group.CallbackAfterNewMemberJoin": memberJoinedSchema,
  "Group.CallbackAfterMemberExit": memberExitedSchema,
  "Group.CallbackAfterGroupDestroyed": groupDestroyedSchema,
  "Group.CallbackAfterGroupInfoChanged": groupInfoChangedSchema,
} as const;

export type HandledCommand = keyof typeof CALLBACK_SCHEMAS;

export function isHandledCommand(command: string): command is HandledCommand {
  return Object.hasOwn(CALLBACK_SCHEMAS, command);
}

type Accepted<C extends HandledCommand> = {
  command: C;
  acceptedAt: number;
  optPlatform?: string;
  body: z.infer<(typeof CALLBACK_SCHEMAS)[C]>;
};

/** A callback accepted by ingest, as it travels on the ingest queue to the router. */
export type AcceptedCallback = { [C in HandledCommand]: Accepted<C> }[HandledCommand];

export type ParseResult =
  | { ok: true; callback: AcceptedCallback }
  | { ok: false; field: string; error: string };

/** Validates a callback body for `command`; the error names the first bad field. */
export function parseCallback(
  command: HandledCommand,
  body: unknown,
  meta: { acceptedAt: number; optPlatform?: string },
): ParseResult {
  const result = CALLBACK_SCHEMAS[command].safeParse(body);
  if (!result.success) {
    const issue = result.error.issues[0];
    const field = issue?.path.join(".") || "body";
    return { ok: false, field, error: `${command}: ${field}: ${issue?.message ?? "invalid"}` };
  }
  return {
    ok: true,
    callback: { command, ...meta, body: result.data } as AcceptedCallback,
  };
}
