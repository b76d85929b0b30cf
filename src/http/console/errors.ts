// The console's errors as pages in the reader's language, with the status of the one mapping in
// problems.ts: invalid input 422 (each field and its rule), unknown id 404, state conflict 409
// (the service's sentence: it says why), a refusal 401/403, anything else 500 (logged).
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { logServerFault, problemFor } from '../problems.ts';
import { sendHtml, viewContext } from './context.ts';
import type { ViewContext } from './views/layout.ts';
import { messagePage } from './views/sign-in.view.ts';

export function refusal(reply: FastifyReply, ctx: ViewContext, status: number, text: string): FastifyReply {
  return sendHtml(
    reply,
    messagePage(ctx, `${status}`, text, { href: '/console', label: ctx.m.nav.campaigns }),
    status,
  );
}

export function consoleErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const ctx = viewContext(request, reply);
  const doc = problemFor(error);
  if (!doc) {
    logServerFault(request, error);
    return refusal(reply, ctx, 500, 'The request could not be completed; it was logged.');
  }
  request.log.info({ statusCode: doc.status }, 'console refused');
  const text = doc.status === 404 ? `${ctx.m.notFound} ${doc.detail}` : doc.detail;
  const problems = (doc.errors ?? []).map((e) => `${e.path}: ${e.message}`).join('; ');
  return refusal(reply, ctx, doc.status, problems ? `${text} (${problems})` : text);
}
