// A real Redis Cluster for the tests (docs/redis-cluster.md): 3 primaries and 3 replicas, local
// `redis-server` processes on free ports of 127.0.0.1, data in a temp folder deleted at stop,
// joined with `redis-cli --cluster create … --cluster-replicas 1`. A file that calls
// `useRedisCluster()` starts one before its tests and stops it after; in that file
// createTestRedis() and createPrivateTestRedis() (support/redis.ts) give a prefix on it and the
// env that makes Lastcall connect to it as a cluster (REDIS_CLUSTER=1).
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { localRedisBinary } from '../../src/ops/local-servers/local.ts';
import { freePort, redisAnswers, waitFor } from '../../src/ops/local-servers/probe.ts';
import { type TestRedis, useTestRedis } from './redis.ts';

const execFileAsync = promisify(execFile);
/** How long a primary may be silent before its replica takes over: short, for the tests. */
const NODE_TIMEOUT_MS = 1_000;

export interface ClusterNodeProcess {
  readonly port: number;
  readonly url: string;
  readonly pid: number;
  /** False once the process has exited. */
  alive(): boolean;
}

export interface LocalRedisCluster {
  /** One node's URL, the seed Lastcall is given (REDIS_URL). */
  readonly seedUrl: string;
  readonly nodes: readonly ClusterNodeProcess[];
  /** A cluster client of the test's own (close it). */
  client(): Cluster;
  /** The node that serves `key`'s slot as primary now. */
  primaryOf(key: string): Promise<ClusterNodeProcess>;
  /** The living primaries, and which node replicates which. */
  topology(): Promise<{ primaries: number[]; replicaOf: Map<number, number> }>;
  /**
   * `kill -9` of the primary serving `key`, then waits until its replica has taken its slots
   * and every living node says `cluster_state:ok`. Returns both ports.
   */
  killPrimaryOf(key: string): Promise<{ killed: number; promoted: number }>;
  /** FLUSHALL on every primary; the keys there were. */
  flushAll(): Promise<number>;
  stop(): Promise<void>;
}

/** The binaries, or an error saying how to get them (as the global test setup does). */
function binaries(): { server: string; cli: string } {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  const server = localRedisBinary(dirs);
  const cli = server ? localRedisBinary(dirs, 'redis-cli') : undefined;
  if (!server || !cli)
    throw new Error(
      'the Redis Cluster tests need redis-server and redis-cli (Redis 7) on PATH: ' +
        'sudo apt-get install redis-server (Debian, Ubuntu), brew install redis (macOS)',
    );
  return { server, cli };
}

export async function startLocalRedisCluster(): Promise<LocalRedisCluster> {
  const bin = binaries();
  // A port found free may be taken by another file's servers before ours bind it: try again once.
  try {
    return await startCluster(bin);
  } catch {
    return startCluster(bin);
  }
}

