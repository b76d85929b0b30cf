// The composition root (src/roles/services.ts) as each role meets it: one instance of every
// service per process, built on first use; a CLI configuration without SECRET_KEY runs what needs
// no key and names SECRET_KEY for what does (subscribers forget exits 2 saying so, nothing
// erased); close() ends what the services own.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../src/config/config.ts';
import { createServices } from '../src/roles/services.ts';
import { systemClock } from '../src/shared/clock.ts';
import { createLogger } from '../src/shared/logger.ts';
import { runCli } from './support/cli.ts';
import { createTestDatabase, type TestDatabase } from './support/db.ts';
import { seedSubscribers, subscriber } from './support/delivery.ts';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
  await seedSubscribers(t.db, [subscriber('keep-me', 1, ['email'])], Date.now());
});
afterAll(async () => t?.drop());

/** What `lastcall` reads in production with SECRET_KEY and ADMIN_TOKEN unset. */
const cliEnv = () => ({ DATABASE_URL: t.url, LASTCALL_ENV: 'production', LOG_LEVEL: 'silent' });
const logger = createLogger({ logLevel: 'silent' });

describe('createServices', () => {
  it('builds each service once, when it is first read', async () => {
    const services = createServices({ config: t.config, db: t.db, clock: systemClock, logger });
    expect(services.campaigns).toBe(services.campaigns);
    expect(services.subscriptions).toBe(services.subscriptions);
    expect(services.directory).toBe(services.directory);
    expect((await services.directory.list({ limit: 10 })).items.map((s) => s.id)).toEqual(['keep-me']);
    await services.close();
  });

  it('with the CLI config and no SECRET_KEY: keyless services work, keyed ones name SECRET_KEY', async () => {
    const config = parseConfig(cliEnv());
    expect(config.secretKey).toBeUndefined();
    const services = createServices({ config, db: t.db, clock: systemClock, logger });
    expect(await services.campaigns.list()).toEqual([]);
    expect(() => services.erasures).toThrow(ConfigError);
    expect(() => services.erasures).toThrow(/SECRET_KEY: required here \(the tombstone/);
    expect(() => services.sessions).toThrow(/SECRET_KEY/);
    await services.close();
  });
});

describe('lastcall subscribers forget without SECRET_KEY', () => {
  it('exits 2 naming SECRET_KEY and erases nothing', async () => {
    const result = await runCli(['subscribers', 'forget', 'keep-me'], cliEnv());
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('SECRET_KEY: required here');
    expect(await t.db.one("SELECT 1 FROM subscribers WHERE id = 'keep-me'")).toBeDefined();
  });
});
