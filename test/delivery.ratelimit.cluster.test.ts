// The cross-process rate limit (delivery.ratelimit.test.ts) on a real Redis Cluster of this
// file's own: two `lastcall work` processes with REDIS_CLUSTER=1 share one gate, on the slot of
// the WhatsApp queue.
import { useRedisCluster } from './support/redis-cluster.ts';

useRedisCluster();
await import('./delivery.ratelimit.test.ts');
