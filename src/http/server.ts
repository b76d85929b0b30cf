// The HTTP server of `lastcall serve`, built from injected dependencies and returned unstarted
// (the caller listens, tests `inject`). The services come from the composition root
// (roles/services.ts): the routes only parse, call them and answer. Public pages (sign-up,
// links, their assets) live in one encapsulated context with HTML error pages; more route
// groups (webhooks, health, metrics, admin) are added with `routes` or `app.register` before
// `ready()` and keep their own errors.

import cookie from '@fastify/cookie';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import type { ServeConfig } from '../config/config.ts';
import type { TrustProxy } from '../config/trust-proxy.ts';
import type { QueueSet } from '../queue/connection.ts';
import type { Services } from '../roles/services.ts';
import { type Clock, systemClock } from '../shared/clock.ts';
import { createLogger, type Logger } from '../shared/logger.ts';
import type { Db } from '../store/pool.ts';
import { apiPlugin } from './api/api.plugin.ts';
import { consolePlugin } from './console/console.plugin.ts';
import { notFoundPage, pageErrorHandler } from './error-pages.ts';
import { httpTimingPlugin, metricsRoutes } from './metrics.ts';
import { problemErrorHandler } from './problems.ts';
import { requestSerializer } from './request-log.ts';
import { adminRoutes } from './routes/admin.ts';
import { assetRoutes } from './routes/assets.ts';
import { healthRoutes } from './routes/health.ts';
import { helpRoutes } from './routes/help.ts';
import { linkRoutes } from './routes/links.ts';
import { subscribeRoutes } from './routes/subscribe.ts';
import { whatsappWebhookRoutes } from './routes/whatsapp-webhook.ts';

/** Largest form or unsubscribe body accepted: a sign-up is well under 2 KB. */
export const PAGE_BODY_LIMIT = 16 * 1024;

export interface ServerDeps {
  readonly config: ServeConfig;
  /** For health, metrics, the webhook intake and the API's idempotency records. */
  readonly db: Db;
  /** Built once for the process (createServices); closed by their owner, not by the server. */
  readonly services: Services;
  readonly logger?: Logger;
  readonly clock?: Clock;
  /** POST /subscribe per client IP; default 10 a minute. */
  readonly subscribeRateLimit?: { readonly max: number; readonly timeWindowMs: number };
  /** Admin API requests per key; default 600 a minute. */
  readonly apiRateLimit?: { readonly max: number; readonly timeWindowMs: number };
  /** The queues (producer side): with them, the operations routes are on: /webhooks/whatsapp,
   *  /healthz, /metrics, /admin/queues. */
  readonly queues?: QueueSet;
  /** More route plugins, registered after the public pages. */
  readonly routes?: readonly FastifyPluginAsync[];
}

export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const { config, services } = deps;
  const logger = (deps.logger ?? createLogger(config)).child(
    { component: 'http' },
    { serializers: { req: requestSerializer } },
  );
  const clock = deps.clock ?? systemClock;
  const https = config.publicUrl.startsWith('https:');

  // Link tokens are ~200 characters; the default route parameter limit (100) would answer 414.
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    // TRUST_PROXY: behind a reverse proxy, request.ip is the visitor's (src/config/trust-proxy.ts).
    trustProxy: trustProxyOption(config.trustProxy),
    routerOptions: { maxParamLength: 512 },
  });

  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'"],
        connectSrc: ["'self'"],
        fontSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        ...(https ? { upgradeInsecureRequests: [] } : {}),
      },
    },
    strictTransportSecurity: https ? { maxAge: 31_536_000 } : false,
  });
  await app.register(rateLimit, { global: false });
  // Cookies are read by the console (its session) and by the API's auth (the console's GETs).
  await app.register(cookie);
  if (deps.queues) await app.register(httpTimingPlugin);
  app.setNotFoundHandler(notFoundPage);
  // Every JSON route answers RFC 9457 problems; the public pages below set their own HTML handler.
  app.setErrorHandler(problemErrorHandler);

  await app.register(async (pages) => {
    pages.setErrorHandler(pageErrorHandler);
    pages.addHook('onRoute', (route) => {
      route.bodyLimit ??= PAGE_BODY_LIMIT;
    });
    await pages.register(assetRoutes);
    await pages.register(subscribeRoutes, {
      subscriptions: services.subscriptions,
      pages: services.signUpPages,
      clock,
      rateLimit: deps.subscribeRateLimit ?? { max: 10, timeWindowMs: 60_000 },
    });
    await pages.register(linkRoutes, {
      subscriptions: services.subscriptions,
      secretKey: config.secretKey,
      clock,
    });
    await pages.register(helpRoutes, { pages: services.signUpPages, clock });
  });

  await app.register(apiPlugin, {
    config,
    db: deps.db,
    services,
    clock,
    ...(deps.apiRateLimit ? { rateLimit: deps.apiRateLimit } : {}),
  });

  await app.register(consolePlugin, { config, services, clock });

  if (deps.queues) {
    const ops = { config, db: deps.db, queues: deps.queues, clock };
    await app.register(whatsappWebhookRoutes, ops);
    await app.register(healthRoutes, ops);
    await app.register(metricsRoutes, ops);
    await app.register(adminRoutes, ops);
  }
  for (const routes of deps.routes ?? []) await app.register(routes);
  return app;
}

/** Fastify's form of TRUST_PROXY: false, or the list of addresses. */
function trustProxyOption(trust: TrustProxy): false | string[] {
  return typeof trust === 'object' ? [...trust] : trust;
}
