// The demo's PostgreSQL and Redis (README.md, "Quick start"): the configured ones when they answer;
// private ones started from the local binaries (or Docker) when DATABASE_URL / REDIS_URL are unset
// or refuse connections on a loopback address, in a data folder of the demo's own that the next run
// re-uses. Its link key and admin token are kept there too, so links in the mails of an earlier run
// still work. Where neither binaries nor Docker exist, it stops at once saying what to do.
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { Config } from '../config/config.ts';
import { ensureServices, isLoopback, type Services } from '../ops/local-servers/ensure.ts';
import { unprivilegedIds } from '../ops/local-servers/local.ts';

export const DEFAULT_DATA_DIR = '.lastcall-demo';

export interface DemoServices extends Services {
  /** Absolute path of the data folder. */
  readonly dataDir: string;
  /** Why the data folder is not the default one, when it was moved (see demoDataDir). */
  readonly moved?: string;
}

/** The first folder above `dir` (or `dir` itself, once it exists) the user cannot enter. */
export function closedFolder(dir: string, ids: { uid: number; gid: number }): string | undefined {
  const chain: string[] = [];
  for (let at = resolve(dir); ; at = dirname(at)) {
    chain.unshift(at);
    if (dirname(at) === at) break;
  }
  for (const folder of chain) {
    if (!existsSync(folder)) return undefined;
    const { mode, uid, gid } = statSync(folder);
    const bit = uid === ids.uid ? 0o100 : gid === ids.gid ? 0o010 : 0o001;
    if ((mode & bit) === 0) return folder;
  }
  return undefined;
}

export interface DataDirChoice {
  readonly dir: string;
  /** Set when the default folder was replaced: why, in words. */
  readonly moved?: string;
}

/**
 * Where the demo keeps its files. As root, the private PostgreSQL runs as `postgres` (initdb
 * refuses root), who must be able to enter every folder down to its own: a clone in a 0700
 * folder (`mktemp -d`, /root) is closed to it. The default folder then moves to one of the
 * temp folder's, named after the clone so that the next run re-uses it; a folder chosen with
 * --data-dir is never moved: the demo stops and says why.
 */
export function demoDataDir(
  requested: string,
  chosen: boolean,
  // The user PostgreSQL runs as; null: the one running the demo (not root).
  ids: { uid: number; gid: number } | null = unprivilegedIds() ?? null,
): DataDirChoice {
  const dir = resolve(requested);
  const closed = ids === null ? undefined : closedFolder(dir, ids);
  if (ids === null || closed === undefined) return { dir };
  const mode = (statSync(closed).mode & 0o777).toString(8).padStart(4, '0');
  const why = `the private PostgreSQL runs as uid ${ids.uid} (initdb refuses root), which cannot enter ${closed} (mode ${mode})`;
  if (chosen)
    throw new Error(
      `--data-dir ${requested}: ${why}. Choose a folder that user can reach (e.g. --data-dir ${join(tmpdir(), 'lastcall-demo')}), or open ${closed} to it (chmod o+x ${closed}).`,
    );
  const id = createHash('sha256').update(dir).digest('hex').slice(0, 8);
  const moved = join(tmpdir(), `lastcall-demo-${id}`);
  if (closedFolder(moved, ids) !== undefined)
    throw new Error(`${why}, nor ${moved}. Pass --data-dir with a folder that user can reach.`);
  return { dir: moved, moved: `not ${dir}: ${why}; --data-dir chooses another` };
}

const HOW_TO_FIX = [
  'The demo needs PostgreSQL and Redis. Either:',
  '  - install them, and the demo starts private ones in its data folder:',
  '      Debian/Ubuntu: sudo apt-get install postgresql redis-server',
  '      macOS:         brew install postgresql redis',
  '  - or point DATABASE_URL and REDIS_URL at running servers,',
  '  - or start a Docker engine (docker info must answer), or run: docker compose --profile demo up',
];

export async function demoServices(config: Config, choice: DataDirChoice): Promise<DemoServices> {
  const { dir } = choice;
  mkdirSync(dir, { recursive: true });
  // As root, PostgreSQL runs as another user, who must be able to reach its folder inside.
  chmodSync(dir, 0o755);
  const services = await ensureServices({
    databaseUrl: config.named.databaseUrl ? config.databaseUrl : undefined,
    redisUrl: config.named.redisUrl ? config.redisUrl : undefined,
    variables: { database: 'DATABASE_URL', redis: 'REDIS_URL' },
    mayReplace: isLoopback,
    searchPath: config.binPath,
    dataDir: dir,
    howToFix: HOW_TO_FIX,
  });
  return { ...services, dataDir: dir, ...(choice.moved ? { moved: choice.moved } : {}) };
}

/** A private PostgreSQL's URL names its maintenance database: the demo uses one of its own. */
export function demoDatabaseUrl(services: Services, config: Config): string {
  if (services.databaseUrl === config.databaseUrl) return config.databaseUrl;
  const url = new URL(services.databaseUrl);
  url.pathname = '/lastcall';
  return url.toString();
}

interface DemoSecrets {
  readonly secretKey: string;
  readonly adminToken: string;
}

/** The link key and admin token of the demo: the configured ones, else those kept in `dataDir`. */
export function demoSecrets(config: Config, dataDir: string): DemoSecrets {
  const file = join(dataDir, 'secrets.json');
  const kept = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Partial<DemoSecrets>) : {};
  const secrets = {
    secretKey: kept.secretKey ?? randomBytes(32).toString('hex'),
    adminToken: kept.adminToken ?? randomBytes(16).toString('hex'),
  };
  if (kept.secretKey === undefined || kept.adminToken === undefined)
    writeFileSync(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  return {
    secretKey: config.secretKey ?? secrets.secretKey,
    adminToken: config.adminToken ?? secrets.adminToken,
  };
}
