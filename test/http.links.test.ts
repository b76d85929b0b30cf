// The links in messages: confirm, unsubscribe (page, button, RFC 8058 one-click) and done, on a
// real migrated database, with tokens made and verified by the real token module.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { confirmPath, FORM, formBody, GOOD_SIGN_UP, type Harness, startHarness } from './support/http.ts';

let h: Harness;
let id: string;
const DAY = 86_400_000;

beforeAll(async () => {
  h = await startHarness({ rateLimitMax: 1000 }); // every sign-up here comes from one address
});
afterAll(async () => {
  await h?.close();
});
beforeEach(async () => {
  h.smtp.reset();
  h.clock.set(Date.parse('2026-05-04T09:30:00Z'));
  await h.database.db.exec('TRUNCATE subscribers CASCADE');
  const res = await h.app.inject({
    method: 'POST',
    url: '/subscribe',
    headers: { 'content-type': FORM },
    payload: formBody(GOOD_SIGN_UP),
  });
  expect(res.statusCode).toBe(200);
  id = (await h.database.db.one<{ id: string }>('SELECT id FROM subscribers'))!.id;
});

const channelStates = async () =>
  Object.fromEntries(
    (
      await h.database.db.query<{ channel: string; state: string }>(
        'SELECT channel, state FROM subscriber_channels WHERE subscriber_id = $1',
        [id],
      )
    ).map((r) => [r.channel, r.state]),
  );
const events = (kind: string) =>
  h.database.db.query(
    'SELECT channel, source, evidence FROM consent_events WHERE subscriber_id = $1 AND kind = $2 ORDER BY id',
    [id, kind],
  );

describe('GET /confirm/:token', () => {
  it('activates the email channel once, however often the link is followed', async () => {
    const link = `/confirm/${h.token({ action: 'confirm', subscriberId: id, channel: 'email' })}`;
    const first = await h.app.inject({ url: link });
    const second = await h.app.inject({ url: link });
    expect([first.statusCode, second.statusCode]).toEqual([200, 200]);
    expect(second.body).toContain('Votre adresse était déjà confirmée');
    expect(await channelStates()).toEqual({ whatsapp: 'active', email: 'active' });
    expect(await events('confirm')).toHaveLength(1);
  });

  it('answers in the subscriber’s language unless ?lang= says otherwise', async () => {
    const link = `/confirm/${h.token({ action: 'confirm', subscriberId: id, channel: 'email' })}`;
    expect((await h.app.inject({ url: link, headers: { 'accept-language': 'en' } })).body).toContain(
      '<html lang="fr">',
    );
    expect((await h.app.inject({ url: `${link}?lang=en` })).body).toContain('Email address confirmed');
  });

  it('refuses a link older than 7 days with a 410 page, and leaves the channel pending', async () => {
    const mail = await h.smtp.waitFor(() => true);
    h.clock.advance(7 * DAY);
    const res = await h.app.inject({ url: confirmPath(mail.parsed.text ?? '') });
    expect(res.statusCode).toBe(410);
    expect(res.body).toContain('Ce lien a expiré');
    expect(res.body).toContain('href="/subscribe?lang=fr"');
    expect(await channelStates()).toEqual({ whatsapp: 'active', email: 'pending' });
  });

  it('refuses tampered, truncated and foreign tokens with a 400 page and no stack trace', async () => {
    const token = h.token({ action: 'confirm', subscriberId: id, channel: 'email' });
    const [payload, sig] = token.split('.') as [string, string];
    const forged = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), s: 'someone-else' }),
    ).toString('base64url');
    const unsubscribe = h.token({ action: 'unsubscribe', subscriberId: id, channel: 'all' });
    for (const bad of [
      `${forged}.${sig}`,
      `${payload}.${sig.slice(0, -2)}`,
      payload,
      'not-a-token',
      unsubscribe,
    ]) {
      const res = await h.app.inject({ url: `/confirm/${bad}` });
      expect(res.statusCode, bad).toBe(400);
      expect(res.body).toContain('Ce lien n’est pas valide');
      expect(res.body).not.toMatch(/at .*\.ts:\d+|Error:/);
    }
    expect(await channelStates()).toEqual({ whatsapp: 'active', email: 'pending' });
  });

  it('does not revive an unsubscribed address, and says a forgotten subscriber is gone', async () => {
    const link = `/confirm/${h.token({ action: 'confirm', subscriberId: id, channel: 'email' })}`;
    await h.app.inject({
      method: 'POST',
      url: `/unsubscribe/${h.token({ action: 'unsubscribe', subscriberId: id, channel: 'email' })}`,
    });
    const res = await h.app.inject({ url: link });
    expect(res.statusCode).toBe(409);
    expect(await channelStates()).toEqual({ whatsapp: 'active', email: 'unsubscribed' });
    await h.database.db.exec('DELETE FROM subscribers WHERE id = $1', [id]);
    expect((await h.app.inject({ url: link })).statusCode).toBe(410);
  });
});

