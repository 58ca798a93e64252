import { tokenFingerprint } from "../adapters/dynamodb/delivery-log.js";
import type { DynamoTraceRecords, JobRun } from "../adapters/dynamodb/trace-records.js";
import { redactValue } from "../http/log-safety.js";
import { platformOf, type Vendor } from "../model/index.js";
import type { Preferences, RecipientReader, UserRecord } from "../ports/index.js";
import { isInGlobalWindow } from "../preferences/rules.js";
import { deviceReachability, deviceSkipReason } from "../routing/presence.js";
import type { RoutingDecision } from "../trace/routing-trace.js";

/**
 * `npm run why`: what chatpush knows now about a user (devices, presence, receive options) and, for
 * each recent message, what the router decided per device and what every run of every delivery job
 * did with it — read from the routing trace and the job records (lib/adapters/dynamodb/trace-records.ts),
 * the same way against the local runtime's dynalite and a deployed stack's table.
 */

export interface WhySources {
  users: RecipientReader;
  trace: Pick<DynamoTraceRecords, "decisionsFor" | "jobRuns">;
}

export interface WhyQuery {
  userId: string;
  messageKey?: string;
  /** Epoch ms: messages routed from then on. */
  since: number;
  now: number;
  /** The newest this many messages (default 20). */
  limit?: number;
}

export interface DeviceNow {
  deviceId: string;
  vendor: Vendor;
  platform: string;
  /** First 6 and last 4 characters, and the fingerprint job records keep. */
  token: string;
  fingerprint: string;
  pushType?: "voip";
  locale?: string;
  registeredAt: number;
  /** "reachable by push (…)" or why a message now would skip it. */
  presence: string;
}

/** One run of a delivery job, as far as it concerns one device. */
export interface Attempt {
  jobId: string;
  attempt: number;
  startedAt?: number;
  answeredAt?: number;
  /** Callback accepted → vendor answer. */
  latencyMs?: number;
  /** The vendor's answer ("delivered", "drop-token", "retry" …, or "held" by our own gates). */
  answer: string;
  status?: number;
  reason?: string;
  /** What the worker did: delivered, token removed, retrying in Ns, dead-lettered, held, declined. */
  settled: string;
}

export interface DeviceTrace {
  deviceId: string;
  vendor?: Vendor;
  /** The router's decision: queued, or skipped with its reason. */
  decision?: RoutingDecision;
  attempts: Attempt[];
  /** Where it stands: delivered / token removed / retrying / dead-lettered / skipped / queued. */
  outcome: string;
}

export interface MessageTrace {
  messageKey: string;
  routedAt: number;
  acceptedAt?: number;
  /** Decisions about the whole message or the whole user (no device): skipped and why. */
  skipped: RoutingDecision[];
  devices: DeviceTrace[];
}

export interface WhyReport {
  userId: string;
  known: boolean;
  nickname?: string;
  devices: DeviceNow[];
  receiveOptions: string[];
  doNotDisturb: string;
  messages: MessageTrace[];
  since: number;
}

export async function why(sources: WhySources, query: WhyQuery): Promise<WhyReport> {
  const { userId, now } = query;
  const user = (await sources.users.getUsers([userId])).get(userId);
  const found = await sources.trace.decisionsFor(userId, query.since, now, query.messageKey);
  // A message routed in several batches (pages, a retried routing) has several records: one trace.
  const byMessage = new Map<string, { at: number; decisions: RoutingDecision[] }>();
  for (const record of found) {
    const entry = byMessage.get(record.messageKey) ?? { at: record.at, decisions: [] };
    entry.at = Math.min(entry.at, record.at);
    entry.decisions.push(...record.decisions);
    byMessage.set(record.messageKey, entry);
  }
  if (query.messageKey !== undefined && !byMessage.has(query.messageKey))
    byMessage.set(query.messageKey, { at: Number.NaN, decisions: [] });
  const newest = [...byMessage.entries()]
    .sort((a, b) => (b[1].at || 0) - (a[1].at || 0))
    .slice(0, query.limit ?? 20)
    .reverse();
  const messages = await Promise.all(
    newest.map(async ([messageKey, { at, decisions }]) =>
      messageTrace(messageKey, at, decisions, userId, await sources.trace.jobRuns(messageKey)),
    ),
  );
  return {
    userId,
    known: user !== undefined && (user.devices.length > 0 || user.nickname !== undefined),
    ...(user?.nickname !== undefined ? { nickname: user.nickname } : {}),
    devices: (user?.devices ?? []).map((device) => ({
      deviceId: device.deviceId,
      vendor: device.vendor,
      platform: platformOf(device),
      token: redactValue(device.token),
      fingerprint: tokenFingerprint(device.token),
      ...(device.pushType !== undefined ? { pushType: device.pushType } : {}),
      ...(device.locale !== undefined ? { locale: device.locale } : {}),
      registeredAt: device.updatedAt,
      presence: presenceOf(user!, device, now),
    })),
    receiveOptions: receiveOptions(user?.preferences),
    doNotDisturb: doNotDisturb(user?.preferences, now),
    messages,
    since: query.since,
  };
}

