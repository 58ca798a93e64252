import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { DeliveryTarget, Device, Notification, Outcome, Vendor } from "../model/index.js";
import { VENDORS } from "../model/index.js";
import type { VendorSender } from "../ports/index.js";
import { ApnsSender } from "../vendors/apns.js";
import type { CredentialsByVendor } from "../vendors/credentials.js";
import { FcmSender } from "../vendors/fcm.js";
import { HonorSender } from "../vendors/honor.js";
import { HuaweiSender } from "../vendors/huawei.js";
import { MeizuSender } from "../vendors/meizu.js";
import { OppoSender } from "../vendors/oppo.js";
import { VivoSender } from "../vendors/vivo.js";
import { XiaomiSender } from "../vendors/xiaomi.js";
import {
  type CredentialCheck,
  checkApns,
  checkFcm,
  checkHonor,
  checkHuawei,
  checkMeizu,
  checkOppo,
  checkVivo,
  checkXiaomi,
} from "./doctor-checks.js";

export type { CredentialCheck } from "./doctor-checks.js";

/** Vendor names as people write them. */
export const VENDOR_NAMES: Readonly<Record<Vendor, string>> = {
  apns: "APNs",
  fcm: "FCM",
  huawei: "Huawei",
  honor: "Honor",
  xiaomi: "Xiaomi",
  oppo: "OPPO",
  vivo: "vivo",
  meizu: "Meizu",
};

/**
 * Where doctor found each vendor's credentials, with what was wrong with the source itself (a secret
 * that is not a JSON array of credentials): `credentials` holds only what could be read.
 */
export interface CredentialSource {
  description: string;
  credentials: Partial<CredentialsByVendor>;
  /** Per vendor: why it has no credentials to check ("not configured: …", or what is wrong). */
  notes: Partial<Record<Vendor, { broken: boolean; text: string }>>;
}

type AnyCredential = { certificateId: number };
const CHECKS: { [V in Vendor]: (credential: CredentialsByVendor[V][number]) => Promise<CredentialCheck> } = {
  apns: checkApns,
  fcm: checkFcm,
  huawei: checkHuawei,
  honor: checkHonor,
  xiaomi: checkXiaomi,
  oppo: checkOppo,
  vivo: checkVivo,
  meizu: checkMeizu,
};

/** Every credential of every vendor, checked at once; results in vendor order, then as configured. */
export async function checkCredentials(
  credentials: Partial<CredentialsByVendor>,
): Promise<CredentialCheck[]> {
  const checks = VENDORS.flatMap((vendor) =>
    ((credentials[vendor] ?? []) as AnyCredential[]).map((credential) =>
      (CHECKS[vendor] as (c: AnyCredential) => Promise<CredentialCheck>)(credential).catch(
        (error: unknown): CredentialCheck => ({
          vendor,
          certificateId: credential.certificateId,
          label: `${VENDOR_NAMES[vendor]} ${credential.certificateId}`,
          status: "broken",
          detail: `the check failed: ${(error as Error).message}`,
        }),
      ),
    ),
  );
  return Promise.all(checks);
}

export interface DoctorReport {
  lines: string[];
  /** Any credential broken or unreachable, or a source that could not be read. */
  healthy: boolean;
}

const GREEN = "\u001b[32m";
const RED = "\u001b[31m";
const YELLOW = "\u001b[33m";
const RESET = "\u001b[0m";

/** One line per credential (and per vendor that has none), as `npm run doctor` prints them. */
export function formatReport(
  source: CredentialSource,
  checks: readonly CredentialCheck[],
  { color = false }: { color?: boolean } = {},
): DoctorReport {
  const paint = (code: string, text: string) => (color ? `${code}${text}${RESET}` : text);
  const lines: string[] = [];
  let healthy = true;
  for (const vendor of VENDORS) {
    const note = source.notes[vendor];
    if (note !== undefined) {
      if (note.broken) healthy = false;
      lines.push(
        `${note.broken ? paint(RED, "BROKEN ") : paint(YELLOW, "-      ")} ${VENDOR_NAMES[vendor]}: ${note.text}`,
      );
    }
    for (const check of checks.filter((c) => c.vendor === vendor)) {
      if (check.status !== "ok") healthy = false;
      const tag =
        check.status === "ok"
          ? paint(GREEN, "OK     ")
          : check.status === "broken"
            ? paint(RED, "BROKEN ")
            : paint(YELLOW, "UNSURE ");
      lines.push(`${tag} ${check.label}: ${check.detail}`);
    }
  }
  return { lines, healthy };
}

