// The links in messages (docs/subscribers.md, "Public pages and links"): GET /confirm/:token
// (double opt-in, idempotent), GET /unsubscribe/:token (a page with a button) and POST
// /unsubscribe/:token (the button, or an RFC 8058 one-click POST from a mailbox provider), GET
// /done/:token (a page with a button) and POST /done/:token (the button). A token that is
// malformed, forged or for another action is a 400 page; an expired one a 410 page.
// GET and HEAD on /unsubscribe and /done act on nothing: Outlook's Safe Links, Gmail's prefetch and
// corporate scanners open every link of a mail, and one scan must not end anyone's reminders. Only
// the confirmation acts on GET: a scanner that confirms an address proves the mail arrived, and a
// POST would make double opt-in one click longer for everyone. HEAD on a link checks the token and
// acts on nothing (Fastify would otherwise run the GET handler for it).
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../../shared/clock.ts';
import type { Locale } from '../../shared/vocabulary.ts';
import type { SubscriptionService } from '../../subscribers/subscription.service.ts';
import { type TokenAction, type VerifiedToken, verifyToken } from '../../subscribers/tokens.ts';
import { chosenLocale, MESSAGES, type Messages, negotiateLocale } from '../i18n.ts';
import { html } from '../views/html.ts';
import { messagePage } from '../views/layout.ts';

export interface LinkRoutesOptions {
  readonly subscriptions: Pick<
    SubscriptionService,
    'confirmEmail' | 'unsubscribe' | 'markDone' | 'doneLinkState'
  >;
  readonly secretKey: string;
  readonly clock: Clock;
}

interface TokenRequest {
  Params: { token: string };
  Querystring: { lang?: string };
}

const HTML = 'text/html; charset=utf-8';

/** `?lang=` first, then the subscriber's own language, then the browser's. */
function localeFor(request: FastifyRequest<TokenRequest>, subscriberLocale?: Locale): Locale {
  return (
    chosenLocale(request.query.lang) ??
    subscriberLocale ??
    negotiateLocale(undefined, request.headers['accept-language'])
  );
}

/** RFC 8058: the body is `List-Unsubscribe=One-Click`, form-encoded or as multipart/form-data. */
export function isOneClick(body: unknown): boolean {
  if (typeof body !== 'string') return false;
  if (new URLSearchParams(body).get('List-Unsubscribe') === 'One-Click') return true;
  return /name="?List-Unsubscribe"?\r?\n(?:[^\r\n]+\r?\n)*\r?\nOne-Click/i.test(body);
}

