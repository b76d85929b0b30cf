// Makes sure the integration tests have a PostgreSQL and a Redis: the ones at the test URLs if
// they answer, otherwise private instances from local binaries, otherwise Docker containers,
// otherwise a stop at once with what to install or set.
import { redactUrl } from '../../../src/store/connection-error.ts';
import { dockerAnswers, startDockerPostgres, startDockerRedis } from './docker.ts';
import {
  localPostgresBinaries,
  localRedisBinary,
  type PrivateService,
  startLocalPostgres,
  startLocalRedis,
} from './local.ts';
import { postgresAnswers, redisAnswers } from './probe.ts';

export interface TestServices {
  readonly databaseUrl: string;
  readonly redisUrl: string;
  stop(): Promise<void>;
}

interface Wanted {
  readonly databaseUrl: string;
  readonly redisUrl: string;
}

type Starter = { label: string; start: () => Promise<PrivateService> };

export async function ensureTestServices(wanted: Wanted, log: (line: string) => void): Promise<TestServices> {
  let docker: Promise<boolean> | undefined;
  const dockerStarter = (start: () => Promise<PrivateService>): Starter => ({
    label: 'Docker',
    start: async () => {
      docker ??= dockerAnswers();
      if (!(await docker)) throw new Error('no Docker engine answers (docker info)');
      return start();
    },
  });
  const pgBin = localPostgresBinaries();
  const redisBin = localRedisBinary();

  const [postgres, redis] = await Promise.all([
    obtain('PostgreSQL', 'TEST_DATABASE_URL', wanted.databaseUrl, postgresAnswers, [
      pgBin
        ? { label: 'local binaries', start: () => startLocalPostgres(pgBin) }
        : missing('no initdb/pg_ctl on PATH or under /usr/lib/postgresql/*/bin'),
      dockerStarter(startDockerPostgres),
    ]),
    obtain('Redis', 'TEST_REDIS_URL', wanted.redisUrl, redisAnswers, [
      redisBin
        ? { label: 'local binaries', start: () => startLocalRedis(redisBin) }
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
    throw new Error(
      [
        ...problems,
        'To run the tests, either:',
        '  - install them, and the tests start private instances on their own:',
        '      sudo apt-get install postgresql redis-server',
        '  - or start your own and point the tests at them:',
        '      TEST_DATABASE_URL=postgres://user@host:5432/postgres TEST_REDIS_URL=redis://host:6379 npm test',
        '  - or start a Docker engine (docker info must answer).',
      ].join('\n'),
    );
  }
  for (const s of started) log(`test setup: started ${s.description} at ${s.url}`);
  return {
    databaseUrl: postgres.service?.url ?? wanted.databaseUrl,
    redisUrl: redis.service?.url ?? wanted.redisUrl,
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
  url: string,
  answers: (url: string) => Promise<boolean>,
  starters: Starter[],
): Promise<Obtained> {
  if (await answers(url)) return {};
  const failures: string[] = [];
  for (const starter of starters) {
    try {
      return { service: await starter.start() };
    } catch (error) {
      failures.push(`${starter.label}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return {
    problem: `${what} does not answer at ${variable}=${redactUrl(url)}, and no private one could be started (${failures.join('; ')}).`,
  };
}
