// GET/POST /subscribe through fastify.inject, on a real migrated database and the real SMTP fake.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createCampaignService } from '../src/campaigns/campaign.service.ts';
import { tombstoneHash } from '../src/subscribers/subscriber.repository.ts';
import { campaignFile } from './support/campaign.ts';
import {
  confirmPath,
  FORM,
  formBody,
  GOOD_SIGN_UP,
  type Harness,
  SENDER,
  START,
  startHarness,
} from './support/http.ts';

let h: Harness;
let ip = 0;
/** Each test posts from its own address, so the per-IP rate limit only bites where it is tested. */
const nextIp = () => `192.0.2.${++ip}`;

beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});
beforeEach(async () => {
  h.smtp.reset();
  h.activated.length = 0;
  await h.database.db.exec('TRUNCATE subscribers, tombstones CASCADE');
});

function post(fields: Record<string, string | readonly string[]>, headers: Record<string, string> = {}) {
  return h.app.inject({
    method: 'POST',
    url: '/subscribe',
    remoteAddress: nextIp(),
    headers: { 'content-type': FORM, 'user-agent': 'TestBrowser/1.0', ...headers },
    payload: formBody(fields),
  });
}

const rows = {
  subscribers: () => h.database.db.query('SELECT * FROM subscribers ORDER BY created_at'),
  channels: (id: string) =>
    h.database.db.query(
      'SELECT channel, state, consent_at FROM subscriber_channels WHERE subscriber_id = $1 ORDER BY channel',
      [id],
    ),
  events: (id: string) =>
    h.database.db.query(
      'SELECT channel, kind, source, evidence, occurred_at FROM consent_events WHERE subscriber_id = $1 ORDER BY id',
      [id],
    ),
};

