// One mapping from errors to HTTP answers for every route: the services' AppError kinds (see
// src/shared/errors.ts), Fastify's own client errors (413 body too large, 415, 429 from the rate
// limiter, 400 unreadable JSON), PostgreSQL unreachable (503 with Retry-After, not logged per
// request: the pool's watch logs the outage once, store/outage.ts) and everything else (500,
// logged without personal data).
// JSON routes answer RFC 9457 `application/problem+json`; the public pages render the same
// status as a page in the visitor's language (error-pages.ts).
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, InvalidInput, NotFound, StateConflict } from '../shared/errors.ts';
import { isUnreachable } from '../store/connection-error.ts';

export interface ProblemDocument {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  /** Invalid input: each field and the rule it broke, in the CLI's words. */
  readonly errors?: readonly { readonly path: string; readonly message: string }[];
  /** State conflicts: the state found and what would be allowed. */
  readonly state?: string;
  readonly allowed?: readonly string[];
}

const TYPE_BASE = 'https://lastcall.dev/problems/';

const TITLES: Record<number, string> = {
  400: 'Bad request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not found',
  409: 'Conflict',
  413: 'Payload too large',
  415: 'Unsupported media type',
  422: 'Invalid input',
  429: 'Too many requests',
  500: 'Internal error',
  503: 'Service unavailable',
};

export function problem(
  status: number,
  detail: string,
  extra: Partial<ProblemDocument> = {},
): ProblemDocument {
  const title = TITLES[status] ?? 'Error';
  return { type: `${TYPE_BASE}${title.toLowerCase().replaceAll(' ', '-')}`, title, status, detail, ...extra };
}

/** The problem an error stands for; `undefined` for a server fault (the caller logs it). */
export function problemFor(error: unknown): ProblemDocument | undefined {
  if (error instanceof InvalidInput)
    return problem(422, error.summary, {
      errors: error.problems.map((p) => ({ path: p.path, message: p.rule })),
    });
  if (error instanceof NotFound) return problem(404, error.message);
  if (error instanceof StateConflict)
    return problem(409, error.message, { state: error.state, allowed: error.allowed });
  if (error instanceof AppError) return problem(400, error.message);
  if (isUnreachable(error))
    return problem(503, 'the database is unreachable for a moment: try again shortly; nothing was changed');
  const status = (error as FastifyError | undefined)?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const fastify = error as FastifyError;
    // Fastify's schema validation (when a route uses one) is invalid input too.
    if (fastify.validation) {
      return problem(422, 'the request is invalid', {
        errors: fastify.validation.map((v) => ({
          path:
            v.instancePath.replace(/^\//, '').replaceAll('/', '.') || String(v.params?.missingProperty ?? ''),
          message: v.message ?? 'invalid',
        })),
      });
    }
    return problem(status, fastify.message);
  }
  return undefined;
}

export function sendProblem(reply: FastifyReply, doc: ProblemDocument): FastifyReply {
  if (doc.status === 429 && !reply.hasHeader('retry-after')) reply.header('retry-after', '60');
  if (doc.status === 503) reply.header('retry-after', '30');
  return reply.code(doc.status).type('application/problem+json; charset=utf-8').send(doc);
}

/** The error handler of every JSON route. */
export function problemErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const doc = problemFor(error);
  if (doc) {
    request.log.info(
      { code: error.code ?? (error as unknown as AppError).code, statusCode: doc.status },
      'refused',
    );
    return sendProblem(reply, doc);
  }
  logServerFault(request, error);
  return sendProblem(reply, problem(500, 'the request could not be completed; it was logged'));
}

/** Not the whole error: a database error's `detail` can quote the row, personal data included. */
export function logServerFault(request: FastifyRequest, error: FastifyError): void {
  request.log.error(
    { err: { type: error.name, code: error.code, message: error.message, stack: error.stack } },
    'request failed',
  );
}
