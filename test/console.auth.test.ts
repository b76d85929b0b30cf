// The console's sign-in and its refusals, over HTTP on the real server and database: the session
// cookie's attributes, a forged form without the CSRF token, an expired session, a read key
// pressing pause, a revoked key, and the API reading (never writing) with the console's cookie.
// Each refusal leaves the campaign as it was.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKeyService } from '../src/access/api-keys.ts';
import { SESSION_TTL_MS } from '../src/access/console-session.ts';
import { makeSubscribers, seedSubscribers, startCampaign } from './support/delivery.ts';
import { FORM, formBody, type Harness, START, startHarness } from './support/http.ts';

const ADMIN = 'development-admin-token';
let h: Harness;
let readKey: string;
let writeKey: string;

beforeAll(async () => {
  h = await startHarness();
  await seedSubscribers(h.database.db, makeSubscribers(12), START - 3_600_000);
  await startCampaign(
    h.database.db,
    {
      id: 'spring',
      deadline: START + 7 * 86_400_000,
      steps: [{ id: 'd1', before: 'P1D', channels: ['whatsapp', 'email'], template: 'first-notice' }],
    },
    START,
  );
  const keys = createApiKeyService(h.database.db);
  readKey = (await keys.create('dashboard', 'read', START)).key;
  writeKey = (await keys.create('ops', 'write', START)).key;
}, 60_000);

afterAll(async () => {
  await h?.close();
});

async function signIn(key: string) {
  const res = await h.app.inject({
    method: 'POST',
    url: '/console/sign-in',
    headers: { 'content-type': FORM },
    payload: formBody({ key, next: '/console/campaigns/spring' }),
  });
  const cookie = res.cookies.find((c) => c.name === 'lastcall_console');
  return { res, cookie: cookie ? `lastcall_console=${cookie.value}` : undefined, raw: cookie };
}

async function csrfOf(cookie: string, path = '/console/campaigns/spring/confirm/pause'): Promise<string> {
  const page = await h.app.inject({ url: path, headers: { cookie } });
  const token = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1];
  if (!token) throw new Error(`no CSRF field on ${path} (${page.statusCode})`);
  return token;
}

const pause = (cookie: string, fields: Record<string, string>) =>
  h.app.inject({
    method: 'POST',
    url: '/console/campaigns/spring/pause',
    headers: { cookie, 'content-type': FORM },
    payload: formBody(fields),
  });

async function state(): Promise<string | undefined> {
  return (await h.database.db.one<{ state: string }>("SELECT state FROM campaigns WHERE id = 'spring'"))
    ?.state;
}

describe('console sign-in', () => {
  it('refuses a wrong key and sets nothing', async () => {
    const { res, cookie } = await signIn('not-a-key-at-all');
    expect(res.statusCode).toBe(401);
    expect(cookie).toBeUndefined();
    expect(res.body).toContain('n’est pas valide');
  });

  it('turns a good key into an HttpOnly, SameSite=Strict cookie with an expiry, not the key itself', async () => {
    const { res, raw } = await signIn(ADMIN);
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/console/campaigns/spring');
    expect(raw).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });
    expect(raw?.expires?.getTime()).toBe(Math.floor((START + SESSION_TTL_MS) / 1000) * 1000);
    expect(raw?.value).not.toContain(ADMIN);
  });

  it('sends a visitor without a session to the sign-in page', async () => {
    const res = await h.app.inject({ url: '/console/campaigns' });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/console/sign-in?next=%2Fconsole%2Fcampaigns');
  });
});

