// What every database-backed `campaign` subcommand needs: the config (`loadConfig('cli')`), a
// small pool, the campaign service, and errors a person can act on. The pool is closed however
// the command ends. An unreachable PostgreSQL becomes DatabaseUnreachableError (names
// DATABASE_URL, exit 1); a database that was never migrated says to run `lastcall db migrate`.
import { type CampaignService, createCampaignService } from '../../campaigns/campaign.service.ts';
import { type Config, loadConfig } from '../../config/config.ts';
import { explainConnectionError, redactUrl } from '../../store/connection-error.ts';
import { type Db, openDb } from '../../store/pool.ts';

const UNDEFINED_TABLE = '42P01';

export async function withDb<T>(
  fn: (db: Db, config: Config) => Promise<T>,
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

export function withCampaigns<T>(fn: (campaigns: CampaignService) => Promise<T>): Promise<T> {
  return withDb((db) => fn(createCampaignService({ db })));
}
