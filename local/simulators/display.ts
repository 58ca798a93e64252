import type { Vendor } from "../../lib/model/index.js";
import type { SimulatedDelivery } from "./hub.js";
import { isObject } from "./wire.js";

/**
 * What a phone would show for one request a simulator received, as the local page draws it. One pure
 * function per vendor reads the vendor's own fields (the ones lib/vendors/<vendor>.ts writes), so the
 * page shows what each vendor was actually asked to show, not chatpush's idea of the notification.
 */
export interface DisplayedPush {
  /**
   * "alert": a notification the system draws; "voip": a call invitation the app turns into its
   * ringing screen (an APNs PushKit push, an FCM data message with callAction "ring"); "data": a
   * message only the app sees (nothing in the tray unless the app draws it).
   */
  kind: "alert" | "voip" | "data";
  title: string;
  body: string;
  subtitle?: string;
  /** The app icon's number, when the request sets one. */
  badge?: number;
  /** A badge increment (Huawei `add_num`, Honor `addNum`), when the request adds instead of sets. */
  badgeAdd?: number;
  /**
   * What a later notification replaces this one by: APNs `apns-collapse-id`, FCM `tag`, Huawei / Honor
   * `tag`, Xiaomi / OPPO / vivo notify id, Meizu `notifyKey` (for calls, the key the "Missed call"
   * shares with its ring). Values are compared within one vendor only.
   */
  replaceKey?: string;
  /**
   * What the tray groups it under: APNs `thread-id`, Huawei / Honor `group`; the other vendors have no
   * group field, so the conversation a tap opens (`ext`'s conversationID) stands in for it.
   */
  thread?: string;
  /** Asked to arrive without sound (a recall, a missed call, a marketing-class or silenced push). */
  silent?: boolean;
  /** The `ext` JSON string the push plugin's click handler reads. */
  ext?: string;
}

// biome-ignore lint/suspicious/noExplicitAny: recorded vendor bodies of any shape, read defensively
type Loose = any;
type Request = SimulatedDelivery["request"];

/** The displayed push of a delivery, or undefined when its request carries nothing to show. */
export function displayOf(
  delivery: Pick<SimulatedDelivery, "vendor" | "request">,
): DisplayedPush | undefined {
  const request = delivery.request ?? { headers: {}, body: undefined };
  if (!isObject(request.body)) return undefined;
  return DISPLAYS[delivery.vendor]?.({ headers: request.headers ?? {}, body: request.body });
}

/** The delivery with what its phone shows, as `GET /_local/deliveries` and `/_local/stream` serve it. */
export function withDisplay(delivery: SimulatedDelivery): SimulatedDelivery & { display?: DisplayedPush } {
  const display = displayOf(delivery);
  return display === undefined ? delivery : { ...delivery, display };
}

export const DISPLAYS: Record<Vendor, (request: Request) => DisplayedPush | undefined> = {
  apns: displayApns,
  fcm: displayFcm,
  huawei: displayHuawei,
  honor: displayHonor,
  xiaomi: displayXiaomi,
  oppo: displayOppo,
  vivo: displayVivo,
  meizu: displayMeizu,
};

/**
 * APNs (lib/vendors/apns.ts): an alert's texts in `aps.alert`, `aps.badge`, `thread-id` and the
 * `apns-collapse-id` header; no `sound` key means no sound ("the sound key names the sound to play",
 * Apple's payload reference) and `passive` lights nothing up. A `voip` push-type carries the call.
 */
export function displayApns({ headers, body }: Request): DisplayedPush | undefined {
  const b = body as Loose;
  const collapseId = headerOf(headers, "apns-collapse-id");
  if (headerOf(headers, "apns-push-type") === "voip" || isObject(b.call)) {
    const call = b.call ?? {};
    return {
      kind: "voip",
      title: text(call.callerName) || text(call.callerId),
      body: `Incoming ${call.media === "video" ? "video" : "audio"} call`,
      // The ring's alert twin and its "Missed call" share the invitation's collapse id (apns.ts).
      ...defined("replaceKey", text(call.inviteId) || undefined),
      // The call's conversation (the caller's, or the group's), from its ext, as the app opens it.
      ...defined("thread", conversationOf(b.ext)),
      ...defined("ext", extText(b.ext)),
    };
  }
  const aps = b.aps ?? {};
  const alert = typeof aps.alert === "string" ? { body: aps.alert } : (aps.alert ?? {});
  const shown = alert.title !== undefined || alert.body !== undefined;
  return {
    kind: shown ? "alert" : "data",
    title: text(alert.title),
    body: text(alert.body),
    ...defined("subtitle", alert.subtitle === undefined ? undefined : text(alert.subtitle)),
    ...defined("badge", numberOf(aps.badge)),
    ...defined("replaceKey", collapseId),
    ...defined("thread", aps["thread-id"] === undefined ? undefined : text(aps["thread-id"])),
    silent: aps.sound === undefined || aps["interruption-level"] === "passive",
    ...defined("ext", extText(b.ext)),
  };
}

