import { existsSync } from "node:fs";
import { relative } from "node:path";
import { parseArgs } from "node:util";
import { groupMessageKey } from "../lib/routing/group.js";
import { c2cMessageKey } from "../lib/routing/router.js";
import { type C2CAfterSendMsg, isHandledCommand } from "../lib/tencent/callback.schema.js";
import { ChatpushClient } from "../local/client.js";
import { localSettings } from "../local/defaults.js";
import {
  type CallbackSample,
  type DeviceSample,
  isDeviceSample,
  isRestPushSample,
  jsonFiles,
  loadCallbackSample,
  loadDeviceSample,
  loadRestPushSample,
  type RestPushSample,
} from "../local/events.js";
import type { TimedJournalEntry } from "../local/runtime.js";
import type { SimulatedDelivery } from "../local/simulators/hub.js";

/**
 * `npm run replay -- <file-or-dir>...`: seeds the sample devices, posts each sample callback (signed
 * with the configured token) and each REST push sample (events/v4, with the admin's UserSig) to the
 * running local runtime, and shows what each phone received.
 */
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    json: { type: "boolean", default: false },
    url: { type: "string" },
    devices: { type: "string", default: "events/devices" },
    wait: { type: "string", default: "5000" },
  },
});

const TERMINAL = new Set(["delivered", "token-removed", "dead-lettered", "retrying"]);

interface DeviceReport {
  userId: string;
  deviceId?: string;
  vendor?: string;
  result: string;
  reason?: string;
  status?: number;
  request?: SimulatedDelivery["request"];
}

async function main(): Promise<void> {
  const settings = localSettings();
  const client = new ChatpushClient({
    baseUrl: values.url ?? `http://127.0.0.1:${settings.port}`,
    sdkAppId: settings.sdkAppId,
    callbackToken: settings.callbackToken,
    secretKey: settings.secretKey,
  });
  if (!(await client.healthy())) {
    throw new Error("chatpush is not running here: start it with `npm start` (same environment) first");
  }
  const files = (positionals.length > 0 ? positionals : ["events/"]).flatMap(jsonFiles);
  const deviceFiles = files.filter(isDeviceSample);
  if (deviceFiles.length === 0 && existsSync(values.devices)) deviceFiles.push(...jsonFiles(values.devices));

  const devices = deviceFiles.map(loadDeviceSample);
  for (const device of devices) await seed(client, device);
  for (const file of files.filter((f) => !isDeviceSample(f))) {
    if (isRestPushSample(file))
      await replayRestPush(client, loadRestPushSample(file), devices, Number(values.wait));
    else await replay(client, loadCallbackSample(file), devices, Number(values.wait));
  }
}

async function seed(client: ChatpushClient, device: DeviceSample): Promise<void> {
  await client.seedDevice(device);
  print(
    {
      seeded: `${device.userId}/${device.deviceId}`,
      vendor: device.registration.vendor,
      presence: device.presence?.state,
    },
    () =>
      `seeded ${device.userId}/${device.deviceId} (${device.registration.vendor}${device.presence ? `, app ${device.presence.state}` : ""})`,
  );
}

/**
 * Routing remembers each message by its identity for an hour (MsgKey; GroupId + MsgSeq), so every
 * run sends new messages: this run's mark is appended to each MsgKey and added to each group MsgSeq,
 * the same way for a message and for its recall in the same run.
 */
const RUN = Math.floor(Date.now() / 1000);
const RUN_SEQ_OFFSET = RUN * 1000;

