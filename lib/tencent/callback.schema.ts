import { z } from "zod";

/**
 * Schemas of the callback bodies chatpush acts on (reference: tencent-chat.md §2). Tencent's docs and
 * samples disagree on field types and presence, so only what routing cannot do without is required;
 * everything else is optional and unknown fields pass through untouched.
 */

/** Integers that Tencent sometimes sends as strings (EventTime in the intl samples). */
const looseInt = z.preprocess(
  (v) => (typeof v === "string" && /^-?\d+$/.test(v.trim()) ? Number(v) : v),
  z.number().int(),
);

const userId = z.string().min(1).max(128);

export const msgElementSchema = z.looseObject({
  MsgType: z.string(),
  MsgContent: z.looseObject({}).optional(),
});
export type MsgElement = z.infer<typeof msgElementSchema>;

export const c2cAfterSendMsgSchema = z.looseObject({
  CallbackCommand: z.string().optional(),
  From_Account: userId,
  To_Account: userId,
  MsgSeq: looseInt.optional(),
  MsgRandom: looseInt.optional(),
  MsgTime: looseInt.optional(),
  MsgKey: z.string().optional(),
  MsgId: z.string().optional(),
  OnlineOnlyFlag: looseInt.optional(),
  SendMsgResult: looseInt.optional(),
  ErrorInfo: z.string().optional(),
  UnreadMsgNum: looseInt.optional(),
  MsgBody: z.array(msgElementSchema).default([]),
  CloudCustomData: z.string().optional(),
  EventTime: looseInt.optional(),
});
export type C2CAfterSendMsg = z.infer<typeof c2cAfterSendMsgSchema>;

export const stateChangeSchema = z.looseObject({
  CallbackCommand: z.string().optional(),
  EventTime: looseInt.optional(),
  Info: z.looseObject({
    Action: z.string(),
    To_Account: userId,
    Reason: z.string().optional(),
  }),
  KickedDevice: z.array(z.looseObject({ Platform: z.string().optional() })).optional(),
});
export type StateChange = z.infer<typeof stateChangeSchema>;

export const portraitSetSchema = z.looseObject({
  CallbackCommand: z.string().optional(),
  Operator_Account: z.string().optional(),
  From_Account: userId,
  EventTime: looseInt.optional(),
  ProfileItem: z
    .array(z.looseObject({ Tag: z.string(), Value: z.union([z.string(), z.number()]).optional() }))
    .default([]),
});
export type PortraitSet = z.infer<typeof portraitSetSchema>;

/** The callbacks chatpush handles, by CallbackCommand. Others are acknowledged and ignored. */
export const CALLBACK_SCHEMAS = {
  "C2C.CallbackAfterSendMsg": c2cAfterSendMsgSchema,
  "State.StateChange": stateChangeSchema,
  "Profile.CallbackPortraitSet": portraitSetSchema,
} as const;

export type HandledCommand = keyof typeof CALLBACK_SCHEMAS;

export function isHandledCommand(command: string): command is HandledCommand {
  return Object.hasOwn(CALLBACK_SCHEMAS, command);
}

/** A callback accepted by ingest, as it travels on the ingest queue to the router. */
export type AcceptedCallback =
  | { command: "C2C.CallbackAfterSendMsg"; acceptedAt: number; optPlatform?: string; body: C2CAfterSendMsg }
  | { command: "State.StateChange"; acceptedAt: number; optPlatform?: string; body: StateChange }
  | { command: "Profile.CallbackPortraitSet"; acceptedAt: number; optPlatform?: string; body: PortraitSet };

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
