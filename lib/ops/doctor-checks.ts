import { request as httpsRequest } from "node:https";
import type { ApnsEnvironment, Vendor } from "../model/index.js";
import { systemClock } from "../ports/index.js";
import { ApnsSender } from "../vendors/apns.js";
import { isCertificateCredential } from "../vendors/apns-credential.js";
import type {
  ApnsCredential,
  FcmCredential,
  HonorCredential,
  HuaweiCredential,
  MeizuCredential,
  OppoCredential,
  VivoCredential,
  XiaomiCredential,
} from "../vendors/credentials.js";
import { vendorUrl } from "../vendors/endpoint.js";
import { fcmSendUrl } from "../vendors/fcm.js";
import { FcmTokenError, ServiceAccountCredential } from "../vendors/fcm-auth.js";
import { fetchAccessToken as honorAccessToken } from "../vendors/honor.js";
import { fetchAccessToken as huaweiAccessToken } from "../vendors/huawei.js";
import { MEIZU_BASE_URL, meizuSign } from "../vendors/meizu.js";
import { fetchErrorText } from "../vendors/multicast.js";
import { OPPO_HOSTS, requestAuthToken } from "../vendors/oppo.js";
import { VivoSender, vivoAppId } from "../vendors/vivo.js";
import { XIAOMI_HOSTS } from "../vendors/xiaomi.js";

/**
 * One vendor credential, checked for real against the vendor (or the simulator its `endpoint` names),
 * by a request that needs the credential and delivers nothing.
 */
export interface CredentialCheck {
  vendor: Vendor;
  certificateId: number;
  /** What the credential is, in words: "APNs 10001 (key ABC123, team T1, com.example.app)". */
  label: string;
  /** ok: the vendor accepted it; broken: the vendor refused it; unreachable: no answer to judge by. */
  status: "ok" | "broken" | "unreachable";
  /** What the vendor said, and for a refusal what to do about it. */
  detail: string;
}

type Verdict = Pick<CredentialCheck, "status" | "detail">;

const REQUEST_TIMEOUT_MS = 10_000;

/**
 * A token no device has: hex (the sender sends only hex tokens) and far shorter than Apple's 32 bytes,
 * so APNs answers 400 BadDeviceToken once it has accepted the credential and 403 when it has not
 * (Apple checks the credential first: firebase-ios-sdk#4042, local/simulators/apns.ts).
 */
export const APNS_PROBE_TOKEN = "00000000000000000000";
const ENVIRONMENTS: readonly ApnsEnvironment[] = ["production", "sandbox"];

/**
 * What each 403 reason means and what fixes it, in Apple's words where Apple has them ("Handling
 * notification responses from APNs", https://developer.apple.com/documentation/usernotifications/handling-notification-responses-from-apns).
 */
const APNS_REFUSALS: Readonly<Record<string, string>> = {
  InvalidProviderToken:
    "Apple refused the .p8 key (InvalidProviderToken: the provider token isn't valid, or its signature can't be verified) — check keyId and teamId, or download a new key: this one may be revoked",
  ExpiredProviderToken:
    "Apple called the JWT stale twice (ExpiredProviderToken) — check this machine's clock",
  MissingProviderToken: "no provider token was sent (MissingProviderToken)",
  BadCertificate: "Apple refused the certificate (BadCertificate) — export the push certificate again",
  BadCertificateEnvironment: "the certificate is for the other environment (BadCertificateEnvironment)",
  Forbidden: "Apple refused the request (Forbidden: the specified action is not allowed)",
  BadEnvironmentKeyInToken: "the key is restricted to the other environment (BadEnvironmentKeyInToken)",
  TopicDisallowed: "the credential may not push to this bundle id (TopicDisallowed) — check bundleId",
};

function apnsLabel(credential: ApnsCredential): string {
  const what = isCertificateCredential(credential)
    ? "certificate"
    : `key ${credential.keyId}, team ${credential.teamId}`;
  return `APNs ${credential.certificateId} (${what}, ${credential.bundleId})`;
}

/**
 * APNs: a push through the real sender (node-apn, the credential's own pool) to APNS_PROBE_TOKEN in
 * each environment. 400 BadDeviceToken = the key or certificate was accepted and nothing was
 * delivered; a 403 = refused. OK when at least one environment accepts it (a certificate may be for
 * one only); what the other said is kept in the detail. The bundle id is not proven by this probe:
 * which of BadDeviceToken and TopicDisallowed APNs answers first is not documented (UNCONFIRMED);
 * `--test-push` to a real device proves it.
 */
