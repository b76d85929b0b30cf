// The console's page shell: language, same-origin stylesheet and scripts only (the CSP forbids
// inline ones), a skip link, the navigation, who is signed in with the sign-out form, the
// language switch, and a notice when the key may only read.

import { mayWrite } from '../../../access/api-keys.ts';
import type { ConsoleSession } from '../../../access/console-session.ts';
import { documentHead } from '../../views/document.ts';
import { attrs, type Html, html } from '../../views/html.ts';
import { ASSET } from '../assets.routes.ts';
import type { ConsoleMessages } from '../i18n.ts';

export interface ViewContext {
  readonly m: ConsoleMessages;
  readonly session: ConsoleSession | undefined;
  /** The path and query of this page, for the language switch and sign-in's way back. */
  readonly url: string;
}

export interface ConsolePage {
  readonly title: string;
  readonly body: Html;
  /** Which navigation entry is current. */
  readonly section?: 'campaigns' | 'subscribers' | 'import';
  /** A line shown above the page: what just happened (role=status) or what went wrong (alert). */
  readonly notice?: { readonly text: string; readonly kind: 'status' | 'alert' };
  /** The page draws charts: load uPlot. */
  readonly charts?: boolean;
}

export function switchHref(ctx: ViewContext): string {
  const url = new URL(ctx.url, 'http://console.invalid');
  url.searchParams.set('lang', ctx.m.switchTo.lang);
  return `${url.pathname}${url.search}`;
}

/** The hidden CSRF field every state-changing form carries. */
export function csrfField(ctx: ViewContext): Html {
  return html`<input type="hidden" name="_csrf" value="${ctx.session?.csrf ?? ''}">`;
}

/** A submit button; with a read key, disabled and saying why. */
export function writeButton(ctx: ViewContext, label: string, extra: Record<string, string> = {}): Html {
  const allowed = ctx.session !== undefined && mayWrite(ctx.session.principal);
  if (allowed) return html`<button type="submit"${attrs(extra)}>${label}</button>`;
  return html`<button type="submit" disabled aria-describedby="read-only"${attrs(extra)}>${label}</button>
<span class="hint">${ctx.m.readOnlyButton}</span>`;
}

export function consolePage(ctx: ViewContext, page: ConsolePage): string {
  const { m, session } = ctx;
  const nav = (key: 'campaigns' | 'subscribers' | 'import', href: string) =>
    html`<a href="${href}"${attrs({ 'aria-current': page.section === key ? 'page' : undefined })}>${m.nav[key]}</a>`;
  const head = documentHead({
    lang: m.lang,
    title: `${page.title} · Lastcall`,
    styles: page.charts ? [ASSET.css, ASSET.uplotCss] : [ASSET.css],
    scripts: page.charts ? [ASSET.uplot, ASSET.js] : [ASSET.js],
  });
  return html`${head}
<body>
<a class="skip" href="#main">${m.skip}</a>
<header class="top">
<a class="brand" href="/console">Lastcall</a>
${session && html`<nav aria-label="${m.nav.label}">${nav('campaigns', '/console/campaigns')}${nav('subscribers', '/console/subscribers')}${nav('import', '/console/import')}<a href="/admin/queues">${m.queueBoard}</a></nav>`}
<div class="who">
${
  session &&
  html`<span class="principal">${m.signedInAs(session.principal.name, session.principal.scope)}</span>
<form method="post" action="/console/sign-out">${csrfField(ctx)}<button type="submit" class="link">${m.signOut}</button></form>`
}
<a class="lang" href="${switchHref(ctx)}" lang="${m.switchTo.lang}" hreflang="${m.switchTo.lang}">${m.switchTo.label}</a>
</div>
</header>
${session && !mayWrite(session.principal) && html`<p class="read-only" id="read-only">${m.readOnly}</p>`}
<main id="main" tabindex="-1">
${page.notice && html`<p class="notice ${page.notice.kind}" role="${page.notice.kind}">${page.notice.text}</p>`}
${page.body}
</main>
</body>
</html>
`.text;
}

/** A table inside a region that scrolls sideways on a narrow screen (and by keyboard). */
export function scrollTable(label: string, table: Html): Html {
  return html`<div class="table-wrap" role="region" aria-label="${label}" tabindex="0">${table}</div>`;
}

/** An instant as UTC text in a <time>; the console script adds the reader's own zone. */
export function instant(ms: number | string | null | undefined): Html {
  if (ms === null || ms === undefined) return html`–`;
  const iso = typeof ms === 'number' ? new Date(ms).toISOString() : ms;
  return html`<time datetime="${iso}" data-local>${iso.slice(0, 16).replace('T', ' ')} UTC</time>`;
}