function presenceOf(user: UserRecord, device: UserRecord["devices"][number], now: number): string {
  const skip = deviceSkipReason(user.presence, device, now);
  if (skip !== undefined) return `not pushed now: ${skip}`;
  const connection = user.presence.connections[platformOf(device)];
  const reach = deviceReachability(user.presence, device, now);
  return reach === "offline" && connection?.connected === true
    ? "reachable by push (app in the background)"
    : "reachable by push (not connected)";
}

const RECEIVE_OPTS: Record<number, string> = {
  0: "receive and notify",
  1: "receive nothing",
  2: "receive without notification",
  3: "notify only when @mentioned",
  4: "receive only @mentions",
};

function receiveOptions(preferences: Preferences | undefined): string[] {
  const entries = Object.entries(preferences?.conversations ?? {});
  return entries.map(([conversation, opt]) => `${conversation}: ${opt} (${RECEIVE_OPTS[opt] ?? "?"})`);
}

function doNotDisturb(preferences: Preferences | undefined, now: number): string {
  const all = preferences?.all;
  if (all === undefined || all.receiveOpt === 0) return "off";
  const start =
    all.startTimeStamp !== undefined
      ? new Date(all.startTimeStamp * 1000).toISOString()
      : `${String(all.startHour ?? 0).padStart(2, "0")}:${String(all.startMinute ?? 0).padStart(2, "0")} ${all.timeZone ?? "UTC"}`;
  const span =
    all.duration >= 86_400 ? "permanent from" : `daily for ${Math.round(all.duration / 60)} min from`;
  return `${span} ${start} (${isInGlobalWindow(all, now) ? "in the window now" : "not in the window now"})`;
}

function settledOf(run: JobRun, position: number): string | undefined {
  for (const step of run.plan) {
    if (!step.targets.includes(position)) continue;
    switch (step.kind) {
      case "remove":
        return "token removed";
      case "dead":
        return `dead-lettered: ${step.reason}`;
      case "retry":
        return `retrying in ${step.delaySeconds}s`;
      case "quota":
        return `held by a quota, again in ${step.delaySeconds}s`;
      case "hold":
        return `held back unsent, again in ${step.delaySeconds}s`;
    }
  }
  return undefined;
}

