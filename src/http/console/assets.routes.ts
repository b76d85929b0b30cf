// The console's assets, all served by Lastcall (no CDN; the CSP allows only 'self'): its own
// stylesheet and script, and uPlot's browser build straight from node_modules (the version
// package-lock.json pins). Every URL carries a content hash or the package version, so they are
// cached for a year and a new release changes the URL.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { FastifyPluginAsync } from 'fastify';

const require = createRequire(import.meta.url);
const OWN = join(import.meta.dirname, 'assets');
const JS = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';

interface Asset {
  readonly url: string;
  readonly type: string;
  readonly content: Buffer;
}

function own(file: string, type: string): Asset {
  const content = readFileSync(join(OWN, file));
  const hash = createHash('sha256').update(content).digest('hex').slice(0, 12);
  return { url: `/console/assets/${hash}/${file}`, type, content };
}

function vendor(pkg: string, file: string, type: string): Asset {
  const version = (require(`${pkg}/package.json`) as { version: string }).version;
  const content = readFileSync(require.resolve(`${pkg}/${file}`));
  return { url: `/console/assets/vendor/${pkg}@${version}/${file.split('/').at(-1)}`, type, content };
}

const ASSETS = {
  css: own('console.css', CSS),
  js: own('console.js', JS),
  uplot: vendor('uplot', 'dist/uPlot.iife.min.js', JS),
  uplotCss: vendor('uplot', 'dist/uPlot.min.css', CSS),
} as const;

/** The URL of each asset, for the pages. */
export const ASSET: Readonly<Record<keyof typeof ASSETS, string>> = Object.fromEntries(
  Object.entries(ASSETS).map(([name, asset]) => [name, asset.url]),
) as Record<keyof typeof ASSETS, string>;

export const consoleAssetRoutes: FastifyPluginAsync = async (app) => {
  for (const asset of Object.values(ASSETS)) {
    app.get(asset.url, { config: { consolePublic: true } }, async (_request, reply) =>
      reply
        .type(asset.type)
        .header('cache-control', 'public, max-age=31536000, immutable')
        .send(asset.content),
    );
  }
};
