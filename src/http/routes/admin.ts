// /admin/queues: the BullMQ board (Bull Board) over every queue of the catalog, for operators.
// Access needs ADMIN_TOKEN, compared in constant time, given either way:
// - `Authorization: Bearer <ADMIN_TOKEN>` (scripts, curl, a proxy that injects it);
// - in a browser, open `/admin/queues?token=<ADMIN_TOKEN>` once: it sets an HttpOnly,
//   SameSite=Strict cookie scoped to /admin, valid 12 hours, holding an expiry and an HMAC
//   keyed by the token (never the token itself), then redirects to the URL without the token.
//   Changing ADMIN_TOKEN ends every session. SameSite=Strict keeps other sites from driving
//   the board's write actions (retry, clean) with the operator's cookie.
// The board's page needs a looser Content-Security-Policy than the public pages: its <base>
// element and the <style> elements its scripts insert. That policy is set for /admin only.
import { createHmac } from 'node:crypto';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../../config/config.ts';
import { QUEUES } from '../../queue/catalog.ts';
import type { QueueSet } from '../../queue/connection.ts';
import type { Clock } from '../../shared/clock.ts';
import { sameSecret } from '../../shared/secrets.ts';
import { signInPage } from '../views/admin-sign-in.view.ts';

export interface AdminOptions {
  readonly config: Config;
  readonly queues: QueueSet;
  readonly clock: Clock;
}

type BoardServerAdapter = Parameters<typeof createBullBoard>[0]['serverAdapter'];

export const ADMIN_BASE = '/admin/queues';
export const ADMIN_COOKIE = 'lastcall_admin';
const SESSION_MS = 12 * 3600_000;

export const ADMIN_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

function sessionMac(token: string, expires: number): string {
  return createHmac('sha256', token).update(`lastcall-admin-session:${expires}`).digest('base64url');
}

export function sessionCookieValue(token: string, now: number): string {
  const expires = now + SESSION_MS;
  return `${expires}.${sessionMac(token, expires)}`;
}

function validSession(token: string, value: string | undefined, now: number): boolean {
  const [expires, mac] = (value ?? '').split('.', 2);
  const at = Number(expires);
  if (!mac || !Number.isSafeInteger(at) || at <= now) return false;
  return sameSecret(mac, sessionMac(token, at));
}

function cookie(request: FastifyRequest, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return rest.join('=');
  }
  return undefined;
}

function bearer(request: FastifyRequest): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '')?.[1];
}

const UNAUTHORIZED =
  'ADMIN_TOKEN required: Authorization: Bearer <token>, or open /admin/queues?token=<token> once';

/** A browser (it asks for HTML) gets a sign-in page; scripts get the JSON error. */
const wantsHtml = (request: FastifyRequest) => /\btext\/html\b/.test(request.headers.accept ?? '');

const unauthorized = (request: FastifyRequest, reply: FastifyReply) => {
  reply.code(401).header('www-authenticate', 'Bearer realm="lastcall-admin"');
  if (!wantsHtml(request)) return reply.send({ error: UNAUTHORIZED });
  const tried = typeof (request.query as Record<string, unknown>).token === 'string';
  return reply.type('text/html; charset=utf-8').send(signInPage(tried));
};

export const adminRoutes: FastifyPluginAsync<AdminOptions> = async (app, opts) => {
  const token = opts.config.adminToken;
  const secure = opts.config.publicUrl.startsWith('https:');

  app.addHook('onRequest', async (request, reply) => {
    reply.header('content-security-policy', ADMIN_CSP);
    reply.header('cache-control', 'no-store');
    if (!token) return unauthorized(request, reply);
    const now = opts.clock.now();
    const given = bearer(request);
    if (given !== undefined) return sameSecret(given, token) ? undefined : unauthorized(request, reply);
    const query = request.query as Record<string, unknown>;
    if (request.method === 'GET' && typeof query.token === 'string') {
      if (!sameSecret(query.token, token)) return unauthorized(request, reply);
      const url = new URL(request.url, 'http://admin.invalid');
      url.searchParams.delete('token');
      const flags = `HttpOnly; SameSite=Strict; Path=/admin; Max-Age=${SESSION_MS / 1000}${secure ? '; Secure' : ''}`;
      return reply
        .header('set-cookie', `${ADMIN_COOKIE}=${sessionCookieValue(token, now)}; ${flags}`)
        .redirect(url.pathname + url.search, 303);
    }
    return validSession(token, cookie(request, ADMIN_COOKIE), now) ? undefined : unauthorized(request, reply);
  });

  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(ADMIN_BASE);
  createBullBoard({
    queues: Object.values(QUEUES).map((name) => new BullMQAdapter(opts.queues.get(name))),
    // @bull-board/fastify 9.10.1 pins its own copy of @bull-board/api 9.10.1 (we have 9.10.2):
    // the same interface in two declarations, which TypeScript refuses to unify.
    serverAdapter: serverAdapter as unknown as BoardServerAdapter,
    options: { uiConfig: { boardTitle: 'Lastcall queues', hideDocsLink: true } },
  });
  await app.register(serverAdapter.registerPlugin(), { prefix: ADMIN_BASE });
};