export async function checkApns(credential: ApnsCredential): Promise<CredentialCheck> {
  const sender = new ApnsSender({ credentials: [credential] });
  const label = apnsLabel(credential);
  try {
    const answers = await Promise.all(
      ENVIRONMENTS.map(async (environment) => {
        const [result] = await sender.send(probeNotification(), [
          {
            userId: "chatpush-doctor",
            deviceId: "doctor-probe",
            token: APNS_PROBE_TOKEN,
            certificateId: credential.certificateId,
            environment,
          },
        ]);
        return { environment, outcome: result!.outcome };
      }),
    );
    const accepted = answers.filter(
      ({ outcome }) =>
        outcome.kind === "delivered" ||
        (outcome.kind === "drop-token" && outcome.reason.includes("BadDeviceToken")),
    );
    const words = (outcome: (typeof answers)[number]["outcome"]): string => {
      if (outcome.kind === "delivered") return "accepted";
      const reason = outcome.reason;
      const known = Object.entries(APNS_REFUSALS).find(([name]) => reason.includes(name));
      return known === undefined ? reason : `${known[1]} [${reason}]`;
    };
    const others = answers
      .filter((answer) => !accepted.includes(answer))
      .map(({ environment, outcome }) => `${environment}: ${words(outcome)}`);
    if (accepted.length === 0) {
      const unreachable = answers.every(({ outcome }) => outcome.kind === "retry");
      return {
        vendor: "apns",
        certificateId: credential.certificateId,
        label,
        status: unreachable ? "unreachable" : "broken",
        detail: others.join("; "),
      };
    }
    const where = accepted.map((answer) => answer.environment).join(" and ");
    return {
      vendor: "apns",
      certificateId: credential.certificateId,
      label,
      status: "ok",
      detail: `accepted by APNs ${where} (400 BadDeviceToken for a probe token, nothing delivered)${others.length > 0 ? `; ${others.join("; ")}` : ""}`,
    };
  } finally {
    await sender.close();
  }
}

/**
 * FCM: the service account's OAuth grant (the same JWT-bearer grant the sender makes), then a
 * `validate_only` send to a topic — "Flag for testing the request without actually delivering the
 * message" (https://firebase.google.com/docs/reference/fcm/rest/v1/projects.messages/send) — which
 * proves the token may send for `projectId`.
 */
export async function checkFcm(credential: FcmCredential): Promise<CredentialCheck> {
  const label = `FCM ${credential.certificateId} (project ${credential.projectId}, ${credential.clientEmail})`;
  const result = (verdict: Verdict): CredentialCheck => ({
    vendor: "fcm",
    certificateId: credential.certificateId,
    label,
    ...verdict,
  });
  let accessToken: string;
  try {
    accessToken = (await new ServiceAccountCredential(credential).getAccessToken()).access_token;
  } catch (error) {
    if (error instanceof FcmTokenError) {
      if (error.status === undefined)
        return result({
          status: "unreachable",
          detail: `could not reach Google's token endpoint (${error.message})`,
        });
      let said = error.message.replace(/^token endpoint answered \d+: /, "");
      if (error.oauthError !== undefined && said.startsWith(`${error.oauthError} `)) {
        said = `${error.oauthError}: ${said.slice(error.oauthError.length + 1)}`;
      }
      return result({
        status: "broken",
        detail: `the service account key was refused by Google (${said}) — download a new key (Firebase console → Project settings → Service accounts)`,
      });
    }
    return result({
      status: "broken",
      detail: `the private key does not load (${(error as Error).message})`,
    });
  }
  const { url, headers } = vendorUrl(fcmSendUrl(credential.projectId), credential.endpoint?.url);
  const answer = await postJson(
    url,
    { ...headers, authorization: `Bearer ${accessToken}` },
    { validate_only: true, message: { topic: "chatpush-doctor" } },
    credential.endpoint?.ca,
  );
  if ("error" in answer)
    return result({ status: "unreachable", detail: `token obtained; FCM unreachable (${answer.error})` });
  if (answer.status === 200) {
    return result({
      status: "ok",
      detail: "OAuth token obtained, and a validate_only send accepted (nothing delivered)",
    });
  }
  const error = (answer.json as { error?: { status?: string; message?: string } } | undefined)?.error;
  const said = `${answer.status} ${error?.status ?? ""}: ${error?.message ?? answer.text.slice(0, 200)}`;
  const hint =
    answer.status === 403 || answer.status === 404
      ? ` — is projectId ${JSON.stringify(credential.projectId)} the service account's Firebase project?`
      : "";
  return result({
    status: answer.status >= 500 ? "unreachable" : "broken",
    detail: `OAuth token obtained, but FCM refused a validate_only send (${said})${hint}`,
  });
}

