// The campaigns page: every campaign, soonest deadline first, with its state, its deadline (UTC,
// as written, and in the reader's zone by the script), a live countdown and sends so far against
// what is planned.
import type { CampaignOverview } from '../../../campaigns/activity.service.ts';
import { html } from '../../views/html.ts';
import { consolePage, instant, scrollTable, type ViewContext } from './layout.ts';

export function formatCount(ctx: ViewContext, n: number): string {
  return new Intl.NumberFormat(ctx.m.lang === 'fr' ? 'fr-FR' : 'en-GB').format(n);
}

export function stateBadge(ctx: ViewContext, state: string) {
  return html`<span class="state state-${state}">${ctx.m.states[state] ?? state}</span>`;
}

/** A countdown the script keeps live; it says "passed" once the deadline is behind. */
export function countdown(ctx: ViewContext, deadline: number) {
  return html`<span class="countdown" data-countdown="${new Date(deadline).toISOString()}" data-passed="${ctx.m.campaigns.passed}"></span>`;
}

export function campaignsPage(ctx: ViewContext, campaigns: readonly CampaignOverview[]): string {
  const { m } = ctx;
  const c = m.campaigns;
  const rows = campaigns.map(({ record, progress }) => {
    const planned = progress ? progress.created + progress.expected : undefined;
    return html`<tr>
<th scope="row"><a href="/console/campaigns/${record.id}">${record.name}</a><br><span class="muted">${record.id}</span></th>
<td data-label="${c.state}">${stateBadge(ctx, record.state)}</td>
<td data-label="${c.deadline}">${instant(record.deadline)}</td>
<td data-label="${c.countdown}">${countdown(ctx, record.deadline)}</td>
<td class="num" data-label="${c.progress}">${progress ? `${formatCount(ctx, progress.sent)} / ${formatCount(ctx, planned ?? 0)}` : html`<span class="muted">${c.notStarted}</span>`}</td>
</tr>`;
  });
  const table = html`<table class="cards">
<thead><tr><th scope="col">${c.name}</th><th scope="col">${c.state}</th><th scope="col">${c.deadline}</th><th scope="col">${c.countdown}</th><th scope="col" class="num">${c.progress}</th></tr></thead>
<tbody>${rows}</tbody>
</table>`;
  const body = html`<h1>${c.title}</h1>
${campaigns.length === 0 ? html`<p>${c.none}</p>` : scrollTable(c.title, table)}`;
  return consolePage(ctx, { title: c.title, body, section: 'campaigns' });
}
