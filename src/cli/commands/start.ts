// `lastcall start` (npm start): the whole service in one process against the configured
// PostgreSQL and Redis: apply pending migrations, then serve and work together. For a single
// machine; in compose and anything larger, run `serve` and `work` as separate processes (scale
// `work` freely). SIGTERM or Ctrl+C stops taking requests and jobs, then exits within a bound.
import { type Command, Option } from 'commander';
import { loadConfig } from '../../config/config.ts';
import { stackLines } from '../../demo/where-to-look.ts';
import { onShutdownSignal } from '../../queue/shutdown.ts';
import { startAllInOne } from '../../roles/start.ts';
import { createLogger } from '../../shared/logger.ts';
import { migrate } from '../../store/migrate.ts';
import { positiveInt } from '../option-parsers.ts';

export function register(program: Command): void {
  program
    .command('start')
    .description('migrate, then serve and work in one process (for a single machine; npm start)')
    .addOption(
      new Option('--shutdown-ms <ms>', 'on SIGTERM, how long requests and jobs in flight may take')
        .argParser(positiveInt)
        .default(25_000),
    )
    .action(async (options: { shutdownMs: number }) => {
      // `serve` needs everything `work` does, and more (ADMIN_TOKEN).
      const config = loadConfig('serve');
      const logger = createLogger(config, { role: 'start', pid: process.pid });
      const migrated = await migrate(config);
      console.log(
        migrated.applied.length === 0
          ? `database ${migrated.database} is up to date`
          : `database ${migrated.database}: applied ${migrated.applied.join(', ')}`,
      );
      const running = await startAllInOne(config, { logger });
      // One write, so a reader of the pipe never sees half of it.
      console.log(
        [
          'Lastcall is running (serve + work in one process; Ctrl+C to stop):',
          ...stackLines(config, running.httpPort),
          '  campaigns       lastcall campaign list',
        ].join('\n'),
      );
      await new Promise<void>((resolve) => {
        onShutdownSignal(async (signal) => {
          logger.info({ signal }, 'stopping: no new requests or jobs, finishing those in flight');
          await running.close(options.shutdownMs);
          logger.info('stopped');
          resolve();
        });
      });
    });
}