/** Huawei, Honor, OPPO, vivo: an access token from the vendor's own auth endpoint, as the sender gets it. */
async function checkTokenGrant(
  vendor: Vendor,
  certificateId: number,
  label: string,
  grant: () => Promise<unknown>,
  fix: string,
): Promise<CredentialCheck> {
  try {
    await grant();
    return {
      vendor,
      certificateId,
      label,
      status: "ok",
      detail: "access token obtained from the auth endpoint",
    };
  } catch (error) {
    // Each sender's auth error carries the vendor's answer, with its HTTP status; without one (fetch
    // failed, a timeout) nothing says the credential is wrong.
    const status = (error as { answer?: { httpStatus?: number } }).answer?.httpStatus;
    const message = error instanceof Error ? error.message : String(error);
    if (status === undefined || status === 0) {
      return {
        vendor,
        certificateId,
        label,
        status: "unreachable",
        detail: `auth endpoint unreachable (${fetchErrorText(error)})`,
      };
    }
    return {
      vendor,
      certificateId,
      label,
      status: "broken",
      detail: `the auth endpoint refused the credential (${message}) — ${fix}`,
    };
  }
}

export function checkHuawei(credential: HuaweiCredential): Promise<CredentialCheck> {
  return checkTokenGrant(
    "huawei",
    credential.certificateId,
    `Huawei ${credential.certificateId} (app ${credential.appId}, ${credential.packageName})`,
    () => huaweiAccessToken(credential),
    "check appId and clientSecret (AppGallery Connect → Project settings → App information)",
  );
}

export function checkHonor(credential: HonorCredential): Promise<CredentialCheck> {
  return checkTokenGrant(
    "honor",
    credential.certificateId,
    `Honor ${credential.certificateId} (app ${credential.appId}, client ${credential.clientId})`,
    () => honorAccessToken(credential),
    "check clientId and clientSecret (Honor developer console → the app's push service)",
  );
}

/**
 * OPPO: an auth_token from the China host. Each host issues its own tokens (lib/vendors/oppo.ts); the
 * international host is not asked: the same app_key and master_secret serve both.
 */
export function checkOppo(credential: OppoCredential): Promise<CredentialCheck> {
  return checkTokenGrant(
    "oppo",
    credential.certificateId,
    `OPPO ${credential.certificateId} (app key ${credential.appKey}, ${credential.packageName})`,
    () => requestAuthToken(credential, "cn", systemClock),
    `check appKey and masterSecret (OPPO open platform → the app's push service; ${OPPO_HOSTS.cn})`,
  );
}

export async function checkVivo(credential: VivoCredential): Promise<CredentialCheck> {
  const label = `vivo ${credential.certificateId} (app ${credential.appId}, ${credential.packageName})`;
  if (vivoAppId(credential) === undefined) {
    return {
      vendor: "vivo",
      certificateId: credential.certificateId,
      label,
      status: "broken",
      detail: `appId ${JSON.stringify(credential.appId)} is not vivo's numeric app id`,
    };
  }
  const sender = new VivoSender({ credentials: [credential] });
  try {
    return await checkTokenGrant(
      "vivo",
      credential.certificateId,
      label,
      () => sender.authorize(credential),
      "check appId, appKey and appSecret (vivo open platform → the app's push service)",
    );
  } finally {
    await sender.close();
  }
}

/**
 * Xiaomi has no token exchange: every request carries `Authorization: key=<AppSecret>`. The check is
 * its Tracer, GET /v1/trace/message/status ("追踪消息状态", dev.mi.com pId=1558; the path is the
 * official server SDK's V1_MESSAGE_STATUS), for a message id that does not exist: it needs the secret
 * and delivers nothing. 21301 (认证失败, https://dev.mi.com/xiaomihyperos/documentation/detail?pId=1560)
 * = refused; any other answer in Xiaomi's shape = the secret was accepted (what Xiaomi answers for an
 * unknown id is UNCONFIRMED). On the credential's region host, as its sends.
 */
export async function checkXiaomi(credential: XiaomiCredential): Promise<CredentialCheck> {
  const region = credential.region ?? "cn";
  const label = `Xiaomi ${credential.certificateId} (${credential.packageName}, region ${region})`;
  const result = (verdict: Verdict): CredentialCheck => ({
    vendor: "xiaomi",
    certificateId: credential.certificateId,
    label,
    ...verdict,
  });
  const { url, headers } = vendorUrl(
    `${XIAOMI_HOSTS[region]}/v1/trace/message/status?msg_id=chatpush-doctor-probe`,
    credential.endpoint?.url,
  );
  const answer = await getJson(url, { ...headers, authorization: `key=${credential.appSecret}` });
  if ("error" in answer)
    return result({ status: "unreachable", detail: `Xiaomi unreachable (${answer.error})` });
  const json = answer.json as { code?: unknown; description?: unknown; reason?: unknown } | undefined;
  const code = json?.code;
  if (code === 21301 || code === "21301" || answer.status === 401) {
    return result({
      status: "broken",
      detail:
        `Xiaomi refused the AppSecret (21301 ${String(json?.description ?? "")} ${String(json?.reason ?? "")}`.trimEnd() +
        ") — copy the AppSecret again from the Xiaomi developer console (the app's push service)",
    });
  }
  if (code === undefined) {
    return result({
      status: "unreachable",
      detail: `not Xiaomi's answer (HTTP ${answer.status}: ${answer.text.slice(0, 120)})`,
    });
  }
  return result({
    status: "ok",
    detail: `AppSecret accepted (a trace query answered code ${String(code)}, nothing delivered)`,
  });
}

