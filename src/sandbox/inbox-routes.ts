// The sandbox's own routes, served on the fake Graph API's port (its `intercept` hook):
//   GET  /                    the inbox page (?to=<digits> opens a conversation)
//   GET  /inbox/inbox.js|css  its same-origin script and stylesheet
//   GET  /inbox/api/state     JSON: version, conversations, and the two regions' HTML
//   POST /inbox/reply         the page's form (STOP / FAIT / START / free text) → 303 back
//   POST /inbox/api/replies   the same as JSON {to, text} → the reply with Lastcall's answer
//   GET  /healthz             liveness for compose
// A POST from another origin is refused, so a web page cannot make the inbox reply for you.
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { WebhookDelivery } from './graph-status-emitter.ts';
import type { TemplateDef } from './graph-templates.ts';
import { ReplyError, type ReplyTarget, sendReply } from './inbox-replies.ts';
import type { Conversation, InboxStore } from './inbox-store.ts';
import { type InboxPageInfo, inboxPage, listRegion, threadRegion } from './inbox-view.ts';

export interface InboxDeps {
  readonly store: InboxStore;
  readonly templates: () => readonly TemplateDef[];
  readonly deliveries: () => readonly WebhookDelivery[];
  /** Where replies go; undefined when the sandbox runs without --webhook-url. */
  readonly target: ReplyTarget | undefined;
  readonly phoneNumberId: string;
  readonly clock: () => Date;
}

type Handler = (req: IncomingMessage, res: ServerResponse, rawBody: string) => Promise<boolean>;

const ASSETS: Record<string, { file: string; type: string }> = {
  '/inbox/inbox.js': { file: 'inbox.client.js', type: 'text/javascript; charset=utf-8' },
  '/inbox/inbox.css': { file: 'inbox.css', type: 'text/css; charset=utf-8' },
};
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

  const snapshot = (to: string | null) => {
    const deliveries = deps.deliveries();
    const conversations: Conversation[] = deps.store.conversations(deps.templates(), deliveries);
    const selected = conversations.find((c) => c.digits === to)?.digits ?? conversations[0]?.digits;
    return { conversations, selected, version: deps.store.version(deliveries) };
  };
  const info = (notice?: InboxPageInfo['notice']): InboxPageInfo => ({
    phoneNumberId: deps.phoneNumberId,
    webhookUrl: deps.target?.url,
    templates: deps.templates().filter((t) => t.status === 'APPROVED').length,
    ...(notice ? { notice } : {}),
  });
  const page = (res: ServerResponse, status: number, to: string | null, notice?: InboxPageInfo['notice']) => {
    const s = snapshot(to);
    return reply(
      res,
      status,
      'text/html; charset=utf-8',
      inboxPage(s.conversations, s.selected, s.version, info(notice)),
      {
        'content-security-policy': CSP,
      },
    );
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
      const sent = await sendReply(deps.target, deps.store, input, deps.clock());
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
        const s = snapshot(url.searchParams.get('to'));
        const open = s.conversations.find((c) => c.digits === s.selected);
        return json(res, 200, {
          version: s.version,
          selected: s.selected ?? null,
          conversations: s.conversations,
          html: { list: listRegion(s.conversations, s.selected).text, thread: threadRegion(open).text },
        });
      }
      if (method === 'POST' && url.pathname === '/inbox/reply') {
        const form = new URLSearchParams(rawBody);
        const text = form.get('quick') ?? form.get('text');
        return await post(req, res, { to: form.get('to'), text }, true);
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
