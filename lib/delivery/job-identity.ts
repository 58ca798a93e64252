import { createHash } from "node:crypto";
import type { DeliveryJob, DeliveryTarget } from "../model/index.js";
import { collapseKeyOf } from "../model/index.js";

/** 128 bits of SHA-256 in hex: unique per job for all practical purposes, short in a DynamoDB key. */
const ID_HEX_CHARS = 32;

const targetKey = (target: Pick<DeliveryTarget, "userId" | "deviceId">) =>
  `${target.userId}\u0001${target.deviceId}`;

function digest(parts: readonly string[]): string {
  // NUL never occurs in ids that passed the edge's validation, so the join cannot be ambiguous.
  return createHash("sha256").update(parts.join("\u0000")).digest("hex").slice(0, ID_HEX_CHARS);
}

/** The job's targets in one canonical order (by user, then device): what a plan's positions refer to. */
export function sortedTargets(targets: readonly DeliveryTarget[]): DeliveryTarget[] {
  return [...targets].sort((a, b) => {
    const ka = targetKey(a);
    const kb = targetKey(b);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
}

/**
 * A job's identity for the send guard. A job the worker made carries its `id`; a job from the router
 * is identified by what it is: the vendor, the message and its replacement key, whether it is a quiet
 * replacement or a call's end, its targets (as a set) and how often it was tried or held. So an SQS
 * redelivery, or a second copy of the same body, maps to the same record, while a recall (its own
 * message key) or a retry (another attempt) does not.
 */
export function jobIdentity(job: DeliveryJob): string {
  if (job.id !== undefined) return job.id;
  const n = job.notification;
  return digest([
    "job/1",
    job.vendor,
    n.messageKey,
    collapseKeyOf(n),
    n.quiet === true ? "quiet" : "",
    n.call?.action ?? "",
    String(job.attempt),
    String(job.quotaDelays ?? 0),
    String(job.deferrals ?? 0),
    ...job.targets.map(targetKey).sort(),
  ]);
}

/**
 * The identity of a job the worker derives from another (a retry, a quota or gate hold, a parked job):
 * a function of the parent and of how these targets were settled, so settling a redelivered parent
 * again re-creates the very same children (and their guard catches the copies).
 */
export function childIdentity(
  parentId: string,
  settlement: string,
  targets: readonly DeliveryTarget[],
): string {
  return digest(["child/1", parentId, settlement, ...targets.map(targetKey).sort()]);
}