describe('/unsubscribe/:token', () => {
  it('shows a page with a button and changes nothing on GET', async () => {
    const token = h.token({ action: 'unsubscribe', subscriberId: id, channel: 'email' });
    const res = await h.app.inject({ url: `/unsubscribe/${token}` });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain(`<form method="post" action="/unsubscribe/${token}?lang=fr">`);
    expect(res.body).toContain('Vous ne recevrez plus de rappels par e-mail.');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(await channelStates()).toEqual({ whatsapp: 'active', email: 'pending' });
  });

  it('unsubscribes on an RFC 8058 one-click POST with a minimal 200, once', async () => {
    const url = `/unsubscribe/${h.token({ action: 'unsubscribe', subscriberId: id, channel: 'email' })}`;
    const post = () =>
      h.app.inject({
        method: 'POST',
        url,
        headers: { 'content-type': FORM },
        payload: 'List-Unsubscribe=One-Click',
      });
    const res = await post();
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(res.body).toBe('Unsubscribed\n');
    expect(await channelStates()).toEqual({ whatsapp: 'active', email: 'unsubscribed' });
    expect((await post()).statusCode).toBe(200);
    expect(await events('opt_out')).toEqual([
      { channel: 'email', source: 'one-click', evidence: { scope: 'email', previousState: 'pending' } },
    ]);
  });

  it('accepts the one-click POST as multipart/form-data too', async () => {
    const url = `/unsubscribe/${h.token({ action: 'unsubscribe', subscriberId: id, channel: 'all' })}`;
    const res = await h.app.inject({
      method: 'POST',
      url,
      headers: { 'content-type': 'multipart/form-data; boundary=b0undary' },
      payload:
        '--b0undary\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--b0undary--\r\n',
    });
    expect(res.body).toBe('Unsubscribed\n');
    expect(await channelStates()).toEqual({ whatsapp: 'unsubscribed', email: 'unsubscribed' });
  });

  it('answers the page’s button with a confirmation page', async () => {
    const url = `/unsubscribe/${h.token({ action: 'unsubscribe', subscriberId: id, channel: 'whatsapp' })}?lang=en`;
    const res = await h.app.inject({
      method: 'POST',
      url,
      headers: { 'content-type': FORM },
      payload: 'confirm=yes',
    });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('You are unsubscribed');
    expect(await channelStates()).toEqual({ whatsapp: 'unsubscribed', email: 'pending' });
    expect((await events('opt_out'))[0]).toMatchObject({ channel: 'whatsapp', source: 'unsubscribe-link' });
  });

  it('says which channel stopped and which continues', async () => {
    const press = (channel: 'email' | 'all') =>
      h.app.inject({
        method: 'POST',
        url: `/unsubscribe/${h.token({ action: 'unsubscribe', subscriberId: id, channel })}?lang=en`,
        headers: { 'content-type': FORM },
        payload: 'confirm=yes',
      });
    const email = await press('email');
    expect(email.body).toContain('Done: you will no longer get reminders by email.');
    expect(email.body).toContain('Reminders on WhatsApp continue: reply STOP there to stop them too.');
    expect(email.body).not.toContain('these reminders');
    const all = await press('all');
    expect(all.body).toContain(
      'Done: you will no longer get any reminder, neither on WhatsApp nor by email.',
    );
    expect(all.body).not.toContain('continue');
    expect(await channelStates()).toEqual({ whatsapp: 'unsubscribed', email: 'unsubscribed' });
  });

  it('keeps working for 400 days, and refuses a forged POST', async () => {
    const token = h.token({ action: 'unsubscribe', subscriberId: id, channel: 'all' });
    h.clock.advance(399 * DAY);
    const forged = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
    const refused = await h.app.inject({
      method: 'POST',
      url: `/unsubscribe/${forged}`,
      payload: 'List-Unsubscribe=One-Click',
      headers: { 'content-type': FORM },
    });
    expect(refused.statusCode).toBe(400);
    expect(await channelStates()).toEqual({ whatsapp: 'active', email: 'pending' });
    const res = await h.app.inject({
      method: 'POST',
      url: `/unsubscribe/${token}`,
      payload: 'List-Unsubscribe=One-Click',
      headers: { 'content-type': FORM },
    });
    expect(res.statusCode).toBe(200);
    expect(await channelStates()).toEqual({ whatsapp: 'unsubscribed', email: 'unsubscribed' });
  });

  it('honours the List-Unsubscribe header of the confirmation email itself', async () => {
    const mail = await h.smtp.waitFor(() => true);
    const url = /<https:\/\/lastcall\.example(\/unsubscribe\/[^>]+)>/.exec(
      mail.headers['list-unsubscribe'] ?? '',
    )?.[1];
    expect(mail.headers['list-unsubscribe-post']).toBe('List-Unsubscribe=One-Click');
    const res = await h.app.inject({
      method: 'POST',
      url: url!,
      headers: { 'content-type': FORM },
      payload: 'List-Unsubscribe=One-Click',
    });
    expect(res.statusCode).toBe(200);
    expect(await channelStates()).toEqual({ whatsapp: 'active', email: 'unsubscribed' });
  });
});