/** Sample times are rewritten to now, so presence ordering and freshness behave as they would live. */
function freshTimes(body: Record<string, unknown>): Record<string, unknown> {
  const now = Date.now();
  const group = typeof body.GroupId === "string";
  return {
    ...body,
    ...("EventTime" in body ? { EventTime: now } : {}),
    ...("MsgTime" in body ? { MsgTime: Math.floor(now / 1000) } : {}),
    ...(typeof body.MsgKey === "string" ? { MsgKey: `${body.MsgKey}-${RUN.toString(36)}` } : {}),
    ...(Array.isArray(body.MsgBody) ? { MsgBody: body.MsgBody.map(freshInvitation) } : {}),
    ...(group && typeof body.MsgSeq === "number" ? { MsgSeq: body.MsgSeq + RUN_SEQ_OFFSET } : {}),
    ...(group && Array.isArray(body.MsgSeqList)
      ? {
          MsgSeqList: (body.MsgSeqList as { MsgSeq: number }[]).map((m) => ({
            ...m,
            MsgSeq: m.MsgSeq + RUN_SEQ_OFFSET,
          })),
        }
      : {}),
  };
}

/**
 * A call's signaling (a custom element whose Data has businessID 1) is remembered by its inviteID, so
 * each run rings a new invitation: the run's mark is appended to the inviteID, the same way for an
 * invite and its cancel, answer or timeout.
 */
function freshInvitation(element: unknown): unknown {
  const content = (element as { MsgType?: string; MsgContent?: { Data?: unknown } })?.MsgContent;
  if ((element as { MsgType?: string }).MsgType !== "TIMCustomElem" || typeof content?.Data !== "string")
    return element;
  try {
    const data = JSON.parse(content.Data) as Record<string, unknown>;
    if (data.businessID !== 1 || typeof data.inviteID !== "string") return element;
    const Data = JSON.stringify({ ...data, inviteID: `${data.inviteID}-${RUN.toString(36)}` });
    return { ...(element as object), MsgContent: { ...content, Data } };
  } catch {
    return element;
  }
}

/** What became of a callback or a push for each device, from its journal entries and the deliveries. */
function reportsOf(
  entries: TimedJournalEntry[],
  deliveries: SimulatedDelivery[],
  devices: DeviceSample[],
): DeviceReport[] {
  return entries
    .filter((e) => e.stage !== "queued")
    .map((entry) => {
      // A phone may have two registrations (its alert and its PushKit token): the one delivered to.
      const tokens = new Set(
        devices
          .filter((d) => d.deviceId === entry.deviceId && d.userId === entry.userId)
          .map((d) => d.registration.token),
      );
      const request = deliveries.findLast((d) => tokens.has(d.token) && d.vendor === entry.vendor)?.request;
      return {
        userId: entry.userId ?? "",
        ...(entry.deviceId !== undefined ? { deviceId: entry.deviceId } : {}),
        ...(entry.vendor !== undefined ? { vendor: entry.vendor } : {}),
        result: entry.stage === "delivered" ? "pushed" : entry.stage,
        ...(entry.reason !== undefined ? { reason: entry.reason } : {}),
        ...(entry.status !== undefined ? { status: entry.status } : {}),
        ...(request !== undefined ? { request } : {}),
      };
    });
}

function reportLines(reports: DeviceReport[]): string[] {
  const lines: string[] = [];
  for (const r of reports) {
    const who = [r.userId, r.deviceId].filter(Boolean).join("/");
    lines.push(
      `  ${r.result.padEnd(13)} ${who}${r.vendor ? ` (${r.vendor})` : ""}${r.status ? ` HTTP ${r.status}` : ""}${r.reason ? `  ${r.reason}` : ""}`,
    );
    if (r.request) lines.push(`      ${summarize(r.vendor, r.request)}`);
  }
  return lines;
}

/** Tencent: pushes to all users, tags or attributes "more than 1 s apart" (error 90024 otherwise). */
const BROADCAST_PATHS = new Set(["/v4/timpush/push", "/v4/all_member_push/im_push"]);
let lastBroadcastAt = 0;

/**
 * A REST push sample, as an app server sends it: the admin's UserSig, a MsgRandom fresh per run (the
 * API de-duplicates on it for 7 days), broadcasts spaced as Tencent requires; then what each device got.
 */
