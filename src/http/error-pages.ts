// Errors on the public pages become a short page in the visitor's language, with the right
// status and never a stack trace: 400 unreadable body, 413 body over the limit, 415 not a form,
// 429 too many sign-ups, 404 unknown page, 500 anything else (logged, without personal data).
// The status comes from the one mapping of problems.ts.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { MESSAGES, negotiateLocale } from './i18n.ts';
import { logServerFault, problemFor } from './problems.ts';
import { messagePage } from './views/layout.ts';

type Shown = 400 | 404 | 413 | 415 | 429 | 500;

export function localeOfRequest(request: FastifyRequest) {
  const query = request.query as Record<string, unknown> | undefined;
  return negotiateLocale(query?.lang, request.headers['accept-language']);
}

/** `code`: the HTTP status, when it differs from the page shown (503 shows the 500 page). */
export function sendErrorPage(
  request: FastifyRequest,
  reply: FastifyReply,
  status: Shown,
  code: number = status,
) {
  const m = MESSAGES[localeOfRequest(request)];
  const [title, text] = m.http[status];
  const back = status !== 404 && status !== 500;
  return reply
    .code(code)
    .type('text/html; charset=utf-8')
    .send(messagePage(m, title, [text], { backToForm: back || status === 404 }));
}

export function pageErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const doc = problemFor(error);
  if (!doc) {
    logServerFault(request, error);
    return sendErrorPage(request, reply, 500);
  }
  const { status } = doc;
  // PostgreSQL unreachable: "try again in a few moments", with its true status and Retry-After.
  if (status === 503) return sendErrorPage(request, reply.header('retry-after', '30'), 500, 503);
  if (status === 413 || status === 415 || status === 429 || status === 404)
    return sendErrorPage(request, reply, status);
  request.log.info({ code: error.code, statusCode: status }, 'bad request');
  return sendErrorPage(request, reply, 400);
}

export function notFoundPage(request: FastifyRequest, reply: FastifyReply) {
  return sendErrorPage(request, reply, 404);
}
