/** What a simulator knows of an access token it issued. */
export interface IssuedToken<Owner> {
  /** Whom it was issued to: the project or app it lets its holder send for. */
  owner: Owner;
  /** Whether its lifetime has passed (or `expireAll` ended it). */
  expired: boolean;
}

/** The OAuth 2.0 answer to a successful token request (RFC 6749 §5.1). */
export interface BearerGrant {
  access_token: string;
  expires_in: number;
  token_type: "Bearer";
}

/**
 * The access tokens a simulator's auth endpoint has issued, each with its owner and expiry. Tokens are
 * never forgotten, so one that expired is still told apart from one never issued.
 */
export class AccessTokenBook<Owner = string> {
  private readonly tokens = new Map<string, { owner: Owner; expiresAt: number }>();

  constructor(private readonly lifetimeSeconds: number) {}

  /** Records `token` as issued to `owner` at `now` (epoch ms), living the book's lifetime from then. */
  issue(token: string, owner: Owner, now = Date.now()): void {
    this.tokens.set(token, { owner, expiresAt: now + this.lifetimeSeconds * 1000 });
  }

  /** Issues `token` and answers for it as an OAuth 2.0 token endpoint does. */
  grantBearer(token: string, owner: Owner): BearerGrant {
    this.issue(token, owner);
    return { access_token: token, expires_in: this.lifetimeSeconds, token_type: "Bearer" };
  }

  /** The token's owner and whether it has expired; undefined when this book never issued it. */
  lookup(token: string | null | undefined): IssuedToken<Owner> | undefined {
    const issued = token ? this.tokens.get(token) : undefined;
    return issued === undefined
      ? undefined
      : { owner: issued.owner, expired: issued.expiresAt <= Date.now() };
  }

  /** Makes every token issued so far expire now, as if its lifetime had passed. */
  expireAll(): void {
    for (const issued of this.tokens.values()) issued.expiresAt = 0;
  }

  /** How many tokens were issued so far. */
  get issued(): number {
    return this.tokens.size;
  }
}
