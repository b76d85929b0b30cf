// Makes sure there is a PostgreSQL and a Redis: the ones named if they answer, otherwise private
// instances from local binaries, otherwise Docker containers, otherwise a stop at once with what
// to install or set. The tests and `lastcall demo` share it; they differ in when a private
// instance may replace the named one (`mayReplace`) and where its files go (`dataDir`).
import { redactUrl } from '../../store/connection-error.ts';
import { dockerAnswers, startDockerPostgres, startDockerRedis } from './docker.ts';
import {
  localPostgresBinaries,
  localRedisBinary,
  type PrivateService,
  startLocalPostgres,
  startLocalRedis,
} from './local.ts';
import { postgresAnswers, redisAnswers } from './probe.ts';

export interface Services {
  readonly databaseUrl: string;
  readonly redisUrl: string;
  /** What was started, one line each (empty when both named servers answered). */
  readonly started: readonly PrivateService[];
  stop(): Promise<void>;
}

export interface Wanted {
  /** undefined: not named at all, a private instance is started without asking. */
  readonly databaseUrl: string | undefined;
  readonly redisUrl: string | undefined;
  /** The variables that name them, for the messages. */
  readonly variables: { readonly database: string; readonly redis: string };
  /** May a private instance stand in for a named server that does not answer? */
  readonly mayReplace: (url: string) => boolean;
  /** PATH directories to look for the binaries in (config.binPath). */
  readonly searchPath: readonly string[];
  /** A folder kept and re-used by the next run; undefined: temp folders deleted at stop. */
  readonly dataDir?: string;
  /** The last lines of the error when nothing could be started: how to get out of it. */
  readonly howToFix: readonly string[];
}

type Starter = { label: string; start: () => Promise<PrivateService> };

/** Loopback hosts: only there does "refuses connections" mean "nothing installed or started". */
export function isLoopback(url: string): boolean {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

export async function ensureServices(wanted: Wanted): Promise<Services> {
  let docker: Promise<boolean> | undefined;
  const dockerStarter = (start: () => Promise<PrivateService>): Starter => ({
    label: 'Docker',
    start: async () => {
      docker ??= dockerAnswers();
      if (!(await docker)) throw new Error('no Docker engine answers (docker info)');
      return start();
    },
  });
  const pgBin = localPostgresBinaries(wanted.searchPath);
  const redisBin = localRedisBinary(wanted.searchPath);
  const placement = wanted.dataDir === undefined ? {} : { dataDir: wanted.dataDir };

  const [postgres, redis] = await Promise.all([
    obtain('PostgreSQL', wanted.variables.database, wanted.databaseUrl, postgresAnswers, wanted, [
      pgBin
        ? { label: 'local binaries', start: () => startLocalPostgres(pgBin, placement) }
        : missing('no initdb/pg_ctl on PATH or under /usr/lib/postgresql/*/bin'),
      dockerStarter(startDockerPostgres),
    ]),
    obtain('Redis', wanted.variables.redis, wanted.redisUrl, redisAnswers, wanted, [
      redisBin
        ? { label: 'local binaries', start: () => startLocalRedis(redisBin, placement) }
        : missing('no redis-server on PATH'),
      dockerStarter(startDockerRedis),
    ]),
  ]);
  const started = [postgres, redis].flatMap((o) => (o.service ? [o.service] : []));
  const stop = async () => {
    await Promise.all(started.map((s) => s.stop()));
  };
  const problems = [postgres, redis].flatMap((o) => (o.problem ? [o.problem] : []));
  if (problems.length > 0) {
    await stop();
    throw new Error([...problems, ...wanted.howToFix].join('\n'));
  }
  return {
    databaseUrl: postgres.service?.url ?? (wanted.databaseUrl as string),
    redisUrl: redis.service?.url ?? (wanted.redisUrl as string),
    started,
    stop,
  };
}

interface Obtained {
  service?: PrivateService;
  problem?: string;
}

function missing(reason: string): Starter {
  return {
    label: 'local binaries',
    start: () => Promise.reject(new Error(reason)),
  };
}

async function obtain(
  what: string,
  variable: string,
  url: string | undefined,
  answers: (url: string) => Promise<boolean>,
  wanted: Wanted,
  starters: Starter[],
): Promise<Obtained> {
  if (url !== undefined) {
    if (await answers(url)) return {};
    if (!wanted.mayReplace(url))
      return {
        problem: `${what} does not answer at ${variable}=${redactUrl(url)}: start it, or fix ${variable}.`,
      };
  }
  const failures: string[] = [];
  for (const starter of starters) {
    try {
      return { service: await starter.start() };
    } catch (error) {
      failures.push(`${starter.label}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  const named =
    url === undefined ? `${variable} is not set` : `${what} does not answer at ${variable}=${redactUrl(url)}`;
  return { problem: `${named}, and no private ${what} could be started (${failures.join('; ')}).` };
}
