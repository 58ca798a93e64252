import type { AndroidPushOptions, IosPushOptions } from "../model/index.js";
import { MAX_BODY_CHARS, truncate } from "./content.js";

/**
 * What the sender asked for, read from the message's `CloudCustomData`. Tencent's callbacks never
 * carry a message's `OfflinePushInfo` (tencent-chat.md §2.1, §9), so chatpush takes it where the
 * sender can put it: `CloudCustomData` as a JSON object with an `"OfflinePushInfo"` member holding
 * Tencent's own REST `OfflinePushInfo` object, field names and values as Tencent documents them
 * (tencent-chat.md §4, https://trtc.io/document/77715). An app sets it with the SDK's
 * `sendMessage(cloudCustomData: …)`, an app server with REST `sendmsg`'s `CloudCustomData`.
 *
 * Pure and forgiving: a field with the wrong type or value is dropped on its own and reported, the
 * rest still applies; a broken CloudCustomData never fails the callback.
 */
export const OFFLINE_PUSH_INFO_MEMBER = "OfflinePushInfo";

export interface SenderPushOptions {
  /** `PushFlag` 1: the sender switched the offline push off. */
  noPush?: boolean;
  title?: string;
  desc?: string;
  ext?: string;
  /** `ApnsInfo.BadgeMode` 1: leave the badge alone (no count, no number). */
  noBadge?: boolean;
  ios?: IosPushOptions;
  android?: AndroidPushOptions;
}

export interface ParsedPushOptions {
  options: SenderPushOptions;
  /** What was ignored and why, e.g. `OfflinePushInfo.AndroidInfo.OPPONotifyLevel must be 1, 2 or 16`. */
  problems: string[];
}

/** `PushFlag` values (SDK OFFLINE_PUSH_FLAG_DEFAULT = 0, OFFLINE_PUSH_FLAG_NO_PUSH = 1; §4.1). */
const PUSH_FLAG_NO_PUSH = 1;
/** `ApnsInfo.BadgeMode` (SDK OFFLINE_APNS_BADGE_MODE_DEFAULT = 0, _IGNORE = 1; §4.3, §7.4). */
const BADGE_MODE_IGNORE = 1;
/** `kIOSOfflinePushNoSound`: no sound, no vibration (tencent-chat.md §7.4). */
export const IOS_NO_SOUND = "push.no_sound";
/**
 * `Ext` "must be a JSON string, or some Android vendors drop the push"; Desc plus Ext should stay
 * within 3 KB because APNs allows 4 KB (§4.1). Beyond this many UTF-8 bytes it is dropped.
 */
const MAX_EXT_BYTES = 2048;
/** Channel ids, categories and image URLs are short vendor identifiers; anything longer is not one. */
const MAX_FIELD_CHARS = 512;

type Fields = Record<string, unknown>;
type Checked<T> = { ok: true; value: T } | { ok: false; problem: string };
type Check<T> = (value: unknown) => Checked<T>;

const accept = <T>(value: T): Checked<T> => ({ ok: true, value });
const refuse = (problem: string): Checked<never> => ({ ok: false, problem });

const isObject = (value: unknown): value is Fields =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** A non-empty string of at most `max` characters. */
const text =
  (max = MAX_FIELD_CHARS): Check<string> =>
  (value) => {
    if (typeof value !== "string") return refuse("must be a string");
    if (value === "") return refuse("is empty");
    return value.length <= max ? accept(value) : refuse(`must be at most ${max} characters`);
  };

/** One of the documented values; integers may come as numeric strings (Tencent's own samples do). */
function oneOf<T extends string | number>(allowed: readonly T[]): Check<T> {
  return (value) => {
    const candidate =
      typeof allowed[0] === "number" && typeof value === "string" && /^\d+$/.test(value)
        ? Number(value)
        : value;
    return (allowed as readonly unknown[]).includes(candidate)
      ? accept(candidate as T)
      : refuse(
          `must be ${allowed
            .map((v) => JSON.stringify(v))
            .join(", ")
            .replace(/, ([^,]*)$/, " or $1")}`,
        );
  };
}

/** Image fields are HTTPS URLs (Huawei, Honor: "HTTPS URL"; FCM and APNs fetch them over HTTPS). */
const httpsUrl: Check<string> = (value) => {
  const checked = text()(value);
  if (!checked.ok) return checked;
  try {
    return new URL(checked.value).protocol === "https:" ? checked : refuse("must be an https:// URL");
  } catch {
    return refuse("must be an https:// URL");
  }
};

const jsonText: Check<string> = (value) => {
  if (typeof value !== "string") return refuse("must be a string");
  if (value === "") return refuse("is empty");
  if (Buffer.byteLength(value, "utf8") > MAX_EXT_BYTES)
    return refuse(`must be at most ${MAX_EXT_BYTES} bytes`);
  try {
    JSON.parse(value);
    return accept(value);
  } catch {
    return refuse("must be a JSON string (some Android vendors drop a push whose ext is not JSON)");
  }
};

