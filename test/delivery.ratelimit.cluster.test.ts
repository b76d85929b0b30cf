// The cross-process rate limit (delivery.ratelimit.test.ts) on a real Redis Cluster of this
// file's own: two `lastcall work` processes with REDIS_CLUSTER=1 share one gate, on the slot of
// the WhatsApp queue.
import { itRanOnTheCluster, useRedisCluster } from './support/redis-cluster.ts';

const held = useRedisCluster();
await import('./delivery.ratelimit.test.ts');
itRanOnTheCluster(held);
