/**
 * The one classification every vendor answer is mapped into (one table per vendor does the mapping).
 * - delivered: the vendor accepted it.
 * - drop-token: the token is dead; remove the device.
 * - retry: transient; try again later (after `retryAfterSeconds` when the vendor said so).
 * - refresh-credential: our credential expired or was refused; refresh it, then retry.
 * - quota: a rate or daily quota was hit; delay, never hot-loop.
 * - bad-request: permanent; park it in the dead-letter queue with the reason.
 */
export type Outcome =
  | { kind: "delivered"; vendorId?: string }
  | { kind: "drop-token"; reason: string }
  | { kind: "retry"; reason: string; retryAfterSeconds?: number }
  | { kind: "refresh-credential"; reason: string }
  | { kind: "quota"; reason: string; retryAfterSeconds?: number }
  | { kind: "bad-request"; reason: string };

export type OutcomeKind = Outcome["kind"];
