import { describe, expect, it } from 'vitest';
import { bucketRange, bucketStart, HOUR_MS, MINUTE_MS } from './buckets.ts';

describe('time buckets', () => {
  it('puts an instant in the hour or minute that holds it', () => {
    const at = Date.parse('2031-03-10T09:58:41.500Z');
    expect(new Date(bucketStart(at, HOUR_MS)).toISOString()).toBe('2031-03-10T09:00:00.000Z');
    expect(new Date(bucketStart(at, MINUTE_MS)).toISOString()).toBe('2031-03-10T09:58:00.000Z');
  });

  it('lists every bucket between two instants, both ends included', () => {
    const from = Date.parse('2031-03-10T09:58:41Z');
    const to = Date.parse('2031-03-10T10:01:00Z');
    expect(bucketRange(from, to, MINUTE_MS).map((t) => new Date(t).toISOString().slice(11, 16))).toEqual([
      '09:58',
      '09:59',
      '10:00',
      '10:01',
    ]);
  });
});