async function replayRestPush(
  client: ChatpushClient,
  sample: RestPushSample,
  devices: DeviceSample[],
  waitMs: number,
) {
  const body =
    typeof sample.body.MsgRandom === "number"
      ? { ...sample.body, MsgRandom: (sample.body.MsgRandom + RUN) % 4_294_967_296 }
      : sample.body;
  if (BROADCAST_PATHS.has(sample.path)) {
    const wait = lastBroadcastAt + 1_100 - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    lastBroadcastAt = Date.now();
  }
  const seenJournal = (await client.journal()).length;
  const startedAt = new Date().toISOString();
  const { status, answer } = await client.restPush(sample.path, body);
  const taskId = typeof answer.TaskId === "string" && answer.TaskId !== "" ? answer.TaskId : undefined;
  let reports: DeviceReport[] = [];
  if (taskId !== undefined) {
    const entries = await settle(client, seenJournal, new Set([taskId]), waitMs);
    const deliveries = (await client.deliveries()).filter((d) => d.at >= startedAt);
    reports = reportsOf(entries, deliveries, devices);
  }
  const name = relative(process.cwd(), sample.file);
  print({ file: name, path: sample.path, http: { status, answer }, devices: reports }, () =>
    [
      `\n▶ ${name}  POST ${sample.path}  →  HTTP ${status} ${JSON.stringify(answer)}`,
      `  ${sample.description}`,
      ...reportLines(reports),
    ].join("\n"),
  );
}

async function replay(
  client: ChatpushClient,
  sample: CallbackSample,
  devices: DeviceSample[],
  waitMs: number,
) {
  const command = sample.query.CallbackCommand;
  const seenJournal = (await client.journal()).length;
  const startedAt = new Date().toISOString();
  const body = freshTimes(sample.body);
  const answer = await client.postCallback(sample.query, body);

  let reports: DeviceReport[] = [];
  if (answer.status === 200 && isHandledCommand(command)) {
    const entries = await settle(client, seenJournal, new Set(messageKeysOf(command, body)), waitMs);
    const deliveries = (await client.deliveries()).filter((d) => d.at >= startedAt);
    reports = reportsOf(entries, deliveries, devices);
  }

  const name = relative(process.cwd(), sample.file);
  print({ file: name, command, http: answer, devices: reports }, () => {
    const lines = [
      `\n▶ ${name}  ${command}  →  HTTP ${answer.status} ${answer.body}`,
      `  ${sample.description}`,
    ];
    if (!isHandledCommand(command)) lines.push("  acknowledged; chatpush does not act on this command");
    lines.push(...reportLines(reports));
    return lines.join("\n");
  });
}

/** The journal keys a callback's entries carry (messages and recalls); empty for the others. */
function messageKeysOf(command: string, body: Record<string, unknown>): string[] {
  switch (command) {
    case "C2C.CallbackAfterSendMsg":
      return [c2cMessageKey(body as C2CAfterSendMsg)];
    case "Group.CallbackAfterSendMsg":
      return [groupMessageKey(String(body.GroupId), Number(body.MsgSeq), topicOf(body))];
    case "C2C.CallbackAfterMsgWithDraw":
      return [`${body.MsgKey}:recall`];
    case "Group.CallbackAfterRecallMsg":
      return ((body.MsgSeqList as { MsgSeq: number }[]) ?? []).map(
        (m) => `${groupMessageKey(String(body.GroupId), m.MsgSeq, topicOf(body))}:recall`,
      );
    default:
      return [];
  }
}

/** A Community topic's id, when the callback names one. */
function topicOf(body: Record<string, unknown>): string | undefined {
  return typeof body.TopicId === "string" && body.TopicId !== "" ? body.TopicId : undefined;
}

/**
 * Waits until the journal shows what became of this callback: every device it was queued for has
 * finished, and nothing new has been written for a moment (a group message also skips members).
 */
