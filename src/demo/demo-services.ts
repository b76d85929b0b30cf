// The demo's PostgreSQL and Redis (SPEC 12): the configured ones when they answer; private ones
// started from the local binaries (or Docker) when DATABASE_URL / REDIS_URL are unset or refuse
// connections on a loopback address, in a data folder of the demo's own that the next run
// re-uses. Its link key and admin token are kept there too, so links in the mails of an earlier
// run still work. Where neither binaries nor Docker exist, it stops at once saying what to do.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Config } from '../config/config.ts';
import { ensureServices, isLoopback, type Services } from '../ops/local-servers/ensure.ts';

export const DEFAULT_DATA_DIR = '.lastcall-demo';

export interface DemoServices extends Services {
  /** Absolute path of the data folder. */
  readonly dataDir: string;
}

const HOW_TO_FIX = [
  'The demo needs PostgreSQL and Redis. Either:',
  '  - install them, and the demo starts private ones in its data folder:',
  '      Debian/Ubuntu: sudo apt-get install postgresql redis-server',
  '      macOS:         brew install postgresql redis',
  '  - or point DATABASE_URL and REDIS_URL at running servers,',
  '  - or start a Docker engine (docker info must answer), or run: docker compose --profile demo up',
];

export async function demoServices(config: Config, dataDir: string): Promise<DemoServices> {
  const dir = resolve(dataDir);
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
  return { ...services, dataDir: dir };
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
