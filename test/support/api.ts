// The API tests' world: `lastcall serve`'s HTTP server on 127.0.0.1 over a database of its own,
// a plain fetch client, and a validator that checks every answer against the server's own
// OpenAPI document (Ajv, JSON Schema 2020-12 as OpenAPI 3.1 uses): the status must be documented
// for that operation and the body must match the schema of its content type.
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { FastifyInstance } from 'fastify';
import { expect } from 'vitest';
import type { PriceTable } from '../../src/campaigns/whatsapp-prices.ts';
import type { ServeConfig } from '../../src/config/config.ts';
import { buildServer } from '../../src/http/server.ts';
import { ManualClock } from '../../src/shared/clock.ts';
import type { Db } from '../../src/store/pool.ts';
import { testConfig } from './config.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';
import { testServices } from './services.ts';

export const ADMIN = 'development-admin-token';

/** The parts of an OpenAPI document the checker reads. */
export interface OpenApiDocument {
  readonly paths: Record<
    string,
    Record<string, { readonly responses: Record<string, { readonly content?: Record<string, unknown> }> }>
  >;
}
export const START = Date.parse('2030-05-04T09:30:00Z');

export interface ApiAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** The parsed JSON body (undefined for other types); tests read whatever the API answers. */
  // biome-ignore lint/suspicious/noExplicitAny: JSON as answered, checked against the document
  readonly json: any;
}

export interface CallOptions {
  readonly key?: string | null;
  readonly body?: unknown;
  /** Content-Type of a string body (default application/json for objects). */
  readonly type?: string;
  readonly headers?: Record<string, string>;
}

export interface Api {
  readonly url: string;
  readonly app: FastifyInstance;
  readonly database: TestDatabase;
  readonly db: Db;
  readonly config: ServeConfig;
  readonly clock: ManualClock;
  readonly document: OpenApiDocument;
  /** A request, its answer checked against the OpenAPI document. */
  call(method: string, path: string, options?: CallOptions): Promise<ApiAnswer>;
  close(): Promise<void>;
}

export async function startApi(
  options: {
    env?: Record<string, string>;
    rateLimit?: { max: number; timeWindowMs: number };
    /** A database (and clock) shared with workers; closed by its owner. */
    database?: TestDatabase;
    clock?: ManualClock;
    /** The WhatsApp price table the server prices with (default: none). */
    prices?: PriceTable;
  } = {},
): Promise<Api> {
  const database = options.database ?? (await createTestDatabase());
  const config = testConfig(
    { DATABASE_URL: database.url, PUBLIC_URL: 'https://lastcall.example', ...options.env },
    'serve',
  );
  const clock = options.clock ?? new ManualClock(START);
  const services = testServices(config, database.db, { clock, prices: options.prices ?? null });
  const app = await buildServer({
    config,
    db: database.db,
    services,
    clock,
    ...(options.rateLimit ? { apiRateLimit: options.rateLimit } : {}),
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  const document = (await (await fetch(`${url}/api/v1/openapi.json`)).json()) as OpenApiDocument;
  const check = responseChecker(document);
  return {
    url,
    app,
    database,
    db: database.db,
    config,
    clock,
    document,
    async call(method, path, opts = {}) {
      const headers: Record<string, string> = { ...opts.headers };
      const key = opts.key === undefined ? ADMIN : opts.key;
      if (key !== null) headers.authorization = `Bearer ${key}`;
      let body: string | undefined;
      if (typeof opts.body === 'string') {
        body = opts.body;
        headers['content-type'] = opts.type ?? 'application/json';
      } else if (opts.body !== undefined) {
        body = JSON.stringify(opts.body);
        headers['content-type'] = 'application/json';
      }
      const response = await fetch(`${url}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body }),
      });
      const text = await response.text();
      const type = response.headers.get('content-type') ?? '';
      const json = /json/.test(type) && !/ndjson/.test(type) && text !== '' ? JSON.parse(text) : undefined;
      check(method, path, response.status, type, json ?? text);
      return { status: response.status, headers: response.headers, text, json };
    },
    async close() {
      await app.close();
      await services.close();
      if (!options.database) await database.drop();
    },
  };
}

/** Pointer segment in a $ref: JSON Pointer escaping, then URI encoding ({ } in path templates). */
const segment = (s: string) => encodeURIComponent(s.replaceAll('~', '~0').replaceAll('/', '~1'));

/** Checks an answer against the document: throws when its status or body is not as documented. */
export function responseChecker(document: OpenApiDocument) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  ajv.addSchema(document, 'openapi.json');
  // Literal paths first: /subscribers/import before /subscribers/{key}.
  const templates = Object.keys(document.paths)
    .sort((a, b) => a.split('{').length - b.split('{').length)
    .map((template) => ({ template, pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`) }));
  return (method: string, url: string, status: number, contentType: string, body: unknown): void => {
    const path = url.split('?')[0]!;
    const found = templates.find(
      (t) => t.pattern.test(path) && document.paths[t.template]?.[method.toLowerCase()] !== undefined,
    );
    if (!found) throw new Error(`${method} ${path}: not in the OpenAPI document`);
    const operation = document.paths[found.template]?.[method.toLowerCase()];
    const response = operation?.responses[String(status)];
    expect(response, `${method} ${found.template}: status ${status} documented`).toBeDefined();
    const media = Object.keys(response?.content ?? {}).find((m) => contentType.startsWith(m));
    expect(
      media,
      `${method} ${found.template} ${status}: content type ${contentType} documented`,
    ).toBeDefined();
    const ref = [
      'paths',
      found.template,
      method.toLowerCase(),
      'responses',
      String(status),
      'content',
      media!,
      'schema',
    ]
      .map(segment)
      .join('/');
    const validate = ajv.getSchema(`openapi.json#/${ref}`) ?? ajv.compile({ $ref: `openapi.json#/${ref}` });
    if (!validate(body))
      throw new Error(
        `${method} ${path} ${status}: body does not match the document: ${ajv.errorsText(validate.errors)}`,
      );
  };
}

export const CAMPAIGN = {
  id: 'api-test',
  name: 'API test campaign',
  deadline: '2030-06-01T00:00:00+02:00',
  sendAt: '10:00',
  window: { start: '09:00', end: '20:00' },
  steps: [
    { id: 'd7', before: 'P7D', channels: ['whatsapp', 'email'], template: 'first-notice' },
    { id: 'd1', before: 'P1D', channels: ['whatsapp', 'email'], template: 'one-week' },
  ],
};

export function person(n: number, extra: Record<string, unknown> = {}) {
  return {
    name: `Camille ${n}`,
    phone: `+3361${String(1_000_000 + n).padStart(7, '0')}`,
    email: `camille.${n}@example.org`,
    locale: n % 2 === 0 ? 'fr' : 'en',
    timezone: n % 3 === 0 ? 'America/New_York' : 'Europe/Paris',
    assistant: 'chatgpt',
    channels: ['whatsapp', 'email'],
    consent_at: '2030-05-01T08:00:00Z',
    consent_source: 'shop checkout, box ticked',
    ...extra,
  };
}
