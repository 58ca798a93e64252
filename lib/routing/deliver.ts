import { type DeliveryJob, type Device, type Notification, platformOf, type Vendor } from "../model/index.js";
import type { UserRecord } from "../ports/index.js";
import { preferenceDecision } from "../preferences/rules.js";
import { composeNotification, type MentionKind, type MessageContent } from "./compose.js";
import type { RouterDeps } from "./deps.js";
import { packJobs, type Reachable } from "./pack.js";
import { deviceSkipReason } from "./presence.js";
import { DEFAULT_LANGUAGE, type Language, languageOf } from "./texts.js";

/**
 * Vendors whose notification shows the number we send: APNs `aps.badge`, FCM
 * `notification_count`, Huawei and Honor `badge` (vendors.md §3, §8). Xiaomi, OPPO, vivo and Meizu
 * requests carry no badge number (their launchers count notifications themselves), so a user whose
 * pushed devices are all of those is not counted: a badge write that nobody sees would cost for nothing.
 */
export const BADGE_VENDORS: ReadonlySet<Vendor> = new Set(["apns", "fcm", "huawei", "honor"]);

export interface Recipient {
  userId: string;
  user: UserRecord | undefined;
  mention?: MentionKind;
}

export interface Audience {
  content: MessageContent;
  recipients: readonly Recipient[];
  /**
   * The conversation ids whose receive option applies, most specific first: a topic's own option,
   * then its community's (UNCONFIRMED whether Tencent lets a community's option cover its topics; an
   * option set on the topic always wins).
   */
  conversationIds: readonly string[];
  acceptedAt: number;
}

/**
 * Who of `recipients` gets the message, device by device, and the jobs that push them: receive
 * options and do-not-disturb per user, then presence per device (the iPad in the foreground gets
 * nothing while the phone in the background is pushed), then each pushed user's badge is counted,
 * and the devices are packed into jobs per vendor and per notification (mention, language).
 */
export async function deliverMessage(deps: RouterDeps, audience: Audience): Promise<void> {
  const { content } = audience;
  const { journal } = deps;
  const messageKey = content.messageKey;
  const nowMs = deps.clock.now();
  const fallback = deps.defaultLanguage ?? DEFAULT_LANGUAGE;

  const pushed: { userId: string; mention: MentionKind; devices: Device[] }[] = [];
  for (const { userId, user, mention } of audience.recipients) {
    const preference = preferenceDecision(user?.preferences, {
      conversationId: optionConversation(user, audience.conversationIds),
      mentioned: mention !== undefined,
      nowMs,
    });
    if (!preference.notify) {
      journal.record({ stage: "skipped", messageKey, userId, reason: preference.reason });
      continue;
    }
    // PushKit (VoIP) tokens only ever get call invitations.
    const devices = (user?.devices ?? []).filter((device) => device.pushType !== "voip");
    if (devices.length === 0) {
      journal.record({ stage: "skipped", messageKey, userId, reason: "no registered device" });
      continue;
    }
    const reachable: Device[] = [];
    for (const device of devices) {
      const reason = user === undefined ? undefined : deviceSkipReason(user.presence, device, nowMs);
      if (reason === undefined) reachable.push(device);
      else
        journal.record({
          stage: "skipped",
          messageKey,
          userId,
          deviceId: device.deviceId,
          vendor: device.vendor,
          reason,
        });
    }
    if (reachable.length > 0) pushed.push({ userId, mention, devices: reachable });
  }

  const badges =
    content.options.noBadge || pushed.length === 0
      ? new Map<string, number>()
      : await deps.badges.countPush(
          pushed.filter((p) => p.devices.some((d) => BADGE_VENDORS.has(d.vendor))).map((p) => p.userId),
          messageKey,
        );

  const batches = new Map<string, { notification: Notification; devices: Reachable[] }>();
  for (const { userId, mention, devices } of pushed) {
    const badge = badges.get(userId);
    for (const device of devices) {
      const language = languageOf(device.locale, fallback);
      const key = `${mention ?? ""}|${language}`;
      let batch = batches.get(key);
      if (batch === undefined) {
        batch = { notification: composeNotification(content, language, mention), devices: [] };
        batches.set(key, batch);
      }
      batch.devices.push(targetOf(device, badge));
    }
  }
  await enqueue(deps, [...batches.values()], audience.acceptedAt);
}

/** A device as a job target: its platform, and the user's counted badge where it has one. */
function targetOf(device: Device, badge: number | undefined): Reachable {
  const { locale: _locale, updatedAt: _updatedAt, ...target } = device;
  return {
    ...target,
    platform: platformOf(device),
    ...(badge !== undefined && BADGE_VENDORS.has(device.vendor) ? { badge } : {}),
  };
}

function optionConversation(user: UserRecord | undefined, ids: readonly string[]): string {
  const set = user?.preferences?.conversations ?? {};
  return ids.find((id) => set[id] !== undefined) ?? ids[0] ?? "";
}

/** Packs, queues and journals the jobs of several notifications of one message. */
export async function enqueue(
  deps: Pick<RouterDeps, "queue" | "journal" | "maxTargetsPerJob">,
  batches: readonly { notification: Notification; devices: readonly Reachable[] }[],
  acceptedAt: number,
): Promise<void> {
  const jobs: DeliveryJob[] = batches.flatMap(({ notification, devices }) =>
    packJobs(notification, devices, acceptedAt, deps.maxTargetsPerJob),
  );
  if (jobs.length === 0) return;
  await deps.queue.enqueue(jobs);
  for (const job of jobs) {
    for (const target of job.targets) {
      deps.journal.record({
        stage: "queued",
        messageKey: job.notification.messageKey,
        userId: target.userId,
        deviceId: target.deviceId,
        vendor: job.vendor,
      });
    }
  }
}

/** The language a device reads, for callers outside a message fan-out (recall). */
export function deviceLanguage(
  device: Pick<Device, "locale"> | undefined,
  deps: Pick<RouterDeps, "defaultLanguage">,
): Language {
  return languageOf(device?.locale, deps.defaultLanguage ?? DEFAULT_LANGUAGE);
}
