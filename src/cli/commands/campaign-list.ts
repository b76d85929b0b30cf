// `lastcall campaign list [--json]` and `lastcall campaign show ID [--json]`.

import Table from 'cli-table3';
import type { Command } from 'commander';
import { detailsJson, summaryJson } from '../../campaigns/campaign.json.ts';
import type { CampaignDetails } from '../../campaigns/campaign.service.ts';
import { formatUtc } from '../../planning/planner.ts';
import { campaignTimingLines, isoOrDash, printJson, printJsonOr } from '../output.ts';
import { withCampaigns } from './campaign-context.ts';
import { campaignCommand } from './campaign-group.ts';

const plain = { head: [], border: [], compact: true };

export function register(program: Command): void {
  const group = campaignCommand(program);
  group
    .command('list')
    .description('list campaigns')
    .option('--json', 'machine-readable output')
    .action(async (options: { json?: boolean }) => {
      const list = await withCampaigns((campaigns) => campaigns.list());
      if (options.json) {
        printJson(list.map(summaryJson));
        return;
      }
      if (list.length === 0) {
        console.log('no campaigns yet: lastcall campaign create --file F.yaml');
        return;
      }
      const table = new Table({ head: ['id', 'state', 'deadline (UTC)', 'steps', 'name'], style: plain });
      for (const c of list)
        table.push([c.id, c.state, formatUtc(c.deadline), c.campaign.steps.length, c.name]);
      console.log(table.toString());
    });

  group
    .command('show')
    .description('show one campaign: definition, state and slots')
    .argument('<id>', 'campaign id')
    .option('--json', 'machine-readable output')
    .action(async (id: string, options: { json?: boolean }) => {
      const details = await withCampaigns((campaigns) => campaigns.show(id));
      printJsonOr(options.json, detailsJson(details), () => detailsText(details));
    });
}

function detailsText(d: CampaignDetails): string {
  const c = d.campaign;
  const lines = [
    `${d.id}: ${d.name}`,
    `  state      ${d.state}${d.startedAt === null ? '' : ` (started ${isoOrDash(d.startedAt)})`}`,
    ...campaignTimingLines(c),
    `  templates  ${d.sourceDir ?? 'shipped (config/messages)'}`,
  ];
  const steps = new Table({ head: ['step', 'before', 'channels', 'template'], style: plain });
  for (const s of c.steps) steps.push([s.id, s.before, s.channels.join(', '), s.template]);
  lines.push(steps.toString());
  if (d.slots.length === 0) lines.push('  slots      none (the campaign has not started)');
  else {
    const parts = d.slots.map((s) => `${s.count} ${s.state} ${s.personal ? 'personal ' : ''}${s.kind}`);
    lines.push(`  slots      ${parts.join(', ')}`);
  }
  if (d.nextSlot) lines.push(`  next       ${d.nextSlot.stepId} at ${formatUtc(d.nextSlot.sendAt)}`);
  return lines.join('\n');
}
