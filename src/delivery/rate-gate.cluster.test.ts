// The rate gate's tests (rate-gate.test.ts) on a real Redis Cluster of this file's own: gates
// on separate cluster connections share one schedule and one log, on the slot of their queue.
import { itRanOnTheCluster, useRedisCluster } from '../../test/support/redis-cluster.ts';

const held = useRedisCluster();
await import('./rate-gate.test.ts');
itRanOnTheCluster(held);
