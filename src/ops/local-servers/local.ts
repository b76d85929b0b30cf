// Private PostgreSQL and Redis instances from the machine's own binaries, on free ports of
// 127.0.0.1. Two uses: the tests (a temp folder, durability off, deleted at stop) and the
// demo (a data folder of its own, kept and re-used by the next run).
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import {
  accessSync,
  chownSync,
  constants,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, postgresAnswers, redisAnswers, waitFor } from './probe.ts';

export interface PrivateService {
  readonly url: string;
  readonly description: string;
  stop(): Promise<void>;
}

/** Where a private instance keeps its files. */
export interface Placement {
  /** A folder kept after stop and re-used next time; undefined: a temp folder deleted at stop. */
  readonly dataDir?: string;
}

const execFileAsync = promisify(execFile);

function findIn(dirs: readonly string[], name: string): string | undefined {
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {}
  }
  return undefined;
}

/** Debian keeps initdb and pg_ctl off PATH, under /usr/lib/postgresql/<version>/bin. */
function postgresBinDirs(): string[] {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .sort((a, b) => Number(b) - Number(a))
    .map((version) => join(root, version, 'bin'));
}

/** `searchPath`: the PATH directories (config.binPath). */
export function localPostgresBinaries(
  searchPath: readonly string[],
): { initdb: string; pgCtl: string } | undefined {
  const dirs = [...searchPath, ...postgresBinDirs()];
  const initdb = findIn(dirs, 'initdb');
  const pgCtl = findIn(dirs, 'pg_ctl');
  return initdb && pgCtl ? { initdb, pgCtl } : undefined;
}

export function localRedisBinary(
  searchPath: readonly string[],
  name: 'redis-server' | 'redis-cli' = 'redis-server',
): string | undefined {
  return findIn(searchPath, name);
}

/** initdb refuses to run as root: as root, run PostgreSQL as `postgres` (or `nobody`). */
export function unprivilegedIds(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const users = new Map(
    readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .map((line) => line.split(':'))
      .map(([name, , uid, gid]) => [name, { uid: Number(uid), gid: Number(gid) }] as const),
  );
  const ids = users.get('postgres') ?? users.get('nobody');
  if (!ids)
    throw new Error(
      'running as root, and no "postgres" or "nobody" user (in /etc/passwd) to run PostgreSQL as',
    );
  return ids;
}

function folder(placement: Placement, name: string): { dir: string; keep: boolean } {
  if (placement.dataDir === undefined)
    return { dir: mkdtempSync(join(tmpdir(), `lastcall-${name}-`)), keep: false };
  const dir = join(placement.dataDir, name);
  mkdirSync(dir, { recursive: true });
  return { dir, keep: true };
}

/** A private PostgreSQL that can also be taken down and brought back (the outage tests). */
export interface LocalPostgres extends PrivateService {
  /** `pg_ctl stop -m fast`: sessions are ended (57P01), new connections refused, data kept. */
  halt(): Promise<void>;
  /** Starts it again on the same data folder and port; resolves once it accepts connections. */
  resume(): Promise<void>;
}

export async function startLocalPostgres(
  bin: { initdb: string; pgCtl: string },
  placement: Placement = {},
): Promise<LocalPostgres> {
  const ids = unprivilegedIds();
  const { dir, keep } = folder(placement, 'postgres');
  const data = join(dir, 'data');
  if (ids) chownSync(dir, ids.uid, ids.gid);
  const as = { ...ids, cwd: dir };
  const port = await freePort();
  // A kept folder is real data: durability stays on (commits are still asynchronous).
  const speed = keep ? [] : ['-c fsync=off', '-c full_page_writes=off'];
  const serverOptions = [
    `-p ${port}`,
    '-c listen_addresses=127.0.0.1',
    `-k ${dir}`,
    '-c synchronous_commit=off',
    '-c max_connections=300',
    ...speed,
  ].join(' ');
  const pgCtl = (args: string[]) => execFileAsync(bin.pgCtl, ['-D', data, ...args], as);
  const remove = () => {
    if (!keep) rmSync(dir, { recursive: true, force: true });
  };
  const reused = existsSync(join(data, 'PG_VERSION'));
  try {
    if (!reused) {
      await execFileAsync(
        bin.initdb,
        [
          '-D',
          data,
          '-U',
          'postgres',
          '-A',
          'trust',
          '-E',
          'UTF8',
          '--locale=C',
          '--no-sync',
          '--no-instructions',
        ],
        as,
      );
    }
    const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    const start = async () => {
      await pgCtl(['-l', join(dir, 'postgres.log'), '-o', serverOptions, '-w', '-t', '60', 'start']);
      await waitFor(`private PostgreSQL at ${url}`, () => postgresAnswers(url), 30_000);
    };
    await start();
    return {
      url,
      description: `private PostgreSQL (${bin.pgCtl}, ${reused ? 're-using' : 'data in'} ${dir})`,
      async halt() {
        await pgCtl(['-m', 'fast', '-w', 'stop']);
      },
      resume: start,
      async stop() {
        // A kept folder is shut down cleanly; a temp one is thrown away anyway.
        await pgCtl(['-m', keep ? 'fast' : 'immediate', '-w', 'stop']).catch(() => {});
        remove();
      },
    };
  } catch (error) {
    await pgCtl(['-m', 'immediate', '-w', 'stop']).catch(() => {});
    remove();
    // initdb fails before the server writes a log: point at one only when there is one.
    const log = join(dir, 'postgres.log');
    const hint = keep && existsSync(log) ? ` (log: ${log})` : '';
    throw new Error(`could not start a private PostgreSQL with ${bin.pgCtl}: ${outputOf(error)}${hint}`);
  }
}

export async function startLocalRedis(
  redisServer: string,
  placement: Placement = {},
): Promise<PrivateService> {
  const { dir, keep } = folder(placement, 'redis');
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  // A kept folder saves a snapshot (dump.rdb) at shutdown and loads it at the next start.
  const persistence = keep
    ? ['--save', '60', '100', '--appendonly', 'no']
    : ['--save', '', '--appendonly', 'no'];
  const args = ['--port', String(port), '--bind', '127.0.0.1', ...persistence];
  const child: ChildProcess = spawn(
    redisServer,
    [...args, '--dir', dir, '--logfile', join(dir, 'redis.log'), '--maxmemory-policy', 'noeviction'],
    { stdio: 'ignore' },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    if (!keep) rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(`private Redis at ${url}`, () => redisAnswers(url, 1_000), 15_000);
  } catch (error) {
    await stop();
    throw new Error(`could not start a private Redis with ${redisServer}: ${outputOf(error)}`);
  }
  return { url, description: `private Redis (${redisServer}, pid ${child.pid}, data in ${dir})`, stop };
}

function outputOf(error: unknown): string {
  const e = error as { stderr?: string; message?: string };
  return (e.stderr?.trim() || e.message || String(error)).split('\n').slice(0, 5).join(' / ');
}
