// The sandbox's own routes, served on the fake Graph API's port (its `intercept` hook):
//   GET  /                    the inbox page (?to=<digits> opens a conversation)
//   GET  /inbox/inbox.js|css  its same-origin script and stylesheet
//   GET  /inbox/api/state     JSON: version, conversations, and the two regions' HTML
//   POST /inbox/reply         the page's form (STOP / FAIT / START / free text) → 303 back
//   POST /inbox/api/replies   the same as JSON {to, text} → the reply with Lastcall's answer
//   POST /inbox/recategorise  Meta re-categorises a template as MARKETING ({template: name|language}):
//                             the fake's registry changes and a template_category_update webhook
//                             is posted → 303 back
//   POST /inbox/username      the form "adopt a username" ({to, username}) → 303 back: from then
//                             on that person's webhooks carry only their BSUID
//   POST /inbox/mail/unsubscribe  a mail's one-click unsubscribe (RFC 8058), posted by the
//                             sandbox as a mail provider would → 303 back to the mailbox
//   GET  /healthz             liveness for compose
// A POST from another origin is refused, so a web page cannot make the inbox reply for you.
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { IdentityBook } from './graph-identities.ts';
import type { WebhookDelivery } from './graph-status-emitter.ts';
import type { TemplateDef } from './graph-templates.ts';
import { adoptUsername, ReplyError, type ReplyTarget, sendReply } from './inbox-replies.ts';
import type { InboxStore } from './inbox-store.ts';
import {
  hasComposer,
  type InboxPageInfo,
  type InboxSnapshot,
  inboxPage,
  listRegion,
  mostRecentKey,
  threadRegion,
} from './inbox-view.ts';
import { oneClickUnsubscribe } from './one-click.ts';
import { templateCategoryChange, webhookPayload } from './webhook-payloads.ts';
import { postWebhook } from './webhook-signing.ts';

export interface InboxDeps {
  readonly store: InboxStore;
  readonly templates: () => readonly TemplateDef[];
  readonly deliveries: () => readonly WebhookDelivery[];
  /** Where replies go; undefined when the sandbox runs without --webhook-url. */
  readonly target: ReplyTarget | undefined;
  readonly phoneNumberId: string;
  /** Meta re-categorises a template (the fake's registry). */
  readonly recategorise: (
    name: string,
    language: string,
    category: TemplateDef['category'],
  ) => TemplateDef | undefined;
  /** Phone numbers, BSUIDs and usernames (the fake Graph API's), once it runs. */
  readonly identities: () => IdentityBook | undefined;
  /** The mail catcher's smtp:// URL, once it runs. */
  readonly smtpUrl: () => string | undefined;
  readonly clock: () => Date;
}

type Handler = (req: IncomingMessage, res: ServerResponse, rawBody: string) => Promise<boolean>;

const ASSETS: Record<string, { file: string; type: string }> = {
  '/inbox/inbox.js': { file: 'inbox.client.js', type: 'text/javascript; charset=utf-8' },
  '/inbox/inbox.css': { file: 'inbox.css', type: 'text/css; charset=utf-8' },
};
/**
 * A mail's HTML part, as a mail client shows it: in a frame the page sandboxes (no scripts, an
 * origin of its own, links open a new tab), under a policy that allows its inline styles and
 * embedded images and nothing else (no script, no remote image, font or request, no form).
 */
const MAIL_CSP =
  "sandbox allow-popups allow-popups-to-escape-sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; frame-ancestors 'self'; base-uri 'none'; form-action 'none'";

const CSP =
  "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

function reply(res: ServerResponse, status: number, type: string, body: string | Buffer, extra = {}): true {
  res.writeHead(status, {
    'content-type': type,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...extra,
  });
  res.end(body);
  return true;
}

const json = (res: ServerResponse, status: number, body: unknown) =>
  reply(res, status, 'application/json; charset=utf-8', JSON.stringify(body));

/** True when the request carries an Origin (browsers do on POST) naming another host. */
function crossOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (origin === undefined || origin === 'null') return origin === 'null';
  try {
    return new URL(origin).host !== req.headers.host;
  } catch {
    return true;
  }
}

