// `lastcall events replay --since ISO` (docs/api.md, "Outbound events"): sends again every outbound
// event created since an instant (the receiver lost them, or a new receiver needs the history). The
// workers (`lastcall work`, with EVENTS_URL set) drain them in order per subscriber.
import type { Command } from 'commander';
import { replayEvents } from '../../events/event-replay.ts';
import { instantOf } from '../../subscribers/subscriber.schema.ts';
import { printJson } from '../output.ts';
import { withDb } from './campaign-context.ts';

export function register(program: Command): void {
  const group = program.command('events').description('outbound events to EVENTS_URL: replay');
  group
    .command('replay')
    .description('send again every event created since an instant, in order per subscriber')
    .requiredOption('--since <instant>', 'ISO 8601 instant with an offset or Z, e.g. 2026-05-04T00:00:00Z')
    .option('--json', 'machine-readable result')
    .addHelpText(
      'after',
      `
The events keep their ids: a receiver that already has one may drop it. Events are kept 30 days
after they were delivered.

Examples:
  $ lastcall events replay --since 2026-05-04T00:00:00Z
  $ lastcall events replay --since 2026-05-04T09:30:00+02:00 --json`,
    )
    .action(async (flags: { since: string; json?: boolean }) => {
      const result = await withDb((db, config) => {
        if (!config.events)
          process.stderr.write('warning: EVENTS_URL is not set: nothing sends them until it is\n');
        return replayEvents(db, instantOf(flags.since.trim()), Date.now());
      });
      if (flags.json) return printJson(result);
      console.log(
        `${result.events} event${result.events === 1 ? '' : 's'} since ${result.since} queued to be sent again`,
      );
    });
}