/**
 * FCM (lib/vendors/fcm.ts): a notification message's texts, `android.notification.tag` and
 * `notification_count`; a quiet one turns the default sound off. A message without `notification` is a
 * data message: a call ring (callAction "ring") or its cancel, with the texts and tag in `data`.
 */
export function displayFcm({ body }: Request): DisplayedPush | undefined {
  const message = (body as Loose).message;
  if (!isObject(message)) return undefined;
  const m = message as Loose;
  const data = isObject(m.data) ? (m.data as Loose) : {};
  const thread =
    conversationOf(data.ext) ?? (data.conversationID === undefined ? undefined : text(data.conversationID));
  if (!isObject(m.notification)) {
    return {
      kind: data.callAction === "ring" ? "voip" : "data",
      title: text(data.title),
      body: text(data.body),
      ...defined("replaceKey", data.notificationTag === undefined ? undefined : text(data.notificationTag)),
      ...defined("thread", thread),
      ...defined("ext", extText(data.ext)),
    };
  }
  const android = m.android?.notification ?? {};
  return {
    kind: "alert",
    title: text(m.notification.title),
    body: text(m.notification.body),
    ...defined("badge", numberOf(android.notification_count)),
    ...defined("replaceKey", android.tag === undefined ? undefined : text(android.tag)),
    ...defined("thread", thread),
    silent: android.sound === undefined && android.default_sound === false,
    ...defined("ext", extText(data.ext)),
  };
}

/**
 * Huawei Push Kit (lib/vendors/huawei.ts): `message.android.notification` with `tag` / `notify_id`,
 * `group` and `badge.set_num` / `add_num`; importance LOW arrives "silently, without ringtone or
 * vibration" (https://help.aliyun.com/document_detail/613940.html).
 */
export function displayHuawei({ body }: Request): DisplayedPush | undefined {
  const message = (body as Loose).message;
  if (!isObject(message)) return undefined;
  const m = message as Loose;
  const n = m.android?.notification;
  const ext = extText(m.data) ?? extFromIntent(n?.click_action?.intent);
  if (!isObject(n)) return { kind: "data", title: "", body: "", ...defined("ext", ext) };
  const notification = n as Loose;
  return {
    kind: "alert",
    title: text(notification.title),
    body: text(notification.body),
    ...badgeFields(notification.badge?.set_num, notification.badge?.add_num),
    ...defined("replaceKey", keyOf(notification.tag ?? notification.notify_id)),
    ...defined("thread", notification.group === undefined ? conversationOf(ext) : text(notification.group)),
    silent: notification.importance === "LOW",
    ...defined("ext", ext),
  };
}

/**
 * Honor (lib/vendors/honor.ts): `android.notification` with `tag` / `notifyId`, `group` and
 * `badge.setNum` / `addNum`; LOW is the silent information-and-marketing class (honor.ts
 * `honorImportance`). Honor has no field that silences a NORMAL notification.
 */
export function displayHonor({ body }: Request): DisplayedPush | undefined {
  const b = body as Loose;
  const n = b.android?.notification;
  const ext = extText(b.android?.data) ?? extFromIntent(n?.clickAction?.intent);
  if (!isObject(n)) {
    if (!isObject(b.notification)) return undefined;
    return { kind: "alert", title: text(b.notification.title), body: text(b.notification.body) };
  }
  const notification = n as Loose;
  return {
    kind: "alert",
    title: text(notification.title ?? b.notification?.title),
    body: text(notification.body ?? b.notification?.body),
    ...badgeFields(notification.badge?.setNum, notification.badge?.addNum),
    ...defined("replaceKey", keyOf(notification.tag ?? notification.notifyId)),
    ...defined("thread", notification.group === undefined ? conversationOf(ext) : text(notification.group)),
    silent: notification.importance === "LOW",
    ...defined("ext", ext),
  };
}

/**
 * Xiaomi (lib/vendors/xiaomi.ts), a form: `title`, `description`, `notify_id`; `notify_type` sums
 * DEFAULT_SOUND 1, DEFAULT_VIBRATE 2, DEFAULT_LIGHTS 4 (-1 all; Mi Push server API, pId=1559), so a type
 * without 1 and 2 is silent; `pass_through` 1 is a message for the app only. No badge field.
 */
export function displayXiaomi({ body }: Request): DisplayedPush | undefined {
  const b = body as Loose;
  const ext = extText(b["extra.ext"]) ?? extText(b.payload);
  const notifyType = Number(b.notify_type ?? -1);
  return {
    kind: String(b.pass_through ?? "0") === "1" ? "data" : "alert",
    title: text(b.title),
    body: text(b.description),
    ...defined("replaceKey", keyOf(b.notify_id)),
    ...defined("thread", conversationOf(ext)),
    silent: notifyType !== -1 && (notifyType & 3) === 0,
    ...defined("ext", ext),
  };
}

