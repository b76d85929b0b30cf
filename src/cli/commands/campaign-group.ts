// The `campaign` command group. Each subcommand lives in its own file (campaign-validate.ts,
// campaign-create.ts, …) and attaches itself with `campaignCommand(program).command('…')`:
// whichever registers first creates the group, the others find it.
import type { Command } from 'commander';

export function campaignCommand(program: Command): Command {
  const existing = program.commands.find((command) => command.name() === 'campaign');
  if (existing !== undefined) return existing;
  // `program.command()` (not `addCommand`) so the group inherits exitOverride and the help
  // settings of the wrapper in src/cli/main.ts, and passes them on to its subcommands.
  return program
    .command('campaign')
    .description('campaigns: validate, create, list, show, start, pause, stats…');
}
