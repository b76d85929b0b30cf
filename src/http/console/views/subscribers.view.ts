// Subscribers: the search by id, phone or email and a keyset page of subscribers by id; one
// profile with its consent timeline and every delivery's status history; the erasure
// confirmation naming what is deleted, and what the erasure did.

import { mayWrite } from '../../../access/api-keys.ts';
import { failureMeaning, SKIP_REASON_MEANINGS } from '../../../delivery/channels/failure-meanings.ts';
import type { SubscriberListItem } from '../../../subscribers/subscriber-list.ts';
import type { SubscriberProfile } from '../../../subscribers/subscriber-profile.ts';
import { type Html, html } from '../../views/html.ts';
import { consolePage, csrfField, instant, scrollTable, type ViewContext, writeButton } from './layout.ts';

export interface SearchState {
  readonly q: string;
  readonly problem?: string;
  /** The page lists the subscribers with this attribute value (a name=value search). */
  readonly attribute?: { readonly name: string; readonly value: string };
  readonly page: { readonly items: readonly SubscriberListItem[]; readonly nextCursor: string | null };
}

export function subscribersPage(ctx: ViewContext, state: SearchState): string {
  const s = ctx.m.subscribers;
  const rows = state.page.items.map(
    (i) =>
      html`<tr><th scope="row"><a href="/console/subscribers/${encodeURIComponent(i.id)}">${i.id}</a></th><td data-label="${s.name}">${i.name ?? ''}</td><td data-label="${s.zone}">${i.timezone}</td><td data-label="${s.attributes}">${attributeChips(ctx, i.attributes)}</td><td data-label="${s.channels}">${Object.entries(i.channels).map(([ch, st]) => html`<span class="chip">${ctx.m.channelNames[ch] ?? ch}${ctx.m.colon}${ctx.m.channelStates[st] ?? st}</span> `)}</td></tr>`,
  );
  const body = html`<h1>${s.title}</h1>
<form method="get" action="/console/subscribers" class="search" role="search">
<label for="q">${s.search}</label>
<p class="hint" id="q-help">${s.searchHelp}</p>
<div class="inline"><input id="q" name="q" type="search" value="${state.q}" autocomplete="off" spellcheck="false" aria-describedby="q-help${state.problem ? ' q-error' : ''}"${state.problem ? html` aria-invalid="true"` : ''}>
<button type="submit">${s.searchButton}</button></div>
${state.problem && html`<p class="error" id="q-error" role="alert">${state.problem}</p>`}
</form>
<h2>${state.attribute ? s.withAttribute(state.attribute.name, state.attribute.value) : s.list}</h2>
${
  state.page.items.length === 0
    ? html`<p>${state.attribute ? s.noneWithAttribute : s.none}</p>`
    : scrollTable(
        s.list,
        html`<table class="cards"><thead><tr><th scope="col">${s.id}</th><th scope="col">${s.name}</th><th scope="col">${s.zone}</th><th scope="col">${s.attributes}</th><th scope="col">${s.channels}</th></tr></thead><tbody>${rows}</tbody></table>`,
      )
}
${state.page.nextCursor && html`<p><a href="/console/subscribers?${state.attribute ? `q=${encodeURIComponent(state.q)}&` : ''}after=${encodeURIComponent(state.page.nextCursor)}">${s.next} →</a></p>`}`;
  return consolePage(ctx, { title: s.title, body, section: 'subscribers' });
}

/** A subscriber's attributes as `name: value` chips, in name order (the shipped assistant's values in words). */
function attributeChips(ctx: ViewContext, attributes: Readonly<Record<string, string>>): Html[] {
  const value = (name: string, v: string) => (name === 'assistant' ? (ctx.m.assistants[v] ?? v) : v);
  return Object.keys(attributes)
    .sort()
    .map(
      (name) => html`<span class="chip">${name}${ctx.m.colon}${value(name, attributes[name] ?? '')}</span> `,
    );
}

