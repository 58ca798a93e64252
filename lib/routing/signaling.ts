import type { MsgElement } from "../tencent/callback.schema.js";
import { groupIdProblem, userIdProblem } from "../tencent/ids.js";

/**
 * Tencent's signaling (V2TIMSignalingManager: invite, cancel, accept, reject, timeout) travels as an
 * ordinary custom message: one TIMCustomElem whose `Data` is a JSON envelope, `businessID` 1, with
 * `inviteID`, `inviter`, `actionType`, `inviteeList`, `groupID`, `timeout` and the app's own `data`
 * string (tencent-calls-and-server-push.md §1.2; the parsers it cites: TencentCloud/chat-uikit-flutter
 * lib/ui/utils/message.dart `isCallingData`, chat-uikit-uniapp TUIKit/plugins/plugin-components/
 * index.ts `isCallMessage`, the Dart V2TimSignalingInfo.fromJson). TUICalling / TUICallKit put their
 * call JSON in that `data` string (§1.4). Pure: what a message is, nothing about who gets a push.
 *
 * Anything that does not parse is a normal message (the message handlers then push its Desc, or
 * nothing): never raw JSON as text.
 */

/** The envelope's discriminator: signaling messages carry the number 1 (§1.2). */
export const SIGNALING_BUSINESS_ID = 1;
/**
 * The inner `businessID` of a call: "av_call" (TUICalling / TUICallKit v2, CallModel.VALUE_BUSINESS_ID
 * in Tencent-RTC/TUICallKit …/trtccalling/model/impl/base/CallModel.java) and "rtc_call" (the V3 call
 * protocol, TUIConstants.TUICalling.V3_CALL_BUSINESS_ID in TencentCloud/TIMSDK Android/TUIKit/TUICore/
 * tuicore/src/main/java/com/tencent/qcloud/tuicore/TUIConstants.java).
 */
export const CALL_BUSINESS_IDS: ReadonlySet<string> = new Set(["av_call", "rtc_call"]);
/**
 * TUIKit also takes a numeric inner `businessID` 1 as a call (`CALL_TIMEOUT_BUSINESS_ID = 1.0`,
 * TIMSDK TUIConstants.java), apparently on the timeout messages the SDK writes itself (§1.4); only
 * honoured on actionType 5.
 */
export const CALL_TIMEOUT_BUSINESS_ID = 1;
/** TUICalling's helper message before a group call: `{"businessID":"av_call"}` without an envelope (§1.4). */
export const CALL_HELPER_BUSINESS_ID = "av_call";

/**
 * `V2TIMSignalingActionType` (SDK header V2TIMSignaling.h; the Dart constants, e.g.
 * SIGNALING_ACTION_TYPE_INVITE_TIMEOUT = 5; §1.1).
 */
export const SIGNALING_ACTIONS = { invite: 1, cancel: 2, accept: 3, reject: 4, timeout: 5 } as const;
export type SignalingActionType = (typeof SIGNALING_ACTIONS)[keyof typeof SIGNALING_ACTIONS];

/**
 * Bounds of our own, for values that become keys and record sizes. Tencent documents no inviteID
 * format (UNCONFIRMED: the SDKs return ids of a few dozen visible ASCII characters); 128 leaves room
 * and keeps `CALL#<inviteID>` far below DynamoDB's key limit.
 */
export const MAX_INVITE_ID_LENGTH = 128;
/**
 * Invitees of one invitation that chatpush rings. TUICallKit calls "up to 9 people"
 * (tuicallkit_user_exceed_limit, Tencent-RTC/TUICallKit Android/tuicallkit-kt/src/main/res/values-en/
 * strings.xml); an invitation naming more than this is not a call UI's and is refused as a call.
 */
export const MAX_INVITEES = 100;
/**
 * The longest an invitation rings. TUICalling uses 30 s (TRTCCallingImpl.java TIME_OUT_COUNT); the
 * signaling API takes any number of seconds (§1.1). Ten minutes bounds how long chatpush keeps a call
 * ringing (and its records alive) whatever a sender asks.
 */
export const MAX_RING_SECONDS = 600;

const VISIBLE_ASCII = /^[\x21-\x7e]+$/;

