import { describe, expect, it } from 'vitest';
import { iso, schedule } from '../../test/support/planning-fixtures.ts';
import { marketingRetryAt } from './planner.ts';

// After Meta's per-user marketing limit (131049): 1 h, 2 h, 4 h … later, inside the window
// (09:00-20:00 Paris, +01:00 in January), never past the deadline. Expected instants by hand.
const s = schedule(); // deadline 15 Jan 2026 00:00 Paris = 14 Jan 23:00 UTC
const at = (now: string, refusals: number, zone = 'Europe/Paris') => {
  const t = marketingRetryAt(s, zone, Date.parse(now), refusals);
  return t === undefined ? undefined : iso(t);
};

describe('marketingRetryAt', () => {
  it('waits 1 h, then 2 h, then 4 h, at most 24 h', () => {
    expect(at('2026-01-12T09:00:00Z', 1)).toBe('2026-01-12T10:00:00Z'); // 11:00 Paris
    expect(at('2026-01-12T09:00:00Z', 2)).toBe('2026-01-12T11:00:00Z');
    expect(at('2026-01-12T09:00:00Z', 3)).toBe('2026-01-12T13:00:00Z');
    expect(at('2026-01-10T09:00:00Z', 9)).toBe('2026-01-11T09:00:00Z'); // capped at 24 h
  });

  it('moves a try that would fall at night to the start of the next window', () => {
    // 18:30 Paris + 2 h = 20:30: after the window, so 09:00 Paris the next day.
    expect(at('2026-01-12T17:30:00Z', 2)).toBe('2026-01-13T08:00:00Z');
  });

  it('gives up when the next try would not come before the deadline', () => {
    // 14 Jan 19:30 Paris + 1 h is after the window; the next window opens after the deadline.
    expect(at('2026-01-14T18:30:00Z', 1)).toBeUndefined();
    expect(at('2026-01-14T12:00:00Z', 1)).toBe('2026-01-14T13:00:00Z'); // 14:00 Paris: still in time
  });
});
