// The sign-in page (an API key into a session cookie) and the console's short message pages
// (refusals, not found, errors), all in the reader's language.
import { html } from '../../views/html.ts';
import { consolePage, type ViewContext } from './layout.ts';

export function signInPage(
  ctx: ViewContext,
  next: string,
  notice?: { text: string; kind: 'status' | 'alert' },
): string {
  const t = ctx.m.signIn;
  const body = html`<h1>${t.title}</h1>
<p id="key-help">${t.intro}</p>
<form method="post" action="/console/sign-in" class="sign-in">
<input type="hidden" name="next" value="${next}">
<p><label for="key">${t.key}</label><br>
<input id="key" name="key" type="password" autocomplete="current-password" required spellcheck="false" aria-describedby="key-help"${notice?.kind === 'alert' ? html` aria-invalid="true"` : ''}></p>
<p><button type="submit">${t.submit}</button></p>
</form>`;
  return consolePage(ctx, { title: t.title, body, ...(notice ? { notice } : {}) });
}

export function messagePage(
  ctx: ViewContext,
  title: string,
  text: string,
  back?: { href: string; label: string },
): string {
  const body = html`<h1>${title}</h1><p>${text}</p>${back && html`<p><a href="${back.href}">${back.label}</a></p>`}`;
  return consolePage(ctx, { title, body });
}
