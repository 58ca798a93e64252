import { createHmac, timingSafeEqual } from "node:crypto";
import { deflateSync, inflateSync } from "node:zlib";

/**
 * UserSig (TLSSigAPIv2, HMAC-SHA256) as specified in tencent-chat.md §6 and implemented by Tencent's
 * tls-sig-api-v2 packages: a JSON document, zlib-compressed, standard base64 with `+/=` swapped for
 * `*-_` (Tencent's own variant, not RFC 4648 base64url).
 */

export type UserSigResult =
  | { ok: true; identifier: string; expiresAt: number }
  | { ok: false; error: string };

export interface VerifyUserSigOptions {
  sdkAppId: number;
  secretKey: string;
  /** Epoch ms. */
  nowMs: number;
  /** How far in the future TLS.time may be (clock skew between the issuer and us). Default 300 s. */
  maxFutureSkewSeconds?: number;
}

/**
 * A UserSig is valid from TLS.time for TLS.expire seconds. Tencent's own verifier (tls-sig-api-v2-golang
 * VerifyUserSig) checks only the end, so a sig dated years ahead would be valid for years beyond its
 * expire. We refuse one dated beyond a clock skew of five minutes: issuers are servers with
 * synchronised clocks, and five minutes is the customary tolerance (Kerberos' default).
 */
export const DEFAULT_MAX_FUTURE_SKEW_SECONDS = 300;

export interface MakeUserSigOptions {
  sdkAppId: number;
  secretKey: string;
  identifier: string;
  /** Validity in seconds from `nowMs` (Tencent recommends at least a day). */
  expireSeconds: number;
  /** Epoch ms; written as TLS.time in whole seconds. */
  nowMs: number;
}

// Real UserSigs are a few hundred characters; the limits only stop garbage from costing CPU or memory.
const MAX_USERSIG_LENGTH = 4096;
const MAX_INFLATED_BYTES = 16 * 1024;
const TENCENT_BASE64 = /^[A-Za-z0-9*-]+_{0,2}$/;

/** Issues a UserSig in exactly the format tls-sig-api-v2 writes (same key order, same compression). */
export function makeUserSig(opts: MakeUserSigOptions): string {
  const time = Math.floor(opts.nowMs / 1000);
  const doc = {
    "TLS.ver": "2.0",
    "TLS.identifier": opts.identifier,
    "TLS.sdkappid": opts.sdkAppId,
    "TLS.time": time,
    "TLS.expire": opts.expireSeconds,
    "TLS.sig": hmac(opts.secretKey, opts.identifier, opts.sdkAppId, time, opts.expireSeconds),
  };
  return toTencentBase64(deflateSync(Buffer.from(JSON.stringify(doc), "utf8")).toString("base64"));
}

/** Verifies a client's UserSig against our app and key; never throws, whatever the input. */
export function verifyUserSig(userSig: string, opts: VerifyUserSigOptions): UserSigResult {
  const doc = decode(userSig);
  if (!doc.ok) return doc;
  const fields = doc.value;

  const ver = fields["TLS.ver"];
  if (ver !== "2.0") return fail(`unsupported TLS.ver ${JSON.stringify(ver)} (expected "2.0")`);
  const identifier = fields["TLS.identifier"];
  if (typeof identifier !== "string" || identifier === "") return fail("TLS.identifier is missing");
  // The string to sign is newline-delimited, so an identifier with control characters is never genuine.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: that is the point of the check
  if (/[\u0000-\u001f\u007f]/.test(identifier)) return fail("TLS.identifier contains control characters");
  const sdkAppId = fields["TLS.sdkappid"];
  const time = fields["TLS.time"];
  const expire = fields["TLS.expire"];
  const sig = fields["TLS.sig"];
  if (!isUnsigned(sdkAppId)) return fail("TLS.sdkappid is missing or not an integer");
  if (!isUnsigned(time)) return fail("TLS.time is missing or not an integer");
  if (!isUnsigned(expire)) return fail("TLS.expire is missing or not an integer");
  if (typeof sig !== "string" || sig === "") return fail("TLS.sig is missing");

  // Checks in the order of §6 (and Tencent's Go VerifyUserSig).
  if (sdkAppId !== opts.sdkAppId) return fail(`sdk appid not match (UserSig is for ${sdkAppId})`);
  const nowSeconds = Math.floor(opts.nowMs / 1000);
  const expiresAtSeconds = time + expire;
  if (nowSeconds > expiresAtSeconds) {
    return fail(`expired at ${isoTime(expiresAtSeconds)}`);
  }
  if (fields["TLS.userbuf"] !== undefined) {
    return fail("userbuf type not match (a TRTC PrivateMapKey is not an IM UserSig)");
  }
  const expected = Buffer.from(hmac(opts.secretKey, identifier, sdkAppId, time, expire), "base64");
  const given = Buffer.from(sig, "base64");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return fail("sig not match");
  // After the signature: only a genuine sig learns that its date is the problem.
  const skew = opts.maxFutureSkewSeconds ?? DEFAULT_MAX_FUTURE_SKEW_SECONDS;
  if (time > nowSeconds + skew) {
    return fail(`issued in the future (TLS.time ${isoTime(time)}, more than ${skew} s ahead)`);
  }

  return { ok: true, identifier, expiresAt: expiresAtSeconds * 1000 };
}

function hmac(key: string, identifier: string, sdkAppId: number, time: number, expire: number): string {
  const toSign =
    `TLS.identifier:${identifier}\n` +
    `TLS.sdkappid:${sdkAppId}\n` +
    `TLS.time:${time}\n` +
    `TLS.expire:${expire}\n`;
  return createHmac("sha256", key).update(toSign, "utf8").digest("base64");
}

function toTencentBase64(base64: string): string {
  return base64.replace(/\+/g, "*").replace(/\//g, "-").replace(/=/g, "_");
}

function fromTencentBase64(tencent: string): string {
  return tencent.replace(/\*/g, "+").replace(/-/g, "/").replace(/_/g, "=");
}

type Decoded = { ok: true; value: Record<string, unknown> } | { ok: false; error: string };

function decode(userSig: unknown): Decoded {
  if (typeof userSig !== "string" || userSig === "") return fail("UserSig is empty");
  if (userSig.length > MAX_USERSIG_LENGTH)
    return fail(`UserSig is longer than ${MAX_USERSIG_LENGTH} characters`);
  // Node's base64 decoder skips characters outside the alphabet, so check the alphabet first.
  if (!TENCENT_BASE64.test(userSig) || userSig.length % 4 === 1) {
    return fail("UserSig is not Tencent base64 (A-Z a-z 0-9 * - with _ padding)");
  }
  let json: string;
  try {
    json = inflateSync(Buffer.from(fromTencentBase64(userSig), "base64"), {
      maxOutputLength: MAX_INFLATED_BYTES,
    }).toString("utf8");
  } catch (error) {
    return fail(`UserSig does not inflate (${error instanceof Error ? error.message : "zlib error"})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return fail("UserSig does not hold JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return fail("UserSig does not hold a JSON object");
  }
  return { ok: true, value: value as Record<string, unknown> };
}

/** Unix seconds as ISO text; seconds beyond what Date can hold stay a number (never a RangeError). */
function isoTime(seconds: number): string {
  const date = new Date(seconds * 1000);
  return Number.isNaN(date.getTime()) ? `${seconds} s` : date.toISOString();
}

function isUnsigned(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

function fail(error: string): { ok: false; error: string } {
  return { ok: false, error };
}
