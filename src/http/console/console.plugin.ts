// The operator console (docs/console.md) under /console: server-rendered pages over the services
// the CLI and the API call, in French and English. In this encapsulated context:
// - the session: every route but sign-in and the assets needs a live session cookie
//   (access/console-session.ts, checked like a bearer key); without one a page redirects to
//   sign-in and a form is refused with nothing done;
// - every POST carries the session's CSRF token (a form field, or the X-CSRF-Token header for
//   the streamed import) and, except sign-out, a write key: a read key is refused (403);
// - errors are pages in the reader's language (errors.ts), never a stack trace.
import formbody from '@fastify/formbody';
import type { FastifyPluginAsync } from 'fastify';
import { mayWrite } from '../../access/api-keys.ts';
import { type ConsoleSession, SESSION_COOKIE } from '../../access/console-session.ts';
import type { ServeConfig } from '../../config/config.ts';
import type { Services } from '../../roles/services.ts';
import type { Clock } from '../../shared/clock.ts';
import { PAGE_BODY_LIMIT } from '../server.ts';
import { consoleAssetRoutes } from './assets.routes.ts';
import { consoleCampaignRoutes } from './campaigns.routes.ts';
import { viewContext } from './context.ts';
import { consoleErrorHandler, refusal } from './errors.ts';
import { consoleImportRoutes } from './import.routes.ts';
import { consoleSignInRoutes } from './sign-in.routes.ts';
import { consoleSubscriberRoutes } from './subscribers.routes.ts';

export interface ConsoleOptions {
  readonly config: ServeConfig;
  readonly services: Services;
  readonly clock: Clock;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The console session, set by the console's onRequest hook. */
    consoleSession?: ConsoleSession;
  }
  interface FastifyContextConfig {
    /** Reachable without a session (sign-in, assets). */
    consolePublic?: boolean;
    /** A POST any session may make, read keys included (sign-out). */
    consoleAnyScope?: boolean;
  }
}

export const consolePlugin: FastifyPluginAsync<ConsoleOptions> = async (app, opts) => {
  const { sessions } = opts.services;
  await app.register(formbody);
  app.setErrorHandler(consoleErrorHandler);
  app.addHook('onRoute', (route) => {
    route.bodyLimit ??= PAGE_BODY_LIMIT;
  });

  app.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.config.consolePublic) return;
    const session = await sessions.check(request.cookies[SESSION_COOKIE], opts.clock.now());
    if (session) {
      request.consoleSession = session;
      return;
    }
    const expired = request.cookies[SESSION_COOKIE] !== undefined;
    if (expired) reply.clearCookie(SESSION_COOKIE, { path: '/' });
    if (request.method === 'GET' || request.method === 'HEAD') {
      const next = encodeURIComponent(request.url);
      return reply.redirect(`/console/sign-in?next=${next}${expired ? '&ended=1' : ''}`, 303);
    }
    const ctx = viewContext(request, reply);
    return refusal(reply, ctx, 401, ctx.m.signIn.expired);
  });

  app.addHook('preHandler', async (request, reply) => {
    const session = request.consoleSession;
    if (request.method !== 'POST' || !session) return;
    const body = request.body as { _csrf?: unknown } | undefined;
    const token =
      typeof body === 'object' && body !== null && '_csrf' in body
        ? body._csrf
        : request.headers['x-csrf-token'];
    const ctx = viewContext(request, reply);
    if (!sessions.csrfMatches(session, token)) return refusal(reply, ctx, 403, ctx.m.csrfRefused);
    if (!request.routeOptions.config.consoleAnyScope && !mayWrite(session.principal))
      return refusal(reply, ctx, 403, ctx.m.forbidden);
  });

  app.get('/console', async (_request, reply) => reply.redirect('/console/campaigns', 303));
  await app.register(consoleAssetRoutes);
  await app.register(consoleSignInRoutes, { ...opts, sessions });
  await app.register(consoleCampaignRoutes, opts);
  await app.register(consoleSubscriberRoutes, opts);
  await app.register(consoleImportRoutes, opts);
};