/** The credentials a running `npm start` uses (its simulators' or CHATPUSH_CREDENTIALS_FILE's). */
export async function localCredentials(baseUrl: string): Promise<CredentialSource> {
  const url = `${baseUrl.replace(/\/+$/, "")}/_local/credentials`;
  let response: Response;
  try {
    response = await fetch(url);
  } catch (error) {
    throw new Error(`no local runtime at ${baseUrl} (${(error as Error).message}): start it with npm start`);
  }
  if (!response.ok) throw new Error(`GET ${url} answered ${response.status}`);
  const credentials = (await response.json()) as Partial<CredentialsByVendor>;
  return fromLists(`the local runtime at ${baseUrl}`, credentials, "the local runtime has none");
}

/** A file shaped like CHATPUSH_CREDENTIALS_FILE: `{"apns": [...], "fcm": [...], ...}`. */
export function fileCredentials(path: string, text: string): CredentialSource {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`${path} is not JSON (${(error as Error).message})`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new Error(`${path} must hold an object of credential arrays by vendor ({"apns": [...], ...})`);
  }
  return fromLists(path, parsed as Partial<CredentialsByVendor>, `${path} has none`);
}

function fromLists(
  description: string,
  lists: Partial<Record<Vendor, unknown>>,
  noneText: string,
): CredentialSource {
  const source: CredentialSource = { description, credentials: {}, notes: {} };
  for (const vendor of VENDORS) {
    const list = lists[vendor];
    if (list === undefined || (Array.isArray(list) && list.length === 0)) {
      source.notes[vendor] = { broken: false, text: `not configured (${noneText})` };
    } else if (!Array.isArray(list)) {
      source.notes[vendor] = { broken: true, text: "its credentials are not a JSON array" };
    } else {
      (source.credentials as Record<Vendor, unknown>)[vendor] = list;
    }
  }
  return source;
}

/**
 * A deployed stack's credentials, from the secrets its workers read (CHATPUSH_CREDENTIALS_SECRET,
 * functions/shared/worker-from-env.ts): one JSON array each, named by the stack's
 * `<Vendor>CredentialsSecretName` outputs when `outputs` has them, else `<prefix>/<vendor>` (the
 * stack's naming from `-c secretPrefix`, default "chatpush"), with the AWS SDK's default credentials.
 */
export async function secretCredentials(
  { prefix, outputs = {} }: { prefix: string; outputs?: Readonly<Record<string, string>> },
  client: Pick<SecretsManagerClient, "send"> = new SecretsManagerClient({}),
): Promise<CredentialSource> {
  const source: CredentialSource = {
    description: `the secrets the workers read (${VENDORS.map((vendor) => secretNameOf(vendor, prefix, outputs)).join(", ")})`,
    credentials: {},
    notes: {},
  };
  await Promise.all(
    VENDORS.map(async (vendor) => {
      const name = secretNameOf(vendor, prefix, outputs);
      let text: string | undefined;
      try {
        const answer = await client.send(new GetSecretValueCommand({ SecretId: name }));
        text =
          answer.SecretString ?? (answer.SecretBinary ? Buffer.from(answer.SecretBinary).toString() : "");
      } catch (error) {
        const notFound = (error as { name?: string }).name === "ResourceNotFoundException";
        source.notes[vendor] = notFound
          ? { broken: false, text: `not configured (no secret ${name})` }
          : { broken: true, text: `secret ${name} could not be read (${(error as Error).message})` };
        return;
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        source.notes[vendor] = { broken: true, text: `secret ${name} is not JSON: the workers cannot start` };
        return;
      }
      if (typeof parsed === "object" && parsed !== null && "replaceMe" in parsed) {
        // The stack's own placeholder (infra/constructs/vendor-channel.ts): never filled in.
        source.notes[vendor] = {
          broken: false,
          text: `not configured (secret ${name} holds the stack's placeholder)`,
        };
      } else if (!Array.isArray(parsed) || parsed.length === 0) {
        source.notes[vendor] = {
          broken: true,
          text: `secret ${name} must hold a non-empty JSON array of credentials: the workers cannot start`,
        };
      } else {
        (source.credentials as Record<Vendor, unknown>)[vendor] = parsed;
      }
    }),
  );
  return source;
}

function secretNameOf(vendor: Vendor, prefix: string, outputs: Readonly<Record<string, string>>): string {
  const pascal = vendor.charAt(0).toUpperCase() + vendor.slice(1);
  return outputs[`${pascal}CredentialsSecretName`] ?? `${prefix}/${vendor}`;
}

/** The real sender of each vendor, built as the workers build theirs. */
export function makeSender(vendor: Vendor, credentials: CredentialsByVendor): VendorSender {
  switch (vendor) {
    case "apns":
      return new ApnsSender({ credentials: credentials.apns });
    case "fcm":
      return new FcmSender({ credentials: credentials.fcm });
    case "huawei":
      return new HuaweiSender({ credentials: credentials.huawei });
    case "honor":
      return new HonorSender({ credentials: credentials.honor });
    case "xiaomi":
      return new XiaomiSender({ credentials: credentials.xiaomi });
    case "oppo":
      return new OppoSender({ credentials: credentials.oppo });
    case "vivo":
      return new VivoSender({ credentials: credentials.vivo });
    case "meizu":
      return new MeizuSender({ credentials: credentials.meizu });
  }
}

