import { describe, expect, it } from 'vitest';
import { InvalidInput } from '../shared/errors.ts';
import { clusterFinding, evictionFinding, persistenceFinding } from './checks/redis.check.ts';
import { parseOnly } from './doctor.ts';

describe('parseOnly', () => {
  it('reads a comma-separated subset, in the report order', () => {
    expect(parseOnly('redis,postgres')).toEqual(['postgres', 'redis']);
    expect(parseOnly(' Templates , config ')).toEqual(['config', 'templates']);
  });
  it('refuses unknown checks and an empty list', () => {
    expect(() => parseOnly('redis,nope')).toThrow(InvalidInput);
    expect(() => parseOnly(',')).toThrow(InvalidInput);
  });
});

describe('Redis findings', () => {
  it('fails any eviction policy but noeviction, with the command that fixes it', () => {
    expect(evictionFinding('noeviction').status).toBe('ok');
    const lru = evictionFinding('allkeys-lru');
    expect(lru).toMatchObject({ status: 'fail', detail: expect.stringContaining('allkeys-lru') });
    expect(lru.fix).toContain('CONFIG SET maxmemory-policy noeviction');
    expect(evictionFinding(undefined).status).toBe('warn');
  });
  it('fails when REDIS_CLUSTER disagrees with what the server is, and says nothing of a single Redis', () => {
    expect(clusterFinding(false, false)).toBeUndefined();
    expect(clusterFinding(true, true)?.status).toBe('ok');
    expect(clusterFinding(true, false)).toMatchObject({ status: 'fail', fix: 'set REDIS_CLUSTER=true' });
    expect(clusterFinding(false, true)).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('not a cluster node'),
    });
  });
  it('warns when neither AOF nor RDB is on', () => {
    expect(persistenceFinding(true, '').status).toBe('ok');
    expect(persistenceFinding(false, '3600 1 300 100').detail).toBe('RDB snapshots (save 3600 1 300 100)');
    expect(persistenceFinding(false, '')).toMatchObject({
      status: 'warn',
      fix: expect.stringContaining('appendonly yes'),
    });
    expect(persistenceFinding(false, undefined).status).toBe('warn');
  });
});
