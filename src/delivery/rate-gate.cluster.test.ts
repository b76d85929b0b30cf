// The rate gate's tests (rate-gate.test.ts) on a real Redis Cluster of this file's own: gates
// on separate cluster connections share one schedule and one log, on the slot of their queue.
import { useRedisCluster } from '../../test/support/redis-cluster.ts';

useRedisCluster();
await import('./rate-gate.test.ts');
