// `lastcall db migrate`: create the database if needed and apply pending migrations.
// An unreachable PostgreSQL fails with exit 1 and names DATABASE_URL (DatabaseUnreachableError).
import type { Command } from 'commander';
import { loadConfig } from '../../config/config.ts';
import { migrate } from '../../store/migrate.ts';
import { printJson } from '../output.ts';

export function register(program: Command): void {
  // `db` may gain siblings (other modules find or create the same parent command).
  const db =
    program.commands.find((c) => c.name() === 'db') ??
    program.command('db').description('database administration');
  db.command('migrate')
    .description(
      'create the database if it is missing and apply pending migrations (safe to run concurrently)',
    )
    .option('--json', 'machine-readable result')
    .action(async (flags: { json?: boolean }) => {
      const result = await migrate(loadConfig('cli'));
      if (flags.json) return printJson(result);
      if (result.databaseCreated) console.log(`created database ${result.database}`);
      if (result.applied.length === 0) console.log(`database ${result.database} is up to date`);
      else for (const name of result.applied) console.log(`applied ${name}`);
    });
}
