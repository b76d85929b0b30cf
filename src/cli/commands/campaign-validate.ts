// `lastcall campaign validate --file F.yaml [--database]` (docs/cli.md): checks a campaign file and
// every message template it needs, with no database. Prints a short summary and exits 0, or lists
// every problem and exits 2 (the InvalidInput is mapped by src/cli/main.ts). The summary names the
// subscriber attributes the templates read; with --database (DATABASE_URL), how many of the
// campaign's audience lack each (docs/audiences.md).
import { relative, sep } from 'node:path';
import type { Command } from 'commander';
import { loadCampaignFile } from '../../campaigns/campaign.loader.ts';
import type { Campaign } from '../../campaigns/campaign.schema.ts';
import { MESSAGE_LOCALES } from '../../campaigns/message-vars.ts';
import { resolveMessagesDir, validateCampaignTemplates } from '../../campaigns/messages.ts';
import {
  type AttributeCoverage,
  attributeCoverage,
  templateAttributes,
} from '../../campaigns/template-attributes.ts';
import { formatUtc } from '../../planning/planner.ts';
import { InvalidInput } from '../../shared/errors.ts';
import { campaignTimingLines, printJson } from '../output.ts';
import { withDb } from './campaign-context.ts';
import { campaignCommand } from './campaign-group.ts';

export function register(program: Command): void {
  campaignCommand(program)
    .command('validate')
    .description('check a campaign file and its message templates (no database)')
    .requiredOption('--file <file>', 'campaign YAML file')
    .option(
      '--database',
      "also count the campaign's audience in DATABASE_URL's database lacking an attribute the templates read",
    )
    .option('--json', 'machine-readable result: {valid, problems} (exit 2 still says invalid)')
    .action(async (options: { file: string; json?: boolean; database?: boolean }) => {
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
        const attributes = await templateAttributes(campaign);
        const coverage = options.database
          ? await withDb((db) => attributeCoverage(db, campaign, attributes))
          : undefined;
        if (!options.json) return console.log(summary(campaign, Date.now(), attributes, coverage));
        const { id, name, deadline, steps } = campaign;
        printJson({
          valid: true,
          id,
          name,
          deadline: formatUtc(deadline),
          steps,
          attributes: coverage ?? attributes.map((a) => ({ name: a })),
        });
      } catch (error) {
        if (!options.json || !(error instanceof InvalidInput)) throw error;
        printJson({ valid: false, file: options.file, error: error.summary, problems: error.problems });
        process.exitCode = 2;
      }
    });
}

/** What the templates read, and, given the counts, who in the audience lacks it. */
function attributeLines(attributes: readonly string[], coverage?: readonly AttributeCoverage[]): string[] {
  if (attributes.length === 0) return ['  attributes the templates read none'];
  if (coverage === undefined)
    return [
      `  attributes the templates read ${attributes.join(', ')} (--database counts the audience without them)`,
    ];
  return [
    '  attributes the templates read, and the audience members without them:',
    ...coverage.map(
      (c) =>
        `    ${c.name.padEnd(16)}  ${c.missing.toLocaleString('en-US')} of ${c.audience.toLocaleString('en-US')} lack it`,
    ),
  ];
}

export function summary(
  campaign: Campaign,
  now: number,
  attributes: readonly string[] = [],
  coverage?: readonly AttributeCoverage[],
): string {
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
    ...attributeLines(attributes, coverage),
  ];
  return lines.join('\n');
}
