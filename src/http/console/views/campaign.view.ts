// One campaign: its deadline three ways, the funnel per step × channel (refreshed by the console
// script from GET /api/v1/campaigns/{id}/stats), failures by code with Meta's meaning, skips by
// reason, the two charts (their data from the API), and the lifecycle actions, each behind a
// confirmation page that says what it will do.
import { mayWrite } from '../../../access/api-keys.ts';
import type { CampaignRecord } from '../../../campaigns/campaign.repository.ts';
import type { CampaignAudience } from '../../../campaigns/campaign.schema.ts';
import { actionsAllowed, type CampaignAction } from '../../../campaigns/campaign.service.ts';
import type { MessagingLimitReport } from '../../../campaigns/messaging-limit.check.ts';
import {
  type CampaignStats,
  FUNNEL_COLUMNS,
  type StepChannelStats,
} from '../../../campaigns/stats.service.ts';
import type { TemplateAlert } from '../../../campaigns/template-usage.ts';
import { amountNumber } from '../../../campaigns/whatsapp-prices.ts';
import {
  failureMeaning,
  meaningsFor,
  SKIP_REASON_MEANINGS,
} from '../../../delivery/channels/failure-meanings.ts';
import { describeCalendar } from '../../../planning/planner.ts';
import { Html, html } from '../../views/html.ts';
import { countdown, formatCount, stateBadge } from './campaigns.view.ts';
import { consolePage, csrfField, instant, scrollTable, type ViewContext } from './layout.ts';

/** What each state allows, in the order the buttons show. */
function breakdown(
  ctx: ViewContext,
  rows: readonly StepChannelStats[],
  pick: (r: StepChannelStats) => Readonly<Record<string, number>>,
  meaning: (channel: string, key: string) => string | undefined,
  id: string,
  label: string,
): Html {
  const { m } = ctx;
  const lines = rows.flatMap((r) =>
    Object.entries(pick(r)).map(
      ([key, n]) =>
        html`<tr><td>${r.step}</td><td>${m.channelNames[r.channel] ?? r.channel}</td><td><code>${key}</code></td><td>${meaning(r.channel, key) ?? ''}</td><td class="num">${formatCount(ctx, n)}</td></tr>`,
    ),
  );
  const c = m.campaign;
  return html`<h3 id="${id}-title">${label}</h3>
${scrollTable(
  label,
  html`<table class="breakdown"><thead><tr><th scope="col">${c.step}</th><th scope="col">${c.channel}</th><th scope="col">Code</th><th scope="col"></th><th scope="col" class="num">#</th></tr></thead>
<tbody id="${id}" data-empty="${c.noneYet}">${lines.length > 0 ? lines : html`<tr><td colspan="5" class="muted">${c.noneYet}</td></tr>`}</tbody></table>`,
)}`;
}