async function settle(
  client: ChatpushClient,
  seen: number,
  keys: ReadonlySet<string>,
  waitMs: number,
): Promise<TimedJournalEntry[]> {
  const deadline = Date.now() + waitMs;
  let last = -1;
  let stableSince = Date.now();
  for (;;) {
    const entries = (await client.journal())
      .slice(seen)
      .filter((e) => keys.size === 0 || (e.messageKey !== undefined && keys.has(e.messageKey)));
    if (entries.length !== last) {
      last = entries.length;
      stableSince = Date.now();
    }
    const queued = entries.filter((e) => e.stage === "queued").length;
    const finished = entries.filter((e) => TERMINAL.has(e.stage)).length;
    const done = entries.length > 0 && finished >= queued && Date.now() - stableSince >= 300;
    if (done || Date.now() > deadline) return entries;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

// biome-ignore lint/suspicious/noExplicitAny: a quick look into vendor bodies of any shape, for display only
type Loose = any;

/** Where each vendor's request keeps the title, body, badge and the fields that classify it as IM. */
const SUMMARIES: Record<string, (b: Loose, headers: Record<string, string>) => Record<string, unknown>> = {
  apns: (b, headers) => ({
    // A PushKit push has no aps: the call the app reports to CallKit.
    "push-type": headers["apns-push-type"] === "voip" ? "voip" : undefined,
    topic: headers["apns-push-type"] === "voip" ? headers["apns-topic"] : undefined,
    call: b.call
      ? `${b.call.media} call ${b.call.inviteId} from ${b.call.callerName ?? b.call.callerId}`
      : undefined,
    title: b.aps?.alert?.title,
    subtitle: b.aps?.alert?.subtitle,
    body: b.aps?.alert?.body,
    badge: b.aps?.badge,
    sound: b.aps?.sound,
    "interruption-level": b.aps?.["interruption-level"],
    "collapse-id": headers["apns-collapse-id"],
    ext: b.ext,
  }),
  fcm: (b) => ({
    // A call is a data message: callAction ring / cancel, its texts and tag in data.
    callAction: b.message?.data?.callAction,
    title: b.message?.notification?.title ?? (b.message?.data?.callAction && b.message?.data?.title),
    body: b.message?.notification?.body ?? (b.message?.data?.callAction && b.message?.data?.body),
    badge: b.message?.android?.notification?.notification_count,
    priority: b.message?.android?.priority,
    channel: b.message?.android?.notification?.channel_id,
    tag: b.message?.android?.notification?.tag ?? b.message?.data?.notificationTag,
    ext: b.message?.data?.ext,
  }),
  huawei: (b) => ({
    title: b.message?.android?.notification?.title,
    body: b.message?.android?.notification?.body,
    category: b.message?.android?.category,
    importance: b.message?.android?.notification?.importance,
  }),
  honor: (b) => ({
    title: b.android?.notification?.title,
    body: b.android?.notification?.body,
    importance: b.android?.notification?.importance,
    ext: b.android?.data,
  }),
  xiaomi: (b) => ({
    title: b.title,
    body: b.description,
    channel_id: b["extra.channel_id"],
    ext: b["extra.ext"],
  }),
  oppo: (b) => {
    const n = b.messages?.[0]?.notification ?? {};
    return {
      title: n.title,
      body: n.content,
      channel_id: n.channel_id,
      category: n.category,
      notify_level: n.notify_level,
    };
  },
  vivo: (b) => ({ title: b.title, body: b.content, classification: b.classification, category: b.category }),
  meizu: (b) => {
    const bar = b.messageJson?.noticeBarInfo ?? {};
    return { title: bar.title, body: bar.content, noticeMsgType: bar.noticeMsgType };
  },
};

function summarize(vendor: string | undefined, request: SimulatedDelivery["request"]): string {
  const pick = vendor === undefined ? undefined : SUMMARIES[vendor];
  if (pick === undefined) return JSON.stringify(request.body);
  return Object.entries(pick(request.body as Loose, request.headers ?? {}))
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key} ${typeof value === "number" ? value : JSON.stringify(value)}`)
    .join("  ");
}

function print(json: unknown, text: () => string): void {
  console.log(values.json ? JSON.stringify(json) : text());
}

main().catch((error) => {
  console.error(`replay: ${error instanceof Error ? error.message : error}`);
  process.exit(1);
});
