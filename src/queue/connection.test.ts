// The connection each role gets, single Redis or cluster. No cluster runs in the tests: the
// cluster case is checked on the options handed to ioredis' Cluster constructor.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/config.ts';
import { connectionPlan } from './connection.ts';

describe('connectionPlan', () => {
  it('connects to REDIS_URL alone by default: workers retry forever, producers fail fast', () => {
    const config = parseConfig({ REDIS_URL: 'redis://cache:6380/1' });
    expect(connectionPlan(config, 'worker')).toEqual({
      cluster: false,
      url: 'redis://cache:6380/1',
      options: { maxRetriesPerRequest: null },
    });
    expect(connectionPlan(config, 'producer')).toEqual({
      cluster: false,
      url: 'redis://cache:6380/1',
      options: { maxRetriesPerRequest: 2, enableOfflineQueue: true, connectTimeout: 5_000 },
    });
  });

  it('with REDIS_CLUSTER seeds a Cluster with the REDIS_URL node and gives every node its credentials', () => {
    const config = parseConfig({
      REDIS_CLUSTER: 'true',
      REDIS_URL: 'redis://app:p%40ss@node-1.internal:7000',
    });
    const worker = connectionPlan(config, 'worker');
    expect(worker).toEqual({
      cluster: true,
      nodes: [{ host: 'node-1.internal', port: 7000 }],
      options: { redisOptions: { maxRetriesPerRequest: null, username: 'app', password: 'p@ss' } },
    });
    const producer = connectionPlan(config, 'producer');
    expect(producer).toMatchObject({
      cluster: true,
      options: {
        enableOfflineQueue: true,
        redisOptions: { maxRetriesPerRequest: 2, connectTimeout: 5_000, username: 'app', password: 'p@ss' },
      },
    });
  });

  it('over TLS (rediss:) checks each node against the configured name, as managed clusters need', () => {
    const config = parseConfig({
      REDIS_CLUSTER: '1',
      REDIS_URL: 'rediss://:token@clustercfg.example.cache.amazonaws.com',
    });
    const plan = connectionPlan(config, 'worker');
    if (!plan.cluster) throw new Error('expected a cluster plan');
    expect(plan.nodes).toEqual([{ host: 'clustercfg.example.cache.amazonaws.com', port: 6379 }]);
    expect(plan.options.redisOptions).toEqual({
      maxRetriesPerRequest: null,
      password: 'token',
      tls: { servername: 'clustercfg.example.cache.amazonaws.com' },
    });
    const resolved: string[] = [];
    plan.options.dnsLookup?.('10.0.0.7', (_err, address) => resolved.push(address));
    expect(resolved).toEqual(['10.0.0.7']);
  });
});