export function campaignPage(
  ctx: ViewContext,
  record: CampaignRecord,
  stats: CampaignStats,
  notice?: { text: string; kind: 'status' | 'alert' },
  limit?: MessagingLimitReport,
  templates: readonly TemplateAlert[] = [],
): string {
  const { m } = ctx;
  const c = m.campaign;
  const locale = m.lang;
  const funnelRows = stats.steps.map(
    (r) =>
      html`<tr data-row="${r.step}|${r.channel}"><th scope="row">${r.step}</th><td>${m.channelNames[r.channel] ?? r.channel}</td>${FUNNEL_COLUMNS.map((k) => html`<td class="num" data-k="${k}">${formatCount(ctx, r[k])}</td>`)}</tr>`,
  );
  const funnel = html`<table id="funnel" aria-labelledby="funnel-title" data-stats-url="/api/v1/campaigns/${record.id}/live-stats" data-lang="${locale}">
<thead><tr><th scope="col">${c.step}</th><th scope="col">${c.channel}</th>${FUNNEL_COLUMNS.map((k) => html`<th scope="col" class="num">${c[k]}</th>`)}</tr></thead>
<tbody>${funnelRows}</tbody>
</table>`;
  const meanings = JSON.stringify({ ...meaningsFor(locale), channels: m.channelNames }).replace(
    /</g,
    '\\u003c',
  );
  const canWrite = ctx.session !== undefined && mayWrite(ctx.session.principal);
  const actions = actionsAllowed(record.state).map((action) =>
    canWrite
      ? html`<a class="button${action === 'cancel' ? ' danger' : ''}" href="/console/campaigns/${record.id}/confirm/${action}">${m.actions[action]}</a>`
      : html`<button type="button" disabled aria-describedby="read-only">${m.actions[action]}</button>`,
  );
  const body = html`<p class="crumbs"><a href="/console/campaigns">${c.back}</a></p>
<h1>${record.name} ${stateBadge(ctx, record.state)}</h1>
<dl class="facts">
<dt>${m.campaigns.deadline}</dt><dd>${instant(record.deadline)}<span class="muted written">${record.campaign.deadlineText} (${c.asWritten})</span></dd>
<dt>${m.campaigns.countdown}</dt><dd>${countdown(ctx, record.deadline)}</dd>
<dt>${m.campaigns.calendar}</dt><dd class="calendar">${describeCalendar(record.campaign.window, locale)}</dd>
<dt>${m.campaigns.audience}</dt><dd class="audience">${audienceWords(ctx, record.campaign.audience)}</dd>
</dl>
${stats.tzReplans.map(
  (r) =>
    html`<p class="notice status tz-replan">${c.tzReplanned({ from: r.fromVersion ?? '?', to: r.toVersion, slots: r.slots, moved: r.moved, earlier: r.earlier, later: r.moved - r.earlier, cancelled: r.cancelled })} ${instant(r.at)}</p>`,
)}
${limit && limit.limit !== 'unlimited' && limit.heldBack > 0 && html`<div class="notice alert messaging-limit" role="alert"><p>${c.limitOver(limit.limit, limit.source === 'meta')}</p><ul>${limit.steps.filter((s) => s.heldBack > 0).map((s) => html`<li>${c.limitStep(s.step, s.people, s.heldBack)}</li>`)}</ul></div>`}
${limit && limit.limit !== 'unlimited' && limit.steps.some((s) => s.parts.length > 1) && html`<div class="notice messaging-limit-spread" role="status"><p>${c.limitSpread(limit.limit)}</p><ul>${limit.steps.filter((s) => s.parts.length > 1).map((s) => html`<li>${c.limitSpreadStep(s.step, s.people, s.parts)}</li>`)}</ul></div>`}
${templates.length > 0 && html`<div class="notice alert template-alerts" role="alert"><p>${c.templatesChanged}</p><ul>${templates.map((t) => html`<li><code>${t.name}</code> (${t.language}): ${c.templateAlert(t)}</li>`)}</ul></div>`}
${actions.length > 0 && html`<section aria-labelledby="actions-title"><h2 id="actions-title">${c.actions}</h2><div class="actions">${actions}${!canWrite && html`<span class="hint">${m.readOnlyButton}</span>`}</div></section>`}
<section aria-labelledby="funnel-title" class="funnel">
<h2 id="funnel-title">${c.funnel}</h2>
<p class="muted">${c.funnelCaption} ${c.updated} <span id="funnel-updated">${new Date().toISOString().slice(11, 19)} UTC</span></p>
${scrollTable(c.funnel, funnel)}
<script type="application/json" id="meanings">${new Html(meanings)}</script>
${breakdown(
  ctx,
  stats.steps,
  (r) => r.failedByCode,
  (ch, code) => failureMeaning(ch, code, locale),
  'failures',
  c.failures,
)}
${breakdown(
  ctx,
  stats.steps,
  (r) => r.skippedByReason,
  (_ch, reason) => SKIP_REASON_MEANINGS[reason]?.[locale],
  'skips',
  c.skips,
)}
${stats.whatsappPricing.length > 0 && pricingTable(ctx, stats)}
</section>
<section aria-labelledby="sends-title" class="chart-block">
<h2 id="sends-title">${c.sendsChart}</h2>
<p class="muted" id="sends-help">${c.sendsChartHelp} <span id="sends-total" data-template="${c.sendsTotal('{n}')}"></span></p>
<div class="chart" id="sends-chart" role="img" aria-labelledby="sends-title" aria-describedby="sends-help" data-url="/api/v1/campaigns/${record.id}/activity" data-live="${record.state === 'running' ? 'yes' : 'no'}"></div>
</section>
<section aria-labelledby="plan-title" class="chart-block">
<h2 id="plan-title">${c.planChart}</h2>
<p class="muted" id="plan-help">${c.planChartHelp} <span id="plan-total" data-template="${c.planTotal('{n}')}" data-empty="${c.planEmpty}"></span></p>
<div class="chart" id="plan-chart" role="img" aria-labelledby="plan-title" aria-describedby="plan-help" data-url="/api/v1/campaigns/${record.id}/plan-hours" data-live="${record.state === 'running' ? 'yes' : 'no'}"></div>
</section>`;
  return consolePage(ctx, {
    title: record.name,
    body,
    section: 'campaigns',
    charts: true,
    ...(notice ? { notice } : {}),
  });
}

