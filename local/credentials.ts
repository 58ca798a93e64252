import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type {
  AndroidVendorCredentialBase,
  ApnsTokenCredential,
  FcmCredential,
} from "../lib/vendors/credentials.js";
import { ANDROID_VENDORS, type AndroidVendor, LOCAL_ANDROID_VENDORS } from "./android-vendors.js";
import { generateApnsCredential } from "./simulators/apns.js";
import { generateFcmCredential } from "./simulators/fcm.js";

/** Certificate IDs of the generated credentials, as the console would number them. */
export const LOCAL_CERTIFICATE_IDS = { apns: 10001, fcm: 20001 } as const;
export const LOCAL_BUNDLE_ID = "com.example.chatpush";
export const LOCAL_FCM_PROJECT = "chatpush-local";

export interface SimulatorCredentials {
  apns: ApnsTokenCredential;
  apnsKey: { keyId: string; teamId: string; publicKey: string };
  fcm: FcmCredential;
  fcmAccount: { projectId: string; clientEmail: string; publicKey: string };
  /** One generated credential per Chinese vendor, its simulator registers it as the vendor's console would. */
  android: Record<AndroidVendor, AndroidVendorCredentialBase>;
}

/**
 * Credentials for the simulators — a .p8 key for APNs, a service account for FCM, app ids and secrets
 * for the Chinese vendors — generated on first start and kept in the data folder, so restarts (and
 * the devices registered against them) keep working.
 */
export function simulatorCredentials(dataDir?: string): SimulatorCredentials {
  const file = dataDir === undefined ? undefined : join(dataDir, "credentials.json");
  const stored =
    file !== undefined && existsSync(file)
      ? (JSON.parse(readFileSync(file, "utf8")) as Partial<SimulatorCredentials>)
      : {};

  // What a data folder from an earlier version lacks is generated; what it has is kept.
  let changed = false;
  const generate = <T>(have: T | undefined, make: () => T): T => {
    if (have !== undefined) return have;
    changed = true;
    return make();
  };
  const apns = generate(
    stored.apns && stored.apnsKey
      ? { credential: stored.apns, publicKey: stored.apnsKey.publicKey }
      : undefined,
    () => generateApnsCredential({ certificateId: LOCAL_CERTIFICATE_IDS.apns, bundleId: LOCAL_BUNDLE_ID }),
  );
  const fcm = generate(
    stored.fcm && stored.fcmAccount
      ? { credential: stored.fcm, publicKey: stored.fcmAccount.publicKey }
      : undefined,
    () =>
      generateFcmCredential({
        certificateId: LOCAL_CERTIFICATE_IDS.fcm,
        projectId: LOCAL_FCM_PROJECT,
        androidChannelId: "chat_messages",
      }),
  );
  const android = Object.fromEntries(
    ANDROID_VENDORS.map((vendor) => {
      const row = LOCAL_ANDROID_VENDORS[vendor];
      const credential = generate(stored.android?.[vendor], () => row.generate(row.certificateId));
      // A stored credential gains the fields added since it was made (e.g. Xiaomi's template id),
      // which its simulator then registers too; what it has is kept.
      const fresh = row.generate(row.certificateId);
      if (Object.keys(fresh).some((key) => !(key in credential))) changed = true;
      return [vendor, { ...fresh, ...credential }];
    }),
  ) as Record<AndroidVendor, AndroidVendorCredentialBase>;

  const credentials: SimulatorCredentials = {
    apns: apns.credential,
    apnsKey: { keyId: apns.credential.keyId, teamId: apns.credential.teamId, publicKey: apns.publicKey },
    fcm: fcm.credential,
    fcmAccount: {
      projectId: fcm.credential.projectId,
      clientEmail: fcm.credential.clientEmail,
      publicKey: fcm.publicKey,
    },
    android,
  };
  if (file !== undefined && changed) {
    writeFileSync(file, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  }
  return credentials;
}
