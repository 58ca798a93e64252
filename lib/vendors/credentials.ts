/**
 * Vendor credentials, shaped like the Chat console's push certificates: several per vendor, each with
 * its certificate ID. Deployed, each vendor's list is one Secrets Manager secret (a JSON array of
 * these); locally, `.chatpush/credentials.json` with generated simulator credentials.
 */

export interface HostPort {
  host: string;
  port: number;
}

/**
 * An APNs credential: a token-auth `.p8` key, or a `.p12` certificate (what the Chat console's
 * "upload an iOS certificate (p.12), set the certificate password" flow hands teams,
 * https://intl.cloud.tencent.com/document/product/1047/39157).
 */
export type ApnsCredential = ApnsTokenCredential | ApnsCertificateCredential;

interface ApnsCredentialBase {
  certificateId: number;
  /** Serves registrations that name no certificateId. Default: the first credential. */
  isDefault?: boolean;
  /** The app's bundle id: the `apns-topic` (`<bundleId>.voip` for VoIP pushes). */
  bundleId: string;
  /** Only for the local simulator or a proxy: replaces Apple's hosts. */
  endpoint?: {
    production: HostPort;
    sandbox: HostPort;
    /** PEM of the CA that signed the server cert. */
    ca?: string;
  };
}

/** Token-based auth: the `.p8` key, its Key ID and the Team ID. */
export interface ApnsTokenCredential extends ApnsCredentialBase {
  teamId: string;
  keyId: string;
  /** The .p8 key (PKCS#8 PEM, P-256). */
  privateKey: string;
}

/** Certificate-based auth (TLS client certificate): the `.p12` export of the push certificate. */
export interface ApnsCertificateCredential extends ApnsCredentialBase {
  /** The .p12 (PKCS#12) file, base64. */
  p12: string;
  /** Its export password (the console requires one). */
  passphrase?: string;
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
   * A low-importance channel the app creates (no sound, no vibration) for notifications that replace
   * one already shown (a recall): on Android 8+ only the channel decides sound and vibration.
   */
  quietChannelId?: string;
  /**
   * Only for the local simulator (or a proxy): an HTTPS base URL (e.g. https://127.0.0.1:9100) that
   * receives both the OAuth token request and messages:send (HTTP/2), and the CA that signed its
   * certificate.
   */
  endpoint?: { url: string; ca?: string };
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
  /**
   * The app's self-classification approval covers `VOIP` (audio/video call invitations): call pushes
   * then go out as `android.category: "VOIP"`. Off (default): calls go out as `IM`, which needs no
   * approval beyond the IM one; a category the app is not approved for is refused or reclassified.
   */
  voipCategory?: boolean;
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
  /**
   * vivo's numeric app id, as the console shows it (a number or its digits); sent as a JSON number,
   * vivo's `int` (doc 362 "appId int"; SDK `Sender.getToken(int appId, …)`).
   */
  appId: string | number;
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
