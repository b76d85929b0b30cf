// Retry waits for sends: exponential with jitter (SPEC 6), never shorter than what the provider
// asked for (Retry-After), capped so a reminder is not parked for hours by arithmetic.

export interface BackoffOptions {
  /** Wait before the first retry, before jitter (default 2 s; tests use a few ms). */
  readonly baseMs: number;
  /** Share of the wait that is random, in [0, 1] (default 0.5). */
  readonly jitter: number;
  /** Longest computed wait (default 30 min); a provider's Retry-After may exceed it. */
  readonly maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 2_000, jitter: 0.5, maxMs: 30 * 60_000 };

/** Wait before retry number `retry` (1 for the first retry). */
export function backoffDelay(
  options: BackoffOptions,
  retry: number,
  retryAfterMs: number | undefined,
  random: () => number = Math.random,
): number {
  const full = Math.min(options.maxMs, options.baseMs * 2 ** Math.max(0, retry - 1));
  const computed = Math.round(full * (1 - options.jitter * random()));
  return Math.max(computed, retryAfterMs ?? 0);
}
