// `lastcall demo` (npm run demo; `demo run`): the demo in one process, no Docker needed: migrate, the WhatsApp
// sandbox on 127.0.0.1, serve + work, and the demo campaign seeded. `lastcall demo seed`: only
// the seeding, for a stack already running (the compose `demo` profile runs it).
import type { Command } from 'commander';
import { loadConfig } from '../../config/config.ts';
import { DEMO_CAMPAIGN_ID } from '../../demo/demo-campaign.ts';
import { DEFAULT_DATA_DIR } from '../../demo/demo-services.ts';
import { startNativeDemo } from '../../demo/native-demo.ts';
import { seedDemo } from '../../demo/seed.service.ts';
import { demoEndLines, demoLines, seedLines } from '../../demo/where-to-look.ts';
import { onShutdownSignal } from '../../queue/shutdown.ts';
import { createLogger } from '../../shared/logger.ts';
import { numberBetween, port } from '../option-parsers.ts';
import { withServices } from './campaign-context.ts';

const minutes = numberBetween(2, 1440, 'minutes', true);
const seconds = numberBetween(1, 60, 'seconds');

interface SeedFlags {
  minutes: number;
  sandboxUrl: string;
  mailpitUrl: string;
}

interface DemoFlags {
  minutes: number;
  sandboxPort: number;
  tickEvery: number;
  dataDir: string;
  verbose?: boolean;
}

export function register(program: Command): void {
  // `demo` alone runs `demo run`; options after either subcommand belong to it.
  const demo = program
    .command('demo')
    .description(
      'the demo: a campaign minutes away, with the sandbox inbox for WhatsApp and email (run, the default) or on a running stack (seed)',
    );
  demo
    .command('run', { isDefault: true })
    .description(
      'run the demo in one process: private PostgreSQL and Redis if needed, the sandbox inbox, serve, work and a demo campaign minutes away',
    )
    .option('--minutes <n>', 'minutes from now to the demo deadline', minutes, 20)
    .option(
      '--sandbox-port <port>',
      'port of the sandbox inbox and fake Graph API (on 127.0.0.1)',
      port,
      8090,
    )
    .option('--tick-every <seconds>', 'how often due reminders are looked for', seconds, 10)
    .option(
      '--data-dir <dir>',
      'where private PostgreSQL and Redis keep their data, re-used by the next run',
      DEFAULT_DATA_DIR,
    )
    .option('--verbose', 'log at LOG_LEVEL (by default only warnings, so that the summary stays readable)')
    .action(async (flags: DemoFlags, command: Command) => {
      const base = loadConfig('cli');
      const quiet = ['silent', 'fatal', 'error'].includes(base.logLevel);
      const logLevel = flags.verbose || quiet ? base.logLevel : 'warn';
      const logger = createLogger({ logLevel }, { role: 'demo', pid: process.pid });
      const demoRun = await startNativeDemo(base, {
        minutes: flags.minutes,
        sandboxPort: flags.sandboxPort,
        tickEveryMs: Math.round(flags.tickEvery * 1000),
        dataDir: flags.dataDir,
        dataDirChosen: command.getOptionValueSource('dataDir') !== 'default',
        logger,
        now: () => Date.now(),
        onEnd: (end) => console.log(demoEndLines(end, DEMO_CAMPAIGN_ID).join('\n')),
      });
      // One write, so a reader of the pipe never sees half of it.
      console.log(demoLines(demoRun).join('\n'));
      await new Promise<void>((resolve) => {
        onShutdownSignal(async () => {
          await demoRun.close();
          resolve();
        });
      });
    });

  demo
    .command('seed')
    .description(
      'create (or replace) and start the demo campaign, deadline minutes away, with demo subscribers',
    )
    .option('--minutes <n>', 'minutes from now to the demo deadline', minutes, 20)
    .option('--sandbox-url <url>', 'where the WhatsApp sandbox inbox is, to print', 'http://localhost:8090')
    .option('--mailpit-url <url>', 'where Mailpit is, to print', 'http://localhost:8025')
    .action(async (flags: SeedFlags) => {
      const now = Date.now();
      const { result, email } = await withServices(async (services, config, db) => ({
        result: await seedDemo({ db, config, services }, { now, minutes: flags.minutes }),
        email: config.email !== undefined,
      }));
      for (const line of seedLines(result, now)) console.log(line);
      console.log(`  WhatsApp inbox  ${flags.sandboxUrl}/`);
      console.log(
        `  email           ${email ? `${flags.mailpitUrl}/ (Mailpit)` : 'off (SMTP_URL is not set)'}`,
      );
      console.log('  stats           lastcall campaign stats demo');
      console.log('                  (compose: docker compose run --rm cli campaign stats demo)');
    });
}