describe('/done/:token', () => {
  const doneAt = async () =>
    (await h.database.db.one<{ done_at: Date | null }>('SELECT done_at FROM subscribers WHERE id = $1', [id]))
      ?.done_at;
  const press = (token: string, query = '') =>
    h.app.inject({
      method: 'POST',
      url: `/done/${token}${query}`,
      headers: { 'content-type': FORM },
      payload: 'confirm=yes',
    });

  it('shows a page with a button, in the subscriber’s language, and changes nothing on GET', async () => {
    const token = h.token({ action: 'done', subscriberId: id });
    // Outlook Safe Links, Gmail's prefetch, a corporate scanner: each opens the link, some twice.
    for (let i = 0; i < 2; i++) {
      const res = await h.app.inject({ url: `/done/${token}`, headers: { 'accept-language': 'en' } });
      expect(res.statusCode).toBe(200);
      expect(res.body).toContain('<html lang="fr">');
      expect(res.body).toContain(`<form method="post" action="/done/${token}?lang=fr">`);
      expect(res.body).toContain('<button type="submit">J’ai terminé</button>');
      expect(res.headers['cache-control']).toBe('no-store');
    }
    const english = await h.app.inject({ url: `/done/${token}?lang=en` });
    expect(english.body).toContain('<button type="submit">I am done</button>');
    expect(await doneAt()).toBeNull();
    expect(await events('done')).toEqual([]);
  });

  it('marks the subscriber done once when the button is pressed, with a consent event', async () => {
    const token = h.token({ action: 'done', subscriberId: id });
    const res = await press(token, '?lang=fr');
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('C’est noté');
    h.clock.advance(60_000);
    expect((await press(token)).statusCode).toBe(200);
    expect(await doneAt()).toEqual(new Date('2026-05-04T09:30:00Z'));
    expect(await events('done')).toEqual([{ channel: null, source: 'done-link', evidence: {} }]);
    // The page, opened again afterwards, says so instead of offering the button.
    const page = await h.app.inject({ url: `/done/${token}` });
    expect(page.body).toContain('C’est noté');
    expect(page.body).not.toContain('<form');
  });

  it('refuses forged, expired and foreign tokens on GET and POST, and changes nothing', async () => {
    const token = h.token({ action: 'done', subscriberId: id });
    const [payload, sig] = token.split('.') as [string, string];
    const someoneElse = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), s: 'someone-else' }),
    ).toString('base64url');
    for (const bad of [
      `${someoneElse}.${sig}`,
      `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`,
      h.token({ action: 'unsubscribe', subscriberId: id, channel: 'all' }),
    ]) {
      expect((await h.app.inject({ url: `/done/${bad}` })).statusCode, bad).toBe(400);
      const res = await press(bad);
      expect(res.statusCode, bad).toBe(400);
      expect(res.body).toContain('Ce lien n’est pas valide');
    }
    h.clock.advance(400 * DAY);
    expect((await h.app.inject({ url: `/done/${token}` })).statusCode).toBe(410);
    const expired = await press(token);
    expect(expired.statusCode).toBe(410);
    expect(expired.body).toContain('Ce lien a expiré');
    expect(await doneAt()).toBeNull();
    expect(await events('done')).toEqual([]);
  });

  it('says a forgotten subscriber is gone', async () => {
    const token = h.token({ action: 'done', subscriberId: id });
    await h.database.db.exec('DELETE FROM subscribers WHERE id = $1', [id]);
    expect((await h.app.inject({ url: `/done/${token}` })).statusCode).toBe(410);
    expect((await press(token)).statusCode).toBe(410);
  });
});

