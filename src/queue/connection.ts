// Redis connections for BullMQ. Workers block on Redis and must retry forever
// (`maxRetriesPerRequest: null`, BullMQ insists); producers fail fast so an HTTP request or a
// CLI command reports a down Redis instead of hanging. Never use ioredis' keyPrefix: the
// queue prefix is BullMQ's `prefix` option (config.queuePrefix).
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { Config } from '../config/config.ts';
import type { QueueName } from './catalog.ts';

export function createWorkerConnection(config: Config): Redis {
  return new Redis(config.redisUrl, { maxRetriesPerRequest: null });
}

export function createProducerConnection(config: Config): Redis {
  return new Redis(config.redisUrl, {
    maxRetriesPerRequest: 2,
    enableOfflineQueue: true,
    connectTimeout: 5_000,
  });
}

/** Queues share one producer connection; close them with `closeQueues`. */
export class QueueSet {
  readonly #connection: Redis;
  readonly #prefix: string;
  readonly #queues = new Map<QueueName, Queue>();

  constructor(config: Config, connection = createProducerConnection(config)) {
    this.#connection = connection;
    this.#prefix = config.queuePrefix;
  }

  get(name: QueueName): Queue {
    let queue = this.#queues.get(name);
    if (!queue) {
      queue = new Queue(name, { connection: this.#connection, prefix: this.#prefix });
      this.#queues.set(name, queue);
    }
    return queue;
  }

  get connection(): Redis {
    return this.#connection;
  }

  get prefix(): string {
    return this.#prefix;
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.#queues.values()].map((q) => q.close()));
    this.#queues.clear();
    await this.#connection.quit().catch(() => this.#connection.disconnect());
  }
}
