// The pages' stylesheet, script and icon, served from this origin (no third-party assets; the CSP
// allows only 'self'). Read once at start-up.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyPluginAsync } from 'fastify';

const DIR = join(import.meta.dirname, '..', 'assets');
const ASSETS = [
  { path: '/assets/subscribe.css', file: 'subscribe.css', type: 'text/css; charset=utf-8' },
  { path: '/assets/subscribe.js', file: 'subscribe.js', type: 'text/javascript; charset=utf-8' },
  // Every page links the icon; /favicon.ico answers too, for what asks without reading the page.
  { path: '/favicon.svg', file: 'favicon.svg', type: 'image/svg+xml' },
  { path: '/favicon.ico', file: 'favicon.svg', type: 'image/svg+xml' },
] as const;

export const assetRoutes: FastifyPluginAsync = async (app) => {
  for (const asset of ASSETS) {
    const content = readFileSync(join(DIR, asset.file));
    app.get(asset.path, async (_request, reply) =>
      reply.type(asset.type).header('cache-control', 'public, max-age=3600').send(content),
    );
  }
};
