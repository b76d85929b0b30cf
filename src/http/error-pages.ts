// Errors on the public pages become a short page in the visitor's language, with the right
// status and never a stack trace: 400 unreadable body, 413 body over the limit, 415 not a form,
// 429 too many sign-ups, 404 unknown page, 500 anything else (logged, without personal data).
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { MESSAGES, negotiateLocale } from './i18n.ts';
import { messagePage } from './views/layout.ts';

type Shown = 400 | 404 | 413 | 415 | 429 | 500;

export function localeOfRequest(request: FastifyRequest) {
  const query = request.query as Record<string, unknown> | undefined;
  return negotiateLocale(query?.lang, request.headers['accept-language']);
}

export function sendErrorPage(request: FastifyRequest, reply: FastifyReply, status: Shown) {
  const m = MESSAGES[localeOfRequest(request)];
  const [title, text] = m.http[status];
  const back = status !== 404 && status !== 500;
  return reply
    .code(status)
    .type('text/html; charset=utf-8')
    .send(messagePage(m, title, [text], { backToForm: back || status === 404 }));
}

export function pageErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const status = error.statusCode ?? 500;
  if (status === 413 || status === 415 || status === 429 || status === 404)
    return sendErrorPage(request, reply, status);
  if (status >= 400 && status < 500) {
    request.log.info({ code: error.code, statusCode: status }, 'bad request');
    return sendErrorPage(request, reply, 400);
  }
  // Not the whole error: a database error's `detail` can quote the row, personal data included.
  request.log.error(
    { err: { type: error.name, code: error.code, message: error.message, stack: error.stack } },
    'request failed',
  );
  return sendErrorPage(request, reply, 500);
}

export function notFoundPage(request: FastifyRequest, reply: FastifyReply) {
  return sendErrorPage(request, reply, 404);
}
