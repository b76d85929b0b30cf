// Idempotency-Key on API writes (docs/api.md, "Idempotency"): a POST, PUT or DELETE replayed within
// 24 hours answers the first answer and does nothing again. Per caller (the key's name), kept in
// PostgreSQL.
//
// The race: two copies of one request arrive together. The key row is inserted first, in its own
// statement (committed before the request runs), with ON CONFLICT: exactly one copy inserts it
// and runs; the other finds the row and waits until the answer is stored, then replays it. A
// row older than 24 hours is taken over by the insert (expired). An answer of 5xx is not kept:
// the request did nothing (services roll back), so a retry may run it again. A key reused for
// a different request (method, path or body) is refused with 422.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Clock } from '../../shared/clock.ts';
import type { Db } from '../../store/pool.ts';
import { problem, sendProblem } from '../problems.ts';

export const IDEMPOTENCY_TTL_MS = 24 * 3600_000;
const WAIT_STEP_MS = 100;
const WAIT_MAX_MS = 60_000;
const WRITES = new Set(['POST', 'PUT', 'DELETE']);

declare module 'fastify' {
  interface FastifyRequest {
    idempotency?: { readonly principal: string; readonly key: string };
  }
}

interface Stored {
  fingerprint: string;
  status: number | null;
  content_type: string | null;
  body: string | null;
}

/** A streamed body (CSV import) is not part of the fingerprint: it has not been read yet. */
function fingerprint(request: FastifyRequest): string {
  const body =
    request.body === undefined || request.body instanceof Readable ? '' : JSON.stringify(request.body);
  return createHash('sha256').update(`${request.method} ${request.url}\n${body}`).digest('hex');
}

export function installIdempotency(app: FastifyInstance, opts: { db: Db; clock: Clock }): void {
  const { db, clock } = opts;
  let claims = 0;

  app.addHook('preHandler', async (request, reply) => {
    const key = request.headers['idempotency-key'];
    if (typeof key !== 'string' || key === '' || !WRITES.has(request.method) || !request.principal) return;
    const principal = request.principal.name;
    const print = fingerprint(request);
    const now = clock.now();
    const expiredBefore = new Date(now - IDEMPOTENCY_TTL_MS);
    if (++claims % 100 === 0)
      await db.exec('DELETE FROM idempotency_keys WHERE created_at < $1', [expiredBefore]);
    const claimed = await db.exec(
      `INSERT INTO idempotency_keys (principal, key, fingerprint, created_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (principal, key) DO UPDATE
         SET fingerprint = EXCLUDED.fingerprint, status = NULL, content_type = NULL, body = NULL,
             created_at = EXCLUDED.created_at
         WHERE idempotency_keys.created_at < $5`,
      [principal, key, print, new Date(now), expiredBefore],
    );
    if (claimed === 1) {
      request.idempotency = { principal, key };
      return;
    }
    for (let waited = 0; ; waited += WAIT_STEP_MS) {
      const stored = await db.one<Stored>(
        'SELECT fingerprint, status, content_type, body FROM idempotency_keys WHERE principal = $1 AND key = $2',
        [principal, key],
      );
      if (stored && stored.fingerprint !== print)
        return sendProblem(
          reply,
          problem(
            422,
            'this Idempotency-Key was used for a different request (method, path or body); use a new key',
            {
              errors: [{ path: 'Idempotency-Key', message: 'already used for a different request' }],
            },
          ),
        );
      if (stored?.status != null) {
        reply.code(stored.status).header('idempotent-replayed', 'true');
        if (stored.content_type) reply.header('content-type', stored.content_type);
        return reply.send(stored.body ?? '');
      }
      // The first request failed with 5xx (its row was deleted): run this one.
      if (!stored) {
        const retried = await db.exec(
          `INSERT INTO idempotency_keys (principal, key, fingerprint, created_at) VALUES ($1, $2, $3, $4)
           ON CONFLICT DO NOTHING`,
          [principal, key, print, new Date(clock.now())],
        );
        if (retried === 1) {
          request.idempotency = { principal, key };
          return;
        }
        continue;
      }
      if (waited >= WAIT_MAX_MS)
        return sendProblem(
          reply,
          problem(409, 'a request with this Idempotency-Key is still being processed; retry later'),
        );
      await new Promise((resolve) => setTimeout(resolve, WAIT_STEP_MS));
    }
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const claim = request.idempotency;
    if (!claim) return payload;
    if (
      reply.statusCode >= 500 ||
      (payload !== null && typeof payload !== 'string' && !Buffer.isBuffer(payload))
    ) {
      await db.exec('DELETE FROM idempotency_keys WHERE principal = $1 AND key = $2', [
        claim.principal,
        claim.key,
      ]);
      return payload;
    }
    const contentType = reply.getHeader('content-type');
    await db.exec(
      'UPDATE idempotency_keys SET status = $3, content_type = $4, body = $5 WHERE principal = $1 AND key = $2',
      [
        claim.principal,
        claim.key,
        reply.statusCode,
        typeof contentType === 'string' ? contentType : null,
        payload === null ? '' : String(payload),
      ],
    );
    return payload;
  });
}
