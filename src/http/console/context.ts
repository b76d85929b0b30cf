// What every console route hands its view: the words of the reader's language, the session and
// this page's URL; and how a page is sent (never cached: it shows personal data).
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CONSOLE_MESSAGES, consoleLocale } from './i18n.ts';
import type { ViewContext } from './views/layout.ts';

/** What every view needs: the words, the session and this page's URL. */
export function viewContext(request: FastifyRequest, reply: FastifyReply): ViewContext {
  return {
    m: CONSOLE_MESSAGES[consoleLocale(request, reply)],
    session: request.consoleSession,
    url: request.url,
  };
}

export function sendHtml(reply: FastifyReply, page: string, status = 200): FastifyReply {
  return reply.code(status).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(page);
}