describe('GET /subscribe', () => {
  it('serves the form in French by default, with a strict CSP and no inline script or style', async () => {
    const res = await h.app.inject({ url: '/subscribe' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    const csp = String(res.headers['content-security-policy']);
    for (const directive of [
      "default-src 'self'",
      "script-src 'self'",
      "form-action 'self'",
      "frame-ancestors 'none'",
    ])
      expect(csp).toContain(directive);
    expect(csp).not.toContain('unsafe-inline');
    const page = res.body;
    expect(page).toContain('<html lang="fr">');
    expect(page).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // every script has a src
    expect(page).not.toMatch(/\sstyle=/);
    expect(page).not.toMatch(/https?:\/\//); // no third-party asset, no absolute link
    // The consent text, exact, naming the sender and the channels, tied to its checkbox.
    expect(page).toContain(
      `<label for="consent">J’accepte de recevoir de ${SENDER} des rappels au sujet de cette échéance, sur WhatsApp et par e-mail`,
    );
    for (const id of [
      'name',
      'phone',
      'email',
      'timezone',
      'consent',
      'assistant-chatgpt',
      'channels-whatsapp',
    ])
      expect(page).toMatch(new RegExp(`<label for="${id}">`));
    expect(page).toContain('aria-describedby="phone-hint"');
    const zones = page.match(/<option value="[^"]+"/g) ?? [];
    expect(zones.length).toBeGreaterThan(400);
    expect(page).toContain('<option value="Europe/Paris">Europe / Paris</option>');
    expect(page).toContain('<option value="UTC">UTC</option>');
  });

  it('picks the language from ?lang=, then Accept-Language, ignoring a malformed ?lang=', async () => {
    const en = await h.app.inject({
      url: '/subscribe',
      headers: { 'accept-language': 'de-DE, en;q=0.8, fr;q=0.5' },
    });
    expect(en.body).toContain('<html lang="en">');
    expect(en.body).toContain(`I agree to receive reminders about this deadline from ${SENDER}`);
    const fr = await h.app.inject({ url: '/subscribe?lang=fr', headers: { 'accept-language': 'en' } });
    expect(fr.body).toContain('<html lang="fr">');
    const bad = await h.app.inject({
      url: '/subscribe?lang=%3Cx%3E',
      headers: { 'accept-language': 'en-GB' },
    });
    expect(bad.statusCode).toBe(200);
    expect(bad.body).toContain('<html lang="en">');
    const none = await h.app.inject({ url: '/subscribe?lang=de' });
    expect(none.body).toContain('<html lang="fr">');
  });

  it('serves its stylesheet and script from the same origin', async () => {
    const css = await h.app.inject({ url: '/assets/subscribe.css' });
    expect(css.statusCode).toBe(200);
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
    const js = await h.app.inject({ url: '/assets/subscribe.js' });
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.body).toContain('resolvedOptions().timeZone');
  });
});

describe('POST /subscribe', () => {
  it('signs up: subscriber, channels, consent evidence, and a confirmation email whose link works', async () => {
    const res = await post(GOOD_SIGN_UP);
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('Merci, votre inscription est enregistrée');
    expect(res.body).toContain('suivez le lien pour confirmer');

    const [subscriber, ...others] = await rows.subscribers();
    expect(others).toEqual([]);
    expect(subscriber).toMatchObject({
      name: 'Élodie Martin',
      phone: '+33612345678',
      email: 'elodie.martin@example.org',
      locale: 'fr',
      timezone: 'Europe/Paris',
      attributes: { assistant: 'copilot' },
      done_at: null,
    });
    const id = subscriber!.id as string;
    expect(id).toMatch(/^web-/);
    expect(await rows.channels(id)).toEqual([
      { channel: 'email', state: 'pending', consent_at: null },
      { channel: 'whatsapp', state: 'active', consent_at: new Date(START) },
    ]);
    const events = await rows.events(id);
    expect(events.map((e) => [e.channel, e.kind, e.source])).toEqual([
      ['whatsapp', 'opt_in', 'web-form'],
      ['email', 'opt_in', 'web-form'],
    ]);
    expect(events[0]!.evidence).toMatchObject({
      consentVersion: 'consent-v1',
      consentText: expect.stringContaining(`J’accepte de recevoir de ${SENDER}`),
      pageLocale: 'fr',
      address: '+33612345678',
      ip: expect.stringMatching(/^192\.0\.2\./),
      userAgent: 'TestBrowser/1.0',
    });
    expect(h.activated).toEqual([id]); // WhatsApp is active at once: plan their reminders

    const mail = await h.smtp.waitFor((m) => m.envelope.rcptTo.includes('elodie.martin@example.org'));
    expect(mail.parsed.subject).toBe('Confirmez votre adresse pour recevoir les rappels');
    expect(mail.parsed.text).toContain('Bonjour Élodie Martin,');
    expect(mail.headers['list-unsubscribe']).toMatch(/<https:\/\/lastcall\.example\/unsubscribe\//);
    const link = confirmPath(mail.parsed.text ?? '');
    expect(String(mail.parsed.html)).toContain(link);

    const confirmed = await h.app.inject({ url: link });
    expect(confirmed.statusCode).toBe(200);
    expect(confirmed.body).toContain('Adresse e-mail confirmée');
    expect(await rows.channels(id)).toContainEqual({
      channel: 'email',
      state: 'active',
      consent_at: new Date(START),
    });
    expect((await rows.events(id)).at(-1)).toMatchObject({
      channel: 'email',
      kind: 'confirm',
      source: 'confirm-link',
    });
    expect(h.activated).toEqual([id, id]);
  });

  it('re-renders the form with every error tied to its field, in the page language, values kept', async () => {
    const res = await post({
      lang: 'fr',
      name: 'Jo <b>',
      phone: '12345',
      email: 'not-an-email',
      channels: ['whatsapp'],
      timezone: 'Mars/Olympus_Mons',
    });
    expect(res.statusCode).toBe(400);
    const page = res.body;
    expect(page).toContain('<title>Erreur\u202f: ');
    expect(page).toContain('<div class="error-summary" id="error-summary" role="alert" tabindex="-1"');
    const expected = {
      phone: 'Indiquez un numéro de téléphone valide',
      email: 'Indiquez une adresse e-mail valide',
      'assistant-chatgpt': 'Choisissez l’assistant que vous utilisez.',
      timezone: 'Choisissez votre fuseau horaire dans la liste.',
      consent: 'Cochez la case pour accepter de recevoir les rappels.',
    };
    for (const [target, message] of Object.entries(expected))
      expect(page).toContain(`<a href="#${target}">${message}`);
    expect(page).toMatch(
      /<input id="phone" name="phone" value="12345" aria-describedby="phone-hint phone-error" aria-invalid="true"/,
    );
    expect(page).toContain('<p class="field-error" id="phone-error">');
    expect(page).toContain('<fieldset class="field consent has-error" aria-describedby="consent-error">');
    expect(page).toContain('value="Jo &lt;b&gt;"'); // kept, and escaped
    expect(page).toMatch(/id="channels-whatsapp" name="channels" value="whatsapp" checked/);
    expect(page).toContain('<option value="Mars/Olympus_Mons" selected>');
    expect(page).not.toContain('name-error');
    expect(await rows.subscribers()).toEqual([]);
    expect(h.smtp.messages).toEqual([]);
  });

  it('answers in English when the page was English, and ties channel needs to the right field', async () => {
    const res = await post({ ...GOOD_SIGN_UP, lang: 'en', name: ' ', phone: '', email: '', channels: [] });
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain('<a href="#name">Enter your name.</a>');
    expect(res.body).toContain('<html lang="en">');
    expect(res.body).toContain('<a href="#phone">Enter a phone number, an email address, or both.</a>');
    expect(res.body).toContain(
      '<a href="#channels-whatsapp">Choose at least one channel: WhatsApp, email, or both.</a>',
    );
    const needs = await post({ ...GOOD_SIGN_UP, lang: 'en', phone: '', channels: ['whatsapp'] });
    expect(needs.body).toContain('<a href="#phone">Enter a phone number to get reminders on WhatsApp.</a>');
  });

  it('falls back to the browser language when the posted lang is malformed or unknown', async () => {
    const res = await post({ ...GOOD_SIGN_UP, lang: '"><script>' }, { 'accept-language': 'en-US,en;q=0.9' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('<html lang="en">');
    const [subscriber] = await rows.subscribers();
    expect(subscriber).toMatchObject({ locale: 'en' });
  });

  it('reads a national phone number with the country of the browser language', async () => {
    const res = await post(
      { ...GOOD_SIGN_UP, phone: '06 12 34 56 78' },
      { 'accept-language': 'fr-FR,fr;q=0.9' },
    );
    expect(res.statusCode).toBe(200);
    expect((await rows.subscribers())[0]).toMatchObject({ phone: '+33612345678' });
    const bare = await post({ ...GOOD_SIGN_UP, phone: '06 12 34 56 79' }, { 'accept-language': 'fr' });
    expect(bare.statusCode).toBe(400);
  });

  it('updates the subscriber found by phone instead of creating a duplicate', async () => {
    await post(GOOD_SIGN_UP);
    const [first] = await rows.subscribers();
    const res = await post({
      ...GOOD_SIGN_UP,
      name: 'Élodie M.',
      email: '',
      assistant: 'both',
      timezone: 'America/Toronto',
      channels: ['whatsapp'],
    });
    expect(res.statusCode).toBe(200);
    const all = await rows.subscribers();
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({
      id: first!.id,
      name: 'Élodie M.',
      email: 'elodie.martin@example.org', // not given: kept
      attributes: { assistant: 'both' },
      timezone: 'America/Toronto',
    });
  });

  it('refuses a phone and an email that belong to two different subscribers', async () => {
    await post(GOOD_SIGN_UP);
    await post({ ...GOOD_SIGN_UP, phone: '+33698765432', email: 'other@example.org' });
    const res = await post({ ...GOOD_SIGN_UP, phone: '+33698765432' });
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain(
      '<a href="#email">Cette adresse e-mail et ce numéro de téléphone appartiennent à deux inscriptions différentes',
    );
    expect(await rows.subscribers()).toHaveLength(2);
  });

  it('lets an erased person sign up again themselves, lifting the tombstone', async () => {
    const key = h.config.secretKey!;
    await h.database.db.exec("INSERT INTO tombstones (hash, kind) VALUES ($1, 'email')", [
      tombstoneHash(key, 'email', 'elodie.martin@example.org'),
    ]);
    const res = await post(GOOD_SIGN_UP);
    expect(res.statusCode).toBe(200);
    expect(await h.database.db.query('SELECT * FROM tombstones')).toEqual([]);
    const [subscriber] = await rows.subscribers();
    expect((await rows.events(subscriber!.id))[0]!.evidence).toMatchObject({ tombstoneCleared: ['email'] });
  });

  it('pretends success to a bot that fills the honeypot, and stores nothing', async () => {
    const res = await post({ ...GOOD_SIGN_UP, website: 'https://spam.example' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('Merci, votre inscription est enregistrée');
    expect(await rows.subscribers()).toEqual([]);
    expect(h.smtp.messages).toEqual([]);
  });

  it('refuses a body over 16 KB with a 413 page', async () => {
    const res = await post({ ...GOOD_SIGN_UP, name: 'x'.repeat(17 * 1024) });
    expect(res.statusCode).toBe(413);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.body).toContain('Envoi trop volumineux');
    expect(await rows.subscribers()).toEqual([]);
  });

  it('refuses anything but a form body with a 415 page', async () => {
    for (const [type, payload] of [
      ['application/json', JSON.stringify(GOOD_SIGN_UP)],
      ['text/plain', 'name=x'],
      [
        'multipart/form-data; boundary=x',
        '--x\r\nContent-Disposition: form-data; name="name"\r\n\r\nx\r\n--x--\r\n',
      ],
    ] as const) {
      const res = await h.app.inject({
        method: 'POST',
        url: '/subscribe',
        remoteAddress: nextIp(),
        headers: { 'content-type': type },
        payload,
      });
      expect(res.statusCode, type).toBe(415);
      expect(res.body).toContain('Format non pris en charge');
    }
    const bare = await h.app.inject({ method: 'POST', url: '/subscribe', remoteAddress: nextIp() });
    expect(bare.statusCode).toBe(415);
    expect(await rows.subscribers()).toEqual([]);
  });

  it('rate-limits sign-ups per IP with a 429 page', async () => {
    const address = '198.51.100.7';
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) {
      const res = await h.app.inject({
        method: 'POST',
        url: '/subscribe',
        remoteAddress: address,
        headers: { 'content-type': FORM, 'accept-language': 'en' },
        payload: formBody({ ...GOOD_SIGN_UP, lang: '' }),
      });
      statuses.push(res.statusCode);
      if (i === 10) {
        expect(res.body).toContain('Too many attempts');
        expect(res.headers['retry-after']).toBeDefined();
      }
    }
    expect(statuses).toEqual([...Array(10).fill(200), 429]);
    const other = await post(GOOD_SIGN_UP);
    expect(other.statusCode).toBe(200);
  });

  it('answers an unknown page with a 404 page', async () => {
    const res = await h.app.inject({ url: '/nope', headers: { 'accept-language': 'en' } });
    expect(res.statusCode).toBe(404);
    expect(res.body).toContain('Page not found');
  });
});

describe('/subscribe with nothing open', () => {
  let closed: Harness;
  beforeAll(async () => {
    closed = await startHarness({ campaignForEveryone: false });
  });
  afterAll(async () => {
    await closed?.close();
  });

  it('says no sign-up is open and offers no form; a sign-up posted anyway writes nothing and mails nothing', async () => {
    const page = await closed.app.inject({ url: '/subscribe', headers: { 'accept-language': 'en' } });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<h1>No sign-up is open</h1>');
    expect(page.body).toContain('There is no deadline to sign up for at the moment.');
    expect(page.body).not.toContain('<form');
    const fr = await closed.app.inject({ url: '/subscribe?lang=fr' });
    expect(fr.body).toContain('<h1>Aucune inscription ouverte</h1>');

    const res = await closed.app.inject({
      method: 'POST',
      url: '/subscribe',
      remoteAddress: nextIp(),
      headers: { 'content-type': FORM, 'accept-language': 'en' },
      payload: formBody({ ...GOOD_SIGN_UP, lang: 'en' }),
    });
    expect(res.statusCode).toBe(410);
    expect(res.body).toContain('<h1>No sign-up is open</h1>');
    expect(res.body).not.toContain('signed up');
    expect(await closed.database.db.query('SELECT id FROM subscribers')).toEqual([]);
    expect(closed.smtp.messages).toEqual([]);
  });

  it('offers the general form again once a campaign for everyone is created, and not after it ends', async () => {
    const campaigns = createCampaignService({ db: closed.database.db });
    await campaigns.create(campaignFile('later'), START);
    const open = await closed.app.inject({ url: '/subscribe', headers: { 'accept-language': 'en' } });
    expect(open.body).toContain('<form');
    await campaigns.cancel('later', START);
    const after = await closed.app.inject({ url: '/subscribe', headers: { 'accept-language': 'en' } });
    expect(after.body).toContain('<h1>No sign-up is open</h1>');
    expect(after.body).not.toContain('<form');
  });
});
