// `lastcall campaign stats ID [--json]` (docs/cli.md): per step × channel, planned, queued, sent,
// delivered, read, failed, skipped, unknown, bounced and complained (definitions in
// src/campaigns/stats.service.ts).
// `--watch` follows the fan-out of the slots already due, as the workers run it: a progress bar
// (rows created of those expected, rate, ETA, how many are settled) on a terminal, a line per
// refresh otherwise; then the table. It ends when every due row is settled, when nothing is due
// yet, or when the campaign stops running.

import Table from 'cli-table3';
import type { Command } from 'commander';
import { statsJson } from '../../campaigns/campaign.json.ts';
import type { CampaignService } from '../../campaigns/campaign.service.ts';
import { type CampaignStats, type FanoutProgress, FUNNEL_COLUMNS } from '../../campaigns/stats.service.ts';
import { formatAmount, NO_PRICE_TABLE, PRICE_FILE } from '../../campaigns/whatsapp-prices.ts';
import { progressBar } from '../../ops/progress.ts';
import { formatUtc } from '../../planning/planner.ts';
import { InvalidInput } from '../../shared/errors.ts';
import { numberBetween } from '../option-parsers.ts';
import { printJsonOr } from '../output.ts';
import { withCampaigns } from './campaign-context.ts';
import { campaignCommand } from './campaign-group.ts';

const COLUMNS = [...FUNNEL_COLUMNS, 'unknown', 'bounced', 'complained'] as const;

export function register(program: Command): void {
  campaignCommand(program)
    .command('stats')
    .description(
      'per step and channel: planned, queued, sent, delivered, read, failed, skipped, bounced, complained',
    )
    .argument('<id>', 'campaign id')
    .option('--json', 'machine-readable output')
    .option(
      '--watch',
      'follow the fan-out of the due slots (progress bar on a terminal), then print the table',
    )
    .option(
      '--every <seconds>',
      'with --watch: seconds between refreshes',
      numberBetween(0.1, 3600, 'seconds'),
      1,
    )
    .addHelpText(
      'after',
      `
Examples:
  $ lastcall campaign stats ai-assistants-leave-whatsapp
  $ lastcall campaign stats ai-assistants-leave-whatsapp --json
  $ lastcall campaign stats ai-assistants-leave-whatsapp --watch   # while the workers fan out`,
    )
    .action(async (id: string, options: { json?: boolean; watch?: boolean; every: number }) => {
      if (options.watch && options.json)
        throw new InvalidInput(
          '--watch and --json: choose one (--watch draws for people; --json prints once for machines)',
        );
      const stats = await withCampaigns(async (campaigns) => {
        if (options.watch) await watchFanout(campaigns, id, options.every * 1000);
        return campaigns.stats(id, Date.now());
      });
      printJsonOr(options.json, statsJson(stats), () => statsText(stats));
    });
}

/** One refresh of the watch, for a log or a pipe. */
export function progressLine(p: FanoutProgress): string {
  return `fan-out ${p.created}/${p.created + p.remaining} rows, ${p.settled}/${p.created} settled`;
}

async function watchFanout(campaigns: CampaignService, id: string, everyMs: number): Promise<void> {
  const bar = progressBar('fan-out', 'rows');
  const tty = process.stderr.isTTY === true;
  try {
    for (;;) {
      const now = Date.now();
      const p = await campaigns.fanoutProgress(id, now);
      if (p.dueSlots === 0) {
        const next = p.nextDueAt === undefined ? 'none planned' : `next at ${formatUtc(p.nextDueAt)}`;
        console.log(`nothing due yet (${next})`);
        return;
      }
      if (tty) bar.update(p.created, p.created + p.remaining, `${p.settled} settled`);
      else console.log(progressLine(p));
      if (p.remaining === 0 && p.settled === p.created) {
        if (tty) console.log(progressLine(p));
        return;
      }
      if (p.state !== 'running') {
        console.log(`${progressLine(p)}; the campaign is ${p.state}: stopped watching`);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  } finally {
    bar.stop();
  }
}

/** One line per tz data upgrade that re-planned pending sends (docs/timezones.md). */
export function replanLines(stats: CampaignStats): string[] {
  return stats.tzReplans.map(
    (r) =>
      `time-zone data ${r.fromVersion ?? '(unrecorded)'} → ${r.toVersion}: ${r.slots} pending sends re-planned, ` +
      `${r.moved} moved (${r.earlier} earlier, ${r.moved - r.earlier} later), ${r.cancelled} cancelled; last at ${formatUtc(r.at)}`,
  );
}

/** Priced messages per step and category, their estimated cost, and the total. */
export function pricingLines(stats: CampaignStats): string[] {
  const cost = stats.whatsappCost;
  const lines = stats.whatsappPricing.map((p) => {
    const priced = `  ${p.step} whatsapp priced ${p.category}: ${p.billable} billable, ${p.free} free`;
    if (!cost || p.costMicros === undefined) return priced;
    const unpriced = p.unpriced ? ` (${p.unpriced} with no price in the table)` : '';
    return `${priced}, estimated ${cost.currency} ${formatAmount(p.costMicros)}${unpriced}`;
  });
  if (stats.whatsappPricing.length === 0) return lines;
  if (!cost) lines.push(`  estimated WhatsApp cost: ${NO_PRICE_TABLE}`);
  else {
    const unpriced = cost.unpriced ? `; ${cost.unpriced} billable messages have no price in it` : '';
    lines.push(
      `  estimated WhatsApp cost: ${cost.currency} ${formatAmount(cost.micros)} (your prices, ${PRICE_FILE}${unpriced})`,
    );
  }
  return lines;
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
    if (row.softBounced > 0)
      lines.push(`  ${row.step} ${row.channel} soft-bounced (delayed, nothing changed): ${row.softBounced}`);
    const unknown = Object.entries(row.unknownByReason).map(([reason, n]) => `${reason} ×${n}`);
    if (unknown.length > 0)
      lines.push(`  ${row.step} ${row.channel} unknown (maybe sent, never re-sent): ${unknown.join(', ')}`);
  }
  for (const line of replanLines(stats)) lines.push(line);
  // Meta's per-message pricing, from the status webhooks, at the operator's prices (docs/whatsapp.md).
  lines.push(...pricingLines(stats));
  lines.push(
    'sent includes delivered and read; delivered includes read; bounced and complained were reported after sending.',
  );
  return lines.join('\n');
}
