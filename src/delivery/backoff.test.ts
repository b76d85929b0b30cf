import { describe, expect, it } from 'vitest';
import { jobs } from '../queue/catalog.ts';
import { backoffDelay } from './backoff.ts';

describe('backoffDelay', () => {
  const options = { baseMs: 1000, jitter: 0.5, maxMs: 60_000 };

  it('doubles with each retry, jitter taking up to half off', () => {
    expect(backoffDelay(options, 1, undefined, () => 0)).toBe(1000);
    expect(backoffDelay(options, 2, undefined, () => 0)).toBe(2000);
    expect(backoffDelay(options, 3, undefined, () => 0)).toBe(4000);
    expect(backoffDelay(options, 3, undefined, () => 1)).toBe(2000);
    expect(backoffDelay(options, 3, undefined, () => 0.5)).toBe(3000);
  });

  it('is capped, but never shorter than the provider asked (Retry-After)', () => {
    expect(backoffDelay(options, 30, undefined, () => 0)).toBe(60_000);
    expect(backoffDelay(options, 1, 5_000, () => 0)).toBe(5_000);
    expect(backoffDelay(options, 30, 120_000, () => 0)).toBe(120_000);
  });

  it('defaults to 2 s, half jitter, 30 min cap', () => {
    expect(jobs.send.retry).toEqual({ baseMs: 2_000, jitter: 0.5, maxMs: 30 * 60_000 });
  });
});
