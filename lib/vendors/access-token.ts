import type { Clock } from "../ports/index.js";

export interface IssuedToken {
  token: string;
  expiresInSeconds: number;
}

/** Refresh this long before the vendor's expiry, so no request leaves with a token about to lapse. */
export const REFRESH_MARGIN_SECONDS = 300;

/**
 * One credential's vendor access token (Huawei/Honor OAuth, OPPO auth_token, vivo authToken), kept
 * for the life of the process so warm Lambdas reuse it, refreshed before it expires, fetched once
 * however many sends ask at the same time, and dropped when the vendor says it expired so the next
 * `get()` fetches a new one (the refresh-once-then-resend path).
 */
export class AccessTokenCache {
  private current?: { token: string; refreshAt: number };
  private pending?: Promise<string>;

  constructor(
    private readonly fetchToken: () => Promise<IssuedToken>,
    private readonly clock: Clock,
  ) {}

  async get(): Promise<string> {
    if (this.current !== undefined && this.clock.now() < this.current.refreshAt) return this.current.token;
    this.pending ??= this.refresh().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  /** Forgets `token` if it is still the current one (a newer token may already have replaced it). */
  invalidate(token: string): void {
    if (this.current?.token === token) this.current = undefined;
  }

  private async refresh(): Promise<string> {
    const issued = await this.fetchToken();
    const lifetime = Math.max(0, issued.expiresInSeconds - REFRESH_MARGIN_SECONDS);
    this.current = { token: issued.token, refreshAt: this.clock.now() + lifetime * 1000 };
    return issued.token;
  }
}

/** One AccessTokenCache per credential (by certificateId), made when the credential is first used. */
export class AccessTokenCaches<C extends { certificateId: number }> {
  private readonly caches = new Map<number, AccessTokenCache>();

  constructor(
    private readonly fetchToken: (credential: C) => Promise<IssuedToken>,
    private readonly clock: Clock,
  ) {}

  for(credential: C): AccessTokenCache {
    let cache = this.caches.get(credential.certificateId);
    if (cache === undefined) {
      cache = new AccessTokenCache(() => this.fetchToken(credential), this.clock);
      this.caches.set(credential.certificateId, cache);
    }
    return cache;
  }

  clear(): void {
    this.caches.clear();
  }
}