export function inboxHandler(deps: InboxDeps): Handler {
  const assets = new Map(
    Object.entries(ASSETS).map(([path, a]) => [
      path,
      { ...a, body: readFileSync(join(import.meta.dirname, a.file)) },
    ]),
  );

  /** `to` names the open conversation or mailbox; none: the most recent one. Opening one marks
   *  it read, so the list's badges count what has not been looked at yet. */
  const snapshot = (to: string | null) => {
    const deliveries = deps.deliveries();
    const templates = deps.templates();
    const asked = to === null || to === '' ? undefined : to.trim().toLowerCase();
    const base = {
      conversations: deps.store.conversations(templates, deliveries),
      mailboxes: deps.store.mailboxes(),
    };
    const selected = asked ?? mostRecentKey(base);
    if (asked !== undefined) deps.store.markSeen(asked);
    const conversations = deps.store.conversations(templates, deliveries);
    const identities = deps.identities();
    const usernames: Record<string, string> = {};
    for (const c of conversations) {
      const name = identities?.of(c.digits).username;
      if (name !== undefined) usernames[c.digits] = name;
    }
    const s: InboxSnapshot = { conversations, mailboxes: deps.store.mailboxes(), selected, usernames };
    return { s, version: deps.store.version(deliveries) };
  };
  const info = (notice?: InboxPageInfo['notice']): InboxPageInfo => ({
    phoneNumberId: deps.phoneNumberId,
    webhookUrl: deps.target?.url,
    templates: deps.templates().filter((t) => t.status === 'APPROVED').length,
    smtpUrl: deps.smtpUrl(),
    utilityTemplates: deps
      .templates()
      .filter((t) => t.status === 'APPROVED' && t.category === 'UTILITY')
      .map((t) => ({ name: t.name, language: t.language })),
    ...(notice ? { notice } : {}),
  });
  const page = (res: ServerResponse, status: number, to: string | null, notice?: InboxPageInfo['notice']) => {
    const { s, version } = snapshot(to);
    return reply(res, status, 'text/html; charset=utf-8', inboxPage(s, version, info(notice)), {
      'content-security-policy': CSP,
    });
  };

  async function post(
    req: IncomingMessage,
    res: ServerResponse,
    input: { to: unknown; text: unknown },
    form: boolean,
  ) {
    if (crossOrigin(req)) return json(res, 403, { error: { message: 'cross-origin requests are refused' } });
    const to = typeof input.to === 'string' ? input.to : null;
    if (deps.target === undefined) {
      const message = 'replies are off: start the sandbox with --webhook-url';
      return form
        ? page(res, 409, to, { kind: 'error', text: message })
        : json(res, 409, { error: { message } });
    }
    try {
      const sent = await sendReply(deps.target, deps.store, input, deps.clock(), deps.identities());
      if (form) return reply(res, 303, 'text/plain; charset=utf-8', '', { location: `/?to=${sent.from}` });
      return json(res, 200, { reply: sent });
    } catch (error) {
      if (!(error instanceof ReplyError)) throw error;
      if (form) return page(res, 400, to, { kind: 'error', text: error.message });
      return json(res, 400, { error: { field: error.field, message: error.message } });
    }
  }

  return async (req, res, rawBody) => {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const method = req.method ?? 'GET';
    try {
      if (method === 'GET' && url.pathname === '/healthz') return json(res, 200, { status: 'ok' });
      if (method === 'GET' && url.pathname === '/') return page(res, 200, url.searchParams.get('to'));
      const asset = method === 'GET' ? assets.get(url.pathname) : undefined;
      if (asset) return reply(res, 200, asset.type, asset.body);
      if (method === 'GET' && url.pathname === '/inbox/api/state') {
        const { s, version } = snapshot(url.searchParams.get('to'));
        return json(res, 200, {
          version,
          selected: s.selected ?? null,
          conversations: s.conversations,
          mailboxes: s.mailboxes,
          composer: hasComposer(s),
          html: { list: listRegion(s).text, thread: threadRegion(s).text },
        });
      }
      const mailHtml = method === 'GET' ? /^\/inbox\/mail\/([\w-]+)\/html$/.exec(url.pathname) : null;
      if (mailHtml) {
        const mail = deps.store.mail(mailHtml[1] ?? '');
        if (mail?.html === undefined) return reply(res, 404, 'text/plain; charset=utf-8', 'no HTML part\n');
        // Links open beside the inbox, not inside the frame.
        return reply(res, 200, 'text/html; charset=utf-8', `<base target="_blank">${mail.html}`, {
          'content-security-policy': MAIL_CSP,
          'x-content-type-options': 'nosniff',
          'referrer-policy': 'no-referrer',
        });
      }
      if (method === 'POST' && url.pathname === '/inbox/mail/unsubscribe') {
        if (crossOrigin(req))
          return json(res, 403, { error: { message: 'cross-origin requests are refused' } });
        const mail = deps.store.mail(new URLSearchParams(rawBody).get('id') ?? '');
        if (mail === undefined)
          return page(res, 404, null, { kind: 'error', text: 'No such mail in the inbox' });
        await oneClickUnsubscribe(deps.store, mail);
        return reply(res, 303, 'text/plain; charset=utf-8', '', {
          location: `/?to=${encodeURIComponent(mail.to)}`,
        });
      }
      if (method === 'POST' && url.pathname === '/inbox/reply') {
        const form = new URLSearchParams(rawBody);
        const text = form.get('quick') ?? form.get('text');
        return await post(req, res, { to: form.get('to'), text }, true);
      }
      if (method === 'POST' && url.pathname === '/inbox/recategorise') {
        if (crossOrigin(req))
          return json(res, 403, { error: { message: 'cross-origin requests are refused' } });
        const [name = '', language = ''] = (new URLSearchParams(rawBody).get('template') ?? '').split('|');
        const before = deps.recategorise(name, language, 'MARKETING');
        if (!before)
          return page(res, 404, null, { kind: 'error', text: `No template ${name} (${language})` });
        if (deps.target) {
          const change = templateCategoryChange({
            id: before.id,
            name,
            language,
            previous: before.category,
            next: 'MARKETING',
          });
          await postWebhook(
            deps.target.url,
            webhookPayload([{ id: deps.target.wabaId, changes: [change] }]),
            {
              appSecret: deps.target.appSecret,
            },
          ).catch(() => undefined);
        }
        return page(res, 200, null, {
          kind: 'ok',
          text: `${name} (${language}) re-categorised ${before.category} → MARKETING${deps.target ? ', and Lastcall told' : ''}`,
        });
      }
      if (method === 'POST' && url.pathname === '/inbox/username') {
        if (crossOrigin(req))
          return json(res, 403, { error: { message: 'cross-origin requests are refused' } });
        const form = new URLSearchParams(rawBody);
        const identities = deps.identities();
        if (!identities) return page(res, 503, form.get('to'), { kind: 'error', text: 'not started yet' });
        try {
          const { digits } = adoptUsername(identities, {
            to: form.get('to'),
            username: form.get('username'),
          });
          deps.store.touch();
          return reply(res, 303, 'text/plain; charset=utf-8', '', { location: `/?to=${digits}` });
        } catch (error) {
          if (!(error instanceof ReplyError)) throw error;
          return page(res, 400, form.get('to'), { kind: 'error', text: error.message });
        }
      }
      if (method === 'POST' && url.pathname === '/inbox/api/replies') {
        let body: { to?: unknown; text?: unknown } | undefined;
        try {
          body = JSON.parse(rawBody) as typeof body;
        } catch {
          body = undefined;
        }
        if (!String(req.headers['content-type']).startsWith('application/json') || !body) {
          return json(res, 400, { error: { message: 'send a JSON object {"to": "<digits>", "text": "…"}' } });
        }
        return await post(req, res, { to: body.to, text: body.text }, false);
      }
      return false;
    } catch (error) {
      return json(res, 500, { error: { message: error instanceof Error ? error.message : String(error) } });
    }
  };
}