function evidenceText(ctx: ViewContext, evidence: Record<string, unknown>): string {
  return Object.entries(evidence)
    .map(([k, v]) => `${k}${ctx.m.colon}${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' · ');
}

/** One delivery's status in the reader's words (singular: one delivery); in-flight ones are queued. */
function statusLabel(ctx: ViewContext, status: string): string {
  const key = status === 'sending' || status === 'retrying' ? 'queued' : status;
  return ctx.m.deliveryStatus[key] ?? status;
}

function history(ctx: ViewContext, d: SubscriberProfile['deliveries']['latest'][number]): Html {
  const steps: [string, string | null][] = [
    ['queued', d.queuedAt],
    ['sent', d.sentAt],
    ['delivered', d.deliveredAt],
    ['read', d.readAt],
    ['failed', d.failedAt],
  ];
  return html`<ol class="history">${steps
    .filter(([, at]) => at !== null)
    .map(
      ([k, at]) =>
        html`<li><span class="status status-${k}">${statusLabel(ctx, k)}</span> ${instant(at)}</li>`,
    )}</ol>`;
}

export function profilePage(ctx: ViewContext, p: SubscriberProfile, notice?: string): string {
  const { m } = ctx;
  const t = m.profile;
  const title = t.title(p.id);
  const fact = (label: string, value: Html | string | null) =>
    html`<dt>${label}</dt><dd>${value ?? '–'}</dd>`;
  const channels = p.channels.map(
    (ch) =>
      // The state with the moment it took effect (a STOP's, not the consent's); the consent below.
      html`<li>${m.channelNames[ch.channel] ?? ch.channel}${m.colon}<strong>${m.channelStates[ch.state] ?? ch.state}</strong> ${m.since} ${instant(ch.updatedAt)}${ch.consentAt && ch.consentAt !== ch.updatedAt && html`<br><span class="muted">${m.consentGiven}${m.colon}${instant(ch.consentAt)}</span>`}${ch.username !== null && html`<span class="chip">${t.username(ch.username)}</span>`}${ch.whatsappUserId !== null && html`<br><span class="muted">${t.whatsappUserId}: <code>${ch.whatsappUserId}</code></span>`}</li>`,
  );
  const events = p.consentEvents.map(
    (
      e,
    ) => html`<li><p><strong>${m.consentKinds[e.kind] ?? e.kind}</strong>${e.channel && html` · ${m.channelNames[e.channel] ?? e.channel}`}</p>
<p>${instant(e.occurredAt)}</p>
<p class="muted">${t.consentSource}${m.colon}${m.consentSources[e.source] ?? e.source}${Object.keys(e.evidence).length > 0 && html`<br>${t.consentEvidence}${m.colon}${evidenceText(ctx, e.evidence)}`}</p></li>`,
  );
  const deliveries = p.deliveries.latest.map((d) => {
    const why = d.errorCode
      ? html`<br><code>${d.errorCode}</code> ${failureMeaning(d.channel, d.errorCode, m.lang) ?? ''}`
      : d.skipReason &&
        html`<br><code>${d.skipReason}</code> ${SKIP_REASON_MEANINGS[d.skipReason]?.[m.lang] ?? ''}`;
    return html`<tr><td data-label="${t.campaignStep}"><a href="/console/campaigns/${d.campaign}">${d.campaign}</a> / ${d.step}</td><td data-label="${m.campaign.channel}">${m.channelNames[d.channel] ?? d.channel}</td><td data-label="${t.status}"><span class="status status-${d.status}">${statusLabel(ctx, d.status)}</span>${why}</td><td data-label="${t.history}">${history(ctx, d)}</td></tr>`;
  });
  const body = html`<p class="crumbs"><a href="/console/subscribers">${m.subscribers.title}</a></p>
<h1>${title}</h1>
<section aria-labelledby="details-title"><h2 id="details-title">${t.details}</h2>
<dl class="facts">
${fact(m.subscribers.name, p.name)}${fact(t.phone, p.phone)}${fact(t.email, p.email)}${fact(t.locale, p.locale)}${fact(t.zone, p.timezone)}${fact(t.attributes, Object.keys(p.attributes).length > 0 ? html`${attributeChips(ctx, p.attributes)}` : null)}${fact(t.tags, p.tags.join(', ') || null)}${fact(t.done, p.doneAt ? instant(p.doneAt) : m.no)}${fact(t.created, instant(p.createdAt))}
</dl></section>
<section aria-labelledby="channels-title"><h2 id="channels-title">${t.channels}</h2><ul>${channels}</ul></section>
<section aria-labelledby="consent-title"><h2 id="consent-title">${t.consent}</h2><ol class="timeline">${events}</ol></section>
<section aria-labelledby="deliveries-title"><h2 id="deliveries-title">${t.deliveries(p.deliveries.latest.length, p.deliveries.total)}</h2>
${
  p.deliveries.latest.length === 0
    ? html`<p>${t.deliveriesNone}</p>`
    : scrollTable(
        t.history,
        html`<table class="cards" id="deliveries"><thead><tr><th scope="col">${t.campaignStep}</th><th scope="col">${m.campaign.channel}</th><th scope="col">${t.status}</th><th scope="col">${t.history}</th></tr></thead><tbody>${deliveries}</tbody></table>`,
      )
}
</section>
<p>${
    ctx.session && mayWrite(ctx.session.principal)
      ? html`<a class="button danger" href="/console/subscribers/${encodeURIComponent(p.id)}/erase">${t.erase}</a>`
      : html`<button type="button" disabled aria-describedby="read-only">${t.erase}</button> <span class="hint">${m.readOnlyButton}</span>`
  }</p>`;
  return consolePage(ctx, {
    title,
    body,
    section: 'subscribers',
    ...(notice ? { notice: { text: notice, kind: 'status' as const } } : {}),
  });
}

export function eraseConfirmPage(ctx: ViewContext, p: SubscriberProfile): string {
  const t = ctx.m.profile;
  const title = t.eraseTitle(p.id);
  const items = t.eraseItems({
    channels: p.channels.length,
    events: p.consentEvents.length,
    deliveries: p.deliveries.total,
    who: [p.name, p.phone, p.email].filter((v) => v).join(', '),
  });
  const body = html`<h1>${title}</h1>
<p><strong>${t.eraseWhat}</strong></p>
<ul class="erase-list">${items.map((i) => html`<li>${i}</li>`)}</ul>
<p>${t.eraseKept}</p>
<form method="post" action="/console/subscribers/${encodeURIComponent(p.id)}/erase" class="confirm">
${csrfField(ctx)}
${writeButton(ctx, t.erase, { class: 'danger' })}
<a href="/console/subscribers/${encodeURIComponent(p.id)}">${ctx.m.actions.keep}</a>
</form>`;
  return consolePage(ctx, { title, body, section: 'subscribers' });
}
