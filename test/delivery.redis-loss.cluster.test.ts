// The complete loss of Redis data (delivery.redis-loss.test.ts) on a real Redis Cluster of this
// file's own: FLUSHALL on every primary mid-campaign, so each queue's recovery marker is gone.
// A primary killed and replaced by its replica is delivery.failover.cluster.test.ts.
import { itRanOnTheCluster, useRedisCluster } from './support/redis-cluster.ts';

const held = useRedisCluster();
await import('./delivery.redis-loss.test.ts');
itRanOnTheCluster(held);
