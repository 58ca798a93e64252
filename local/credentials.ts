import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ApnsCredential, FcmCredential } from "../lib/vendors/credentials.js";
import { generateApnsCredential } from "./simulators/apns.js";
import { generateFcmCredential } from "./simulators/fcm.js";

/** Certificate IDs of the generated credentials, as the console would number them. */
export const LOCAL_CERTIFICATE_IDS = { apns: 10001, fcm: 20001 } as const;
export const LOCAL_BUNDLE_ID = "com.example.chatpush";
export const LOCAL_FCM_PROJECT = "chatpush-local";

export interface SimulatorCredentials {
  apns: ApnsCredential;
  apnsKey: { keyId: string; teamId: string; publicKey: string };
  fcm: FcmCredential;
  fcmAccount: { projectId: string; clientEmail: string; publicKey: string };
}

/**
 * Credentials for the simulators: a .p8 key for APNs and a service account for FCM, generated on
 * first start and kept in the data folder so restarts (and the devices registered against them)
 * keep working.
 */
export function simulatorCredentials(dataDir?: string): SimulatorCredentials {
  const file = dataDir === undefined ? undefined : join(dataDir, "credentials.json");
  if (file !== undefined && existsSync(file))
    return JSON.parse(readFileSync(file, "utf8")) as SimulatorCredentials;

  const apns = generateApnsCredential({
    certificateId: LOCAL_CERTIFICATE_IDS.apns,
    bundleId: LOCAL_BUNDLE_ID,
  });
  const fcm = generateFcmCredential({
    certificateId: LOCAL_CERTIFICATE_IDS.fcm,
    projectId: LOCAL_FCM_PROJECT,
    androidChannelId: "chat_messages",
  });
  const generated: SimulatorCredentials = {
    apns: apns.credential,
    apnsKey: { keyId: apns.credential.keyId, teamId: apns.credential.teamId, publicKey: apns.publicKey },
    fcm: fcm.credential,
    fcmAccount: {
      projectId: fcm.credential.projectId,
      clientEmail: fcm.credential.clientEmail,
      publicKey: fcm.publicKey,
    },
  };
  if (file !== undefined) writeFileSync(file, `${JSON.stringify(generated, null, 2)}\n`, { mode: 0o600 });
  return generated;
}
