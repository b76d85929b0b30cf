// The one auth check of the admin API (docs/api.md, "Authentication"): a hook resolves the bearer
// key (ADMIN_TOKEN or a hashed API key) to a Principal on the request; writes need a write key.
//   no or unknown key → 401 (with WWW-Authenticate), read key on POST/PUT/DELETE → 403.
// It runs on onRequest, before the body is read: a caller without a key cannot make the server
// parse (or stream into the import) a large body. The console resolves its session the same way
// through `resolvePrincipal`.
import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import { type ApiKeyService, mayWrite, type Principal } from '../../access/api-keys.ts';
import type { ServeConfig } from '../../config/config.ts';
import type { Clock } from '../../shared/clock.ts';
import { problem, sendProblem } from '../problems.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the API's auth hook on every /api/v1 route but the OpenAPI document. */
    principal?: Principal;
  }
}

export interface AuthOptions {
  readonly config: Pick<ServeConfig, 'adminToken'>;
  readonly keys: ApiKeyService;
  readonly clock: Clock;
  /** The console's session cookie, accepted on GET and HEAD only (the console's live parts read
   *  the API; a write through the API always needs a bearer key: no CSRF token is checked here). */
  readonly session?: (request: FastifyRequest) => Promise<Principal | undefined>;
}

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function bearerToken(request: FastifyRequest): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '')?.[1];
}

/** The principal of a bearer token, or undefined. */
export function resolvePrincipal(
  opts: AuthOptions,
  token: string | undefined,
): Promise<Principal | undefined> {
  if (token === undefined) return Promise.resolve(undefined);
  return opts.keys.resolve(token, opts.config, opts.clock.now());
}

function unauthorized(reply: FastifyReply, detail: string) {
  reply.header('www-authenticate', 'Bearer realm="lastcall-api"');
  return sendProblem(reply, problem(401, detail));
}

export function apiAuth(opts: AuthOptions): onRequestHookHandler {
  return async function authenticate(request, reply) {
    const token = bearerToken(request);
    if (token === undefined && opts.session && !WRITES.has(request.method)) {
      const principal = await opts.session(request);
      if (principal) {
        request.principal = principal;
        return;
      }
    }
    if (token === undefined)
      return unauthorized(
        reply,
        'an API key is required: Authorization: Bearer <key> (ADMIN_TOKEN or a key from "lastcall api-keys create")',
      );
    const principal = await resolvePrincipal(opts, token);
    if (!principal) return unauthorized(reply, 'the API key is not valid (unknown, revoked or mistyped)');
    request.principal = principal;
    if (WRITES.has(request.method) && !mayWrite(principal))
      return sendProblem(
        reply,
        problem(
          403,
          `the key "${principal.name}" has the read scope; this route changes data and needs a write key`,
        ),
      );
  };
}