export function confirmActionPage(ctx: ViewContext, record: CampaignRecord, action: CampaignAction): string {
  const { m } = ctx;
  const title = m.actions.confirmTitle(m.actions[action], record.name);
  const body = html`<h1>${title}</h1>
<p>${stateBadge(ctx, record.state)} · ${m.campaigns.deadline} ${instant(record.deadline)}</p>
<p class="what">${m.actions.what[action]}</p>
<form method="post" action="/console/campaigns/${record.id}/${action}" class="confirm">
${csrfField(ctx)}
<button type="submit"${action === 'cancel' ? html` class="danger"` : ''}>${m.actions.confirm}</button>
<a href="/console/campaigns/${record.id}">${m.actions.keep}</a>
</form>`;
  return consolePage(ctx, { title, body, section: 'campaigns' });
}

export function actionNotice(
  ctx: ViewContext,
  action: string | undefined,
  reach: number | undefined,
  changed: boolean,
) {
  const done = ctx.m.actions.done;
  if (!changed) return done.unchanged;
  if (action === 'start') return done.start(formatCount(ctx, reach ?? 0));
  if (action === 'pause' || action === 'resume' || action === 'cancel') return done[action];
  return undefined;
}

/** "every subscriber", or "tags beta, press · plan: pro or team" in the reader's language. */
function audienceWords(ctx: ViewContext, audience: CampaignAudience): string {
  const w = ctx.m.campaigns;
  const parts = [
    ...(audience.tags.length > 0 ? [`${w.tags} ${audience.tags.join(', ')}`] : []),
    ...Object.entries(audience.where ?? {}).map(
      ([name, values]) => `${name}${ctx.m.colon}${values.join(` ${w.or} `)}`,
    ),
  ];
  return parts.length === 0 ? w.everyone : parts.join(' · ');
}

/** WhatsApp messages Meta priced, per step and category, and their estimated cost at the
 *  operator's prices when there is a price table (docs/whatsapp.md, "Pricing"). */
function pricingTable(ctx: ViewContext, stats: CampaignStats) {
  const c = ctx.m.campaign;
  const cost = stats.whatsappCost;
  const money = cost
    ? new Intl.NumberFormat(ctx.m.lang, {
        style: 'currency',
        currency: cost.currency,
        minimumFractionDigits: 2,
        maximumFractionDigits: 6,
      })
    : undefined;
  const amount = (micros: number | undefined) =>
    money && micros !== undefined ? money.format(amountNumber(micros)) : '';
  return html`<h3 id="pricing-title">${c.pricing}</h3>
${scrollTable(
  c.pricing,
  html`<table class="breakdown" id="pricing"><thead><tr><th scope="col">${c.step}</th><th scope="col">${c.pricingCategory}</th><th scope="col" class="num">${c.billable}</th><th scope="col" class="num">${c.free}</th>${cost && html`<th scope="col" class="num">${c.estimatedCost}</th>`}</tr></thead>
<tbody>${stats.whatsappPricing.map((p) => html`<tr><td>${p.step}</td><td>${p.category}</td><td class="num">${formatCount(ctx, p.billable)}</td><td class="num">${formatCount(ctx, p.free)}</td>${cost && html`<td class="num">${amount(p.costMicros)}</td>`}</tr>`)}</tbody></table>`,
)}
<p class="muted" id="pricing-cost">${cost ? c.costTotal(amount(cost.micros)) : c.noPriceTable}${cost && cost.unpriced > 0 ? html` ${c.unpriced(formatCount(ctx, cost.unpriced))}` : ''}</p>`;
}