function messageTrace(
  messageKey: string,
  routedAt: number,
  decisions: RoutingDecision[],
  userId: string,
  runs: JobRun[],
): MessageTrace {
  const devices = new Map<string, DeviceTrace>();
  const deviceOf = (deviceId: string, vendor?: Vendor) => {
    const key = `${vendor ?? ""}\u0001${deviceId}`;
    let trace = devices.get(key) ?? [...devices.values()].find((d) => d.deviceId === deviceId && !d.vendor);
    if (trace === undefined) {
      trace = { deviceId, attempts: [], outcome: "" };
      devices.set(key, trace);
    }
    if (vendor !== undefined) trace.vendor ??= vendor;
    return trace;
  };
  const skipped: RoutingDecision[] = [];
  for (const decision of decisions) {
    if (decision.deviceId === undefined) {
      if (decision.stage === "skipped" && (decision.userId === undefined || decision.userId === userId))
        skipped.push(decision);
      continue;
    }
    // A device both skipped and queued (a routing retried after a presence change): the latest wins.
    deviceOf(decision.deviceId, decision.vendor).decision = decision;
  }
  let acceptedAt: number | undefined;
  const ordered = [...runs].sort((a, b) => (a.trace?.startedAt ?? 0) - (b.trace?.startedAt ?? 0));
  for (const run of ordered) {
    const t = run.trace;
    if (t !== undefined) acceptedAt ??= t.acceptedAt;
    const timing = (answeredAt: number | undefined) => ({
      ...(t !== undefined ? { startedAt: t.startedAt } : {}),
      ...(answeredAt !== undefined ? { answeredAt } : {}),
      ...(t !== undefined && answeredAt !== undefined ? { latencyMs: answeredAt - t.acceptedAt } : {}),
    });
    for (const [u, deviceId] of run.delivered) {
      if (u !== userId) continue;
      deviceOf(deviceId, run.vendor).attempts.push({
        jobId: run.jobId,
        attempt: t?.attempt ?? 0,
        ...timing(t?.answeredAt),
        answer: "delivered",
        ...(t?.deliveredStatus !== undefined ? { status: t.deliveredStatus } : {}),
        settled: "delivered",
      });
    }
    for (const answer of t?.answers ?? []) {
      if (answer.userId !== userId) continue;
      deviceOf(answer.deviceId, run.vendor).attempts.push({
        jobId: run.jobId,
        attempt: t!.attempt,
        ...timing(answer.outcome === "held" ? undefined : t!.answeredAt),
        answer: answer.outcome,
        ...(answer.status !== undefined ? { status: answer.status } : {}),
        ...(answer.reason !== undefined ? { reason: answer.reason } : {}),
        settled:
          settledOf(run, answer.position) ??
          (answer.outcome === "declined" ? "declined by the device (kept, not retried)" : "settled"),
      });
    }
  }
  for (const device of devices.values()) {
    const last = device.attempts.at(-1);
    device.outcome =
      last !== undefined
        ? last.settled
        : device.decision?.stage === "skipped"
          ? `skipped: ${device.decision.reason ?? ""}`
          : device.decision?.stage === "queued"
            ? "queued, no vendor answer yet"
            : (device.decision?.reason ?? "");
  }
  return {
    messageKey,
    routedAt,
    ...(acceptedAt !== undefined ? { acceptedAt } : {}),
    skipped,
    devices: [...devices.values()],
  };
}

const time = (ms: number | undefined) =>
  ms === undefined || !Number.isFinite(ms) ? "?" : new Date(ms).toISOString().replace("T", " ").slice(0, 23);

/** The report as the command prints it. */
export function formatWhy(report: WhyReport): string {
  const lines: string[] = [];
  lines.push(
    `${report.userId}${report.nickname !== undefined ? ` (${report.nickname})` : ""}${report.known ? "" : ": unknown to chatpush (no device registered)"}`,
  );
  lines.push(`devices (${report.devices.length}):`);
  for (const d of report.devices) {
    lines.push(
      `  ${d.deviceId} (${d.vendor}, ${d.platform}${d.pushType === "voip" ? ", VoIP" : ""}${d.locale ? `, ${d.locale}` : ""})  token ${d.token} [${d.fingerprint}]  registered ${time(d.registeredAt)}`,
    );
    lines.push(`      ${d.presence}`);
  }
  lines.push(
    `receive options: ${report.receiveOptions.length === 0 ? "none set (receive and notify)" : report.receiveOptions.join("; ")}`,
  );
  lines.push(`do-not-disturb: ${report.doNotDisturb}`);
  lines.push("");
  if (report.messages.length === 0) {
    lines.push(`no message routed to ${report.userId} since ${time(report.since)}`);
  }
  for (const m of report.messages) {
    lines.push(
      `message ${m.messageKey}  routed ${time(m.routedAt)}${m.acceptedAt !== undefined ? `  (callback accepted ${time(m.acceptedAt)})` : ""}`,
    );
    for (const s of m.skipped)
      lines.push(`  skipped${s.userId === undefined ? " (whole message)" : ""}: ${s.reason ?? ""}`);
    if (m.devices.length === 0 && m.skipped.length === 0)
      lines.push("  no decision about this user in the trace");
    for (const d of m.devices) {
      const vendor = d.vendor !== undefined ? ` (${d.vendor})` : "";
      if (d.decision?.stage === "skipped") {
        lines.push(`  ${d.deviceId}${vendor}  skipped: ${d.decision.reason ?? ""}`);
        continue;
      }
      lines.push(
        `  ${d.deviceId}${vendor}  ${d.decision?.stage === "queued" ? "queued" : "sent"} → ${d.outcome}`,
      );
      for (const a of d.attempts) {
        const status = a.status !== undefined ? ` ${a.status}` : "";
        const latency = a.latencyMs !== undefined ? `, ${a.latencyMs} ms after the callback` : "";
        lines.push(
          `      attempt ${a.attempt}  ${time(a.answeredAt ?? a.startedAt)}  ${a.answer}${status}${a.reason ? ` (${a.reason})` : ""} → ${a.settled}${latency}`,
        );
      }
    }
  }
  return lines.join("\n");
}
