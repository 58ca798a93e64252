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
  jsonFiles,
  loadCallbackSample,
  loadDeviceSample,
} from "../local/events.js";
import type { TimedJournalEntry } from "../local/runtime.js";
import type { SimulatedDelivery } from "../local/simulators/hub.js";

/**
 * `npm run replay -- <file-or-dir>...`: seeds the sample devices, posts each sample callback (signed
 * with the configured token) to the running local runtime, and shows what each phone received.
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
    await replay(client, loadCallbackSample(file), devices, Number(values.wait));
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

  const reports: DeviceReport[] = [];
  if (answer.status === 200 && isHandledCommand(command)) {
    const entries = await settle(client, seenJournal, command, body, waitMs);
    const deliveries = (await client.deliveries()).filter((d) => d.at >= startedAt);
    for (const entry of entries.filter((e) => e.stage !== "queued")) {
      const device = devices.find((d) => d.deviceId === entry.deviceId && d.userId === entry.userId);
      const request = device && deliveries.findLast((d) => d.token === device.registration.token)?.request;
      reports.push({
        userId: entry.userId ?? "",
        ...(entry.deviceId !== undefined ? { deviceId: entry.deviceId } : {}),
        ...(entry.vendor !== undefined ? { vendor: entry.vendor } : {}),
        result: entry.stage === "delivered" ? "pushed" : entry.stage,
        ...(entry.reason !== undefined ? { reason: entry.reason } : {}),
        ...(entry.status !== undefined ? { status: entry.status } : {}),
        ...(request !== undefined ? { request } : {}),
      });
    }
  }

  const name = relative(process.cwd(), sample.file);
  print({ file: name, command, http: answer, devices: reports }, () => {
    const lines = [
      `\n▶ ${name}  ${command}  →  HTTP ${answer.status} ${answer.body}`,
      `  ${sample.description}`,
    ];
    if (!isHandledCommand(command)) lines.push("  acknowledged; chatpush does not act on this command");
    for (const r of reports) {
      const who = [r.userId, r.deviceId].filter(Boolean).join("/");
      lines.push(
        `  ${r.result.padEnd(13)} ${who}${r.vendor ? ` (${r.vendor})` : ""}${r.status ? ` HTTP ${r.status}` : ""}${r.reason ? `  ${r.reason}` : ""}`,
      );
      if (r.request) lines.push(`      ${summarize(r.vendor, r.request)}`);
    }
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
  command: string,
  body: Record<string, unknown>,
  waitMs: number,
): Promise<TimedJournalEntry[]> {
  const keys = new Set(messageKeysOf(command, body));
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
    title: b.message?.notification?.title,
    body: b.message?.notification?.body,
    badge: b.message?.android?.notification?.notification_count,
    priority: b.message?.android?.priority,
    channel: b.message?.android?.notification?.channel_id,
    tag: b.message?.android?.notification?.tag,
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
