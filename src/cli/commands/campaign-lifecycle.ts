// `lastcall campaign start | pause | resume | cancel ID` (docs/campaigns.md, "Lifecycle"). Starting
// a campaign whose deadline has passed exits 2 and says when the deadline was (the service refuses
// it before writing anything). `--json` prints the service's result as it is.
import type { Command } from 'commander';
import type { ChangeResult } from '../../campaigns/campaign.service.ts';
import type { PlanCost } from '../../campaigns/cost-estimate.ts';
import { limitNotes, limitWarnings } from '../../campaigns/messaging-limit.check.ts';
import { formatAmount, NO_PRICE_TABLE, PRICE_FILE } from '../../campaigns/whatsapp-prices.ts';
import { printJson } from '../output.ts';
import { withCampaigns } from './campaign-context.ts';
import { campaignCommand } from './campaign-group.ts';

export function register(program: Command): void {
  const group = campaignCommand(program);
  group
    .command('start')
    .description('start a campaign: plan every eligible subscriber into slots')
    .argument('<id>', 'campaign id')
    .option('--json', 'machine-readable result')
    .action(async (id: string, flags: Json) => {
      const result = await withCampaigns((campaigns) => campaigns.start(id, Date.now()));
      if (flags.json) return printJson(result);
      if (!result.started) {
        console.log(`campaign ${id} is already running`);
        return;
      }
      const zones = result.zones === 1 ? '1 zone' : `${result.zones} zones`;
      console.log(
        `started campaign ${id}: ${result.slotsCreated} slots in ${zones}, ${result.reach} subscriber channels`,
      );
      if (result.badZones.length > 0) {
        console.error(
          `warning: time zones unknown to this runtime, not planned: ${result.badZones.join(', ')}`,
        );
      }
      for (const line of planCostLines(result.whatsappCost)) console.log(line);
      for (const line of limitNotes(result.messagingLimit)) console.log(line);
      for (const line of limitWarnings(result.messagingLimit)) console.error(`warning: ${line}`);
      if (result.messagingLimit && result.messagingLimit.heldBack > 0)
        console.error(
          '  held-back reminders are recorded as skipped (messaging-limit); see docs/whatsapp.md for what to do',
        );
    });

  group
    .command('pause')
    .description('hold a running campaign: nothing is sent until it resumes')
    .argument('<id>', 'campaign id')
    .option('--json', 'machine-readable result')
    .action(async (id: string, flags: Json) => {
      const result = await withCampaigns((campaigns) => campaigns.pause(id, Date.now()));
      if (flags.json) return printJson(result);
      report(result, 'paused');
    });

  group
    .command('resume')
    .description('run a paused campaign again (what came due meanwhile: at most one catch-up per zone)')
    .argument('<id>', 'campaign id')
    .option('--json', 'machine-readable result')
    .action(async (id: string, flags: Json) => {
      const result = await withCampaigns((campaigns) => campaigns.resume(id, Date.now()));
      if (flags.json) return printJson(result);
      report(result, 'resumed');
      if (result.changed && result.slotsMoved + result.slotsCancelled > 0) {
        console.log(
          `  reminders due while paused: ${result.slotsMoved} moved to the next catch-up time, ${result.slotsCancelled} dropped`,
        );
      }
    });

  group
    .command('cancel')
    .description('cancel a campaign for good: pending reminders are dropped')
    .argument('<id>', 'campaign id')
    .option('--json', 'machine-readable result')
    .action(async (id: string, flags: Json) => {
      const result = await withCampaigns((campaigns) => campaigns.cancel(id, Date.now()));
      if (flags.json) return printJson(result);
      report(result, 'cancelled');
      if (result.changed) {
        console.log(
          `  ${result.slotsCancelled} pending slots cancelled, ${result.deliveriesSkipped} queued messages skipped`,
        );
      }
    });
}

/** The plan's estimated WhatsApp cost at the operator's prices, a line per step and category. */
export function planCostLines(cost: PlanCost | null | undefined): string[] {
  if (cost === undefined) return [];
  if (cost === null) return [`estimated WhatsApp cost: ${NO_PRICE_TABLE}`];
  const money = (amount: number) => `${cost.currency} ${formatAmount(Math.round(amount * 1_000_000))}`;
  const unpriced = cost.unpriced > 0 ? `; ${cost.unpriced} messages have no price in it` : '';
  return [
    `estimated WhatsApp cost of the plan: ${money(cost.estimated)} for ${cost.messages} messages (your prices, ${PRICE_FILE}${unpriced})`,
    ...cost.steps.map((s) => {
      const category =
        s.category === null
          ? 'no WhatsApp template'
          : `${s.category} (${s.categoryFrom === 'meta' ? "Meta's category" : 'category of the message file, not yet confirmed by Meta'})`;
      const none = s.unpriced > 0 ? `, ${s.unpriced} with no price` : '';
      return `  ${s.step}: ${s.messages} messages, ${category}, ${money(s.estimatedCost)}${none}`;
    }),
  ];
}

interface Json {
  json?: boolean;
}

function report(result: ChangeResult, verb: string): void {
  console.log(
    result.changed ? `${verb} campaign ${result.id}` : `campaign ${result.id} is already ${result.state}`,
  );
}
