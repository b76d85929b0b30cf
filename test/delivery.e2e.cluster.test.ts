// The delivery end-to-end tests (delivery.e2e.test.ts) on a real Redis Cluster of this file's
// own (3 primaries, 3 replicas): the in-process workers, their queues and rate gates connect
// with REDIS_CLUSTER=1, each queue on the primary its hash tag names.
import { itRanOnTheCluster, useRedisCluster } from './support/redis-cluster.ts';

const held = useRedisCluster();
await import('./delivery.e2e.test.ts');
itRanOnTheCluster(held);