describe('refusals leave the campaign as it was', () => {
  it('a forged form without the CSRF token, or with another session’s', async () => {
    const { cookie } = await signIn(ADMIN);
    const other = (await signIn(writeKey)).cookie!;
    expect((await pause(cookie!, {})).statusCode).toBe(403);
    const forged = await pause(cookie!, { _csrf: await csrfOf(other) });
    expect(forged.statusCode).toBe(403);
    expect(forged.body).toContain('Rien n’a été modifié');
    expect(await state()).toBe('running');
  });

  it('an expired session', async () => {
    const { cookie } = await signIn(ADMIN);
    const csrf = await csrfOf(cookie!);
    h.clock.advance(SESSION_TTL_MS + 60_000);
    try {
      expect((await pause(cookie!, { _csrf: csrf })).statusCode).toBe(401);
      const page = await h.app.inject({ url: '/console/campaigns', headers: { cookie: cookie! } });
      expect(page.headers.location).toContain('ended=1');
      expect(await state()).toBe('running');
    } finally {
      h.clock.set(START);
    }
  });

  it('a read key sees the campaign with its buttons disabled, and pressing pause is refused', async () => {
    const { cookie } = await signIn(readKey);
    const page = await h.app.inject({ url: '/console/campaigns/spring', headers: { cookie: cookie! } });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Clé en lecture seule');
    expect(page.body).toMatch(/<button type="button" disabled[^>]*>Mettre en pause<\/button>/);
    const res = await pause(cookie!, { _csrf: await csrfOf(cookie!, '/console/campaigns/spring') });
    expect(res.statusCode).toBe(403);
    expect(res.body).toContain('clé d’écriture');
    expect(await state()).toBe('running');
  });

  it('a read key can neither erase a subscriber nor import a file', async () => {
    const { cookie } = await signIn(readKey);
    const csrf = await csrfOf(cookie!, '/console/subscribers/s00001/erase');
    const erase = await h.app.inject({
      method: 'POST',
      url: '/console/subscribers/s00001/erase',
      headers: { cookie: cookie!, 'content-type': FORM },
      payload: formBody({ _csrf: csrf }),
    });
    expect(erase.statusCode).toBe(403);
    const upload = await h.app.inject({
      method: 'POST',
      url: '/console/import',
      headers: { cookie: cookie!, 'content-type': 'text/csv', 'x-csrf-token': csrf },
      payload: 'id,name,phone,email,locale,timezone,assistant,channels,consent_at,consent_source\n',
    });
    expect(upload.statusCode).toBe(403);
    expect(await h.database.db.one("SELECT 1 FROM subscribers WHERE id = 's00001'")).toBeDefined();
  });

  it('a revoked key ends its sessions', async () => {
    const keys = createApiKeyService(h.database.db);
    const doomed = (await keys.create('doomed', 'write', START)).key;
    const { cookie } = await signIn(doomed);
    expect((await h.app.inject({ url: '/console/campaigns', headers: { cookie: cookie! } })).statusCode).toBe(
      200,
    );
    await keys.revoke('doomed', START);
    expect((await h.app.inject({ url: '/console/campaigns', headers: { cookie: cookie! } })).statusCode).toBe(
      303,
    );
  });

  it('the API reads with the console cookie but never writes with it', async () => {
    const { cookie } = await signIn(ADMIN);
    const stats = await h.app.inject({ url: '/api/v1/campaigns/spring/stats', headers: { cookie: cookie! } });
    expect(stats.statusCode).toBe(200);
    expect(stats.json().steps).toHaveLength(2);
    const write = await h.app.inject({
      method: 'POST',
      url: '/api/v1/campaigns/spring/pause',
      headers: { cookie: cookie! },
    });
    expect(write.statusCode).toBe(401);
    expect(await state()).toBe('running');
  });

  it('a write key with the form’s token pauses, and the page says so', async () => {
    const { cookie } = await signIn(writeKey);
    const res = await pause(cookie!, { _csrf: await csrfOf(cookie!) });
    expect(res.statusCode).toBe(303);
    expect(await state()).toBe('paused');
    const page = await h.app.inject({ url: res.headers.location as string, headers: { cookie: cookie! } });
    expect(page.body).toContain('En pause\u202f: aucun nouvel envoi ne commence.');
  });
});