/**
 * Meizu signs every request with the appSecret (no token). The check is 获取应用推送统计, a signed GET
 * of today's push statistics (https://github.com/MEIZUPUSH/PushAPI README, "推送统计"): it needs the
 * signature and delivers nothing. 1006 签名认证失败 = wrong appSecret, 110000 appId不合法 = unknown appId.
 */
export async function checkMeizu(credential: MeizuCredential): Promise<CredentialCheck> {
  const label = `Meizu ${credential.certificateId} (app ${credential.appId}, ${credential.packageName})`;
  const result = (verdict: Verdict): CredentialCheck => ({
    vendor: "meizu",
    certificateId: credential.certificateId,
    label,
    ...verdict,
  });
  // Meizu's dates are yyyyMMdd; its day is Beijing's (UTC+8).
  const today = new Date(Date.now() + 8 * 3_600_000).toISOString().slice(0, 10).replaceAll("-", "");
  const params = { appId: credential.appId, startTime: today, endTime: today };
  const query = new URLSearchParams({ ...params, sign: meizuSign(params, credential.appSecret) });
  const { url, headers } = vendorUrl(
    `${MEIZU_BASE_URL}/garcia/api/server/push/statistics/dailyPushStatics?${query}`,
    credential.endpoint?.url,
  );
  const answer = await getJson(url, headers);
  if ("error" in answer)
    return result({ status: "unreachable", detail: `Meizu unreachable (${answer.error})` });
  const json = answer.json as { code?: unknown; message?: unknown } | undefined;
  const code = json?.code === undefined ? undefined : String(json.code);
  if (code === "200") {
    return result({
      status: "ok",
      detail: "signature accepted (a statistics query answered 200, nothing delivered)",
    });
  }
  if (code === "1006") {
    return result({
      status: "broken",
      detail: `Meizu refused the signature (1006 ${String(json?.message ?? "")}): the appSecret is wrong — copy it again from the Flyme push console`,
    });
  }
  if (code === "110000") {
    return result({
      status: "broken",
      detail: `Meizu does not know appId ${credential.appId} (110000 ${String(json?.message ?? "")})`,
    });
  }
  if (code === undefined) {
    return result({
      status: "unreachable",
      detail: `not Meizu's answer (HTTP ${answer.status}: ${answer.text.slice(0, 120)})`,
    });
  }
  return result({ status: "broken", detail: `Meizu answered ${code} ${String(json?.message ?? "")}` });
}

/** A notification nobody sees: the APNs probe's token reaches no device. */
function probeNotification() {
  return {
    title: "chatpush doctor",
    body: "credential check",
    ext: "{}",
    conversationId: "chatpush_doctor",
    messageKey: `doctor-probe-${Date.now()}`,
    sentAt: Date.now(),
  };
}

type HttpAnswer = { status: number; text: string; json: unknown } | { error: string };

async function getJson(url: string, headers: Record<string, string>): Promise<HttpAnswer> {
  try {
    const response = await fetch(url, { headers, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    const text = await response.text();
    return { status: response.status, text, json: parseJson(text) };
  } catch (error) {
    return { error: fetchErrorText(error) };
  }
}

/** An HTTPS JSON POST that can trust a simulator's own CA (global fetch cannot be given one). */
function postJson(
  url: string,
  headers: Record<string, string>,
  body: unknown,
  ca: string | undefined,
): Promise<HttpAnswer> {
  return new Promise((resolve) => {
    const request = httpsRequest(
      url,
      {
        method: "POST",
        headers: { ...headers, "content-type": "application/json" },
        timeout: REQUEST_TIMEOUT_MS,
        ...(ca !== undefined && { ca }),
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.once("error", (error) => resolve({ error: error.message }));
        response.once("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          resolve({ status: response.statusCode ?? 0, text, json: parseJson(text) });
        });
      },
    );
    request.once("timeout", () => request.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
    request.once("error", (error) => resolve({ error: error.message }));
    request.end(JSON.stringify(body));
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
