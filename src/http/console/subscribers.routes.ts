// Subscriber pages: search by id, phone or email (a hit opens the profile), or by an attribute's
// value (name=value: the page lists those subscribers), over a keyset page of subscribers by id; the profile; the erasure confirmation and the erasure (the service
// `subscribers forget` calls).
import type { FastifyPluginAsync } from 'fastify';
import { InvalidInput } from '../../shared/errors.ts';
import { parseSubscriberKey } from '../../subscribers/subscriber-key.ts';
import { attributeQuery } from '../../subscribers/subscriber-list.ts';
import type { ConsoleOptions } from './console.plugin.ts';
import { sendHtml, viewContext } from './context.ts';
import { messagePage } from './views/sign-in.view.ts';
import { eraseConfirmPage, profilePage, subscribersPage } from './views/subscribers.view.ts';

const PAGE = 50;
const byId = (id: string) => ({ kind: 'id' as const, value: id });

export const consoleSubscriberRoutes: FastifyPluginAsync<ConsoleOptions> = async (app, opts) => {
  const { erasures, directory } = opts.services;

  app.get('/console/subscribers', async (request, reply) => {
    const query = request.query as { q?: string; after?: string };
    const ctx = viewContext(request, reply);
    const q = (query.q ?? '').trim().slice(0, 320);
    let problem: string | undefined;
    const attribute = attributeQuery(q);
    if (q !== '' && attribute === undefined) {
      try {
        const found = await directory.find(parseSubscriberKey(q));
        if (found) return reply.redirect(`/console/subscribers/${encodeURIComponent(found.id)}`, 303);
        problem = ctx.m.subscribers.notFound;
      } catch (error) {
        if (!(error instanceof InvalidInput)) throw error;
        problem = error.problems.map((p) => p.rule).join('; ');
      }
    }
    const page = await directory.list({
      limit: PAGE,
      ...(query.after ? { cursor: query.after } : {}),
      ...(attribute ? { attribute } : {}),
    });
    return sendHtml(
      reply,
      subscribersPage(ctx, { q, page, ...(attribute ? { attribute } : {}), ...(problem ? { problem } : {}) }),
      problem ? 404 : 200,
    );
  });

  app.get('/console/subscribers/:id', async (request, reply) => {
    const { id } = request.params as { id: string };
    return sendHtml(reply, profilePage(viewContext(request, reply), await directory.profile(byId(id))));
  });

  app.get('/console/subscribers/:id/erase', async (request, reply) => {
    const { id } = request.params as { id: string };
    return sendHtml(reply, eraseConfirmPage(viewContext(request, reply), await directory.profile(byId(id))));
  });

  app.post('/console/subscribers/:id/erase', async (request, reply) => {
    const { id } = request.params as { id: string };
    const result = await erasures.forget(byId(id), opts.clock.now());
    const ctx = viewContext(request, reply);
    const t = ctx.m.profile;
    return sendHtml(
      reply,
      messagePage(ctx, t.eraseTitle(id).replace(/\s*\?$/, ''), t.erased(id, result.deliveriesAnonymised), {
        href: '/console/subscribers',
        label: ctx.m.subscribers.title,
      }),
    );
  });
};
