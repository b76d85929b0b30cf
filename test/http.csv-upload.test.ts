// A big CSV upload whose header is wrong, sent over a real socket as a client would: the admin
// API's import and the console's import both read the upload as a stream, stop at the header and
// answer the same clear 422 while the client is still sending; never a reset connection.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, type Api, startApi } from './support/api.ts';

let api: Api;
beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => api?.close());

/** About 8 MB of rows under a header that is not the subscribers' one. */
function badHeaderUpload(): string {
  const row =
    'c1,Client,+33612345678,client@example.org,fr,Europe/Paris,copilot,email,2030-05-01T08:00:00Z,file\n';
  return `id,nom,telephone\n${row.repeat(Math.ceil((8 * 1024 * 1024) / row.length))}`;
}

async function consoleSession(): Promise<{ cookie: string; csrf: string }> {
  const signIn = await fetch(`${api.url}/console/sign-in`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ key: ADMIN, next: '/console/import' }),
    redirect: 'manual',
  });
  const cookie = /lastcall_console=[^;]+/.exec(signIn.headers.get('set-cookie') ?? '')?.[0];
  if (!cookie) throw new Error(`console sign-in failed (${signIn.status})`);
  const page = await (await fetch(`${api.url}/console/import`, { headers: { cookie } })).text();
  const csrf = /data-csrf="([^"]+)"/.exec(page)?.[1];
  if (!csrf) throw new Error('no CSRF token on /console/import');
  return { cookie, csrf };
}

describe('an 8 MB CSV upload with a bad header', () => {
  it('gets a 422 naming the header from the API', async () => {
    const body = badHeaderUpload();
    expect(body.length).toBeGreaterThan(8 * 1024 * 1024);
    const res = await fetch(`${api.url}/api/v1/subscribers/import`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'text/csv' },
      body,
    });
    expect(res.status).toBe(422);
    expect(((await res.json()) as { detail: string }).detail).toContain('bad header line');
    expect(await api.db.one('SELECT 1 FROM subscribers LIMIT 1')).toBeUndefined();
  });

  it('gets the same 422 from the console, as an HTML fragment', async () => {
    const { cookie, csrf } = await consoleSession();
    const res = await fetch(`${api.url}/console/import`, {
      method: 'POST',
      headers: { cookie, 'x-csrf-token': csrf, 'content-type': 'text/csv; charset=utf-8' },
      body: badHeaderUpload(),
    });
    expect(res.status).toBe(422);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(await res.text()).toContain('bad header line');
    expect(await api.db.one('SELECT 1 FROM subscribers LIMIT 1')).toBeUndefined();
  });

  it('leaves the server answering on the same connections afterwards', async () => {
    const after = await fetch(`${api.url}/api/v1/subscribers?limit=1`, {
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    expect(after.status).toBe(200);
  });
});