async function startCluster(bin: { server: string; cli: string }): Promise<LocalRedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'lastcall-redis-cluster-'));
  const processes: { port: number; child: ChildProcess; exited: Promise<void> }[] = [];
  const stop = async () => {
    for (const p of processes)
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await Promise.all(processes.map((p) => p.exited));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < 6; i++) {
      const port = await freePort();
      const busPort = await freePort();
      const home = join(dir, String(port));
      mkdirSync(home);
      const child = spawn(
        bin.server,
        [
          '--port',
          String(port),
          '--cluster-port',
          String(busPort),
          '--bind',
          '127.0.0.1',
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          join(home, 'nodes.conf'),
          '--cluster-node-timeout',
          String(NODE_TIMEOUT_MS),
          '--save',
          '',
          '--appendonly',
          'no',
          '--maxmemory-policy',
          'noeviction',
          '--dir',
          home,
          '--logfile',
          join(home, 'redis.log'),
        ],
        { stdio: 'ignore' },
      );
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      processes.push({ port, child, exited });
    }
    for (const { port } of processes)
      await waitFor(
        `cluster node 127.0.0.1:${port}`,
        () => redisAnswers(`redis://127.0.0.1:${port}`, 1_000),
        15_000,
      );
    await execFileAsync(bin.cli, [
      '--cluster',
      'create',
      ...processes.map((p) => `127.0.0.1:${p.port}`),
      '--cluster-replicas',
      '1',
      '--cluster-yes',
    ]);
  } catch (error) {
    await stop();
    const e = error as { stderr?: string; message?: string };
    throw new Error(`could not start a local Redis Cluster: ${(e.stderr?.trim() || e.message) ?? error}`);
  }

  const nodes: ClusterNodeProcess[] = processes.map(({ port, child }) => ({
    port,
    url: `redis://127.0.0.1:${port}`,
    pid: child.pid ?? 0,
    alive: () => child.exitCode === null && child.signalCode === null,
  }));
  const living = () => nodes.filter((n) => n.alive());
  const byPort = (port: number) => nodes.find((n) => n.port === port)!;

  /** Runs `fn` on a plain connection to one node. */
  async function onNode<T>(node: ClusterNodeProcess, fn: (redis: Redis) => Promise<T>): Promise<T> {
    const redis = new Redis(node.url, {
      maxRetriesPerRequest: 1,
      lazyConnect: true,
      retryStrategy: () => null,
    });
    redis.on('error', () => {});
    try {
      await redis.connect();
      return await fn(redis);
    } finally {
      redis.disconnect();
    }
  }

  async function topology() {
    // CLUSTER NODES as one living node sees it: "<id> <ip:port@bus> <flags> <primary id> …".
    const text = await onNode(living()[0]!, (r) => r.call('CLUSTER', 'NODES') as Promise<string>);
    const rows = text
      .trim()
      .split('\n')
      .map((line) => line.split(' '))
      .map(([id, address, flags, primary, , , , , ...slots]) => ({
        id: id!,
        port: Number(address!.split('@')[0]!.split(':')[1]),
        flags: flags!.split(','),
        primary: primary!,
        slots,
      }));
    const portOf = new Map(rows.map((r) => [r.id, r.port]));
    const up = rows.filter((r) => !r.flags.includes('fail') && !r.flags.includes('fail?'));
    return {
      primaries: up.filter((r) => r.flags.includes('master') && r.slots.length > 0).map((r) => r.port),
      replicaOf: new Map(
        up.filter((r) => r.flags.includes('slave')).map((r) => [r.port, portOf.get(r.primary) ?? 0] as const),
      ),
    };
  }

  async function healthy(): Promise<boolean> {
    for (const node of living()) {
      const ok = await onNode(node, async (r) => {
        const info = (await r.call('CLUSTER', 'INFO')) as string;
        return /cluster_state:ok/.test(info) && /cluster_slots_ok:16384/.test(info);
      }).catch(() => false);
      if (!ok) return false;
    }
    // Every primary has a replica in sync (a failover must find the data there).
    const { primaries, replicaOf } = await topology();
    if (primaries.length !== 3) return false;
    for (const [replica] of replicaOf) {
      const info = await onNode(byPort(replica), (r) => r.info('replication')).catch(() => '');
      if (!/master_link_status:up/.test(info)) return false;
    }
    return true;
  }
  try {
    await waitFor('the Redis Cluster (cluster_state:ok, replicas in sync)', healthy, 30_000);
  } catch (error) {
    await stop();
    throw error;
  }

  async function primaryOf(key: string): Promise<ClusterNodeProcess> {
    const slot = Number(await onNode(living()[0]!, (r) => r.call('CLUSTER', 'KEYSLOT', key)));
    const ranges = (await onNode(living()[0]!, (r) => r.call('CLUSTER', 'SLOTS'))) as [
      number,
      number,
      [string, number],
    ][];
    const range = ranges.find(([from, to]) => slot >= from && slot <= to);
    if (!range) throw new Error(`no node serves slot ${slot}`);
    return byPort(Number(range[2][1]));
  }

  return {
    seedUrl: nodes[0]!.url,
    nodes,
    client: () =>
      new Cluster(
        living().map((n) => ({ host: '127.0.0.1', port: n.port })),
        { redisOptions: { maxRetriesPerRequest: 5 } },
      ),
    primaryOf,
    topology,
    async killPrimaryOf(key) {
      const primary = await primaryOf(key);
      const replica = [...(await topology()).replicaOf].find(([, of]) => of === primary.port)?.[0];
      if (replica === undefined) throw new Error(`primary ${primary.port} has no replica to take over`);
      process.kill(primary.pid, 'SIGKILL');
      await waitFor(
        `replica ${replica} promoted in place of ${primary.port}`,
        async () => {
          if (primary.alive()) return false;
          const now = await primaryOf(key).catch(() => undefined);
          if (now?.port !== replica) return false;
          for (const node of living()) {
            const info = await onNode(node, (r) => r.call('CLUSTER', 'INFO') as Promise<string>).catch(
              () => '',
            );
            if (!/cluster_state:ok/.test(info)) return false;
          }
          return true;
        },
        30_000,
      );
      return { killed: primary.port, promoted: replica };
    },
    async flushAll() {
      let keys = 0;
      for (const port of (await topology()).primaries)
        keys += await onNode(byPort(port), async (r) => {
          const n = await r.dbsize();
          await r.flushall();
          return n;
        });
      return keys;
    },
    stop,
  };
}

