import type { Vendor } from "../model/index.js";

/**
 * Environment variables the functions read. They carry names, URLs and ARNs, never secret values:
 * secrets are fetched from Secrets Manager by name and cached.
 */
export const ENV = {
  sdkAppId: "CHATPUSH_SDK_APP_ID",
  tableName: "CHATPUSH_TABLE_NAME",
  /** Router: "true" pushes Meeting / AVChatRoom groups offline too (Tencent's default: online only). */
  pushOnlineOnlyGroups: "CHATPUSH_PUSH_ONLINE_ONLY_GROUPS",
  /** Router: Powertools idempotency records (partition key `id`, TTL `expiration`). */
  idempotencyTableName: "CHATPUSH_IDEMPOTENCY_TABLE_NAME",
  ingestQueueUrl: "CHATPUSH_INGEST_QUEUE_URL",
  /** HTTP: days after which another user may take an unrefreshed registration's token (default 30). */
  tokenTakeoverDays: "CHATPUSH_TOKEN_TAKEOVER_DAYS",
  /** Secret holding the callback authentication token (plain string); unset = callback auth off. */
  callbackTokenSecret: "CHATPUSH_CALLBACK_TOKEN_SECRET",
  /** Secret holding the app's UserSig secret key (plain string). */
  userSigKeySecret: "CHATPUSH_USERSIG_KEY_SECRET",
  /** Worker: its own queue (retries are re-enqueued there) and dead-letter queue. */
  vendorQueueUrl: "CHATPUSH_VENDOR_QUEUE_URL",
  vendorDlqUrl: "CHATPUSH_VENDOR_DLQ_URL",
  /**
   * Router: Tencent's REST API region domain (e.g. https://adminapisgp.im.qcloud.com) for portrait_get
   * look-ups of senders' nicknames, with an admin UserSig made from the UserSig key secret; unset =
   * no look-ups (pushes from senders chatpush never saw a nickname for are titled with their user ID).
   */
  tencentApi: "CHATPUSH_TENCENT_API",
  /**
   * Router and HTTP: the app admin account REST calls are made as, and the only account Tencent's
   * REST push API (/v4/timpush/*, /v4/all_member_push/*) accepts; default "administrator".
   */
  adminIdentifier: "CHATPUSH_ADMIN_IDENTIFIER",
  /** Router: the title of the admin's messages and server pushes instead of its account id (unset = the id). */
  adminDisplayName: "CHATPUSH_ADMIN_DISPLAY_NAME",
  /** HTTP: timpush/push and im_push calls a day (Tencent's default: 100). */
  pushDailyLimit: "CHATPUSH_PUSH_DAILY_LIMIT",
  /** Router: the notification language of devices that registered no known locale ("zh-CN", "en"). */
  defaultLocale: "CHATPUSH_DEFAULT_LOCALE",
  /** Worker: secret with the vendor's credential list (JSON array). */
  credentialsSecret: "CHATPUSH_CREDENTIALS_SECRET",
  /**
   * Worker and local runtime: vendor rates per second, JSON `{"meizu":20}` or per credential
   * `{"xiaomi":{"*":500,"30001":2000}}` (lib/vendors/settings.ts `parseVendorQps`); unset = documented.
   */
  vendorQps: "CHATPUSH_VENDOR_QPS",
  /** Worker: token-removal breaker, JSON `{"share":0.5,"minAnswers":100,"windowSeconds":600}` (any subset). */
  tokenBreaker: "CHATPUSH_TOKEN_BREAKER",
  /** Worker: circuit breaker, JSON `{"failures":5,"openSeconds":30,"maxOpenSeconds":300}` (any subset). */
  circuitBreaker: "CHATPUSH_CIRCUIT_BREAKER",
  /**
   * Worker: ARN of the optional delivery-events SNS topic (CDK context `deliveryEvents=true`); the worker
   * publishes delivered / token-removed / dead-lettered events there (never tokens); unset = no events.
   */
  deliveryEventsTopicArn: "CHATPUSH_DELIVERY_EVENTS_TOPIC_ARN",
  /** Router: hours the routing trace `npm run why` reads is kept (default 72). */
  traceHours: "CHATPUSH_TRACE_HOURS",
} as const;

/** Router: the queue URL of each vendor, e.g. CHATPUSH_QUEUE_URL_APNS. */
export function vendorQueueEnv(vendor: Vendor): string {
  return `CHATPUSH_QUEUE_URL_${vendor.toUpperCase()}`;
}
