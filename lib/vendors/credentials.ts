/**
 * Vendor credentials, shaped like the Chat console's push certificates: several per vendor, each with
 * its certificate ID. Deployed, each vendor's list is one Secrets Manager secret (a JSON array of
 * these); locally, `.chatpush/credentials.json` with generated simulator credentials.
 */

export interface HostPort {
  host: string;
  port: number;
}

export interface ApnsCredential {
  certificateId: number;
  /** Serves registrations that name no certificateId. Default: the first credential. */
  isDefault?: boolean;
  /** The app's bundle id: the `apns-topic`. */
  bundleId: string;
  teamId: string;
  keyId: string;
  /** The .p8 key (PKCS#8 PEM, P-256). */
  privateKey: string;
  /** Only for the local simulator or a proxy: replaces Apple's hosts. */
  endpoint?: {
    production: HostPort;
    sandbox: HostPort /** PEM of the CA that signed the server cert. */;
    ca?: string;
  };
}

export interface FcmCredential {
  certificateId: number;
  isDefault?: boolean;
  /** From the Firebase service-account JSON. */
  projectId: string;
  clientEmail: string;
  privateKey: string;
  /** Android notification channel the app creates for chat messages. */
  androidChannelId?: string;
  /**
   * Only for the local simulator: a plain-HTTP base URL (e.g. http://127.0.0.1:9100) that receives
   * both the OAuth token request and messages:send.
   */
  endpoint?: { url: string };
}

export interface CredentialsByVendor {
  apns: ApnsCredential[];
  fcm: FcmCredential[];
  huawei: HuaweiCredential[];
  honor: HonorCredential[];
  xiaomi: XiaomiCredential[];
  oppo: OppoCredential[];
  vivo: VivoCredential[];
  meizu: MeizuCredential[];
}

/** The credential a device's registration names, else the vendor's default. */
export function pickCredential<C extends { certificateId: number; isDefault?: boolean }>(
  credentials: readonly C[],
  certificateId: number | undefined,
): C | undefined {
  if (certificateId !== undefined) return credentials.find((c) => c.certificateId === certificateId);
  return credentials.find((c) => c.isDefault) ?? credentials[0];
}

/**
 * What every Chinese vendor's credential has besides its secrets. `endpoint.url` replaces every
 * vendor host (auth and send) with one plain-HTTP base URL: the local simulator.
 */
export interface AndroidVendorCredentialBase {
  certificateId: number;
  isDefault?: boolean;
  /** The Android package name (`restricted_package_name` and the like). */
  packageName: string;
  /**
   * Intent URI that opens the conversation when the notification is tapped, as the push plugin
   * registers it (e.g. "intent://com.example.app/chat#Intent;scheme=tpns;launchFlags=0x4000000;end").
   * The notification's `ext` JSON is added as the string extra `ext`. Absent = open the app.
   */
  clickIntent?: string;
  endpoint?: { url: string };
}

/** Huawei Push Kit v1: OAuth 2.0 client credentials (AppGallery Connect app id and secret). */
export interface HuaweiCredential extends AndroidVendorCredentialBase {
  /** AppGallery Connect app id: the path segment of messages:send and the OAuth client id. */
  appId: string;
  clientSecret: string;
  /** Custom notification channel (service & communication only). */
  channelId?: string;
  /** Launcher activity class for the badge (android.notification.badge.class). */
  badgeClass?: string;
}

/** Honor Push: OAuth 2.0 client credentials. */
export interface HonorCredential extends AndroidVendorCredentialBase {
  appId: string;
  clientId: string;
  clientSecret: string;
  badgeClass?: string;
}

/** Xiaomi Mi Push: static `Authorization: key=<AppSecret>`. */
export interface XiaomiCredential extends AndroidVendorCredentialBase {
  appSecret: string;
  /** The approved private (IM) channel id; without it messages count as public/marketing. */
  channelId: string;
  /**
   * The approved message template of the private channel: every private-channel message must carry
   * one since Xiaomi's template rules (https://dev.mi.com/xiaomihyperos/documentation/detail?pId=2314).
   * Without it chatpush parks private-channel jobs as a credential problem rather than send them.
   */
  templateId?: string;
  /**
   * The template's variables and the notification field each is filled from, e.g.
   * `{"sender":"title","text":"body"}` for a template "{$sender$}" / "{$text$}". Exactly the template's
   * variables (Xiaomi allows at most 9). Absent = a template without variables.
   */
  templateParams?: Record<string, XiaomiTemplateField>;
  /**
   * The approved public (公信) channel id, for operations pushes (`purpose: "operations"`). Without it
   * an operations push is not sent to Xiaomi: it must not ride on the IM channel.
   */
  publicChannelId?: string;
  /**
   * Where the app's devices are registered: `cn` (mainland China, the default), `global` (Singapore:
   * every other region), `eu` (EEA + UK), `ru` (Russia), `in` (India). Xiaomi serves a device only from
   * its region's host (pId=1696), so devices of several regions need one credential each.
   */
  region?: XiaomiRegion;
}

/** What a Xiaomi template variable is filled from. */
export type XiaomiTemplateField = "title" | "body";
export type XiaomiRegion = "cn" | "global" | "eu" | "ru" | "in";

/** OPPO Push: auth_token from sha256(app_key + timestamp + master_secret). */
export interface OppoCredential extends AndroidVendorCredentialBase {
  appKey: string;
  masterSecret: string;
  /** The approved private (IM) channel id. */
  channelId: string;
  /**
   * Activity opened on tap (click_action_type 1): the **action name of the activity's intent-filter**
   * (e.g. "com.example.app.OPEN_CHAT"), not its class name (OPPO: "1.跳转指定应用内页（action标签名）").
   * Absent = open the app.
   */
  clickActivity?: string;
  /**
   * The reminder level every IM message asks for (`notify_level`: 1 status bar, 2 + lock screen, 16 +
   * banner, vibration and ring). 16 needs OPPO's separate strong-reminder approval: without it OPPO
   * refuses every batch with 67. Absent = no notify_level (OPPO's default for the category).
   */
  notifyLevel?: OppoNotifyLevel;
  /**
   * An approved private-message template (`private_msg_template_id`) and the notification field each
   * of its title / content variables is filled from, e.g. `{"sender":"title"}` and `{"text":"body"}`.
   */
  privateTemplateId?: string;
  privateTitleParameters?: Record<string, "title" | "body">;
  privateContentParameters?: Record<string, "title" | "body">;
  /** The public (content & marketing) channel id, for operations pushes; absent = none sent. */
  publicChannelId?: string;
}

export type OppoNotifyLevel = 1 | 2 | 16;

/** vivo Push: authToken from md5(appId + appKey + timestamp + appSecret). */
export interface VivoCredential extends AndroidVendorCredentialBase {
  /** vivo's numeric app id, as a string. */
  appId: string;
  appKey: string;
  appSecret: string;
  /** pushMode 1: only the console's test devices, for apps not yet on the vivo store. */
  testMode?: boolean;
}

/** Meizu Flyme Push: per-request md5 signature with the appSecret. */
export interface MeizuCredential extends AndroidVendorCredentialBase {
  appId: string;
  appSecret: string;
  /** Activity opened on tap (clickType 1). */
  clickActivity?: string;
}
