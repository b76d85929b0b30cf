// The page shell: language, viewport, the same-origin stylesheet and script (the CSP forbids
// inline ones), a language switch and one <main>.
import type { Messages } from '../i18n.ts';
import { type Html, html } from './html.ts';

export interface PageOptions {
  readonly title: string;
  readonly body: Html;
  /** Where the language switch points (the same page in the other language); none when omitted. */
  readonly switchHref?: string;
  /** Prefix the title with "Error:" so screen-reader users hear it first. */
  readonly hasErrors?: boolean;
}

export function page(m: Messages, options: PageOptions): string {
  const title = options.hasErrors ? `${m.errors.titlePrefix}${options.title}` : options.title;
  const other = m.switchTo;
  return html`<!doctype html>
<html lang="${m.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${title}</title>
<link rel="stylesheet" href="/assets/subscribe.css">
<script src="/assets/subscribe.js" defer></script>
</head>
<body>
<header class="top">
<span class="brand">Lastcall</span>
${options.switchHref && html`<a class="lang" href="${options.switchHref}" lang="${other.lang}" hreflang="${other.lang}">${other.label}</a>`}
</header>
<main id="main">
${options.body}
</main>
</body>
</html>
`.text;
}

/** A page with a heading and a few paragraphs: confirmations, link results, HTTP errors. */
export function messagePage(
  m: Messages,
  title: string,
  paragraphs: readonly string[],
  extra: { switchHref?: string; action?: Html; backToForm?: boolean } = {},
): string {
  const body = html`<h1>${title}</h1>
${paragraphs.map((p) => html`<p>${p}</p>`)}
${extra.action}
${extra.backToForm && html`<p><a href="/subscribe?lang=${m.lang}">${m.backToForm}</a></p>`}`;
  return page(m, { title, body, ...(extra.switchHref ? { switchHref: extra.switchHref } : {}) });
}
