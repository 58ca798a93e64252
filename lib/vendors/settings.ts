import type { Pacing, RateLimit } from "../delivery/rate-limiter.js";
import { type DeliveryTarget, isVendor, VENDORS, type Vendor } from "../model/index.js";
import { pickCredential } from "./credentials.js";

/**
 * One row per vendor: how its queue and worker are sized. The CDK app and the local runtime both read
 * this table, so what runs on a laptop is what is deployed.
 */
export interface VendorSettings {
  /**
   * The send rate the vendor documents for an app (requests per second; vendors.md §0 and
   * limits-and-costs.md §3), at the smallest app tier: what we must stay under.
   */
  documentedQps: number;
  /**
   * What the vendor's rate counts: requests (a multicast request of 1000 tokens is one), or devices
   * (it is 1000). Undefined: the vendor publishes no rate (APNs), so nothing is paced unless the
   * operator sets one (`CHATPUSH_VENDOR_QPS` / CDK context `vendorQps`, counted in requests).
   */
  rateUnit?: RateUnit;
  /**
   * How much of its per-second share a container may spend at once. 0 (one request at a time, evenly
   * spaced) where the vendor counts per second; FCM's quota counts per minute, so a second's worth
   * may go at once.
   */
  burstSeconds: number;
  /** The vendor's most tokens per send request (1 = one request per device). */
  multicastMax: number;
  /** Lambda SQS batch size: jobs per invocation. */
  batchSize: number;
  /** Most targets packed into one job (one SQS message): the multicast size, within SQS's 256 KiB. */
  maxTargetsPerJob: number;
  /** Receives before SQS moves a job to the dead-letter queue (crash safety net). */
  maxReceiveCount: number;
  /** Attempts (first try + retries) before a retryable failure is parked in the dead-letter queue. */
  maxAttempts: number;
  /** Worker timeout in seconds; the queue's visibility timeout is six times this (AWS guidance). */
  timeoutSeconds: number;
}

/**
 * Vendor requests one worker keeps going per second: about five requests in flight at a ~100 ms round
 * trip (a job's multicast chunks are sent concurrently).
 */
export const REQUESTS_PER_WORKER_PER_SECOND = 50;

/** ESM maximum concurrency is 2..1000; we cap lower so one vendor cannot take a new account's pool. */
const MIN_CONCURRENCY = 2;
const MAX_CONCURRENCY = 50;

/**
 * Workers allowed at once: the vendor's rate (documented, or the operator's `qps`) divided by what one
 * worker sends, within the ESM limits. Each worker container paces itself at `qps / maxConcurrency`.
 */
export function maxConcurrency(settings: VendorSettings, qps = settings.documentedQps): number {
  const fit = Math.floor(qps / REQUESTS_PER_WORKER_PER_SECOND);
  return Math.max(MIN_CONCURRENCY, Math.min(MAX_CONCURRENCY, fit));
}

const common = {
  batchSize: 10,
  maxReceiveCount: 5,
  maxAttempts: 8,
  timeoutSeconds: 30,
  burstSeconds: 0,
} as const;

// SQS messages are at most 256 KiB; a target is ~250 bytes with a 150-character token, so 500 targets
// (~125 KiB) leave room for the notification. Vendors that take 1000 tokens get two jobs' worth per
// 1000 recipients; the worker sends each job as one multicast request.
const JOB_TARGETS = 500;

