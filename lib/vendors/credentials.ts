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
}

/** The credential a device's registration names, else the vendor's default. */
export function pickCredential<C extends { certificateId: number; isDefault?: boolean }>(
  credentials: readonly C[],
  certificateId: number | undefined,
): C | undefined {
  if (certificateId !== undefined) return credentials.find((c) => c.certificateId === certificateId);
  return credentials.find((c) => c.isDefault) ?? credentials[0];
}