export interface SignalingEnvelope {
  inviteId: string;
  /** The envelope's `inviter`, when it is a valid user id. */
  inviter?: string;
  actionType: SignalingActionType;
  /** Valid user ids only, at most MAX_INVITEES, without repeats. */
  inviteeList: string[];
  /** Group invitations only ("" = none). */
  groupId?: string;
  /** Seconds; 0 = "no timeout detection" (§1.1); capped at MAX_RING_SECONDS. */
  timeoutSeconds: number;
  /** The custom element's `Data` as sent: the app hands it back to the SDK (`addInvitedSignaling`). */
  raw: string;
}

/** What a call's signaling message means (the §1.4 decision table, TIMSDK TUIChatCallingDataProvider.m). */
export type CallSignal =
  /** A new call: the only signal that rings. */
  | { kind: "invite"; media: "audio" | "video"; roomId?: string }
  /** TUICalling's "hang up": an invite with `call_end` / `cmd: "hangup"` (timeout 0, its own inviteID). */
  | { kind: "hangup" }
  /** A media switch during a call (invite, accept or reject of `switchToAudio` / `switchToVideo`). */
  | { kind: "switch" }
  /** An invite with a `data` object whose `cmd` is missing or unknown: TUIKit shows it as unknown. */
  | { kind: "unknown"; cmd?: string }
  | { kind: "cancel" }
  | { kind: "accept" }
  | { kind: "reject"; busy: boolean }
  | { kind: "timeout" };

export type SignalingMessage =
  /** Not signaling at all, or not parseable as such: a normal message. */
  | { kind: "message" }
  /** TUICalling's online-only helper before a group call: the call rings from the group invite. */
  | { kind: "call-helper" }
  /** Signaling the app uses for something other than calls: a normal message. */
  | { kind: "other-signaling"; envelope: SignalingEnvelope }
  | { kind: "call"; envelope: SignalingEnvelope; signal: CallSignal };

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function parseObject(text: unknown): Json | undefined {
  if (typeof text !== "string" || text === "") return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return isObject(value) ? value : undefined;
  } catch {
    // Malformed (or absurdly nested) JSON is a normal message's data, not signaling.
    return undefined;
  }
}

/** The message's custom element `Data`: a message carries at most one custom element (tencent-chat.md §3). */
function customData(body: readonly MsgElement[]): string | undefined {
  const custom = body.find((element) => element.MsgType === "TIMCustomElem");
  const data = (custom?.MsgContent as Json | undefined)?.Data;
  return typeof data === "string" ? data : undefined;
}

function envelopeOf(outer: Json, raw: string): SignalingEnvelope | undefined {
  const { inviteID, inviter, actionType, inviteeList, groupID, timeout } = outer;
  if (typeof inviteID !== "string" || !VISIBLE_ASCII.test(inviteID) || inviteID.length > MAX_INVITE_ID_LENGTH)
    return undefined;
  if (typeof actionType !== "number" || !Object.values(SIGNALING_ACTIONS).includes(actionType as never))
    return undefined;
  if (inviteeList !== undefined && !Array.isArray(inviteeList)) return undefined;
  const invitees = [
    ...new Set(
      (inviteeList ?? []).filter(
        (id): id is string => typeof id === "string" && userIdProblem(id) === undefined,
      ),
    ),
  ];
  if (invitees.length > MAX_INVITEES) return undefined;
  const seconds = typeof timeout === "number" && Number.isFinite(timeout) && timeout > 0 ? timeout : 0;
  const group =
    typeof groupID === "string" && groupID !== "" && groupIdProblem(groupID) === undefined
      ? groupID
      : undefined;
  return {
    inviteId: inviteID,
    ...(typeof inviter === "string" && userIdProblem(inviter) === undefined ? { inviter } : {}),
    actionType: actionType as SignalingActionType,
    inviteeList: invitees,
    ...(group !== undefined ? { groupId: group } : {}),
    timeoutSeconds: Math.min(Math.ceil(seconds), MAX_RING_SECONDS),
    raw,
  };
}

/** A TRTC room id as the app needs it to join: `data.str_room_id`, else `data.room_id`, else `room_id`. */
function roomIdOf(call: Json, data: Json | undefined): string | undefined {
  for (const value of [data?.str_room_id, data?.room_id, call.room_id]) {
    if (typeof value === "string" && value !== "" && value.length <= 128) return value;
    if (typeof value === "number" && Number.isSafeInteger(value)) return String(value);
  }
  return undefined;
}

