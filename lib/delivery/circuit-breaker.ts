import type { Clock } from "../ports/index.js";

export interface CircuitBreakerSettings {
  /** Sends in a row that got nothing but transient failures (5xx, timeouts) before the circuit opens. */
  failures: number;
  /** How long it first stays open; each failed probe doubles it. */
  openSeconds: number;
  maxOpenSeconds: number;
}

/**
 * Five failed sends in a row: a vendor outage, not bad luck (a lone 503 is retried as usual). Thirty
 * seconds, doubling up to five minutes, asks a vendor that is down about twice a minute at first and
 * every five minutes at most, per credential and container.
 */
export const DEFAULT_CIRCUIT_BREAKER: CircuitBreakerSettings = {
  failures: 5,
  openSeconds: 30,
  maxOpenSeconds: 300,
};

interface State {
  failures: number;
  /** Times it opened since it last closed: the back-off doubles with each. */
  opens: number;
  /** Epoch ms; 0 = closed. While `probing`, the one job let through after the open period is out. */
  openUntil: number;
  probing: boolean;
}

/**
 * A circuit breaker per vendor credential, in this container: after `failures` sends in a row answered
 * only with transient failures it stops calling that credential for the back-off period, then lets
 * one job through as a probe; a success closes it, a failure opens it again for twice as long. The
 * worker re-queues what it holds back without spending attempts. One credential's outage never holds
 * another credential's (or another vendor's) jobs.
 */
export class CircuitBreakers {
  private readonly states = new Map<string, State>();

  constructor(
    private readonly settings: CircuitBreakerSettings,
    private readonly clock: Clock,
  ) {}

  private state(credential: string): State {
    let state = this.states.get(credential);
    if (state === undefined) {
      state = { failures: 0, opens: 0, openUntil: 0, probing: false };
      this.states.set(credential, state);
    }
    return state;
  }

  /**
   * 0 = go ahead; otherwise how many ms the circuit stays open. When the open period is over, the
   * first caller is the probe and the others wait for its answer (at most `openSeconds`).
   */
  admit(credential: string): number {
    const state = this.states.get(credential);
    if (state === undefined || state.openUntil === 0) return 0;
    const now = this.clock.now();
    if (state.openUntil > now) return state.openUntil - now;
    state.probing = true;
    state.openUntil = now + this.settings.openSeconds * 1000;
    return 0;
  }

  /** Records how a send with this credential went: `ok` unless every answer was a transient failure. */
  record(credential: string, ok: boolean): void {
    if (ok) {
      this.states.delete(credential);
      return;
    }
    const state = this.state(credential);
    state.failures += 1;
    const now = this.clock.now();
    if (!state.probing && (state.openUntil > now || state.failures < this.settings.failures)) return;
    state.opens += 1;
    const seconds = Math.min(
      this.settings.maxOpenSeconds,
      this.settings.openSeconds * 2 ** (state.opens - 1),
    );
    state.openUntil = now + seconds * 1000;
    state.probing = false;
  }

  /** Whether the credential's circuit is open now (for reports). */
  isOpen(credential: string): boolean {
    const state = this.states.get(credential);
    return state !== undefined && state.openUntil > this.clock.now();
  }
}
