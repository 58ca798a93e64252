/**
 * The one classification every vendor answer is mapped into (one table per vendor does the mapping).
 * - delivered: the vendor accepted it.
 * - drop-token: this token is dead; remove the device. `since` (epoch ms) is when the vendor learnt
 *   it (APNs' 410 `timestamp`): a device registered again after that keeps its registration.
 * - retry: transient; try again later (after `retryAfterSeconds` when the vendor said so).
 * - refresh-credential: our credential expired or was refused; refresh it, then retry.
 * - quota: a rate or daily quota was hit; delay, never hot-loop.
 * - bad-request: permanent; park it in the dead-letter queue with the reason.
 * - credential-problem: the answer says our credential or configuration is wrong (a wrong project,
 *   app id, sender, region), not that the device is gone: park the job with the reason, count it,
 *   alarm — and never remove a device for it.
 * - declined: the vendor refused this device because its user switched our notifications off (Meizu
 *   110010): keep the token (they may switch back), neither retry nor park, count it.
 */
export type Outcome =
  | { kind: "delivered"; vendorId?: string }
  | { kind: "drop-token"; reason: string; since?: number }
  | { kind: "retry"; reason: string; retryAfterSeconds?: number }
  | { kind: "refresh-credential"; reason: string }
  | { kind: "quota"; reason: string; retryAfterSeconds?: number }
  | { kind: "bad-request"; reason: string }
  | { kind: "credential-problem"; reason: string }
  | { kind: "declined"; reason: string };

export type OutcomeKind = Outcome["kind"];
