// The page shell: language, viewport, the same-origin stylesheet and script (the CSP forbids
// inline ones), a language switch and one <main>.
import type { Messages } from '../i18n.ts';
import { documentHead } from './document.ts';
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
  const head = documentHead({
    lang: m.lang,
    title,
    styles: ['/assets/subscribe.css'],
    scripts: ['/assets/subscribe.js'],
  });
  return html`${head}
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
