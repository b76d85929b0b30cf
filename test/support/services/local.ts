// Private PostgreSQL and Redis instances from the machine's own binaries, in a temp folder,
// on free ports, with durability off (tests never need it). Stopped and deleted at teardown.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import {
  accessSync,
  chownSync,
  constants,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, postgresAnswers, redisAnswers, waitFor } from './probe.ts';

export interface PrivateService {
  readonly url: string;
  readonly description: string;
  stop(): Promise<void>;
}

const execFileAsync = promisify(execFile);

function findOnPath(name: string, extraDirs: string[] = []): string | undefined {
  for (const dir of [...(process.env.PATH ?? '').split(delimiter), ...extraDirs]) {
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

export function localPostgresBinaries(): { initdb: string; pgCtl: string } | undefined {
  const dirs = postgresBinDirs();
  const initdb = findOnPath('initdb', dirs);
  const pgCtl = findOnPath('pg_ctl', dirs);
  return initdb && pgCtl ? { initdb, pgCtl } : undefined;
}

export function localRedisBinary(): string | undefined {
  return findOnPath('redis-server');
}

/** initdb refuses to run as root: as root, run PostgreSQL as `postgres` (or `nobody`). */
function unprivilegedIds(): { uid: number; gid: number } | undefined {
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

export async function startLocalPostgres(bin: { initdb: string; pgCtl: string }): Promise<PrivateService> {
  const ids = unprivilegedIds();
  const dir = mkdtempSync(join(tmpdir(), 'lastcall-pg-'));
  const data = join(dir, 'data');
  if (ids) chownSync(dir, ids.uid, ids.gid);
  const as = { ...ids, cwd: dir };
  const port = await freePort();
  const serverOptions = [
    `-p ${port}`,
    '-c listen_addresses=127.0.0.1',
    `-k ${dir}`,
    '-c fsync=off',
    '-c synchronous_commit=off',
    '-c full_page_writes=off',
    '-c max_connections=300',
  ].join(' ');
  const pgCtl = (args: string[]) => execFileAsync(bin.pgCtl, ['-D', data, ...args], as);
  try {
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
    await pgCtl(['-l', join(dir, 'postgres.log'), '-o', serverOptions, '-w', '-t', '60', 'start']);
    const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    await waitFor(`private PostgreSQL at ${url}`, () => postgresAnswers(url), 30_000);
    return {
      url,
      description: `private PostgreSQL (${bin.pgCtl}, data in ${dir})`,
      async stop() {
        await pgCtl(['-m', 'immediate', '-w', 'stop']).catch(() => {});
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await pgCtl(['-m', 'immediate', '-w', 'stop']).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`could not start a private PostgreSQL with ${bin.initdb}: ${outputOf(error)}`);
  }
}

export async function startLocalRedis(redisServer: string): Promise<PrivateService> {
  const dir = mkdtempSync(join(tmpdir(), 'lastcall-redis-'));
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  const child: ChildProcess = spawn(
    redisServer,
    [...args, '--dir', dir, '--logfile', join(dir, 'redis.log'), '--maxmemory-policy', 'noeviction'],
    { stdio: 'ignore' },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(`private Redis at ${url}`, () => redisAnswers(url, 1_000), 15_000);
  } catch (error) {
    await stop();
    throw new Error(`could not start a private Redis with ${redisServer}: ${outputOf(error)}`);
  }
  return { url, description: `private Redis (${redisServer}, pid ${child.pid})`, stop };
}

function outputOf(error: unknown): string {
  const e = error as { stderr?: string; message?: string };
  return (e.stderr?.trim() || e.message || String(error)).split('\n').slice(0, 5).join(' / ');
}