/** `AndroidInfo` field (§4.2) → `Notification.android` field. */
const ANDROID_FIELDS: { [K in keyof AndroidPushOptions]-?: [string, Check<AndroidPushOptions[K]>] } = {
  sound: ["Sound", text()],
  huaweiChannelId: ["HuaWeiChannelID", text()],
  huaweiCategory: ["HuaWeiCategory", text()],
  huaweiImportance: ["HuaWeiImportance", oneOf(["LOW", "NORMAL"] as const)],
  huaweiImage: ["HuaWeiImage", httpsUrl],
  honorImportance: ["HonorImportance", oneOf(["LOW", "NORMAL"] as const)],
  honorImage: ["HonorImage", httpsUrl],
  xiaomiChannelId: ["XiaoMiChannelID", text()],
  oppoChannelId: ["OPPOChannelID", text()],
  oppoCategory: ["OPPOCategory", text()],
  oppoNotifyLevel: ["OPPONotifyLevel", oneOf([1, 2, 16] as const)],
  vivoClassification: ["VIVOClassification", oneOf([0, 1] as const)],
  vivoCategory: ["VIVOCategory", text()],
  googleChannelId: ["GoogleChannelID", text()],
  googleImage: ["GoogleImage", httpsUrl],
  googlePriority: ["GooglePriority", oneOf(["normal", "high"] as const)],
  meizuNoticeMsgType: ["MeiZuNoticeMsgType", oneOf([0, 1] as const)],
};

/** Reads `fields` into a new object by the table, collecting problems under `path`. */
function readTable<T extends object>(
  fields: Fields,
  table: { [K in keyof T]-?: [string, Check<T[K]>] },
  path: string,
  problems: string[],
): T {
  const out: Record<string, unknown> = {};
  for (const [key, [name, check]] of Object.entries(table) as [string, [string, Check<unknown>]][]) {
    if (fields[name] === undefined || fields[name] === null) continue;
    const checked = check(fields[name]);
    if (checked.ok) out[key] = checked.value;
    else problems.push(`${path}.${name} ${checked.problem}`);
  }
  return out as T;
}

export function senderPushOptions(cloudCustomData: string | undefined): ParsedPushOptions {
  const problems: string[] = [];
  const options: SenderPushOptions = {};
  if (cloudCustomData === undefined || !cloudCustomData.includes(OFFLINE_PUSH_INFO_MEMBER)) {
    // CloudCustomData is the app's own: anything without our member is none of our business.
    return { options, problems };
  }
  let data: unknown;
  try {
    data = JSON.parse(cloudCustomData);
  } catch {
    return { options, problems: ["CloudCustomData mentions OfflinePushInfo but is not JSON"] };
  }
  if (!isObject(data) || data[OFFLINE_PUSH_INFO_MEMBER] === undefined) return { options, problems };
  const info = data[OFFLINE_PUSH_INFO_MEMBER];
  if (!isObject(info)) return { options, problems: ["OfflinePushInfo must be a JSON object"] };

  const top = readTable<{ pushFlag: 0 | 1; title: string; desc: string; ext: string }>(
    info,
    {
      pushFlag: ["PushFlag", oneOf([0, PUSH_FLAG_NO_PUSH] as const)],
      // Tencent falls back to the message's own text when Title / Desc are empty (§4.1).
      title: ["Title", text(MAX_BODY_CHARS)],
      desc: ["Desc", text(MAX_BODY_CHARS)],
      ext: ["Ext", jsonText],
    },
    "OfflinePushInfo",
    problems,
  );
  if (top.pushFlag === PUSH_FLAG_NO_PUSH) options.noPush = true;
  if (top.title !== undefined) options.title = truncate(top.title, MAX_BODY_CHARS);
  if (top.desc !== undefined) options.desc = truncate(top.desc, MAX_BODY_CHARS);
  if (top.ext !== undefined) options.ext = top.ext;

  if (info.AndroidInfo !== undefined) {
    if (!isObject(info.AndroidInfo)) problems.push("OfflinePushInfo.AndroidInfo must be a JSON object");
    else {
      const android = readTable<AndroidPushOptions>(
        info.AndroidInfo,
        ANDROID_FIELDS,
        "OfflinePushInfo.AndroidInfo",
        problems,
      );
      if (Object.keys(android).length > 0) options.android = android;
    }
  }

  if (info.ApnsInfo !== undefined) {
    if (!isObject(info.ApnsInfo)) problems.push("OfflinePushInfo.ApnsInfo must be a JSON object");
    else {
      const apns = readTable<{
        sound: string;
        badgeMode: 0 | 1;
        title: string;
        subtitle: string;
        image: string;
        mutableContent: 0 | 1;
        interruptionLevel: NonNullable<IosPushOptions["interruptionLevel"]>;
      }>(
        info.ApnsInfo,
        {
          sound: ["Sound", text()],
          badgeMode: ["BadgeMode", oneOf([0, BADGE_MODE_IGNORE] as const)],
          title: ["Title", text(MAX_BODY_CHARS)],
          subtitle: ["SubTitle", text(MAX_BODY_CHARS)],
          image: ["Image", httpsUrl],
          mutableContent: ["MutableContent", oneOf([0, 1] as const)],
          interruptionLevel: [
            "InterruptionLevel",
            oneOf(["passive", "active", "time-sensitive", "critical"] as const),
          ],
        },
        "OfflinePushInfo.ApnsInfo",
        problems,
      );
      if (apns.badgeMode === BADGE_MODE_IGNORE) options.noBadge = true;
      const ios: IosPushOptions = {
        ...(apns.sound === IOS_NO_SOUND
          ? { silent: true }
          : apns.sound !== undefined
            ? { sound: apns.sound }
            : {}),
        ...(apns.title !== undefined ? { title: apns.title } : {}),
        ...(apns.subtitle !== undefined ? { subtitle: apns.subtitle } : {}),
        ...(apns.image !== undefined ? { image: apns.image } : {}),
        ...(apns.mutableContent === 1 ? { mutableContent: true } : {}),
        ...(apns.interruptionLevel !== undefined ? { interruptionLevel: apns.interruptionLevel } : {}),
      };
      if (Object.keys(ios).length > 0) options.ios = ios;
    }
  }
  return { options, problems };
}
