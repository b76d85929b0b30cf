// What every database-backed command needs: the config (`loadConfig('cli')`), a small pool, the
// services (createServices, the composition root every role uses), and errors a person can act
// on. The pool and the services are closed however the command ends. An unreachable PostgreSQL becomes DatabaseUnreachableError (names
// DATABASE_URL, exit 1); a database that was never migrated says to run `lastcall db migrate`.
import pino from 'pino';
import type { CampaignService } from '../../campaigns/campaign.service.ts';
import { type CliConfig, loadConfig } from '../../config/config.ts';
import { createServices, type Services } from '../../roles/services.ts';
import { systemClock } from '../../shared/clock.ts';
import { createLogger } from '../../shared/logger.ts';
import { explainConnectionError, redactUrl } from '../../store/connection-error.ts';
import { type Db, openDb } from '../../store/pool.ts';

const UNDEFINED_TABLE = '42P01';

export async function withDb<T>(
  fn: (db: Db, config: CliConfig) => Promise<T>,
  /** Pool size (default 2; an import merges chunks on several connections). */
  connections = 2,
): Promise<T> {
  const config = loadConfig('cli');
  const db = openDb(config, { max: connections });
  try {
    return await fn(db, config);
  } catch (error) {
    if ((error as { code?: unknown }).code === UNDEFINED_TABLE) {
      throw new Error(
        `The database at ${redactUrl(config.databaseUrl)} has no Lastcall tables: run "lastcall db migrate" first (DATABASE_URL names the database).`,
        { cause: error },
      );
    }
    throw explainConnectionError(config.databaseUrl, error);
  } finally {
    await db.close().catch(() => {});
  }
}

/** The services on a pool of `connections`, for one command. */
export function withServices<T>(
  fn: (services: Services, config: CliConfig, db: Db) => Promise<T>,
  connections = 2,
): Promise<T> {
  return withDb(async (db, config) => {
    const logger = createLogger(config, {}, pino.destination(2));
    const services = createServices({ config, db, clock: systemClock, logger });
    try {
      return await fn(services, config, db);
    } finally {
      await services.close();
    }
  }, connections);
}

export function withCampaigns<T>(fn: (campaigns: CampaignService) => Promise<T>): Promise<T> {
  return withServices((services) => fn(services.campaigns));
}
