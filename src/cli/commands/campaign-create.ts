// `lastcall campaign create --file F.yaml`: create the campaign, or update the one with the
// same id (docs/campaigns.md, "Lifecycle"). The file and its message templates are validated first;
// a started campaign's timing cannot change (the service says why).
import type { Command } from 'commander';
import { printJson } from '../output.ts';
import { withCampaigns } from './campaign-context.ts';
import { campaignCommand } from './campaign-group.ts';

export function register(program: Command): void {
  campaignCommand(program)
    .command('create')
    .description('create a campaign from its file, or update the one with the same id')
    .requiredOption('--file <file>', 'campaign YAML file')
    .option('--json', 'machine-readable result')
    .action(async (options: { file: string; json?: boolean }) => {
      const result = await withCampaigns((campaigns) => campaigns.create(options.file, Date.now()));
      if (options.json) return printJson(result);
      console.log(`${result.outcome} campaign ${result.id} (${result.state})`);
      if (result.state === 'draft') console.log(`start it with: lastcall campaign start ${result.id}`);
    });
}
