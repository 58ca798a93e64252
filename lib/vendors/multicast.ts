import type { DeliveryTarget } from "../model/index.js";
import type { SendResult } from "../ports/index.js";
import type { AccessTokenCache } from "./access-token.js";
import { pickCredential } from "./credentials.js";

/** One token's answer: a SendResult before its target is attached. */
export type TokenResult = Omit<SendResult, "target">;

/** What `pickCredential` chooses among. */
interface Credential {
  certificateId: number;
  isDefault?: boolean;
}

export interface MulticastOptions<C extends Credential> {
  credentials: readonly C[];
  targets: readonly DeliveryTarget[];
  /** The vendor's most tokens per request. */
  chunkSize: number;
  /** Names the vendor in the bad-request reason of a target whose certificateId has no credential. */
  vendorName: string;
  /** That reason in full, when the vendor words it otherwise than `no <vendorName> credential <id>`. */
  unknownCredentialReason?: (certificateId: number | undefined) => string;
  /**
   * Sends one chunk (at most `chunkSize` targets, one per token) with one credential; the answer for
   * every token of the chunk, keyed by token.
   */
  sendChunk(credential: C, chunk: DeliveryTarget[]): Promise<ReadonlyMap<string, TokenResult>>;
}

/**
 * The plumbing every multicast vendor's `send()` shares: targets grouped by the credential they name,
 * else the default (`pickCredential`; a target no credential serves is answered bad-request unsent),
 * each token sent once per credential, in chunks of `chunkSize` sent all at once. Results come back in
 * target order; targets sharing a token (a device registered twice) share its answer.
 */
export async function sendMulticast<C extends Credential>(
  options: MulticastOptions<C>,
): Promise<SendResult[]> {
  const { credentials, targets, chunkSize, vendorName, sendChunk } = options;
  const groups = new Map<number, { credential: C; byToken: Map<string, DeliveryTarget> }>();
  const groupOf = targets.map((target) => {
    const credential = pickCredential(credentials, target.certificateId);
    if (credential === undefined) return undefined;
    const group = groups.get(credential.certificateId) ?? { credential, byToken: new Map() };
    if (!group.byToken.has(target.token)) group.byToken.set(target.token, target);
    groups.set(credential.certificateId, group);
    return credential.certificateId;
  });

  const results = new Map<number, Map<string, TokenResult>>();
  await Promise.all(
    [...groups].flatMap(([certificateId, { credential, byToken }]) => {
      const answers = new Map<string, TokenResult>();
      results.set(certificateId, answers);
      const unique = [...byToken.values()];
      const chunks: DeliveryTarget[][] = [];
      for (let start = 0; start < unique.length; start += chunkSize) {
        chunks.push(unique.slice(start, start + chunkSize));
      }
      return chunks.map(async (chunk) => {
        for (const [token, result] of await sendChunk(credential, chunk)) answers.set(token, result);
      });
    }),
  );

  const unknownCredential =
    options.unknownCredentialReason ??
    ((certificateId: number | undefined) => `no ${vendorName} credential ${certificateId}`);
  return targets.map((target, index): SendResult => {
    const certificateId = groupOf[index];
    if (certificateId === undefined) {
      return { target, outcome: { kind: "bad-request", reason: unknownCredential(target.certificateId) } };
    }
    return { target, ...results.get(certificateId)!.get(target.token)! };
  });
}

export interface TokenRefreshOptions<A> {
  /** The credential's cached access token. */
  tokens: AccessTokenCache;
  /** One request with `accessToken`; never throws, a failure is an answer. */
  send(accessToken: string): Promise<A>;
  /** The answer that stands for the request when no access token could be had. */
  noToken(error: unknown): A;
  /** Whether the vendor refused the access token as expired or revoked. */
  tokenRefused(answer: A): boolean;
}

/**
 * One request with the cached access token; when the vendor refuses the token, it is dropped from the
 * cache (unless a newer one replaced it already) and the request is resent once with a new one. A
 * second refusal is the answer, which the vendor's table reads as refresh-credential. No resend when
 * no token could be had: fetching it failed already.
 */
export async function sendWithTokenRefresh<A>({
  tokens,
  send,
  noToken,
  tokenRefused,
}: TokenRefreshOptions<A>): Promise<A> {
  const attempt = async (): Promise<{ answer: A; accessToken?: string }> => {
    let accessToken: string;
    try {
      accessToken = await tokens.get();
    } catch (error) {
      return { answer: noToken(error) };
    }
    return { answer: await send(accessToken), accessToken };
  };
  const first = await attempt();
  if (first.accessToken === undefined || !tokenRefused(first.answer)) return first.answer;
  tokens.invalidate(first.accessToken);
  return (await attempt()).answer;
}

/**
 * Retry-After is delay-seconds or an HTTP date (RFC 9110 §10.2.3); undefined when absent or unreadable.
 * `nowMs` dates an HTTP date: the wall clock unless the sender reads its own.
 */
export function parseRetryAfter(value: string | null, nowMs = Date.now()): number | undefined {
  if (value === null) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - nowMs) / 1000));
}

/** undici's "fetch failed" hides the socket error (ECONNREFUSED…) in `cause`; the text names both. */
export function fetchErrorText(error: unknown): string {
  const { message, cause } = error as { message?: unknown; cause?: { code?: unknown; message?: unknown } };
  const detail = cause?.code ?? cause?.message;
  return [message, detail].filter((part) => typeof part === "string" && part !== "").join(": ");
}
