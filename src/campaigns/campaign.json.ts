// The JSON shapes of a campaign, as `campaign list|show|stats --json` print them and the API
// answers them (one shape, two edges). Instants are UTC ISO strings.
import { formatUtc } from '../planning/planner.ts';
import type { CampaignRecord } from './campaign.repository.ts';
import type { CampaignDetails } from './campaign.service.ts';
import type { CampaignStats } from './stats.service.ts';
import { amountNumber } from './whatsapp-prices.ts';

const iso = (instant: number) => new Date(instant).toISOString();

export function summaryJson(c: CampaignRecord) {
  return {
    id: c.id,
    name: c.name,
    state: c.state,
    deadline: formatUtc(c.deadline),
    deadlineText: c.campaign.deadlineText,
    steps: c.campaign.steps.length,
    startedAt: c.startedAt === null ? null : iso(c.startedAt),
  };
}

export function detailsJson(d: CampaignDetails) {
  const at = (v: number | null) => (v === null ? null : iso(v));
  return {
    ...summaryJson(d),
    pausedAt: at(d.pausedAt),
    cancelledAt: at(d.cancelledAt),
    finishedAt: at(d.finishedAt),
    createdAt: at(d.createdAt),
    updatedAt: at(d.updatedAt),
    messagesDir: d.sourceDir,
    definition: d.campaign,
    slots: d.slots,
    nextSlot: d.nextSlot ? { step: d.nextSlot.stepId, sendAt: formatUtc(d.nextSlot.sendAt) } : null,
  };
}

export function statsJson(stats: CampaignStats) {
  const { whatsappCost: cost, ...rest } = stats;
  return {
    ...rest,
    deadline: formatUtc(stats.deadline),
    tzReplans: stats.tzReplans.map((r) => ({ ...r, at: formatUtc(r.at) })),
    // Amounts in the table's currency, exact to the millionth (docs/whatsapp.md, "Pricing").
    whatsappPricing: stats.whatsappPricing.map(({ costMicros, ...row }) =>
      costMicros === undefined ? row : { ...row, estimatedCost: amountNumber(costMicros) },
    ),
    whatsappCost:
      cost === null
        ? null
        : {
            currency: cost.currency,
            estimated: amountNumber(cost.micros),
            unpriced: cost.unpriced,
          },
  };
}
