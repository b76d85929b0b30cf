// `lastcall campaign validate --file F.yaml` (SPEC §8): checks a campaign file and every message
// template it needs, with no database. Prints a short summary and exits 0, or lists every
// problem and exits 2 (the InvalidInput is mapped by src/cli/main.ts).
import { relative, sep } from 'node:path';
import type { Command } from 'commander';
import { loadCampaignFile } from '../../campaigns/campaign.loader.ts';
import type { Campaign } from '../../campaigns/campaign.schema.ts';
import { MESSAGE_LOCALES } from '../../campaigns/message-vars.ts';
import { resolveMessagesDir, validateCampaignTemplates } from '../../campaigns/messages.ts';
import { formatUtc } from '../../planning/planner.ts';
import { InvalidInput } from '../../shared/errors.ts';
import { campaignTimingLines, printJson } from '../output.ts';
import { campaignCommand } from './campaign-group.ts';

export function register(program: Command): void {
  campaignCommand(program)
    .command('validate')
    .description('check a campaign file and its message templates (no database)')
    .requiredOption('--file <file>', 'campaign YAML file')
    .option('--json', 'machine-readable result: {valid, problems} (exit 2 still says invalid)')
    .action(async (options: { file: string; json?: boolean }) => {
      try {
        const campaign = await loadCampaignFile(options.file);
        const problems = await validateCampaignTemplates(campaign);
        if (problems.length > 0) {
          const here = `${process.cwd()}${sep}`;
          const shown = problems.map((p) =>
            p.path.startsWith(here) ? { ...p, path: p.path.slice(here.length) } : p,
          );
          throw new InvalidInput(
            `Campaign ${campaign.id} is valid, but its message templates are not`,
            shown,
          );
        }
        if (!options.json) return console.log(summary(campaign, Date.now()));
        const { id, name, deadline, steps } = campaign;
        printJson({ valid: true, id, name, deadline: formatUtc(deadline), steps });
      } catch (error) {
        if (!options.json || !(error instanceof InvalidInput)) throw error;
        printJson({ valid: false, file: options.file, error: error.summary, problems: error.problems });
        process.exitCode = 2;
      }
    });
}

export function summary(campaign: Campaign, now: number): string {
  const idWidth = Math.max(...campaign.steps.map((step) => step.id.length));
  const beforeWidth = Math.max(...campaign.steps.map((step) => step.before.length));
  const templateWidth = Math.max(...campaign.steps.map((step) => step.template.length));
  const lines = [
    `Campaign ${campaign.id} is valid: ${campaign.name}`,
    ...campaignTimingLines(campaign, now),
    `  templates  ${MESSAGE_LOCALES.join(', ')} in ${relative(process.cwd(), resolveMessagesDir(campaign)) || '.'}`,
    `  steps      ${campaign.steps.length}`,
    ...campaign.steps.map(
      (step) =>
        `    ${step.id.padEnd(idWidth)}  ${step.before.padEnd(beforeWidth)}  ${step.template.padEnd(templateWidth)}  ${step.channels.join(', ')}`,
    ),
  ];
  return lines.join('\n');
}
