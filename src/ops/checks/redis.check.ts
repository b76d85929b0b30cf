// Redis: reachable with REDIS_URL; REDIS_CLUSTER saying what the server is (a cluster node
// answers MOVED to a plain client, a plain Redis refuses a cluster client: docs/redis-cluster.md);
// `maxmemory-policy noeviction` (BullMQ's requirement: an evicted key is a lost job or lock);
// persistence on (AOF or RDB), without which a Redis restart drops the work in flight
// (PostgreSQL recovers it, but later: a warning). On a cluster, of the REDIS_URL node only.
import { Redis } from 'ioredis';
import type { Config } from '../../config/config.ts';
import { redactUrl } from '../../store/connection-error.ts';
import type { Finding } from './finding.ts';

const TIMEOUT_MS = 5_000;

export async function redisCheck(config: Pick<Config, 'redisUrl' | 'redisCluster'>): Promise<Finding[]> {
  const where = redactUrl(config.redisUrl);
  const redis = new Redis(config.redisUrl, {
    lazyConnect: true,
    connectTimeout: TIMEOUT_MS,
    commandTimeout: TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null, // one try: a doctor reports, it does not wait for Redis to come back
  });
  let lastError: Error | undefined;
  redis.on('error', (error: Error) => {
    lastError = error;
  });
  try {
    await redis.connect();
  } catch (error) {
    redis.disconnect();
    // ioredis rejects with "Connection is closed."; the 'error' event had the cause.
    const why = lastError?.message || (error as Error).message || 'connection failed';
    return [
      {
        check: 'redis',
        title: 'Redis',
        status: 'fail',
        detail: `unreachable at ${where} (${why})`,
        fix: 'start Redis (docker compose up -d redis) or point REDIS_URL at a running server',
      },
    ];
  }
  try {
    const info = parseInfo(await redis.info());
    const findings: Finding[] = [
      {
        check: 'redis',
        title: 'Redis',
        status: 'ok',
        detail: `reachable at ${where} (server ${info.redis_version ?? 'unknown'})`,
      },
    ];
    const cluster = clusterFinding(info.cluster_enabled === '1', config.redisCluster);
    if (cluster) findings.push(cluster);
    const policy = await configGet(redis, 'maxmemory-policy');
    findings.push(evictionFinding(policy));
    const save = await configGet(redis, 'save');
    findings.push(persistenceFinding(info.aof_enabled === '1', save));
    return findings;
  } catch (error) {
    return [
      { check: 'redis', title: 'Redis', status: 'fail', detail: `${where}: ${(error as Error).message}` },
    ];
  } finally {
    redis.disconnect();
  }
}

/** CONFIG GET, or undefined where CONFIG is disabled (managed Redis services rename it away). */
async function configGet(redis: Redis, name: string): Promise<string | undefined> {
  try {
    const reply = (await redis.call('CONFIG', 'GET', name)) as string[];
    return reply[1];
  } catch {
    return undefined;
  }
}

function parseInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const at = line.indexOf(':');
    if (at > 0 && !line.startsWith('#')) out[line.slice(0, at)] = line.slice(at + 1).trim();
  }
  return out;
}

/** Whether REDIS_CLUSTER agrees with the server's `cluster_enabled` (INFO); nothing to say
 *  about a single Redis used as one. */
export function clusterFinding(clusterEnabled: boolean, redisCluster: boolean): Finding | undefined {
  const base = { check: 'redis', title: 'Redis Cluster' } as const;
  if (!clusterEnabled && !redisCluster) return undefined;
  if (clusterEnabled && redisCluster)
    return { ...base, status: 'ok', detail: 'REDIS_URL is a cluster node, and REDIS_CLUSTER=true' };
  return clusterEnabled
    ? {
        ...base,
        status: 'fail',
        detail:
          'REDIS_URL is a Redis Cluster node, but REDIS_CLUSTER is not set: jobs on other nodes would fail with MOVED',
        fix: 'set REDIS_CLUSTER=true',
      }
    : {
        ...base,
        status: 'fail',
        detail: 'REDIS_CLUSTER=true, but REDIS_URL is not a cluster node (cluster_enabled:0)',
        fix: 'unset REDIS_CLUSTER, or point REDIS_URL at a node of the cluster',
      };
}

export function evictionFinding(policy: string | undefined): Finding {
  const base = { check: 'redis', title: 'Redis eviction policy' } as const;
  if (policy === undefined)
    return {
      ...base,
      status: 'warn',
      detail: 'cannot read maxmemory-policy (CONFIG is disabled on this server)',
      fix: 'make sure maxmemory-policy is noeviction in the provider settings: BullMQ loses jobs otherwise',
    };
  if (policy === 'noeviction') return { ...base, status: 'ok', detail: 'maxmemory-policy is noeviction' };
  return {
    ...base,
    status: 'fail',
    detail: `maxmemory-policy is ${policy}: Redis may evict queued jobs and locks under memory pressure`,
    fix: 'redis-cli CONFIG SET maxmemory-policy noeviction (and put "maxmemory-policy noeviction" in redis.conf to keep it)',
  };
}

export function persistenceFinding(aof: boolean, save: string | undefined): Finding {
  const base = { check: 'redis', title: 'Redis persistence' } as const;
  const rdb = save !== undefined && save.trim() !== '';
  if (aof || rdb) {
    return {
      ...base,
      status: 'ok',
      detail: [aof ? 'AOF on' : '', rdb ? `RDB snapshots (save ${save})` : ''].filter(Boolean).join(', '),
    };
  }
  if (save === undefined && !aof) {
    return {
      ...base,
      status: 'warn',
      detail: 'AOF off; RDB settings unreadable (CONFIG is disabled)',
      fix: 'turn on AOF or RDB snapshots in the provider settings',
    };
  }
  return {
    ...base,
    status: 'warn',
    detail:
      'off (no AOF, no RDB snapshots): a Redis restart drops the work in flight until the next tick queues it again from PostgreSQL',
    fix: 'redis-cli CONFIG SET appendonly yes (and "appendonly yes" in redis.conf)',
  };
}
