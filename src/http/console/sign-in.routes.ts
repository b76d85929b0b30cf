// Sign-in with an API key into an HttpOnly, SameSite=Strict session cookie with an expiry, and
// sign-out. The key is checked exactly as the API checks a bearer key; attempts are rate-limited
// per client address. `next` only ever leads back into the console.
import type { FastifyPluginAsync } from 'fastify';
import { SESSION_COOKIE, type SessionService } from '../../access/console-session.ts';
import type { ConsoleOptions } from './console.plugin.ts';
import { sendHtml, viewContext } from './context.ts';
import { signInPage } from './views/sign-in.view.ts';

const safeNext = (next: unknown) =>
  typeof next === 'string' && /^\/console(\/[^/\\]|$|\?)/.test(next) ? next : '/console/campaigns';

export const consoleSignInRoutes: FastifyPluginAsync<ConsoleOptions & { sessions: SessionService }> = async (
  app,
  opts,
) => {
  const secure = opts.config.publicUrl.startsWith('https:');

  app.get('/console/sign-in', { config: { consolePublic: true } }, async (request, reply) => {
    const query = request.query as { next?: string; ended?: string; out?: string };
    const ctx = viewContext(request, reply);
    const text = query.ended ? ctx.m.signIn.expired : query.out ? ctx.m.signIn.signedOut : undefined;
    return sendHtml(
      reply,
      signInPage(ctx, safeNext(query.next), text ? { text, kind: 'status' } : undefined),
    );
  });

  app.post(
    '/console/sign-in',
    { config: { consolePublic: true, rateLimit: { max: 10, timeWindow: 60_000 } } },
    async (request, reply) => {
      const body = (request.body ?? {}) as { key?: unknown; next?: unknown };
      const key = typeof body.key === 'string' ? body.key.trim() : '';
      const signedIn = key === '' ? undefined : await opts.sessions.signIn(key, opts.clock.now());
      if (!signedIn) {
        const ctx = viewContext(request, reply);
        return sendHtml(
          reply,
          signInPage(ctx, safeNext(body.next), { text: ctx.m.signIn.bad, kind: 'alert' }),
          401,
        );
      }
      reply.setCookie(SESSION_COOKIE, signedIn.cookie, {
        path: '/',
        httpOnly: true,
        sameSite: 'strict',
        secure,
        expires: new Date(signedIn.session.expiresAt),
      });
      return reply.redirect(safeNext(body.next), 303);
    },
  );

  app.post('/console/sign-out', { config: { consoleAnyScope: true } }, async (_request, reply) => {
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return reply.redirect('/console/sign-in?out=1', 303);
  });
};