/**
 * OPPO (lib/vendors/oppo.ts): each unicast message's `notification` (the simulator records the
 * target's own), `notify_id`; `notify_level` 1 is the status bar only, no banner, sound or vibration
 * (OPPO's field table, id=11236). `ext` rides in `action_parameters`. No badge number (ColorOS shows a dot).
 */
export function displayOppo({ body }: Request): DisplayedPush | undefined {
  const b = body as Loose;
  const messages = typeof b.messages === "string" ? parseJson(b.messages) : b.messages;
  const n = Array.isArray(messages) ? messages[0]?.notification : undefined;
  if (!isObject(n)) return undefined;
  const notification = n as Loose;
  const parameters =
    typeof notification.action_parameters === "string"
      ? parseJson(notification.action_parameters)
      : notification.action_parameters;
  const ext = extText((parameters as Loose)?.ext);
  return {
    kind: "alert",
    title: text(notification.title),
    body: text(notification.content),
    ...defined("replaceKey", keyOf(notification.notify_id)),
    ...defined("thread", conversationOf(ext)),
    silent: notification.notify_level === 1,
    ...defined("ext", ext),
  };
}

/**
 * vivo (lib/vendors/vivo.ts): `/message/send`'s `title`, `content`, `notifyId`; `notifyType` 1 is
 * "none" (no sound, no vibration, doc 362). A `pushToList` carries only the taskId of a payload saved
 * before, so it has nothing of its own to show.
 */
export function displayVivo({ body }: Request): DisplayedPush | undefined {
  const b = body as Loose;
  if (b.title === undefined && b.content === undefined) return undefined;
  const ext = extText(b.clientCustomMap?.ext);
  return {
    kind: "alert",
    title: text(b.title),
    body: text(b.content),
    ...defined("replaceKey", keyOf(b.notifyId)),
    ...defined("thread", conversationOf(ext)),
    silent: b.notifyType === 1,
    ...defined("ext", ext),
  };
}

/**
 * Meizu (lib/vendors/meizu.ts), a form whose `messageJson` holds `noticeBarInfo` (title, content) and
 * `advanceInfo.notifyKey` ("only the last notification with this key is shown", PushAPI README);
 * `notificationType` all 0 is no vibration, light or sound. No badge field.
 */
export function displayMeizu({ body }: Request): DisplayedPush | undefined {
  const b = body as Loose;
  const message = typeof b.messageJson === "string" ? parseJson(b.messageJson) : b.messageJson;
  if (!isObject(message)) return undefined;
  const m = message as Loose;
  const bar = m.noticeBarInfo ?? {};
  const type = m.advanceInfo?.notificationType;
  const ext = extText(m.clickTypeInfo?.parameters?.ext);
  return {
    kind: "alert",
    title: text(bar.title),
    body: text(bar.content),
    ...defined("replaceKey", keyOf(m.advanceInfo?.notifyKey)),
    ...defined("thread", conversationOf(ext)),
    silent: isObject(type) && type.sound === 0 && type.vibrate === 0,
    ...defined("ext", ext),
  };
}

function headerOf(headers: Record<string, string>, name: string): string | undefined {
  const value = headers[name] ?? headers[name.toLowerCase()];
  return typeof value === "string" ? value : undefined;
}

function text(value: unknown): string {
  return value === undefined || value === null ? "" : String(value);
}

function numberOf(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

function keyOf(value: unknown): string | undefined {
  return value === undefined || value === null || value === "" ? undefined : String(value);
}

function badgeFields(set: unknown, add: unknown): Pick<DisplayedPush, "badge" | "badgeAdd"> {
  const badge = numberOf(set);
  if (badge !== undefined) return { badge };
  const badgeAdd = numberOf(add);
  return badgeAdd === undefined ? {} : { badgeAdd };
}

/** `{ [name]: value }` when value is defined, else nothing (optional fields stay absent). */
function defined<K extends string, V>(name: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [name]: value }) as { [P in K]?: V };
}

function parseJson(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return undefined;
  }
}

/** `ext` as the JSON string the app gets (simulators record some forms' ext fields parsed). */
function extText(value: unknown): string | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** The conversation a tap opens: `ext`'s conversationID. */
function conversationOf(ext: unknown): string | undefined {
  const parsed = typeof ext === "string" ? parseJson(ext) : ext;
  const id = isObject(parsed) ? parsed.conversationID : undefined;
  return typeof id === "string" ? id : undefined;
}

/** The `ext` string extra of an intent URI (`S.ext=<url-encoded>;`, lib/vendors/android-text.ts). */
function extFromIntent(intent: unknown): string | undefined {
  if (typeof intent !== "string") return undefined;
  const match = /[#;]S\.ext=([^;]*);/.exec(intent);
  if (match?.[1] === undefined) return undefined;
  try {
    return decodeURIComponent(match[1]);
  } catch {
    return undefined;
  }
}