describe('HEAD on the links (link scanners and previews)', () => {
  it('acts on nothing: HEAD on /done, /confirm and /unsubscribe answers 200 and changes no state', async () => {
    const done = await h.app.inject({
      method: 'HEAD',
      url: `/done/${h.token({ action: 'done', subscriberId: id })}`,
    });
    const confirm = await h.app.inject({
      method: 'HEAD',
      url: `/confirm/${h.token({ action: 'confirm', subscriberId: id, channel: 'email' })}`,
    });
    const unsubscribe = await h.app.inject({
      method: 'HEAD',
      url: `/unsubscribe/${h.token({ action: 'unsubscribe', subscriberId: id, channel: 'all' })}`,
    });
    expect([done.statusCode, confirm.statusCode, unsubscribe.statusCode]).toEqual([200, 200, 200]);
    expect(done.body).toBe('');
    expect((await h.database.db.one('SELECT done_at FROM subscribers'))!.done_at).toBeNull();
    expect(await channelStates()).toEqual({ whatsapp: 'active', email: 'pending' });
    expect(await events('done')).toEqual([]);
    expect(await events('confirm')).toEqual([]);
  });

  it('still refuses a bad token', async () => {
    const res = await h.app.inject({ method: 'HEAD', url: '/done/not.a-token' });
    expect(res.statusCode).toBe(400);
  });
});

describe('request logs', () => {
  it('carry no name, phone, email or whole token', async () => {
    const token = h.token({ action: 'done', subscriberId: id });
    await h.app.inject({ url: `/done/${token}?email=${encodeURIComponent('x@example.org')}` });
    const text = h.logs.join('');
    expect(text).toContain('"url":"/done/');
    for (const secret of [
      'Élodie',
      'Martin',
      '+33612345678',
      '33612345678',
      'example.org',
      token,
      'TestBrowser',
    ])
      expect(text).not.toContain(secret);
  });
});