export const linkRoutes: FastifyPluginAsync<LinkRoutesOptions> = async (app, opts) => {
  // Any body is accepted on an unsubscribe URL: the token alone authorises the opt-out, and
  // providers differ in how they encode the one-click POST.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));
  // Pages behind a personal token are never stored by a shared cache.
  app.addHook('onSend', async (_request, reply) => {
    reply.header('cache-control', 'no-store');
  });

  function verified<A extends TokenAction>(
    request: FastifyRequest<TokenRequest>,
    reply: FastifyReply,
    action: A,
  ): VerifiedToken<A> | undefined {
    const result = verifyToken(opts.secretKey, request.params.token, action, opts.clock.now());
    if (result.ok) return result.token;
    request.log.info({ action, reason: result.reason }, 'link token refused');
    const m = MESSAGES[localeFor(request)];
    const expired = result.reason === 'expired';
    const body =
      expired && action === 'confirm'
        ? messagePage(m, m.link.expiredTitle, [m.link.expiredBody], { backToForm: true })
        : messagePage(m, expired ? m.link.expiredTitle : m.link.invalidTitle, [m.link.invalidBody]);
    void reply
      .code(expired ? 410 : 400)
      .type(HTML)
      .send(body);
    return undefined;
  }

  /** HEAD: the token's verdict, no side effect (and no database read for the page). */
  function headOnly(path: string, action: TokenAction): void {
    app.head<TokenRequest>(path, async (request, reply) => {
      if (!verified(request, reply, action)) return reply;
      return reply.code(200).type(HTML).send();
    });
  }
  headOnly('/confirm/:token', 'confirm');
  headOnly('/done/:token', 'done');

  app.get<TokenRequest>('/confirm/:token', { exposeHeadRoute: false }, async (request, reply) => {
    const token = verified(request, reply, 'confirm');
    if (!token) return reply;
    const { status, locale } = await opts.subscriptions.confirmEmail(token.subscriberId, opts.clock.now());
    const m = MESSAGES[localeFor(request, locale)];
    const [code, title, text] =
      status === 'confirmed'
        ? [200, m.confirm.confirmedTitle, m.confirm.confirmedBody]
        : status === 'already-confirmed'
          ? [200, m.confirm.confirmedTitle, m.confirm.alreadyBody]
          : status === 'not-pending'
            ? [409, m.confirm.notPendingTitle, m.confirm.notPendingBody]
            : [410, m.link.goneTitle, m.link.goneBody];
    return reply
      .code(code)
      .type(HTML)
      .send(messagePage(m, title, [text], { backToForm: status === 'not-pending' }));
  });

  app.get<TokenRequest>('/unsubscribe/:token', async (request, reply) => {
    // Showing the page changes nothing: link scanners fetch GET links on their own.
    const token = verified(request, reply, 'unsubscribe');
    if (!token) return reply;
    const m = MESSAGES[localeFor(request)];
    const ask =
      token.channel === 'all'
        ? m.unsubscribe.askAll
        : token.channel === 'email'
          ? m.unsubscribe.askEmail
          : m.unsubscribe.askWhatsapp;
    const action = html`<form method="post" action="/unsubscribe/${request.params.token}?lang=${m.lang}">
<input type="hidden" name="confirm" value="yes">
<button type="submit">${m.unsubscribe.button}</button>
</form>`;
    return reply.type(HTML).send(messagePage(m, m.unsubscribe.title, [ask], { action }));
  });

  app.post<TokenRequest>('/unsubscribe/:token', async (request, reply) => {
    const token = verified(request, reply, 'unsubscribe');
    if (!token) return reply;
    const oneClick = isOneClick(request.body);
    const result = await opts.subscriptions.unsubscribe(
      token.subscriberId,
      token.channel,
      oneClick ? 'one-click' : 'unsubscribe-link',
      opts.clock.now(),
    );
    request.log.info(
      { subscriberId: token.subscriberId, oneClick, changed: result.channels },
      'unsubscribed',
    );
    if (oneClick) return reply.code(200).type('text/plain; charset=utf-8').send('Unsubscribed\n');
    const m = MESSAGES[localeFor(request, result.locale)];
    // Which channel stopped, and which still brings reminders (a mail's link stops email only).
    const u = m.unsubscribe;
    const stopped =
      token.channel === 'all' ? u.doneAll : token.channel === 'email' ? u.doneEmail : u.doneWhatsapp;
    const continuing = result.continuing.map((c) =>
      c === 'whatsapp' ? u.continuesWhatsapp : u.continuesEmail,
    );
    return reply.type(HTML).send(messagePage(m, u.doneTitle, [stopped, ...continuing, u.closePage]));
  });

  /** A subscriber erased since the message was sent: nothing to show, nothing to do. */
  const gone = (reply: FastifyReply, m: Messages) =>
    reply
      .code(410)
      .type(HTML)
      .send(messagePage(m, m.link.goneTitle, [m.link.goneBody]));

  app.get<TokenRequest>('/done/:token', { exposeHeadRoute: false }, async (request, reply) => {
    // Showing the page changes nothing, in the subscriber's language: the button's POST acts.
    const token = verified(request, reply, 'done');
    if (!token) return reply;
    const state = await opts.subscriptions.doneLinkState(token.subscriberId);
    const m = MESSAGES[localeFor(request, state.locale)];
    if (!state.found) return gone(reply, m);
    if (state.done) return reply.type(HTML).send(messagePage(m, m.done.title, [m.done.body]));
    const action = html`<form method="post" action="/done/${request.params.token}?lang=${m.lang}">
<input type="hidden" name="confirm" value="yes">
<button type="submit">${m.done.button}</button>
</form>`;
    return reply.type(HTML).send(messagePage(m, m.done.askTitle, [m.done.ask], { action }));
  });

  app.post<TokenRequest>('/done/:token', async (request, reply) => {
    const token = verified(request, reply, 'done');
    if (!token) return reply;
    const result = await opts.subscriptions.markDone(token.subscriberId, 'done-link', opts.clock.now());
    request.log.info({ subscriberId: token.subscriberId, changed: result.changed }, 'marked done');
    const m = MESSAGES[localeFor(request, result.locale)];
    if (!result.found) return gone(reply, m);
    return reply.type(HTML).send(messagePage(m, m.done.title, [m.done.body]));
  });
};