/** One device's answer to the test push. */
export interface TestPushAnswer {
  device: Device;
  /** Not sent (a VoIP token, a vendor without credentials): why. */
  skipped?: string;
  outcome?: Outcome;
  status?: number;
}

/** What the test push says: a plain chat notification, in the conversation "chatpush_doctor". */
export function testNotification(now = Date.now()): Notification {
  return {
    title: "chatpush doctor",
    body: "Test notification: if you can read this, pushes reach this phone.",
    ext: '{"conversationID":"chatpush_doctor"}',
    conversationId: "chatpush_doctor",
    messageKey: `doctor-${now}`,
    sentAt: now,
  };
}

/**
 * Sends one test notification to each of the user's devices through the real senders, and returns
 * each vendor's answer. It changes nothing in the table: a dead token is reported, not removed.
 */
export async function testPush(
  devices: readonly Device[],
  credentials: Partial<CredentialsByVendor>,
  notification: Notification = testNotification(),
): Promise<TestPushAnswer[]> {
  const answers = new Map<Device, TestPushAnswer>();
  const byVendor = new Map<Vendor, Device[]>();
  for (const device of devices) {
    if (device.pushType === "voip") {
      // A PushKit token takes call invitations only (lib/model/device.ts): a chat alert is not for it.
      answers.set(device, { device, skipped: "VoIP token: it only takes call invitations, not tested" });
    } else if ((credentials[device.vendor] ?? []).length === 0) {
      answers.set(device, { device, skipped: `no ${VENDOR_NAMES[device.vendor]} credentials configured` });
    } else {
      byVendor.set(device.vendor, [...(byVendor.get(device.vendor) ?? []), device]);
    }
  }
  await Promise.all(
    [...byVendor].map(async ([vendor, vendorDevices]) => {
      const sender = makeSender(vendor, credentials as CredentialsByVendor);
      try {
        const results = await sender.send(notification, vendorDevices.map(targetOf));
        results.forEach((result, index) => {
          const device = vendorDevices[index]!;
          answers.set(device, {
            device,
            outcome: result.outcome,
            ...(result.status !== undefined && { status: result.status }),
          });
        });
      } finally {
        // Not awaited: an FCM session's close callback may never come in a process that has nothing
        // else to do (its sessions do not hold the process open), and the answers are in.
        sender.close().catch(() => undefined);
      }
    }),
  );
  return devices.map((device) => answers.get(device)!);
}

/** The target a delivery job would carry for this device (lib/routing builds the same). */
function targetOf(device: Device): DeliveryTarget {
  return {
    userId: device.userId,
    deviceId: device.deviceId,
    token: device.token,
    ...(device.certificateId !== undefined && { certificateId: device.certificateId }),
    ...(device.appId !== undefined && { appId: device.appId }),
    ...(device.environment !== undefined && { environment: device.environment }),
    ...(device.platform !== undefined && { platform: device.platform }),
  };
}

/** A token as doctor prints it: the first 6 and last 4 characters (the logs' rule). */
export function redactToken(token: string): string {
  return token.length > 12 ? `${token.slice(0, 6)}…${token.slice(-4)}` : "…";
}

/** One line per device: which device, and what its vendor answered, in words. */
export function formatTestPush(answer: TestPushAnswer): string {
  const { device } = answer;
  const who = `${device.userId}/${device.deviceId} (${VENDOR_NAMES[device.vendor]}, token ${redactToken(device.token)})`;
  if (answer.skipped !== undefined) return `-          ${who}: ${answer.skipped}`;
  const outcome = answer.outcome!;
  const status = answer.status === undefined ? "" : ` [HTTP ${answer.status}]`;
  switch (outcome.kind) {
    case "delivered":
      return `delivered  ${who}: accepted by the vendor${outcome.vendorId ? ` (id ${outcome.vendorId})` : ""}${status}`;
    case "drop-token":
      return `token dead ${who}: ${outcome.reason}${status} — the app must register a new token; a worker would remove this device`;
    case "credential-problem":
    case "refresh-credential":
      return `credential ${who}: the vendor refused our credential or configuration: ${outcome.reason}${status}`;
    case "declined":
      return `declined   ${who}: ${outcome.reason}${status} — the user switched notifications off`;
    case "quota":
      return `quota      ${who}: ${outcome.reason}${status}`;
    case "retry":
      return `try later  ${who}: ${outcome.reason}${status} — the vendor is unavailable or slow; a worker would retry`;
    case "bad-request":
      return `refused    ${who}: ${outcome.reason}${status}`;
  }
}
