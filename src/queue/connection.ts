// Redis connections for BullMQ. Workers block on Redis and must retry forever
// (`maxRetriesPerRequest: null`, BullMQ insists); producers fail fast so an HTTP request or a
// CLI command reports a down Redis instead of hanging. Never use ioredis' keyPrefix: the
// queue prefix is BullMQ's `prefix` option, with a hash tag per queue (keys.ts).
//
// REDIS_CLUSTER=true: ioredis' Cluster client, seeded with the REDIS_URL node; it learns the
// other nodes from CLUSTER SLOTS and follows MOVED/ASK redirections. Credentials and TLS of
// REDIS_URL apply to every node it connects to.
import { Queue } from 'bullmq';
import { Cluster, type ClusterNode, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';
import type { Config } from '../config/config.ts';
import type { QueueName } from './catalog.ts';
import { keyBeside, queueKeyPrefix } from './keys.ts';

/** A single Redis or a cluster: BullMQ and the commands Lastcall uses take either. */
export type RedisConnection = Redis | Cluster;
export type ConnectionRole = 'worker' | 'producer';

export type ConnectionPlan =
  | { readonly cluster: false; readonly url: string; readonly options: RedisOptions }
  | { readonly cluster: true; readonly nodes: ClusterNode[]; readonly options: ClusterOptions };

const ROLE_OPTIONS = {
  worker: { maxRetriesPerRequest: null },
  producer: { maxRetriesPerRequest: 2, enableOfflineQueue: true, connectTimeout: 5_000 },
} as const satisfies Record<ConnectionRole, RedisOptions>;

/** What `connect` will build for this configuration (pure, so that it can be tested without a cluster). */
export function connectionPlan(
  config: Pick<Config, 'redisUrl' | 'redisCluster'>,
  role: ConnectionRole,
): ConnectionPlan {
  const options = ROLE_OPTIONS[role];
  if (!config.redisCluster) return { cluster: false, url: config.redisUrl, options: { ...options } };
  const url = new URL(config.redisUrl);
  const tls = url.protocol === 'rediss:';
  const { enableOfflineQueue, ...perNode } = options as RedisOptions;
  return {
    cluster: true,
    nodes: [{ host: url.hostname, port: Number(url.port || 6379) }],
    options: {
      ...(enableOfflineQueue === undefined ? {} : { enableOfflineQueue }),
      redisOptions: {
        ...perNode,
        ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
        ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
        ...(tls ? { tls: { servername: url.hostname } } : {}),
      },
      // Managed clusters behind TLS (ElastiCache, Memorystore…) answer CLUSTER SLOTS with
      // addresses their certificate does not name: connect by the name given, ioredis'
      // documented setting for them.
      ...(tls
        ? {
            dnsLookup: (address: string, callback: (err: null, address: string) => void) =>
              callback(null, address),
          }
        : {}),
    },
  };
}

export function connect(plan: ConnectionPlan): RedisConnection {
  return plan.cluster ? new Cluster(plan.nodes, plan.options) : new Redis(plan.url, plan.options);
}

export function createWorkerConnection(config: Config): RedisConnection {
  return connect(connectionPlan(config, 'worker'));
}

export function createProducerConnection(config: Config): RedisConnection {
  return connect(connectionPlan(config, 'producer'));
}

/** Queues share one producer connection; close them with `closeQueues`. */
export class QueueSet {
  readonly #connection: RedisConnection;
  readonly #prefix: string;
  readonly #queues = new Map<QueueName, Queue>();

  constructor(config: Config, connection = createProducerConnection(config)) {
    this.#connection = connection;
    this.#prefix = config.queuePrefix;
  }

  get(name: QueueName): Queue {
    let queue = this.#queues.get(name);
    if (!queue) {
      queue = new Queue(name, { connection: this.#connection, prefix: this.prefixOf(name) });
      this.#queues.set(name, queue);
    }
    return queue;
  }

  get connection(): RedisConnection {
    return this.#connection;
  }

  /** QUEUE_PREFIX as written: every key of Lastcall starts with `${prefix}:`. */
  get prefix(): string {
    return this.#prefix;
  }

  /** BullMQ's prefix for a queue, hash-tagged for it (keys.ts). */
  prefixOf(name: QueueName): string {
    return queueKeyPrefix(this.#prefix, name);
  }

  /** A key of Lastcall's own on `name`'s slot. */
  keyBeside(name: QueueName, key: string): string {
    return keyBeside(this.#prefix, name, key);
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.#queues.values()].map((q) => q.close()));
    this.#queues.clear();
    await this.#connection.quit().catch(() => this.#connection.disconnect());
  }
}
