// Retry waits for sends: exponential with jitter (docs/architecture.md, "Principles", "One job
// catalog"), never shorter than what the provider asked for (Retry-After), capped so a reminder is
// not parked for hours by arithmetic. The policy (base, jitter, cap) is the job catalog's
// `jobs.send.retry`.
import type { RetryPolicy } from '../queue/catalog.ts';

export type BackoffOptions = RetryPolicy;

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
