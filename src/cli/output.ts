// What CLI commands print, in one place: JSON for --json, instants, and the lines that describe
// a campaign's timing (shared by `campaign validate` and `campaign show`).
import type { Campaign, CampaignAudience } from '../campaigns/campaign.schema.ts';
import { describeCalendar, formatUtc } from '../planning/planner.ts';

/** --json output: one pretty-printed document on stdout. */
export function printJson(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}

/** Epoch ms as UTC ISO, or "-" for none. */
export function isoOrDash(instant: number | null | undefined): string {
  return instant === null || instant === undefined ? '-' : new Date(instant).toISOString();
}

/** The deadline, timing and audience lines of a campaign, indented for a details block. The
 *  UTC form is added only when the deadline was not written in UTC already. */
export function campaignTimingLines(campaign: Campaign, now?: number): string[] {
  const utc = formatUtc(campaign.deadline);
  // "…T00:00Z", "…+00:00" and the UTC form name the same instant the same way: once is enough.
  const inUtc = /(Z|[+-]00:?00)$/i.test(campaign.deadlineText.trim());
  const shown = campaign.deadlineText === utc || inUtc ? utc : `${campaign.deadlineText} (${utc})`;
  const passed = now !== undefined && campaign.deadline <= now ? ', already passed' : '';
  const { audience, window } = campaign;
  return [
    `  deadline   ${shown}${passed}`,
    `  timing     sendAt ${campaign.sendAt}, window ${window.start}–${window.end}, catch-up gap ${campaign.catchUp.minGap}`,
    `  calendar   ${describeCalendar(window, 'en')}`,
    `  audience   ${audienceText(audience)}`,
  ];
}

/** "every subscriber", "tags beta, press", "tags beta; plan pro or team; assistant copilot". */
export function audienceText(audience: CampaignAudience): string {
  const parts = [
    ...(audience.tags.length > 0 ? [`tags ${audience.tags.join(', ')}`] : []),
    ...Object.entries(audience.where ?? {}).map(([name, values]) => `${name} ${values.join(' or ')}`),
  ];
  return parts.length === 0 ? 'every subscriber' : parts.join('; ');
}

/** --json prints `value`; otherwise the text made by `text` (only then computed). */
export function printJsonOr(json: boolean | undefined, value: unknown, text: () => string): void {
  if (json) printJson(value);
  else console.log(text());
}
