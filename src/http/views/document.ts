// The start of every HTML page Lastcall serves (the sign-up and link pages, the console, the queue
// board's sign-in, the sandbox inbox): doctype, language, viewport, referrer policy, title, and
// same-origin stylesheets and deferred scripts only (the pages' CSP forbids inline ones).
import { Html, html } from './html.ts';

export interface HeadOptions {
  readonly lang: string;
  readonly title: string;
  readonly styles?: readonly string[];
  readonly scripts?: readonly string[];
  /** Default no-referrer: link pages carry tokens in their address, which must not leak. */
  readonly referrer?: 'no-referrer' | 'same-origin';
  /** An empty icon (a page served elsewhere than Lastcall's origin); else Lastcall's /favicon.svg. */
  readonly noIcon?: boolean;
}

/** `<!doctype html>`, `<html lang>` and the whole `<head>`; the caller writes `<body>` on. */
export function documentHead(o: HeadOptions): Html {
  const tags = [
    o.noIcon
      ? html`<link rel="icon" href="data:,">`
      : html`<link rel="icon" href="/favicon.svg" type="image/svg+xml">`,
    ...(o.styles ?? []).map((href) => html`<link rel="stylesheet" href="${href}">`),
    ...(o.scripts ?? []).map((src) => html`<script src="${src}" defer></script>`),
  ];
  return html`<!doctype html>
<html lang="${o.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="${o.referrer ?? 'no-referrer'}">
<title>${o.title}</title>
${new Html(tags.map((tag) => tag.text).join('\n'))}
</head>`;
}
