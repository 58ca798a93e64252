import { createPrivateKey } from "node:crypto";
import { createSecureContext } from "node:tls";
import type { ProviderOptions } from "@parse/node-apn";
import type { ApnsCertificateCredential, ApnsCredential } from "./credentials.js";

export function isCertificateCredential(credential: ApnsCredential): credential is ApnsCertificateCredential {
  return "p12" in credential;
}

/** A credential that can never authenticate: its targets are credential problems, nothing is sent. */
export class ApnsCredentialError extends Error {
  override readonly name = "ApnsCredentialError";
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * node-apn's auth options for a credential, checked before any connection: a `.p8` key that does not
 * load, or a `.p12` that node's TLS cannot open, throws ApnsCredentialError with what to fix.
 */
export function apnsAuthOptions(
  credential: ApnsCredential,
): Pick<ProviderOptions, "token" | "pfx" | "passphrase"> {
  const id = credential.certificateId;
  if (!isCertificateCredential(credential)) {
    const { privateKey, keyId, teamId } = credential;
    if (typeof keyId !== "string" || typeof teamId !== "string" || keyId === "" || teamId === "") {
      throw new ApnsCredentialError(`APNs credential ${id}: keyId and teamId are required with a .p8 key`);
    }
    try {
      createPrivateKey(privateKey);
    } catch (error) {
      throw new ApnsCredentialError(
        `APNs credential ${id}: the .p8 key does not load (${(error as Error).message})`,
      );
    }
    return { token: { key: privateKey, keyId, teamId } };
  }

  const compact = credential.p12.replace(/\s+/g, "");
  if (!BASE64.test(compact)) throw new ApnsCredentialError(`APNs credential ${id}: p12 is not base64`);
  const pfx = Buffer.from(compact, "base64");
  const passphrase = credential.passphrase ?? "";
  try {
    // What node-apn hands http2.connect (its config passes pfx/passphrase to TLS as they are); a
    // file TLS cannot open would otherwise fail every request as a network error.
    createSecureContext({ pfx, passphrase });
  } catch (error) {
    throw new ApnsCredentialError(`APNs credential ${id}: ${p12Problem((error as Error).message)}`);
  }
  return { pfx, passphrase };
}

/**
 * OpenSSL's words for a .p12 it refuses, as a person can act on them. "Unsupported PKCS12 PFX data":
 * the file is encrypted with RC2-40, the default of older OpenSSL and Keychain exports, which
 * OpenSSL 3 (Node 17 and later, so Lambda's Node 22) only reads with its legacy provider
 * (https://github.com/nodejs/node/issues/40672, https://github.com/openssl/openssl/issues/19167).
 */
function p12Problem(message: string): string {
  if (/unsupported/i.test(message)) {
    return (
      "the .p12 uses legacy RC2-40 encryption, which Node 17+ (OpenSSL 3) cannot read; re-export it: " +
      "`openssl pkcs12 -legacy -in old.p12 -nodes -out cert.pem && openssl pkcs12 -export -in cert.pem -out new.p12`"
    );
  }
  if (/mac verify failure/i.test(message)) return "wrong passphrase for the .p12 (mac verify failure)";
  return `the .p12 does not load (${message})`;
}
