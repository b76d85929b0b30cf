// The page a browser gets at /admin/queues without a valid session: a one-field sign-in that
// opens /admin/queues?token=… (which sets the session cookie and drops the token from the
// address), instead of a raw JSON 401. English only, like the board itself. No inline script or
// style: the board's CSP applies.
import { documentHead } from './document.ts';
import { html } from './html.ts';

export function signInPage(triedToken: boolean): string {
  const head = documentHead({
    lang: 'en',
    title: 'Sign in · Lastcall queues',
    styles: ['/assets/subscribe.css'],
  });
  return html`${head}
<body>
<header class="top"><span class="brand">Lastcall</span></header>
<main id="main">
<h1>Lastcall queues</h1>
<p>The queue board is for operators. Sign in with the admin token (<code>ADMIN_TOKEN</code>; <code>lastcall demo</code> prints a link that signs you in).</p>
${triedToken && html`<p class="field-error" role="alert">That token is not the admin token.</p>`}
<form method="get" action="/admin/queues">
<div class="field">
<label for="token">Admin token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required>
</div>
<button type="submit">Sign in</button>
</form>
</main>
</body>
</html>
`.text;
}