/** A prefix of its own on the cluster, with the env that makes Lastcall use it as one. */
export function clusterTestRedis(cluster: LocalRedisCluster): TestRedis {
  const prefix = `lastcall-test-${randomBytes(4).toString('hex')}`;
  // Node by node, a key at a time: a cluster refuses a multi-key UNLINK across slots.
  const deletePrefix = async () => {
    let deleted = 0;
    for (const port of (await cluster.topology()).primaries) {
      const node = new Redis(`redis://127.0.0.1:${port}`, { maxRetriesPerRequest: 1 });
      try {
        for await (const keys of node.scanStream({ match: `${prefix}:*`, count: 1000 }) as AsyncIterable<
          string[]
        >) {
          const pipeline = node.pipeline();
          for (const key of keys) pipeline.unlink(key);
          deleted += keys.length;
          await pipeline.exec();
        }
      } finally {
        node.disconnect();
      }
    }
    return deleted;
  };
  return {
    url: cluster.seedUrl,
    prefix,
    env: { REDIS_URL: cluster.seedUrl, QUEUE_PREFIX: prefix, REDIS_CLUSTER: '1' },
    connect: () => cluster.client(),
    cleanup: deletePrefix,
    // The cluster is this file's own: a loss is the whole cluster's data, as with a private Redis.
    loseEverything: () => cluster.flushAll(),
    loss: 'FLUSHALL',
  };
}

export interface FileCluster {
  readonly cluster: LocalRedisCluster;
  /** The prefixes handed out on it (createTestRedis, createPrivateTestRedis). */
  readonly prefixes: string[];
}

/**
 * Starts a cluster before this file's tests (stopped after them) and makes it the file's test
 * Redis. Call it before the hooks that create services, so that it runs first.
 */
export function useRedisCluster(): FileCluster {
  const held = { prefixes: [] as string[] } as { cluster: LocalRedisCluster; prefixes: string[] };
  beforeAll(async () => {
    held.cluster = await startLocalRedisCluster();
    useTestRedis(() => {
      const redis = clusterTestRedis(held.cluster);
      held.prefixes.push(redis.prefix);
      return redis;
    });
  }, 90_000);
  afterAll(async () => {
    useTestRedis(undefined);
    await held.cluster?.stop();
  });
  return held;
}

/**
 * For a file that runs another file's tests on the cluster: one more test, after them, that
 * they did (their prefixes were handed out on the cluster and its primaries hold their keys),
 * so that a variant cannot pass on the shared Redis unnoticed.
 */
export function itRanOnTheCluster(held: FileCluster): void {
  it('ran on the Redis Cluster', async () => {
    expect(held.prefixes.length).toBeGreaterThan(0);
    let keys = 0;
    for (const port of (await held.cluster.topology()).primaries) {
      const node = new Redis(`redis://127.0.0.1:${port}`, { maxRetriesPerRequest: 1 });
      try {
        for (const prefix of held.prefixes) keys += (await node.keys(`${prefix}:*`)).length;
      } finally {
        node.disconnect();
      }
    }
    expect(keys).toBeGreaterThan(0);
  });
}
