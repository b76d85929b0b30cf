// The admin API (docs/api.md) under /api/v1, its OpenAPI 3.1 document and its reference page.
// In this encapsulated context: zod validation (zod-validation.ts), the auth hook (auth.ts), a
// rate limit per key, Idempotency-Key on writes (idempotency.ts) and the resource routes, each
// as thin as a CLI command. Errors are the root's RFC 9457 problems (../problems.ts).
import swagger from '@fastify/swagger';
import scalar from '@scalar/fastify-api-reference';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import {
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
} from 'fastify-type-provider-zod';
import { SESSION_COOKIE } from '../../access/console-session.ts';
import type { ServeConfig } from '../../config/config.ts';
import type { Services } from '../../roles/services.ts';
import type { Clock } from '../../shared/clock.ts';
import type { Db } from '../../store/pool.ts';
import { apiAuth } from './auth.ts';
import { campaignActivityRoutes } from './campaign-activity.routes.ts';
import { campaignRoutes } from './campaigns.routes.ts';
import { installIdempotency } from './idempotency.ts';
import { subscriberRoutes } from './subscribers.routes.ts';
import { apiValidatorCompiler } from './zod-validation.ts';

export interface ApiOptions {
  readonly config: ServeConfig;
  /** Where Idempotency-Key answers are kept (idempotency.ts). */
  readonly db: Db;
  readonly services: Services;
  readonly clock: Clock;
  /** Requests per key and window; default 600 a minute. */
  readonly rateLimit?: { readonly max: number; readonly timeWindowMs: number };
}

export const API_PREFIX = '/api/v1';

/** The reference page runs Scalar's bundled script (served from here, no CDN) and an inline
 *  bootstrap script; it fetches nothing but the document from this origin. */
const DOCS_CSP = [
  "default-src 'self'",
  "script-src 'self' 'unsafe-inline'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** An empty body is no body: its Content-Type is dropped before Fastify picks a parser, so it
 *  is neither refused (415) nor parsed as JSON (400). A body that is not empty still is. */
async function ignoreEmptyBody(request: FastifyRequest): Promise<void> {
  const { headers } = request;
  const empty =
    headers['transfer-encoding'] === undefined &&
    (headers['content-length'] === undefined || headers['content-length'] === '0');
  if (empty) delete headers['content-type'];
}

export const apiPlugin: FastifyPluginAsync<ApiOptions> = async (app, opts) => {
  app.setValidatorCompiler(apiValidatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Lastcall admin API',
        version: '1',
        description:
          'Everything the lastcall CLI does for campaigns and subscribers. Authorization: Bearer <key> (ADMIN_TOKEN, or a key from `lastcall api-keys create`). Errors are RFC 9457 problem details.',
      },
      servers: [{ url: opts.config.publicUrl }],
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer' } } },
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  app.get(`${API_PREFIX}/openapi.json`, { schema: { hide: true } }, async (_request, reply) =>
    reply.header('cache-control', 'no-cache').send(app.swagger()),
  );
  await app.register(scalar, {
    routePrefix: '/api/docs',
    // Lastcall's reference, not the tool's offers: no developer toolbar (Configure, Share,
    // Deploy, Generate SDK), no AI agent, no MCP button; "try it" starts on the bearer scheme.
    configuration: {
      url: `${API_PREFIX}/openapi.json`,
      withDefaultFonts: false,
      hideClientButton: true,
      showDeveloperTools: 'never',
      agent: { disabled: true },
      mcp: { disabled: true },
      authentication: { preferredSecurityScheme: 'apiKey' },
      metaData: { title: 'Lastcall API' },
    },
    hooks: {
      onRequest: async (_request, reply) => {
        reply.header('content-security-policy', DOCS_CSP);
      },
    },
  });

  const { apiKeys: keys, sessions } = opts.services;
  const limit = opts.rateLimit ?? { max: 600, timeWindowMs: 60_000 };
  await app.register(
    async (v1) => {
      // JSON, plus YAML and CSV where a route adds them; a text/plain body is 415, not a string.
      v1.removeContentTypeParser('text/plain');
      v1.addHook('onRoute', (route) => {
        route.schema = { ...route.schema, security: [{ apiKey: [] }] };
        // A route without a body (start, pause, resume, cancel...) takes an empty one whatever its
        // Content-Type: clients send a default one (Python's urllib a form type, others JSON).
        if (route.schema.body === undefined)
          route.onRequest = [ignoreEmptyBody, ...[route.onRequest ?? []].flat()];
      });
      // The console's pages read the API with their session cookie (GET only, auth.ts).
      const session = async (request: FastifyRequest) =>
        (await sessions.check(request.cookies?.[SESSION_COOKIE], opts.clock.now()))?.principal;
      v1.addHook('onRequest', apiAuth({ config: opts.config, keys, clock: opts.clock, session }));
      // After auth: the limit is per key (its name), not per address.
      v1.addHook(
        'onRequest',
        v1.rateLimit({
          max: limit.max,
          timeWindow: limit.timeWindowMs,
          keyGenerator: (request) => `api:${request.principal?.name ?? request.ip}`,
        }),
      );
      installIdempotency(v1, { db: opts.db, clock: opts.clock });
      await v1.register(campaignRoutes, opts);
      await v1.register(campaignActivityRoutes, opts);
      await v1.register(subscriberRoutes, opts);
    },
    { prefix: API_PREFIX },
  );
};