// What each vendor's QPS counts. Tencent 548/41407 (Xiaomi): "QPS：表示1秒可调用的请求数。1个请求里最多
// 可以携带1000个目标设备"; Aliyun 616229 heads its table "厂商通道QPS（每秒推送请求数）限制" (requests) for
// Honor 3000 and Meizu 200; MobPush (blog.csdn.net/apkkkk/article/details/140118070) for vivo: "QPS 定义：
// 表示 1 秒可发送的推送消息数" (messages) and for OPPO: "30000 QPS 表示 1 秒内本应用最多可推送给 30000 个用户
// （所有接口共享应用维度限速上限总值）" (users); limits-and-costs.md §3.3 for Huawei ("counted in devices per
// second"; Huawei's own page does not say, UNCONFIRMED); FCM throttling-and-quotas: the project quota
// "counts messages, not requests" (firebase.google.com/docs/cloud-messaging/throttling-and-quotas).
export const VENDOR_SETTINGS: Record<Vendor, VendorSettings> = {
  // APNs publishes no rate (limits-and-costs.md §3.1); one request per device over HTTP/2 streams.
  // 600/s only sizes its workers (12): it is not a limit, nothing is paced.
  apns: { ...common, documentedQps: 600, multicastMax: 1, maxTargetsPerJob: JOB_TARGETS },
  // FCM: 600,000 messages/min per project = 10,000/s, one request per device; minutes are sliding.
  fcm: {
    ...common,
    documentedQps: 10_000,
    rateUnit: "device",
    burstSeconds: 1,
    multicastMax: 1,
    maxTargetsPerJob: JOB_TARGETS,
  },
  // Huawei: QPS = MAU × weight × 0.00072 with a floor of 6000 (Tencent 548/41407); 1000 tokens per request.
  huawei: {
    ...common,
    documentedQps: 6000,
    rateUnit: "device",
    multicastMax: 1000,
    maxTargetsPerJob: JOB_TARGETS,
  },
  // Honor: 3000 QPS fixed (Aliyun 616229); 1000 tokens per request (by analogy with Huawei, UNCONFIRMED).
  honor: {
    ...common,
    documentedQps: 3000,
    rateUnit: "request",
    multicastMax: 1000,
    maxTargetsPerJob: JOB_TARGETS,
  },
  // Xiaomi: 500 QPS below 100k daily active devices (Tencent 548/41407); 1000 regIds per request.
  xiaomi: {
    ...common,
    documentedQps: 500,
    rateUnit: "request",
    multicastMax: 1000,
    maxTargetsPerJob: JOB_TARGETS,
  },
  // OPPO: 5000 QPS below 10M users, shared by all interfaces; unicast_batch of 1000.
  oppo: {
    ...common,
    documentedQps: 5000,
    rateUnit: "device",
    multicastMax: 1000,
    maxTargetsPerJob: JOB_TARGETS,
  },
  // vivo: 3000 QPS below 5M users; pushToList of 2..1000 (two requests: saveListPayload + pushToList).
  vivo: {
    ...common,
    documentedQps: 3000,
    rateUnit: "device",
    multicastMax: 1000,
    maxTargetsPerJob: JOB_TARGETS,
  },
  // Meizu: 200 QPS by default (Aliyun 616229); 100 pushIds per request since 2023-08-21.
  meizu: { ...common, documentedQps: 200, rateUnit: "request", multicastMax: 100, maxTargetsPerJob: 100 },
};

/** Vendors with a queue, a dead-letter queue and a worker: all of them. */
export const ACTIVE_VENDORS = VENDORS;

export type RateUnit = "request" | "device";

/**
 * The operator's rates (`CHATPUSH_VENDOR_QPS` locally, CDK context `vendorQps` deployed), in the
 * vendor's unit per second: per vendor a number, or per credential an object keyed by certificateId
 * with "*" for the vendor's other credentials, e.g. `{"meizu":20,"xiaomi":{"*":500,"30001":2000}}`.
 */
export type VendorQpsOverrides = Partial<Record<Vendor, number | Record<string, number>>>;

export class VendorQpsError extends Error {
  override name = "VendorQpsError";
}

