// API keys and access (docs/api.md, "Authentication"): keys made, listed and revoked with the real
// CLI, stored as hashes; no key or a wrong one is 401, a read key on a write route 403; each key
// has its own rate limit (429 with Retry-After); the OpenAPI document (valid OpenAPI 3.1) and the
// reference page need no key, and the page's script comes from Lastcall itself.
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, type Api, startApi } from './support/api.ts';
import { runCli } from './support/cli.ts';

let api: Api;
let env: Record<string, string>;

beforeAll(async () => {
  api = await startApi({ rateLimit: { max: 5, timeWindowMs: 60_000 } });
  env = { DATABASE_URL: api.database.url, LASTCALL_ENV: 'development', LOG_LEVEL: 'silent' };
});
afterAll(async () => api?.close());

async function makeKey(name: string, scope: string): Promise<string> {
  const made = await runCli(['api-keys', 'create', '--name', name, '--scope', scope], env);
  expect(made.code, made.stderr).toBe(0);
  expect(made.stderr).toContain('shown only now');
  return made.stdout.trim();
}

describe('keys', () => {
  it('are shown once and stored only as a hash', async () => {
    const key = await makeKey('shop', 'write');
    expect(key).toMatch(/^lck_[A-Za-z0-9]{12}_[A-Za-z0-9_-]{43}$/);
    const rows = await api.db.query<{ key_hash: string }>('SELECT key_hash FROM api_keys');
    expect(rows).toHaveLength(1);
    expect(rows[0]!.key_hash).not.toContain(key.slice(17));
    const listed = await runCli(['api-keys', 'list', '--json'], env);
    expect(JSON.parse(listed.stdout)).toEqual([
      { name: 'shop', scope: 'write', createdAt: expect.any(String), lastUsedAt: null },
    ]);
    expect(listed.stdout).not.toContain(key);
  });

  it('refuses a bad name or scope with exit 2, naming the field', async () => {
    const bad = await runCli(['api-keys', 'create', '--name', 'a b', '--scope', 'admin'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('name: must be 1–63 letters');
    expect(bad.stderr).toContain('scope: must be read or write');
    const twice = await runCli(['api-keys', 'create', '--name', 'shop', '--scope', 'read'], env);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain('is already the name of a key in use');
  });

  it('401 without a key, with a wrong key, and with a revoked key', async () => {
    const none = await api.call('GET', '/api/v1/campaigns', { key: null });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toContain('Bearer');
    expect(none.headers.get('content-type')).toContain('application/problem+json');
    expect(none.json).toMatchObject({ status: 401, title: 'Unauthorized' });
    const wrong = await api.call('GET', '/api/v1/campaigns', {
      key: 'lck_AAAAAAAAAAAA_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB',
    });
    expect(wrong.status).toBe(401);
    expect((await api.call('GET', '/api/v1/campaigns', { key: `${ADMIN}x` })).status).toBe(401);

    const key = await makeKey('temporary', 'read');
    expect((await api.call('GET', '/api/v1/campaigns', { key })).status).toBe(200);
    expect((await runCli(['api-keys', 'revoke', 'temporary'], env)).stdout).toContain(
      'revoked API key "temporary"',
    );
    expect((await api.call('GET', '/api/v1/campaigns', { key })).status).toBe(401);
    expect((await runCli(['api-keys', 'revoke', 'temporary'], env)).code).toBe(2);
  });

  it('a read key reads but gets 403 on every write route; a write key and ADMIN_TOKEN write', async () => {
    const read = await makeKey('dashboard', 'read');
    expect((await api.call('GET', '/api/v1/subscribers', { key: read })).status).toBe(200);
    for (const [method, path] of [
      ['PUT', '/api/v1/campaigns/x'],
      ['POST', '/api/v1/campaigns/x/start'],
      ['PUT', '/api/v1/subscribers/s1'],
      ['POST', '/api/v1/subscribers/import'],
      ['DELETE', '/api/v1/subscribers/s1'],
    ] as const) {
      const answer = await api.call(method, path, { key: read, body: {} });
      expect(answer.status, `${method} ${path}`).toBe(403);
      expect(answer.json.detail).toContain('read scope');
    }
    expect((await api.call('POST', '/api/v1/campaigns/nope/start')).status).toBe(404);
    const listed = JSON.parse((await runCli(['api-keys', 'list', '--json'], env)).stdout);
    expect(listed.find((k: { name: string }) => k.name === 'dashboard').lastUsedAt).not.toBeNull();
  });
});

describe('rate limit', () => {
  it('is per key: the sixth request in the window is 429 with Retry-After, another key is not held', async () => {
    const a = await makeKey('busy', 'read');
    const b = await makeKey('quiet', 'read');
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++)
      statuses.push((await api.call('GET', '/api/v1/campaigns', { key: a })).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    const limited = await api.call('GET', '/api/v1/campaigns', { key: a });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(limited.json).toMatchObject({ status: 429, title: 'Too many requests' });
    expect((await api.call('GET', '/api/v1/campaigns', { key: b })).status).toBe(200);
  });
});

describe('description', () => {
  it('serves a valid OpenAPI 3.1 document without a key, every route of docs/api.md in it', async () => {
    const answer = await fetch(`${api.url}/api/v1/openapi.json`);
    expect(answer.status).toBe(200);
    const document = (await answer.json()) as { openapi: string; paths: Record<string, object> };
    expect(document.openapi).toBe('3.1.0');
    const result = await new Validator().validate(document);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    const operations = Object.entries(document.paths).flatMap(([path, ops]) =>
      Object.keys(ops as object).map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(operations.sort()).toEqual(
      [
        'GET /api/v1/campaigns',
        'PUT /api/v1/campaigns/{id}',
        'GET /api/v1/campaigns/{id}',
        'POST /api/v1/campaigns/{id}/start',
        'POST /api/v1/campaigns/{id}/pause',
        'POST /api/v1/campaigns/{id}/resume',
        'POST /api/v1/campaigns/{id}/cancel',
        'GET /api/v1/campaigns/{id}/stats',
        'GET /api/v1/campaigns/{id}/deliveries',
        'GET /api/v1/campaigns/{id}/plan',
        // The console's live parts (docs/console.md): read-only.
        'GET /api/v1/campaigns/{id}/live-stats',
        'GET /api/v1/campaigns/{id}/activity',
        'GET /api/v1/campaigns/{id}/plan-hours',
        'PUT /api/v1/subscribers/{id}',
        'POST /api/v1/subscribers/import',
        'GET /api/v1/subscribers',
        'GET /api/v1/subscribers/{key}',
        'DELETE /api/v1/subscribers/{key}',
      ].sort(),
    );
  });

  it('serves the reference page and its script from Lastcall, nothing from another origin', async () => {
    const page = await fetch(`${api.url}/api/docs/`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('/api/v1/openapi.json');
    const sources = [...html.matchAll(/src="([^"]+)"/g)].map((m) => m[1]);
    expect(sources).toEqual(['js/scalar.js']);
    expect(page.headers.get('content-security-policy')).toContain("connect-src 'self'");
    const script = await fetch(`${api.url}/api/docs/js/scalar.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toContain('javascript');
    expect((await script.text()).length).toBeGreaterThan(100_000);
  });
});
