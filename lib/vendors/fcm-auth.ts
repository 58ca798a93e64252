import { createPrivateKey, type KeyObject, sign } from "node:crypto";
import { request as httpsRequest } from "node:https";
import type { Credential, GoogleOAuthAccessToken } from "firebase-admin/app";
import type { FcmCredential } from "./credentials.js";
import { vendorUrl } from "./endpoint.js";

export const TOKEN_URL = "https://oauth2.googleapis.com/token";
const JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/** Sending needs only this scope (firebase-admin's own credential asks for five, cloud-platform among them). */
const FCM_SCOPE = "https://www.googleapis.com/auth/firebase.messaging";
/** Google takes assertions that live at most an hour (vendors.md §2 "Endpoint and auth"). */
const ASSERTION_SECONDS = 60 * 60;
const TOKEN_TIMEOUT_MS = 10_000;
/**
 * A cached access token is replaced this long before it expires, as firebase-admin does
 * (TOKEN_EXPIRY_THRESHOLD_MILLIS in its lib/app/firebase-app.js).
 */
const REFRESH_BEFORE_EXPIRY_MS = 5 * 60 * 1000;

/** The token endpoint refused the grant, or could not be reached. */
export class FcmTokenError extends Error {
  constructor(
    message: string,
    /** The token endpoint's HTTP status; absent when no answer came back. */
    readonly status?: number,
    /** OAuth 2.0 error code (RFC 6749 §5.2), e.g. "invalid_grant". */
    readonly oauthError?: string,
  ) {
    super(message);
    this.name = "FcmTokenError";
  }

  /**
   * Whether the answer says the service account itself is unusable: RFC 6749 §5.2 errors come back
   * with 400 or 401 (a deleted key is "invalid_grant: Invalid JWT Signature.", an unknown account
   * "invalid_grant", a disabled client "unauthorized_client"), and Google answers 403 to a disabled
   * project. Asking again does not help; a person must fix the credential.
   */
  get refusesAccount(): boolean {
    return this.status !== undefined && this.status >= 400 && this.status < 500;
  }
}

/**
 * A service account's OAuth 2.0 JWT-bearer grant (RFC 7523), as google-auth-library makes it. It
 * implements firebase-admin's public `Credential`, so the same credential also serves a plain
 * firebase-admin App (bench/senders-fcm.ts). With `credential.endpoint.url` the grant goes to that
 * base URL instead (the local simulator), carrying the real URL in `x-chatpush-vendor-url`.
 */
export class ServiceAccountCredential implements Credential {
  private readonly key: KeyObject;

  constructor(private readonly account: FcmCredential) {
    // Parsed once, so a malformed key fails when the credential is made, not on every token request.
    this.key = createPrivateKey(account.privateKey);
  }

  async getAccessToken(): Promise<GoogleOAuthAccessToken> {
    const iat = Math.floor(Date.now() / 1000);
    const assertion = signJwt(
      { iss: this.account.clientEmail, scope: FCM_SCOPE, aud: TOKEN_URL, iat, exp: iat + ASSERTION_SECONDS },
      this.key,
    );
    const { status, body } = await postForm(
      TOKEN_URL,
      { grant_type: JWT_BEARER_GRANT, assertion },
      this.account.endpoint,
    );
    const answer = parseJson(body) as Partial<Record<string, unknown>> | undefined;
    const { access_token, expires_in } = answer ?? {};
    if (status !== 200 || typeof access_token !== "string" || typeof expires_in !== "number") {
      const error = typeof answer?.error === "string" ? answer.error : undefined;
      const description = typeof answer?.error_description === "string" ? answer.error_description : body;
      throw new FcmTokenError(
        `token endpoint answered ${status}: ${error ?? ""} ${description}`.trim(),
        status,
        error,
      );
    }
    return { access_token, expires_in };
  }
}

/**
 * One credential's access token: fetched on first use, shared by every send, replaced five minutes
 * before it expires, and renewed at once when FCM refuses it (`renew` with the generation the refused
 * request used, so a hundred refusals of one token fetch one new token).
 */
export class AccessTokenCache {
  private current: { token: string; expiresAt: number; generation: number } | undefined;
  private pending: Promise<{ token: string; generation: number }> | undefined;
  private generation = 0;

  constructor(private readonly credential: Credential) {}

  async get(): Promise<{ token: string; generation: number }> {
    const current = this.current;
    if (current !== undefined && current.expiresAt - REFRESH_BEFORE_EXPIRY_MS > Date.now()) {
      return { token: current.token, generation: current.generation };
    }
    this.pending ??= this.fetch().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  /** Forgets the token of `generation` (FCM refused it); a newer one is kept. */
  renew(generation: number): void {
    if (this.current?.generation === generation) this.current = undefined;
  }

  private async fetch(): Promise<{ token: string; generation: number }> {
    const { access_token, expires_in } = await this.credential.getAccessToken();
    this.generation += 1;
    this.current = {
      token: access_token,
      expiresAt: Date.now() + expires_in * 1000,
      generation: this.generation,
    };
    return { token: access_token, generation: this.generation };
  }
}

function signJwt(claims: Record<string, unknown>, key: KeyObject): string {
  const encode = (part: unknown) => Buffer.from(JSON.stringify(part)).toString("base64url");
  const unsigned = `${encode({ alg: "RS256", typ: "JWT" })}.${encode(claims)}`;
  return `${unsigned}.${sign("RSA-SHA256", Buffer.from(unsigned), key).toString("base64url")}`;
}

/** One HTTPS form POST (an hourly request: no pool). */
function postForm(
  realUrl: string,
  form: Record<string, string>,
  endpoint: FcmCredential["endpoint"],
): Promise<{ status: number; body: string }> {
  const { url, headers } = vendorUrl(realUrl, endpoint?.url);
  return new Promise((resolve, reject) => {
    const fail = (error: Error) => reject(new FcmTokenError(`token endpoint unreachable: ${error.message}`));
    const request = httpsRequest(
      url,
      {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
        timeout: TOKEN_TIMEOUT_MS,
        ...(endpoint?.ca !== undefined && { ca: endpoint.ca }),
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.once("error", fail);
        response.once("end", () =>
          resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }),
        );
      },
    );
    request.once("timeout", () => request.destroy(new Error(`no answer within ${TOKEN_TIMEOUT_MS} ms`)));
    request.once("error", fail);
    request.end(new URLSearchParams(form).toString());
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
