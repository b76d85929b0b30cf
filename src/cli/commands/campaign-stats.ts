// `lastcall campaign stats ID [--json]` (SPEC 8): per step × channel, planned, queued, sent,
// delivered, read, failed and skipped (definitions in src/campaigns/stats.service.ts).

import Table from 'cli-table3';
import type { Command } from 'commander';
import type { CampaignStats } from '../../campaigns/stats.service.ts';
import { formatUtc } from '../../planning/planner.ts';
import { withCampaigns } from './campaign-context.ts';
import { campaignCommand } from './campaign-group.ts';

const COLUMNS = ['planned', 'queued', 'sent', 'delivered', 'read', 'failed', 'skipped', 'unknown'] as const;

export function register(program: Command): void {
  campaignCommand(program)
    .command('stats')
    .description('per step and channel: planned, queued, sent, delivered, read, failed, skipped')
    .argument('<id>', 'campaign id')
    .option('--json', 'machine-readable output')
    .action(async (id: string, options: { json?: boolean }) => {
      const stats = await withCampaigns((campaigns) => campaigns.stats(id, Date.now()));
      console.log(
        options.json
          ? JSON.stringify({ ...stats, deadline: formatUtc(stats.deadline) }, null, 2)
          : statsText(stats),
      );
    });
}

export function statsText(stats: CampaignStats): string {
  const table = new Table({
    head: ['step', 'channel', ...COLUMNS],
    colAligns: ['left', 'left', ...COLUMNS.map(() => 'right' as const)],
    style: { head: [], border: [], compact: true },
  });
  for (const row of stats.steps) table.push([row.step, row.channel, ...COLUMNS.map((c) => row[c])]);
  const lines = [`${stats.id} (${stats.state}), deadline ${formatUtc(stats.deadline)}`, table.toString()];
  for (const row of stats.steps) {
    const failed = Object.entries(row.failedByCode).map(([code, n]) => `${code} ×${n}`);
    const skipped = Object.entries(row.skippedByReason).map(([reason, n]) => `${reason} ×${n}`);
    if (failed.length > 0) lines.push(`  ${row.step} ${row.channel} failed: ${failed.join(', ')}`);
    if (skipped.length > 0) lines.push(`  ${row.step} ${row.channel} skipped: ${skipped.join(', ')}`);
  }
  lines.push('sent includes delivered and read; delivered includes read.');
  return lines.join('\n');
}