/** Reads and checks the operator's rates (a JSON string, or the object CDK context already parsed). */
export function parseVendorQps(value: unknown, name = "CHATPUSH_VENDOR_QPS"): VendorQpsOverrides {
  if (value === undefined || value === "") return {};
  let parsed = value;
  if (typeof value === "string") {
    try {
      parsed = JSON.parse(value);
    } catch {
      throw new VendorQpsError(`${name} must be JSON, e.g. {"meizu":20}`);
    }
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new VendorQpsError(`${name} must be a JSON object, e.g. {"meizu":20}`);
  }
  const positive = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v) && v > 0;
  const overrides: VendorQpsOverrides = {};
  for (const [vendor, rate] of Object.entries(parsed)) {
    if (!isVendor(vendor))
      throw new VendorQpsError(`${name}: "${vendor}" is not a vendor (${VENDORS.join(", ")})`);
    if (positive(rate)) {
      overrides[vendor] = rate;
      continue;
    }
    const perCredential = rate as Record<string, unknown>;
    if (typeof rate !== "object" || rate === null || Array.isArray(rate)) {
      throw new VendorQpsError(
        `${name}.${vendor} must be a positive number or {"<certificateId>"|"*": number}`,
      );
    }
    for (const [credential, qps] of Object.entries(perCredential)) {
      if (!positive(qps))
        throw new VendorQpsError(`${name}.${vendor}.${credential} must be a positive number`);
    }
    overrides[vendor] = perCredential as Record<string, number>;
  }
  return overrides;
}

/**
 * The rate a credential is held to, per second in the vendor's unit: the operator's (the credential's
 * own, else the vendor's "*" or number), else the documented one; undefined when the vendor publishes
 * none and the operator set none (APNs). `credential` undefined asks for the vendor's default.
 */
export function vendorQps(
  vendor: Vendor,
  overrides: VendorQpsOverrides,
  credential?: string,
): number | undefined {
  const settings = VENDOR_SETTINGS[vendor];
  const override = overrides[vendor];
  if (typeof override === "number") return override;
  const own = override !== undefined && credential !== undefined ? override[credential] : undefined;
  return own ?? override?.["*"] ?? (settings.rateUnit !== undefined ? settings.documentedQps : undefined);
}

/** The event source's maximum concurrency for the vendor, the operator's rate taken into account. */
export function workerConcurrency(vendor: Vendor, overrides: VendorQpsOverrides): number {
  const settings = VENDOR_SETTINGS[vendor];
  return maxConcurrency(settings, vendorQps(vendor, overrides) ?? settings.documentedQps);
}

/**
 * How one worker container paces the vendor when `containers` of them may run at once: each gets an
 * equal share of every credential's rate, so together they stay under it without a shared counter (no
 * DynamoDB request per vendor request, no hot key, nothing to wait on when DynamoDB is slow). The price:
 * while fewer containers run, the vendor's rate is not used up; a backlog scales the event source up to
 * its maximum concurrency, and then it is.
 */
export function pacingFor(vendor: Vendor, overrides: VendorQpsOverrides, containers: number): Pacing {
  const settings = VENDOR_SETTINGS[vendor];
  // An operator's rate for a vendor without a documented one (APNs) counts requests.
  const unit: RateUnit = settings.rateUnit ?? "request";
  const share = (credential: string): RateLimit | undefined => {
    const qps = vendorQps(vendor, overrides, credential);
    if (qps === undefined) return undefined;
    const perSecond = qps / Math.max(1, containers);
    return { perSecond, burst: Math.max(1, Math.floor(perSecond * settings.burstSeconds)) };
  };
  return {
    chunkSize: settings.multicastMax,
    costOf: (tokens) => (unit === "device" ? tokens : 1),
    limitOf: share,
  };
}

/**
 * Which credential serves a target, as the senders pick it (`pickCredential`): its certificateId, else
 * the vendor's default. The worker keys gates, breakers and rates by it, so a device registered without
 * a certificateId and one naming the default credential share one rate.
 */
export function credentialKeyOf(
  credentials: readonly { certificateId: number; isDefault?: boolean }[],
): (target: Pick<DeliveryTarget, "certificateId">) => string {
  return (target) =>
    String(
      pickCredential(credentials, target.certificateId)?.certificateId ?? target.certificateId ?? "default",
    );
}