const MEDIA_COMMANDS: Readonly<Record<string, "audio" | "video">> = {
  audioCall: "audio",
  videoCall: "video",
};
const SWITCH_COMMANDS: ReadonlySet<string> = new Set(["switchToAudio", "switchToVideo"]);

/**
 * The §1.4 table, as TIMSDK's TUIChatCallingDataProvider.m (`protocolType`) and TUICalling's
 * TRTCCallingImpl.java (`isSwitchAudioData`, `isLineBusy`) read a call's inner JSON.
 */
export function callSignal(actionType: SignalingActionType, call: Json): CallSignal {
  const data = isObject(call.data) ? call.data : undefined;
  const cmd = typeof data?.cmd === "string" ? data.cmd : undefined;
  // The old format marks a switch at the top level (`switch_to_audio_call`, TRTCCallingImpl.java).
  const switching =
    (cmd !== undefined && SWITCH_COMMANDS.has(cmd)) || call.switch_to_audio_call !== undefined;
  switch (actionType) {
    case SIGNALING_ACTIONS.invite: {
      // `call_end` is the hang-up's duration (TRTCCallingImpl.java VIDEO_CALL_ACTION_HANGUP): never a ring.
      if (typeof call.call_end === "number" || cmd === "hangup") return { kind: "hangup" };
      if (switching) return { kind: "switch" };
      if (data !== undefined) {
        const media = cmd === undefined ? undefined : MEDIA_COMMANDS[cmd];
        if (media === undefined) return { kind: "unknown", ...(cmd !== undefined ? { cmd } : {}) };
        const roomId = roomIdOf(call, data);
        return { kind: "invite", media, ...(roomId !== undefined ? { roomId } : {}) };
      }
      // The older format has no `data` object: `call_type` 1 audio, 2 video (§1.4).
      const roomId = roomIdOf(call, undefined);
      return {
        kind: "invite",
        media: call.call_type === 2 ? "video" : "audio",
        ...(roomId !== undefined ? { roomId } : {}),
      };
    }
    case SIGNALING_ACTIONS.cancel:
      return { kind: "cancel" };
    case SIGNALING_ACTIONS.accept:
      return switching ? { kind: "switch" } : { kind: "accept" };
    case SIGNALING_ACTIONS.reject:
      if (switching) return { kind: "switch" };
      return { kind: "reject", busy: call.line_busy !== undefined || data?.message === "lineBusy" };
    case SIGNALING_ACTIONS.timeout:
      return { kind: "timeout" };
  }
}

/** Whether the inner JSON is a call's (§6 item 1): av_call / rtc_call, or numeric 1 on a timeout. */
function isCallData(actionType: SignalingActionType, call: Json | undefined): boolean {
  if (call === undefined) return actionType === SIGNALING_ACTIONS.timeout;
  const id = call.businessID;
  if (typeof id === "string") return CALL_BUSINESS_IDS.has(id);
  return actionType === SIGNALING_ACTIONS.timeout && (id === CALL_TIMEOUT_BUSINESS_ID || id === undefined);
}

/** What a message's body is: a normal message, TUICalling's helper, other signaling, or a call's. */
export function parseSignaling(body: readonly MsgElement[]): SignalingMessage {
  const raw = customData(body);
  const outer = parseObject(raw);
  if (outer === undefined || raw === undefined) return { kind: "message" };
  if (outer.businessID === CALL_HELPER_BUSINESS_ID && outer.inviteID === undefined)
    return { kind: "call-helper" };
  if (outer.businessID !== SIGNALING_BUSINESS_ID) return { kind: "message" };
  const envelope = envelopeOf(outer, raw);
  if (envelope === undefined) return { kind: "message" };
  // The app's `data` is itself a JSON string (double-encoded, §1.2); a timeout may carry none.
  const inner = outer.data === undefined || outer.data === "" ? undefined : parseObject(outer.data);
  if (inner === undefined && outer.data !== undefined && outer.data !== "") {
    return { kind: "other-signaling", envelope };
  }
  if (!isCallData(envelope.actionType, inner)) return { kind: "other-signaling", envelope };
  return { kind: "call", envelope, signal: callSignal(envelope.actionType, inner ?? {}) };
}
